// The declarative description of a command: its words, arguments and options. Everything a user
// can read about a command is generated from it (--help, bash and zsh completion, the man page,
// the config file schema and its commented default), and the argument parser is built from it,
// so none of them can drift from what the command accepts.

/** How an option's value is written on the command line and in the config file. */
export type OptionKind =
  /** Free text (`--hostname NAME`; a YAML string). */
  | 'string'
  /** A flag without a value (`--no-start`; YAML true/false). */
  | 'boolean'
  /** A whole number within [min, max] (`--port 4500`; a YAML integer). */
  | 'int'
  /** Repeatable, commas allowed (`--address A --address B,C`; a YAML list of strings). */
  | 'list'
  /** One of `values` (`--wireguard-driver kernel`; a YAML string). */
  | 'enum'
  /** `--flag=true|false` as subctl writes it (a YAML boolean). */
  | 'bool-string';

/** What the shell completes after the option or for the argument. */
export type Completion = 'file' | 'dir' | 'none';

export interface OptionSpec {
  /** Long name without dashes; also the config file key. */
  name: string;
  short?: string;
  kind: OptionKind;
  /** Placeholder for the value in help and man page, e.g. `DIR`. */
  arg?: string;
  description: string;
  /** Applied when neither flag, environment nor config file give a value. */
  default?: string | number | boolean;
  /** Said instead of `default` when the default is computed at run time. */
  defaultText?: string;
  /** Allowed values of an `enum`. */
  values?: readonly string[];
  /** Bounds of an `int`. */
  min?: number;
  max?: number;
  /** Environment variable that stands in for the flag (weaker than the flag, stronger than the file). */
  env?: string;
  /**
   * Whether the config file may give this option: `command` under the command's own section,
   * `global` at the top level, shared by every command that declares the option so.
   */
  config?: 'command' | 'global';
  complete?: Completion;
  /** For `string` and `list` values: whether one value is well-formed (config file check). */
  validate?: (value: string) => boolean;
  /** What a well-formed value is, in words, when `validate` is given. */
  allowed?: string;
}

/** A `validate` from a parser that throws on bad input. */
export function accepts(parse: (value: string) => unknown): (value: string) => boolean {
  return (value) => {
    try {
      parse(value);
      return true;
    } catch {
      return false;
    }
  };
}

export interface PositionalSpec {
  /** Placeholder, e.g. `BROKER-INFO`; for a fixed word (`service`) the word itself. */
  name: string;
  description: string;
  optional?: boolean;
  /** Fixed words the argument may be. */
  values?: readonly string[];
  complete?: Completion;
}

export interface CommandSpec {
  /** The command word (`join`), or the subcommand word (`connections` under `show`). */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Paragraphs explaining what the command does. */
  description: readonly string[];
  positionals: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  /** Subjects such as `show connections`; each is documented and completed on its own. */
  subcommands?: readonly CommandSpec[];
}

export const HELP_OPTION: OptionSpec = {
  name: 'help',
  short: 'h',
  kind: 'boolean',
  description: 'print this help',
};

export const CONFIG_ENV = 'MOOR_CONFIG';
export const DEFAULT_CONFIG_PATH = '/etc/moor/config.yaml';

export const CONFIG_OPTION: OptionSpec = {
  name: 'config',
  kind: 'string',
  arg: 'FILE',
  description: 'configuration file; flags override its values',
  default: DEFAULT_CONFIG_PATH,
  env: CONFIG_ENV,
  complete: 'file',
};

/** True when some option of the command may come from the config file. */
export function readsConfig(spec: CommandSpec): boolean {
  return spec.options.some((o) => o.config !== undefined);
}

/** Every option the command accepts, including the ones every command gets. */
export function allOptions(spec: CommandSpec): OptionSpec[] {
  return [...spec.options, ...(readsConfig(spec) ? [CONFIG_OPTION] : []), HELP_OPTION];
}

/** `moor show connections` → ['show', 'connections'] specs, depth first, parents before children. */
export function walkCommands(
  specs: readonly CommandSpec[],
): { path: string[]; spec: CommandSpec; parent?: CommandSpec }[] {
  const out: { path: string[]; spec: CommandSpec; parent?: CommandSpec }[] = [];
  for (const spec of specs) {
    out.push({ path: [spec.name], spec });
    for (const sub of spec.subcommands ?? [])
      out.push({ path: [spec.name, sub.name], spec: sub, parent: spec });
  }
  return out;
}

/** The value placeholder of an option (`DIR`, `N`, `a|b`). */
export function optionArg(o: OptionSpec): string | undefined {
  if (o.kind === 'boolean') return undefined;
  if (o.arg) return o.arg;
  if (o.kind === 'enum') return (o.values ?? []).join('|');
  if (o.kind === 'bool-string') return 'true|false';
  if (o.kind === 'int') return 'N';
  return 'VALUE';
}

/** What an option accepts, in words: for help, man page and config errors. */
export function allowedText(o: OptionSpec): string {
  switch (o.kind) {
    case 'boolean':
    case 'bool-string':
      return 'true or false';
    case 'int':
      return `a whole number from ${o.min ?? 0} to ${o.max ?? Number.MAX_SAFE_INTEGER}`;
    case 'enum':
      return `one of ${(o.values ?? []).join(', ')}`;
    case 'list':
      return o.allowed ? `a list of: ${o.allowed}` : 'a list of strings';
    case 'string':
      return o.allowed ?? (o.arg ? `a string (${o.arg})` : 'a string');
  }
}

/** The description with its default and allowed values: `WireGuard UDP port (default 4500)`. */
export function describeOption(o: OptionSpec): string {
  const suffix = defaultSuffix(o);
  // "… (repeatable)" + " (default: x)" reads better as "… (repeatable; default: x)".
  if (suffix && o.description.endsWith(')')) return `${o.description.slice(0, -1)}; ${suffix.slice(2)}`;
  return `${o.description}${suffix}`;
}

/** `(default 4500, or $MOOR_STATE_DIR)`-style suffix; empty when there is nothing to say. */
export function defaultSuffix(o: OptionSpec): string {
  const parts: string[] = [];
  if (o.kind === 'enum' && o.values) parts.push(`one of ${o.values.join(', ')}`);
  if (o.defaultText !== undefined) parts.push(`default: ${o.defaultText}`);
  else if (o.default !== undefined) parts.push(`default ${String(o.default)}`);
  const env = o.env ? `${parts.length > 0 ? ', ' : ''}or $${o.env}` : '';
  return parts.length === 0 && !env ? '' : ` (${parts.join('; ')}${env})`;
}

export function synopsis(path: readonly string[], spec: CommandSpec): string {
  const words = spec.positionals.map((p) => {
    const word = p.values && p.values.length === 1 ? p.values[0] : p.name;
    return p.optional ? `[${word}]` : word;
  });
  if (spec.subcommands && spec.subcommands.length > 0)
    words.unshift(spec.subcommands.map((s) => s.name).join('|'));
  const opts = allOptions(spec).length > 1 ? ['[options]'] : [];
  return ['moor', ...path, ...words, ...opts].join(' ');
}
