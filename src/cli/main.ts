// Entry point of the `moor` binary. Commands register themselves in ./commands.ts; this file
// only parses the command word, runs it, and turns errors into one clear line and an exit code.

import { MoorError } from '../errors.ts';
import { commands, usage } from './commands.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.spec.name === name);
  if (!command) {
    process.stderr.write(`moor: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof MoorError) {
      process.stderr.write(`moor: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  fix: ${err.hint}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(
        `moor: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
