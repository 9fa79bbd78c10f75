// What an applier reports: the changes that really happened and the ones that failed, so callers
// can publish status and count errors by phase without guessing (Tailscale's cidrDiff style).
import { MoorError } from '../errors.ts';

export interface ApplyError<C> {
  change: C;
  error: MoorError;
}

export interface ApplyResult<C> {
  applied: C[];
  errors: ApplyError<C>[];
}

export function emptyResult<C>(): ApplyResult<C> {
  return { applied: [], errors: [] };
}

/** Run one change; record it as applied or failed, never throw. */
export async function attempt<C>(
  result: ApplyResult<C>,
  change: C,
  action: () => Promise<void>,
): Promise<boolean> {
  try {
    await action();
    result.applied.push(change);
    return true;
  } catch (err) {
    result.errors.push({ change, error: asMoorError(err) });
    return false;
  }
}

export function asMoorError(err: unknown): MoorError {
  if (err instanceof MoorError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MoorError('internal', message, { cause: err });
}

/** One line summarising failures, e.g. "2 change(s) failed; first: …". */
export function summarizeErrors<C>(result: ApplyResult<C>): string | undefined {
  const first = result.errors[0];
  if (!first) return undefined;
  return `${result.errors.length} change(s) failed; first: ${first.error.message}`;
}
