// `moor config check [FILE]`: validate a config file without starting anything.
import { MoorError } from '../errors.ts';
import { boolOption, parseCommand } from './args.ts';
import { loadConfig } from './config-file.ts';
import { renderHelp } from './spec/help.ts';
import { CONFIG_CHECK_SPEC, CONFIG_SPEC } from './specs/config.ts';

export async function runConfig(args: string[]): Promise<number> {
  const top = parseCommand(CONFIG_SPEC, args);
  const what = top.positionals[0];
  if (what === undefined) {
    process.stdout.write(renderHelp(['config'], CONFIG_SPEC));
    return boolOption(top, 'help') ? 0 : 2;
  }
  if (what !== 'check') {
    throw new MoorError('invalid-argument', `config: unknown subcommand "${what}"`, {
      hint: 'moor config check [FILE]',
    });
  }
  const parsed = parseCommand(CONFIG_CHECK_SPEC, args, { path: ['config', 'check'], consumedPositionals: 1 });
  if (boolOption(parsed, 'help')) {
    process.stdout.write(renderHelp(['config', 'check'], CONFIG_CHECK_SPEC));
    return 0;
  }
  const file = parsed.positionals[0];
  const config = file === undefined ? loadConfig(undefined) : loadConfig(file, 'the command line');
  if (!config.found) {
    process.stdout.write(`${config.path}: not present; built-in defaults apply\n`);
    return 0;
  }
  const keys = countKeys(config.data);
  process.stdout.write(`${config.path}: valid (${keys} ${keys === 1 ? 'value' : 'values'} set)\n`);
  return 0;
}

function countKeys(data: Record<string, unknown>): number {
  let n = 0;
  for (const v of Object.values(data)) {
    if (v === undefined) continue;
    n +=
      typeof v === 'object' && v !== null && !Array.isArray(v) ? countKeys(v as Record<string, unknown>) : 1;
  }
  return n;
}
