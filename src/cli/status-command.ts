// `moor status` and `moor show connections`: what the agent reports in its status file.
import { existsSync } from 'node:fs';
import { hasState, stateDir } from '../agent/state.ts';
import { type AgentStatus, readStatus } from '../cables/status.ts';
import { MoorError } from '../errors.ts';
import { boolOption, enumOption, parseCommand, stringOption } from './args.ts';
import { runShowExports, runShowServices } from './export-command.ts';
import { renderHelp } from './spec/help.ts';
import type { CommandSpec } from './spec/types.ts';
import { SHOW_CONNECTIONS_SPEC, SHOW_SPEC, STATUS_SPEC } from './specs/status.ts';
import { brokerLine, dnsLine, egressLine, registrationLine } from './status-lines.ts';
import { ago, renderTable } from './table.ts';

const STALE_MS = 10_000;

function load(args: string[], spec: CommandSpec, path: string[]) {
  const parsed = parseCommand(spec, args, { path, consumedPositionals: path.length - 1 });
  const output = enumOption(parsed, 'output') ?? 'table';
  const dir = stateDir(stringOption(parsed, 'state-dir'));
  return { parsed, output, dir };
}

function requireStatus(dir: string): { status: AgentStatus; running: boolean } {
  const status = readStatus(dir);
  if (!status) {
    const joined = hasState(dir); // an unreadable directory is an error of its own, not "not joined"

    throw new MoorError(
      'not-found',
      joined ? 'the agent has not reported yet' : 'this host has not joined a clusterset',
      {
        hint: joined
          ? 'start it: `moor agent` (or systemctl start moor-agent)'
          : 'run `moor join broker-info.subm --clusterid <id>`',
      },
    );
  }
  const fresh = Date.now() - Date.parse(status.updatedAt) < STALE_MS;
  return { status, running: fresh && existsSync(`/proc/${status.pid}`) };
}

export async function runStatus(args: string[]): Promise<number> {
  const { parsed, output, dir } = load(args, STATUS_SPEC, ['status']);
  if (boolOption(parsed, 'help')) {
    process.stdout.write(renderHelp(['status'], STATUS_SPEC));
    return 0;
  }
  const { status, running } = requireStatus(dir);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ ...status, agentRunning: running }, null, 2)}\n`);
    return 0;
  }
  const count = (s: string) => status.connections.filter((c) => c.status === s).length;
  const lines = [
    `cluster ID:    ${status.clusterId}`,
    `addresses:     ${status.addresses.join(', ')}`,
    `agent:         ${running ? `running (pid ${status.pid})` : `NOT RUNNING (last report ${ago(status.updatedAt, Date.now())})`}`,
    `interface:     ${status.interface.name} (${status.interface.driver}, port ${status.interface.listenPort}, mtu ${status.interface.mtu ?? '?'})`,
    `public key:    ${status.interface.publicKey}`,
    `broker:        ${brokerLine(status, Date.now())}`,
    `registration:  ${registrationLine(status, Date.now())}`,
    `connections:   ${count('connected')} connected, ${count('connecting')} connecting, ${count('error')} error`,
  ];
  if (status.dns) {
    const d = status.dns;
    lines.push(`dns:           ${dnsLine(d, Date.now())}`);
    if (d.egress) lines.push(`egress names:  ${egressLine(d.egress)}`);
    if (d.resolver) {
      lines.push(`resolver:      ${d.resolver.summary}`);
      if (d.resolver.instructions)
        lines.push(
          ...d.resolver.instructions
            .trimEnd()
            .split('\n')
            .map((l) => `  ${l}`),
        );
    }
  }
  if (status.exports && status.exports.length > 0) {
    const shown = status.exports.map(
      (e) => `${e.namespace}/${e.name} (${e.ready === null ? 'checking' : e.ready ? 'ready' : 'NOT READY'})`,
    );
    lines.push(`exports:       ${shown.join(', ')}`);
  }
  if (status.rejected.length > 0) {
    lines.push(`rejected:      ${status.rejected.length} broker object(s)`);
    for (const r of status.rejected)
      lines.push(`  - Endpoint ${r.endpointName} (cluster "${r.clusterId}"): ${r.reason}`);
  }
  if (status.applyErrors.length > 0) {
    lines.push('errors:');
    for (const e of status.applyErrors) lines.push(`  - ${e}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function runShow(args: string[]): Promise<number> {
  const { parsed } = load(args, SHOW_SPEC, ['show']);
  const what = parsed.positionals[0];
  if (what === undefined) {
    process.stdout.write(renderHelp(['show'], SHOW_SPEC));
    return boolOption(parsed, 'help') ? 0 : 2;
  }
  if (what === 'exports') return runShowExports(args);
  if (what === 'services') return runShowServices(args);
  if (what !== 'connections') {
    throw new MoorError('invalid-argument', `show: unknown subject "${what}"`, {
      hint: 'moor show connections|exports|services',
    });
  }
  const { output, dir, parsed: sub } = load(args, SHOW_CONNECTIONS_SPEC, ['show', 'connections']);
  if (boolOption(sub, 'help')) {
    process.stdout.write(renderHelp(['show', 'connections'], SHOW_CONNECTIONS_SPEC));
    return 0;
  }
  const { status } = requireStatus(dir);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify(status.connections, null, 2)}\n`);
    return 0;
  }
  const now = Date.now();
  const rows = status.connections.map((c) => [
    c.clusterId,
    c.endpoint,
    c.status,
    ago(c.lastHandshake, now),
    c.rtt ? `${c.rtt.lastMs.toFixed(2)}ms` : '-',
    c.subnets.join(','),
    c.statusMessage,
  ]);
  process.stdout.write(
    renderTable(['CLUSTER', 'ENDPOINT', 'STATUS', 'HANDSHAKE', 'RTT', 'SUBNETS', 'MESSAGE'], rows),
  );
  return 0;
}
