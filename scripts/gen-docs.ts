// Writes what is generated from the command specs (src/cli/specs/): bash and zsh completion and
// the man page under dist/, and the commented default config file packaging/config.yaml (kept in
// git, so a unit test can tell when it is stale). `--out DIR` writes the same paths under DIR.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderBashCompletion, renderZshCompletion } from '../src/cli/spec/completion.ts';
import { renderDefaultConfig } from '../src/cli/spec/config-default.ts';
import { renderManPage } from '../src/cli/spec/man.ts';
import { COMMAND_SPECS } from '../src/cli/specs/index.ts';

const repo = join(import.meta.dirname, '..');
const outFlag = process.argv.indexOf('--out');
const root: string = (outFlag >= 0 ? process.argv[outFlag + 1] : undefined) ?? repo;
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const date = process.env.SOURCE_DATE_EPOCH
  ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000)
  : new Date();

const outputs: [string, string][] = [
  ['dist/completion/moor.bash', renderBashCompletion(COMMAND_SPECS)],
  ['dist/completion/_moor', renderZshCompletion(COMMAND_SPECS)],
  ['dist/man/moor.1', renderManPage(COMMAND_SPECS, { version: pkg.version, date })],
  ['packaging/config.yaml', renderDefaultConfig(COMMAND_SPECS)],
];
for (const [path, text] of outputs) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}
console.log(`wrote ${outputs.map(([p]) => p).join(', ')}`);
