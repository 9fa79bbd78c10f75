// Argument parsing for commands: node:util parseArgs with strict checking, turned into one clear
// MoorError naming the bad argument and pointing at --help.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { MoorError } from '../errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(
  command: string,
  args: string[],
  options: OptionSpec,
  maxPositionals: number,
): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as Parsed;
  } catch (err) {
    throw new MoorError(
      'invalid-argument',
      `${command}: ${err instanceof Error ? err.message : String(err)}`,
      {
        hint: `see \`moor ${command} --help\``,
      },
    );
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new MoorError(
      'invalid-argument',
      `${command}: unexpected argument "${parsed.positionals[maxPositionals]}"`,
      {
        hint: `see \`moor ${command} --help\``,
      },
    );
  }
  return parsed;
}

export function stringOption(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function listOption(parsed: Parsed, name: string): string[] {
  const v = parsed.values[name];
  if (Array.isArray(v))
    return v
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean);
  return typeof v === 'string' ? [v] : [];
}

export function boolOption(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

export function intOption(parsed: Parsed, name: string, fallback: number, min: number, max: number): number {
  const v = stringOption(parsed, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) {
    throw new MoorError('invalid-argument', `--${name} ${v} is not a number from ${min} to ${max}`, {
      hint: `give --${name} a whole number from ${min} to ${max}`,
    });
  }
  return n;
}

/** `--flag=false` style booleans given as strings (subctl's --check-broker-certificate=false). */
export function boolStringOption(parsed: Parsed, name: string, fallback: boolean): boolean {
  const v = stringOption(parsed, name);
  if (v === undefined) return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new MoorError('invalid-argument', `--${name} must be true or false, not "${v}"`, {
    hint: `write --${name}=true or --${name}=false`,
  });
}
