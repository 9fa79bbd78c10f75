// Argument parsing from a command's spec: node:util parseArgs with strict checking, turned into
// one clear MoorError naming the bad argument and pointing at --help. Values a flag does not give
// come from the option's environment variable, then the config file, then the spec's default.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { MoorError } from '../errors.ts';
import { configValue, type LoadedConfig, loadConfig } from './config-file.ts';
import type { ConfigValue } from './spec/config-schema.ts';
import { allOptions, type CommandSpec, type OptionSpec, readsConfig } from './spec/types.ts';

export type ValueSource = 'flag' | 'env' | 'config' | 'default';

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Where each value came from (options without a value are absent). */
  sources: Record<string, ValueSource>;
  spec: CommandSpec;
  /** The config file read for this command, when the command reads one. */
  config?: LoadedConfig;
}

export interface ParseOptions {
  /** Command words for messages and the config section, e.g. ['show', 'exports']; default [spec.name]. */
  path?: readonly string[];
  /** Leading words a parent command consumed and that are still in `args` (the `show` subject). */
  consumedPositionals?: number;
}

export function parseArgsOptions(spec: CommandSpec): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {};
  for (const o of allOptions(spec)) {
    out[o.name] = {
      type: o.kind === 'boolean' ? 'boolean' : 'string',
      ...(o.kind === 'list' ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
    };
  }
  return out;
}

function toFlagValue(o: OptionSpec, v: ConfigValue): string | boolean | string[] {
  if (o.kind === 'list') return Array.isArray(v) ? v : [String(v)];
  if (o.kind === 'boolean') return v === true;
  return String(v);
}

export function parseCommand(spec: CommandSpec, args: string[], options: ParseOptions = {}): Parsed {
  const path = options.path ?? [spec.name];
  const command = path.join(' ');
  const maxPositionals = spec.positionals.length + (options.consumedPositionals ?? 0);
  let raw: { values: Parsed['values']; positionals: string[] };
  try {
    raw = parseArgs({
      args,
      options: parseArgsOptions(spec),
      allowPositionals: true,
      strict: true,
    }) as typeof raw;
  } catch (err) {
    throw new MoorError(
      'invalid-argument',
      `${command}: ${err instanceof Error ? err.message : String(err)}`,
      { hint: `see \`moor ${command} --help\`` },
    );
  }
  const hasSubjects = (spec.subcommands?.length ?? 0) > 0;
  if (!hasSubjects && raw.positionals.length > maxPositionals) {
    throw new MoorError(
      'invalid-argument',
      `${command}: unexpected argument "${raw.positionals[maxPositionals]}"`,
      {
        hint: `see \`moor ${command} --help\``,
      },
    );
  }
  const parsed: Parsed = {
    values: { ...raw.values },
    positionals: raw.positionals.slice(options.consumedPositionals ?? 0),
    sources: {},
    spec,
  };
  for (const name of Object.keys(raw.values)) parsed.sources[name] = 'flag';
  if (parsed.values.help === true) return parsed; // help works even with a broken config file
  if (readsConfig(spec)) {
    const flag = parsed.values.config;
    parsed.config = loadConfig(typeof flag === 'string' ? flag : undefined);
  }
  for (const o of spec.options) {
    if (parsed.values[o.name] !== undefined) continue;
    const env = o.env ? process.env[o.env] : undefined;
    const fromFile = parsed.config ? configValue(parsed.config, path[0] ?? spec.name, o) : undefined;
    if (env) {
      parsed.values[o.name] = toFlagValue(o, env);
      parsed.sources[o.name] = 'env';
    } else if (fromFile !== undefined) {
      parsed.values[o.name] = toFlagValue(o, fromFile);
      parsed.sources[o.name] = 'config';
    } else if (o.default !== undefined) {
      parsed.values[o.name] = toFlagValue(o, o.default);
      parsed.sources[o.name] = 'default';
    }
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

function specOf(parsed: Parsed, name: string): OptionSpec {
  const o = parsed.spec.options.find((x) => x.name === name);
  if (!o) throw new Error(`moor ${parsed.spec.name} has no option --${name} in its spec`);
  return o;
}

/** A whole number within the spec's bounds; its default when there is none. */
export function intOption(parsed: Parsed, name: string): number {
  const o = specOf(parsed, name);
  const min = o.min ?? 0;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  const v = stringOption(parsed, name);
  if (v === undefined) {
    if (typeof o.default === 'number') return o.default;
    throw new Error(`moor ${parsed.spec.name} --${name} has no default in its spec`);
  }
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) {
    throw new MoorError('invalid-argument', `--${name} ${v} is not a number from ${min} to ${max}`, {
      hint: `give --${name} a whole number from ${min} to ${max}`,
    });
  }
  return n;
}

/** One of the spec's allowed values, or undefined when it has none and no default. */
export function enumOption(parsed: Parsed, name: string): string | undefined {
  const o = specOf(parsed, name);
  const v = stringOption(parsed, name);
  if (v === undefined || (o.values ?? []).includes(v)) return v;
  throw new MoorError('invalid-argument', `--${name} ${v} is not supported`, {
    hint: `use ${(o.values ?? []).join(' or ')}`,
  });
}

/** `--flag=false` style booleans given as strings (subctl's --check-broker-certificate=false). */
export function boolStringOption(parsed: Parsed, name: string): boolean {
  const o = specOf(parsed, name);
  const v = stringOption(parsed, name);
  if (v === undefined) return o.default === true;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new MoorError('invalid-argument', `--${name} must be true or false, not "${v}"`, {
    hint: `write --${name}=true or --${name}=false`,
  });
}
