// The command table. Each command is a small module; this list is the only place that names them.
export interface Command {
  name: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

export const VERSION = '0.1.0';

export const commands: Command[] = [
  {
    name: 'version',
    summary: 'print the moor version',
    async run() {
      process.stdout.write(`moor ${VERSION}\n`);
      return 0;
    },
  },
];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: moor <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "moor <command> --help" for a command's options.\n`;
}
