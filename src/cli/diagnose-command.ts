// `moor diagnose`: write the support bundle.
import { resolve } from 'node:path';
import { isSea } from 'node:sea';
import { defaultBundleName, writeSupportBundle } from '../agent/diagnose.ts';
import { stateDir } from '../agent/state.ts';
import { ExecRunner } from '../dataplane/index.ts';
import { boolOption, intOption, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import { DIAGNOSE_SPEC } from './specs/diagnose.ts';

/** argv that runs this same moor: the single executable, or node with the bundle. */
function selfArgv(): string[] {
  const script = process.argv[1];
  return isSea() || script === undefined ? [process.execPath] : [process.execPath, script];
}

export async function runDiagnose(args: string[], version: string): Promise<number> {
  const parsed = parseCommand(DIAGNOSE_SPEC, args);
  if (boolOption(parsed, 'help')) {
    process.stdout.write(renderHelp(['diagnose'], DIAGNOSE_SPEC));
    return 0;
  }
  const output = resolve(stringOption(parsed, 'output') ?? defaultBundleName(new Date()));
  const result = await writeSupportBundle(
    {
      stateDir: stateDir(stringOption(parsed, 'state-dir')),
      ...(parsed.config?.found ? { configPath: parsed.config.path } : {}),
      output,
      logLines: intOption(parsed, 'log-lines'),
      moorArgv: selfArgv(),
      version,
    },
    new ExecRunner(),
  );
  for (const p of result.problems) process.stderr.write(`moor diagnose: not collected: ${p}\n`);
  process.stdout.write(
    `wrote ${result.path} (${result.files.length} files, ${result.redactions} secret occurrences redacted)\n`,
  );
  return 0;
}
