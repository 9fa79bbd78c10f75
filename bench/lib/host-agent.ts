// A host's life in the clusterset as an operator runs it: `moor join … --no-start`, then
// `moor agent` (the esbuild bundle), and `moor leave` with the admin broker-info at the end.
import { join } from 'node:path';
import { moor, startMoor } from '../../test/harness/moor.ts';
import type { RunningProcess } from '../../test/harness/process.ts';
import type { TestRun } from '../../test/harness/run.ts';
import type { Host } from '../../test/harness/topology.ts';

export interface HostSpec {
  clusterId: string;
  /** The host's clusterset address; undefined: allocate from the pool. */
  address: string | undefined;
  wgName: string;
  stateDir: string;
  publicIp: string;
}

export function newHostSpec(
  run: TestRun,
  label: string,
  options: { address?: string; publicIp: string; clusterId?: string },
): HostSpec {
  return {
    clusterId: options.clusterId ?? 'vm1',
    address: options.address,
    wgName: run.ifName('w'),
    stateDir: join(run.dir, `state-${label}`),
    publicIp: options.publicIp,
  };
}

/** `moor join --no-start`; returns the host's clusterset address. */
export async function joinHost(host: Host, brokerInfo: string, spec: HostSpec): Promise<string> {
  const args = ['join', brokerInfo, '--clusterid', spec.clusterId, '--public-ip', spec.publicIp];
  if (spec.address) args.push('--address', spec.address);
  args.push('--interface', spec.wgName, '--state-dir', spec.stateDir, '--no-start');
  const r = await moor(host, args);
  if (r.code !== 0) throw new Error(`moor join failed (exit ${r.code}): ${r.stderr.trim()}`);
  const out = JSON.parse(r.stdout) as { addresses: string[] };
  const address = out.addresses[0];
  if (!address) throw new Error(`moor join printed no address: ${r.stdout}`);
  return address;
}

export function startAgent(host: Host, spec: HostSpec, name: string): RunningProcess {
  return startMoor(host, name, ['agent', '--state-dir', spec.stateDir]);
}

/** `moor leave` with the admin broker-info (removes the member credential too); makes sure the
 * agent is gone even if leave could not stop it. */
export async function leaveHost(
  host: Host,
  brokerInfo: string,
  spec: HostSpec,
  agent: RunningProcess | undefined,
): Promise<void> {
  const r = await moor(host, ['leave', brokerInfo, '--state-dir', spec.stateDir], { timeoutMs: 120_000 });
  if (agent?.running) {
    const exited = await Promise.race([
      agent.waitExit().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    if (!exited) await agent.stop();
  }
  if (r.code !== 0) throw new Error(`moor leave failed (exit ${r.code}): ${r.stderr.trim()}`);
}
