// `moor join` and `moor leave`.
import { hostname } from 'node:os';
import { join } from '../agent/join.ts';
import { leave } from '../agent/leave.ts';
import { startAgentService, stopAgent } from '../agent/service.ts';
import { DEFAULT_ADDRESS_POOL, DEFAULT_INTERFACE, stateDir } from '../agent/state.ts';
import { teardownHost } from '../agent/teardown.ts';
import { readBrokerInfoFile } from '../broker/brokerInfoFile.ts';
import { suggestClusterId } from '../broker/names.ts';
import { ExecRunner } from '../dataplane/exec.ts';
import { MoorError } from '../errors.ts';
import {
  boolOption,
  boolStringOption,
  intOption,
  listOption,
  parseCommandArgs,
  stringOption,
} from './args.ts';

export const JOIN_HELP = `Usage: moor join BROKER-INFO [options]

Make this host a member of the Submariner clusterset described by BROKER-INFO (the
broker-info.subm written by \`subctl deploy-broker\`). The host gets its own clusterset
address(es), registers as a cluster on the broker, and the agent builds WireGuard cables to
every gateway. The broker admin token in the file is used only during join; the host keeps a
member credential (ServiceAccount cluster-<id>) in its state directory (0600).

Options:
  --clusterid ID          cluster ID of this host (DNS-1123 label; default: from the host name)
  --address IP            clusterset address of this host (repeatable); default: allocate one
  --pool CIDR             pool to allocate from when no --address is given (default ${DEFAULT_ADDRESS_POOL})
  --private-ip IP         underlay address gateways reach this host at (default: source of the default route)
  --public-ip IP          address gateways reach this host at when it is behind NAT
  --port N                WireGuard UDP port (default 4500)
  --interface NAME        WireGuard interface name (default ${DEFAULT_INTERFACE})
  --hostname NAME         host name published in the Endpoint (default: this host's name)
  --broker-url URL        override the broker URL in the file
  --check-broker-certificate=true|false   verify the broker's TLS certificate (default true)
  --state-dir DIR         where moor keeps its state (default /var/lib/moor, or $MOOR_STATE_DIR)
  --no-start              do not start the agent service
`;

export const LEAVE_HELP = `Usage: moor leave [BROKER-INFO] [options]

Undo everything join created: stop the agent, remove the WireGuard interface with its addresses
and routes, withdraw this host's Cluster and Endpoint from the broker, and delete the state
directory. With BROKER-INFO (the admin credential) it also deletes the member ServiceAccount,
its RoleBinding and token Secret, and the address claims. Running it again is harmless.

Options:
  --clusterid ID          clean up the broker for this cluster ID when this host has no state
  --broker-url URL        override the broker URL in the file
  --check-broker-certificate=true|false   verify the broker's TLS certificate (default true)
  --state-dir DIR         where moor keeps its state (default /var/lib/moor, or $MOOR_STATE_DIR)
`;

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * SIGTERM and SIGINT during join abort it: join stops before its next broker request and rolls
 * back what it created, as a failed join does. A second signal does not cut the rollback short
 * (that would leave objects on the broker); SIGKILL still can.
 */
function rollBackOnSignals(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log(`${name}: still rolling back the join, please wait`);
      return;
    }
    log(`${name}: stopping the join and rolling back what it created`);
    controller.abort(name);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

export async function runJoin(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'join',
    args,
    {
      clusterid: { type: 'string' },
      address: { type: 'string', multiple: true },
      pool: { type: 'string' },
      'private-ip': { type: 'string' },
      'public-ip': { type: 'string' },
      port: { type: 'string' },
      interface: { type: 'string' },
      hostname: { type: 'string' },
      'broker-url': { type: 'string' },
      'check-broker-certificate': { type: 'string' },
      'state-dir': { type: 'string' },
      'no-start': { type: 'boolean' },
    },
    1,
  );
  if (boolOption(parsed, 'help')) {
    process.stdout.write(JOIN_HELP);
    return 0;
  }
  const file = parsed.positionals[0];
  if (!file)
    throw new MoorError('invalid-argument', 'join: BROKER-INFO is missing', {
      hint: 'moor join broker-info.subm --clusterid <id>',
    });
  const info = readBrokerInfoFile(file);
  const clusterId = stringOption(parsed, 'clusterid') ?? suggestClusterId(hostname());
  if (!clusterId) {
    throw new MoorError('invalid-argument', `cannot derive a cluster ID from the host name "${hostname()}"`, {
      hint: 'pass --clusterid',
    });
  }
  const dir = stateDir(stringOption(parsed, 'state-dir'));
  const privateIp = stringOption(parsed, 'private-ip');
  const publicIp = stringOption(parsed, 'public-ip');
  const brokerUrl = stringOption(parsed, 'broker-url');
  const host = stringOption(parsed, 'hostname');
  const interruption = rollBackOnSignals();
  const result = await join(
    {
      brokerInfo: info,
      clusterId,
      addresses: listOption(parsed, 'address'),
      pool: stringOption(parsed, 'pool') ?? DEFAULT_ADDRESS_POOL,
      port: intOption(parsed, 'port', 4500, 1, 65535),
      interfaceName: stringOption(parsed, 'interface') ?? DEFAULT_INTERFACE,
      checkBrokerCertificate: boolStringOption(parsed, 'check-broker-certificate', true),
      stateDir: dir,
      ...(privateIp ? { privateIp } : {}),
      ...(publicIp ? { publicIp } : {}),
      ...(brokerUrl ? { brokerUrl } : {}),
      ...(host ? { hostname: host } : {}),
      signal: interruption.signal,
    },
    { runner: new ExecRunner(), log },
  ).finally(() => interruption.release());
  if (!boolOption(parsed, 'no-start')) log(await startAgentService(dir));
  process.stdout.write(
    `${JSON.stringify({ clusterId: result.state.clusterId, addresses: result.state.addresses })}\n`,
  );
  return 0;
}

export async function runLeave(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'leave',
    args,
    {
      clusterid: { type: 'string' },
      'broker-url': { type: 'string' },
      'check-broker-certificate': { type: 'string' },
      'state-dir': { type: 'string' },
    },
    1,
  );
  if (boolOption(parsed, 'help')) {
    process.stdout.write(LEAVE_HELP);
    return 0;
  }
  const file = parsed.positionals[0];
  const clusterId = stringOption(parsed, 'clusterid');
  const brokerUrl = stringOption(parsed, 'broker-url');
  const result = await leave(
    {
      stateDir: stateDir(stringOption(parsed, 'state-dir')),
      checkBrokerCertificate: boolStringOption(parsed, 'check-broker-certificate', true),
      ...(file ? { brokerInfo: readBrokerInfoFile(file) } : {}),
      ...(clusterId ? { clusterId } : {}),
      ...(brokerUrl ? { brokerUrl } : {}),
    },
    {
      log,
      teardownHost: (state) =>
        teardownHost(state, new ExecRunner(), stateDir(stringOption(parsed, 'state-dir')), log),
      stopAgent: () => stopAgent(stateDir(stringOption(parsed, 'state-dir'))),
    },
  );
  for (const r of result.removed) log(`removed ${r}`);
  for (const r of result.remaining) log(`left on the broker: ${r}`);
  return 0;
}
