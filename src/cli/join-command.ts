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
import { boolOption, boolStringOption, intOption, listOption, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import { JOIN_SPEC, LEAVE_SPEC } from './specs/join.ts';

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
  const parsed = parseCommand(JOIN_SPEC, args);
  if (boolOption(parsed, 'help')) {
    process.stdout.write(renderHelp(['join'], JOIN_SPEC));
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
      port: intOption(parsed, 'port'),
      interfaceName: stringOption(parsed, 'interface') ?? DEFAULT_INTERFACE,
      checkBrokerCertificate: boolStringOption(parsed, 'check-broker-certificate'),
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
  const parsed = parseCommand(LEAVE_SPEC, args);
  if (boolOption(parsed, 'help')) {
    process.stdout.write(renderHelp(['leave'], LEAVE_SPEC));
    return 0;
  }
  const file = parsed.positionals[0];
  const clusterId = stringOption(parsed, 'clusterid');
  const brokerUrl = stringOption(parsed, 'broker-url');
  const result = await leave(
    {
      stateDir: stateDir(stringOption(parsed, 'state-dir')),
      checkBrokerCertificate: boolStringOption(parsed, 'check-broker-certificate'),
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
