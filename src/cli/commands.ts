// The command table: each command's spec (./specs/) paired with its implementation. This list
// and ./specs/index.ts are the only places that name the commands.
import { runAgent } from './agent-command.ts';
import { runConfig } from './config-command.ts';
import { runController } from './controller-command.ts';
import { runDiagnose } from './diagnose-command.ts';
import { runEgress } from './egress-command.ts';
import { runEgressGateway, runNodeAgent } from './egress-daemon-commands.ts';
import { runExport, runUnexport } from './export-command.ts';
import { runGateway } from './gateway-command.ts';
import { runJoin, runLeave } from './join-command.ts';
import { renderHelp, renderUsage } from './spec/help.ts';
import type { CommandSpec } from './spec/types.ts';
import { COMMAND_SPECS } from './specs/index.ts';
import { runShow, runStatus } from './status-command.ts';

export interface Command {
  spec: CommandSpec;
  run(args: string[]): Promise<number>;
}

import { VERSION, versionLine } from './version.ts';

export { VERSION };

async function runVersion(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(renderHelp(['version'], specNamed('version')));
    return 0;
  }
  process.stdout.write(versionLine());
  return 0;
}

const RUNNERS: Record<string, Command['run']> = {
  join: runJoin,
  leave: runLeave,
  agent: runAgent,
  gateway: runGateway,
  controller: runController,
  'node-agent': runNodeAgent,
  'egress-gateway': runEgressGateway,
  egress: runEgress,
  status: runStatus,
  export: runExport,
  unexport: runUnexport,
  show: runShow,
  config: runConfig,
  diagnose: (args) => runDiagnose(args, VERSION),
  version: runVersion,
};

function specNamed(name: string): CommandSpec {
  const spec = COMMAND_SPECS.find((s) => s.name === name);
  if (!spec) throw new Error(`no spec for command ${name}`);
  return spec;
}

export const commands: Command[] = COMMAND_SPECS.map((spec) => {
  const run = RUNNERS[spec.name];
  if (!run) throw new Error(`command ${spec.name} has a spec but no implementation`);
  return { spec, run };
});

export function usage(): string {
  return renderUsage(COMMAND_SPECS);
}
