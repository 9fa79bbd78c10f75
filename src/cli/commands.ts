// The command table. Each command is a small module; this list is the only place that names them.
export interface Command {
  name: string;
  summary: string;
  run(args: string[]): Promise<number>;
  help?: string;
}

export { VERSION } from './version.ts';

import { AGENT_HELP, runAgent } from './agent-command.ts';
import { EXPORT_HELP, runExport, runUnexport, UNEXPORT_HELP } from './export-command.ts';
import { GATEWAY_HELP, runGateway } from './gateway-command.ts';
import { JOIN_HELP, LEAVE_HELP, runJoin, runLeave } from './join-command.ts';
import { runShow, runStatus, SHOW_HELP, STATUS_HELP } from './status-command.ts';
import { versionLine } from './version.ts';

export const commands: Command[] = [
  {
    name: 'join',
    summary: 'join this host to a clusterset (broker-info.subm)',
    run: runJoin,
    help: JOIN_HELP,
  },
  {
    name: 'leave',
    summary: 'undo join: tunnels, routes, broker objects, state',
    run: runLeave,
    help: LEAVE_HELP,
  },
  { name: 'agent', summary: 'run the host agent in the foreground', run: runAgent, help: AGENT_HELP },
  {
    name: 'gateway',
    summary: 'run the cluster end of the cables (gateway nodes)',
    run: runGateway,
    help: GATEWAY_HELP,
  },
  { name: 'status', summary: "show this host's membership and health", run: runStatus, help: STATUS_HELP },
  {
    name: 'export',
    summary: "export one of this host's services to the clusterset",
    run: runExport,
    help: EXPORT_HELP,
  },
  {
    name: 'unexport',
    summary: 'withdraw an export of this host',
    run: runUnexport,
    help: UNEXPORT_HELP,
  },
  {
    name: 'show',
    summary: 'show connections, exports or clusterset services',
    run: runShow,
    help: SHOW_HELP,
  },
  {
    name: 'version',
    summary: 'print the moor version, commit and Node.js version (also --version)',
    async run() {
      process.stdout.write(versionLine());
      return 0;
    },
  },
];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: moor <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "moor <command> --help" for a command's options.\n`;
}
