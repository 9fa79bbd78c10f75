// `moor --config /etc/moor/config.yaml agent`: options written before the command word. Each
// command parses its own options, so the leading ones are moved behind the command's words (and
// before a `--`). They count only if they are options of that command: a value that happens to
// be a command word (`moor --hostname status status`) is taken as the option's value, because
// the first split where every leading token is an option (with its value) of the command wins.
import { allOptions, type CommandSpec, type OptionSpec } from './spec/types.ts';

/** argv with the command word first, or argv unchanged when it does not start with an option. */
export function commandWordFirst(argv: readonly string[], specs: readonly CommandSpec[]): string[] {
  if (!argv[0]?.startsWith('-') || ['--help', '-h', '--version', '-V'].includes(argv[0])) return [...argv];
  for (let i = 1; i < argv.length; i++) {
    const spec = specs.find((s) => s.name === argv[i]);
    if (!spec) continue;
    const leading = argv.slice(0, i);
    if (!areOptionsOf(leading, spec)) continue;
    const rest = argv.slice(i + 1);
    const end = rest.indexOf('--');
    return end < 0
      ? [spec.name, ...rest, ...leading]
      : [spec.name, ...rest.slice(0, end), ...leading, ...rest.slice(end)];
  }
  return [...argv];
}

function areOptionsOf(tokens: readonly string[], spec: CommandSpec): boolean {
  const options: OptionSpec[] = [...allOptions(spec), ...(spec.subcommands ?? []).flatMap(allOptions)];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const long = /^--([^=]+)(=.*)?$/.exec(token);
    const short = /^-([A-Za-z])$/.exec(token);
    const name = long?.[1] ?? short?.[1];
    if (name === undefined) return false;
    const option = options.find((o) => (long ? o.name === name : o.short === name));
    if (!option) return false;
    if (option.kind === 'boolean' || long?.[2] !== undefined) continue;
    if (i + 1 >= tokens.length) return false; // its value would be the command word
    i++;
  }
  return true;
}
