// What one reconcile did: the changes applied and the failures, each failure a value with a code,
// the phase it happened in, the object it concerns and what to do about it. Every daemon reports
// in this shape, so status files, logs and counters never have to parse messages.
import type { ApplyResult } from '../dataplane/result.ts';
import { MoorError } from '../errors.ts';

export interface ApplyError {
  /** Stable for programs: a MoorError code ('system', 'broker-unreachable', ...). */
  code: string;
  /** Where in the reconcile: 'plan', 'wireguard', 'link', 'address', 'route', 'publish', ... */
  phase: string;
  /** What it concerns: a route destination, a peer key, an object name. */
  object?: string;
  message: string;
  hint?: string;
}

export interface ReconcileOutcome {
  /** True when something was applied to the kernel or the broker. */
  changed: boolean;
  /** One line per change, e.g. "route replace 10.1.0.0/16". */
  applied: string[];
  errors: ApplyError[];
  /** Set when the reconcile deliberately did nothing, and why (e.g. "broker not listed yet"). */
  waiting?: string;
}

/** The no-change sentinel: nothing applied, nothing failed. */
export const NO_CHANGE: ReconcileOutcome = Object.freeze({
  changed: false,
  applied: Object.freeze([]) as unknown as string[],
  errors: Object.freeze([]) as unknown as ApplyError[],
});

export function waiting(reason: string): ReconcileOutcome {
  return { changed: false, applied: [], errors: [], waiting: reason };
}

/** Builds an outcome phase by phase. */
export class OutcomeBuilder {
  readonly applied: string[] = [];
  readonly errors: ApplyError[] = [];
  #waiting: string | undefined;

  /** Fold a dataplane applier's result in, naming each change with `describe`. */
  add<C>(phase: string, result: ApplyResult<C>, describe: (change: C) => string): this {
    for (const c of result.applied) this.applied.push(`${phase} ${describe(c)}`);
    for (const e of result.errors) this.errors.push(applyError(phase, e.error, describe(e.change)));
    return this;
  }

  applied1(line: string): this {
    this.applied.push(line);
    return this;
  }

  fail(phase: string, err: unknown, object?: string): this {
    this.errors.push(applyError(phase, err, object));
    return this;
  }

  wait(reason: string): this {
    this.#waiting = reason;
    return this;
  }

  build(): ReconcileOutcome {
    if (this.applied.length === 0 && this.errors.length === 0 && this.#waiting === undefined)
      return NO_CHANGE;
    return {
      changed: this.applied.length > 0,
      applied: [...this.applied],
      errors: [...this.errors],
      ...(this.#waiting === undefined ? {} : { waiting: this.#waiting }),
    };
  }
}

export function applyError(phase: string, err: unknown, object?: string): ApplyError {
  const e: ApplyError = {
    code: err instanceof MoorError ? err.code : 'internal',
    phase,
    message: err instanceof Error ? err.message : String(err),
  };
  if (object !== undefined) e.object = object;
  if (err instanceof MoorError && err.hint) e.hint = err.hint;
  return e;
}

export function describeError(e: ApplyError): string {
  return `${e.phase}${e.object ? ` ${e.object}` : ''}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`;
}

/** Merge outcomes of sub-reconcilers (e.g. cables, then DNS, then exports). */
export function mergeOutcomes(outcomes: readonly ReconcileOutcome[]): ReconcileOutcome {
  const applied = outcomes.flatMap((o) => o.applied);
  const errors = outcomes.flatMap((o) => o.errors);
  const wait = outcomes.find((o) => o.waiting !== undefined)?.waiting;
  if (applied.length === 0 && errors.length === 0 && wait === undefined) return NO_CHANGE;
  return { changed: applied.length > 0, applied, errors, ...(wait === undefined ? {} : { waiting: wait }) };
}
