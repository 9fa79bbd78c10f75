// --help text and the top-level usage, rendered from the command specs.
import {
  allOptions,
  type CommandSpec,
  describeOption,
  type OptionSpec,
  optionArg,
  synopsis,
} from './types.ts';

const WIDTH = 96;
const OPTION_COLUMN = 28;

/** Greedy word wrap; `first` prefixes the first line, `rest` the others. */
export function wrap(text: string, width: number, first = '', rest = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest + word;
    } else {
      line += (empty ? '' : ' ') + word;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** `-o, --output table|json` */
export function optionLabel(o: OptionSpec): string {
  const arg = optionArg(o);
  const long = o.kind === 'bool-string' ? `--${o.name}=${arg}` : `--${o.name}${arg ? ` ${arg}` : ''}`;
  return o.short ? `-${o.short}, ${long}` : long;
}

function optionLines(o: OptionSpec): string[] {
  const label = `  ${optionLabel(o)}`;
  const text = describeOption(o);
  const indent = ' '.repeat(OPTION_COLUMN);
  if (label.length + 2 > OPTION_COLUMN) return [label, ...wrap(text, WIDTH, indent)];
  return wrap(text, WIDTH, label.padEnd(OPTION_COLUMN), indent);
}

export function renderHelp(path: readonly string[], spec: CommandSpec): string {
  const out = [`Usage: ${synopsis(path, spec)}`, ''];
  for (const p of spec.description) out.push(...wrap(p, WIDTH), '');
  if (spec.subcommands && spec.subcommands.length > 0) {
    const width = Math.max(...spec.subcommands.map((s) => s.name.length));
    out.push('Subjects:');
    for (const s of spec.subcommands)
      out.push(...wrap(s.summary, WIDTH, `  ${s.name.padEnd(width)}  `, ' '.repeat(width + 4)));
    out.push('', `Run "moor ${path.join(' ')} <subject> --help" for details.`, '');
  }
  out.push('Options:');
  for (const o of allOptions(spec)) out.push(...optionLines(o));
  return `${out.join('\n')}\n`;
}

export function renderUsage(specs: readonly CommandSpec[]): string {
  const width = Math.max(...specs.map((c) => c.name.length));
  const lines = specs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: moor <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "moor <command> --help" for a command's options. Options may also come before the\ncommand word (moor --config FILE agent).\n`;
}
