// The moor egress components on an egress cluster (egress-topology.ts), as the e2e tests and the
// smoke demo run them: `moor controller` on the API host, `moor egress-gateway` on the gateway
// nodes, `moor node-agent` on the workers (all the shipped bundle), plus pinging fw from a pod
// and the per-source packet counts fw saw meanwhile.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_CIDRS, type EgressCluster, FW, POD_CIDRS } from './egress-topology.ts';
import { startMoor } from './moor.ts';
import type { RunningProcess } from './process.ts';
import type { TestRun } from './run.ts';
import type { Host } from './topology.ts';

/** The one gateway group of the egress cluster: gw1 and gw2, pool 10.99.10.32/28. */
export const EAST_GATEWAY_SPEC = {
  nodeSelector: { matchLabels: { 'egress.moor.io/gateway': 'east' } },
  pool: { cidrs: ['10.99.10.32/28'] },
  interface: 'lan0',
  subnet: '10.99.10.0/24',
  floatingIP: '10.99.10.30',
  vni: 4100,
};

export interface EgressStack {
  /** The latest process started per host. */
  procs: Map<string, RunningProcess>;
  /** `extra`: more `moor controller` options (e.g. `--dns-listen`, `--egress-map-listen`). */
  startController(extra?: string[]): RunningProcess;
  startNodeAgent(w: 'w1' | 'w2'): RunningProcess;
  startGateway(g: 'gw1' | 'gw2'): RunningProcess;
}

export function egressStack(run: TestRun, c: EgressCluster): EgressStack {
  const keyFile = join(run.dir, 'heartbeat.key');
  writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const procs = new Map<string, RunningProcess>();
  const start = (host: string, args: string[]) => {
    const p = startMoor(c.topo.host(host), `${args[0]}-${procs.size}`, [
      ...args,
      '--kubeconfig',
      c.kubeconfigPath,
    ]);
    procs.set(host, p);
    return p;
  };
  return {
    procs,
    startController: (extra = []) => start('api', ['controller', '--resync', '5', ...extra]),
    startNodeAgent: (w) =>
      start(w, [
        'node-agent',
        '--node-name',
        w,
        '--underlay-interface',
        'lan0',
        ...CLUSTER_CIDRS.flatMap((x) => ['--cluster-cidr', x]),
        '--pod-cidr',
        POD_CIDRS[w],
        '--resync',
        '5',
      ]),
    startGateway: (g) =>
      start(g, ['egress-gateway', '--node-name', g, '--heartbeat-key-file', keyFile, '--resync', '5']),
  };
}

/** Ping fw `count` times from `pod`; returns how many replies came back. */
export async function pingFw(pod: Host, count = 5): Promise<number> {
  const r = await pod.exec(['ping', '-n', '-q', '-c', String(count), '-i', '0.1', '-W', '1', FW], {
    allowFail: true,
  });
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
}

/** The packets fw saw per source address while `action` ran. */
export async function fwDelta(
  c: EgressCluster,
  action: () => Promise<unknown>,
): Promise<Map<string, number>> {
  const before = await c.fwSources();
  await action();
  const after = await c.fwSources();
  const d = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) d.set(k, v - (before.get(k) ?? 0));
  return d;
}
