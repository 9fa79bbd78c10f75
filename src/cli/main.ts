// Entry point of the `moor` binary. Commands register themselves in ./commands.ts; this file
// only parses the command word, runs it, and turns errors into one clear line and an exit code.
// No error, expected or not, prints a stack trace unless MOOR_DEBUG=1 asks for it: system errors
// are turned into MoorErrors where files and sockets are opened, and this is the net below that.

import { MoorError } from '../errors.ts';
import { errnoCode, systemError } from '../systemError.ts';
import { commands, usage } from './commands.ts';
import { commandWordFirst } from './leading-options.ts';
import { versionLine } from './version.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = commandWordFirst(
    argv,
    commands.map((c) => c.spec),
  );
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(versionLine());
    return 0;
  }
  const command = commands.find((c) => c.spec.name === name);
  if (!command) {
    const what = name.startsWith('-')
      ? `"${name}" is not an option of the command after it, or no command word follows`
      : `unknown command "${name}"`;
    process.stderr.write(`moor: ${what}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

function report(err: unknown): number {
  const debug = process.env.MOOR_DEBUG === '1';
  const known =
    err instanceof MoorError
      ? err
      : errnoCode(err) !== undefined
        ? systemError(err, 'a system call failed')
        : undefined;
  if (known) {
    process.stderr.write(`moor: ${known.message}\n`);
    if (known.hint) process.stderr.write(`  fix: ${known.hint}\n`);
  } else {
    process.stderr.write(`moor: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.stderr.write('  fix: this is a bug in moor: please report it with the output of MOOR_DEBUG=1\n');
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return known?.exitCode ?? 70; // EX_SOFTWARE
}

// A long-running command (agent, gateway) must not die with a stack trace either.
process.on('uncaughtException', (err) => {
  process.exit(report(err));
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = report(err);
  },
);
