// `moor config check`.
import type { CommandSpec } from '../spec/types.ts';
import { DEFAULT_CONFIG_PATH } from '../spec/types.ts';

export const CONFIG_CHECK_SPEC: CommandSpec = {
  name: 'check',
  summary: 'validate a config file without starting anything',
  description: [
    `Read FILE (default: --config, $MOOR_CONFIG, or ${DEFAULT_CONFIG_PATH}) and check every key and value against what the commands accept. Each problem is reported as FILE:LINE: key: what is wrong, and what is allowed; the exit status is non-zero when there is one.`,
  ],
  positionals: [{ name: 'FILE', description: 'the config file to check', optional: true, complete: 'file' }],
  options: [],
};

export const CONFIG_SPEC: CommandSpec = {
  name: 'config',
  summary: `work with the configuration file (${DEFAULT_CONFIG_PATH})`,
  description: [
    `moor reads defaults for its commands from ${DEFAULT_CONFIG_PATH} (another file with --config or $MOOR_CONFIG). Top-level keys apply to every command that has the option (state-dir); a section named after a command holds that command's options, under the same names as its flags. Flags override the file, the file overrides built-in defaults. A missing default file is fine; a missing file that was named explicitly is an error. Unknown keys are errors.`,
  ],
  positionals: [],
  options: [],
  subcommands: [CONFIG_CHECK_SPEC],
};
