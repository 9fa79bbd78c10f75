// The egress benchmark environment: the e2e harness's simulated cluster (routed CNI) with the
// gateway group `east`, the policy `pay` (app=pay → fw's subnet), `moor controller`, a node agent
// on each worker and `moor egress-gateway` on both gateway nodes, production timings.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EgressObjects, egressObjects } from '../../test/harness/egress-cluster.ts';
import {
  buildEgressCluster,
  CLUSTER_CIDRS,
  type EgressCluster,
  POD_CIDRS,
} from '../../test/harness/egress-topology.ts';
import { startMoor } from '../../test/harness/moor.ts';
import { type RunningProcess, waitFor } from '../../test/harness/process.ts';
import type { TestRun } from '../../test/harness/run.ts';

export const EGRESS_POOL = '10.99.10.32/28';
export type Worker = 'w1' | 'w2';

export interface EgressBenchEnv {
  c: EgressCluster;
  eg: EgressObjects;
  procs: Map<string, RunningProcess>;
  /** The egress IP allocated to `pay`. */
  payIp: string;
  /** (Re)start `moor egress-gateway` on gw1 or gw2; `n` tells log files apart. */
  startGateway(g: string, n: number): RunningProcess;
  /** How often the controller exited and was started again (as its Deployment would). */
  controllerRestarts(): number;
}

export async function buildEgressBenchEnv(
  run: TestRun,
  options: { podCidrs?: Partial<Record<Worker, string[]>> } = {},
): Promise<EgressBenchEnv> {
  const c = await buildEgressCluster(run, 'routed');
  const eg = egressObjects(c.kc);
  const keyFile = join(run.dir, 'heartbeat.key');
  writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  await eg.createGateway('east', {
    nodeSelector: { matchLabels: { 'egress.moor.io/gateway': 'east' } },
    pool: { cidrs: [EGRESS_POOL] },
    interface: 'lan0',
    subnet: '10.99.10.0/24',
    floatingIP: '10.99.10.30',
    vni: 4100,
  });
  await eg.createPolicy('pay', {
    podSelector: { matchLabels: { app: 'pay' } },
    destinations: [{ cidr: '10.99.50.0/24' }],
    gateway: 'east',
  });
  const kube = ['--kubeconfig', c.kubeconfigPath];
  const procs = new Map<string, RunningProcess>();
  // The controller exits when it loses its Lease; its Deployment would start it again.
  let restarts = 0;
  const startController = () =>
    procs.set('api', startMoor(c.topo.host('api'), `controller-${restarts}`, ['controller', ...kube]));
  startController();
  const supervisor = setInterval(() => {
    if (procs.get('api')?.running !== false) return;
    restarts++;
    startController();
  }, 200);
  run.defer(() => clearInterval(supervisor));
  for (const w of ['w1', 'w2'] as const) {
    const cidrs = options.podCidrs?.[w] ?? [POD_CIDRS[w]];
    procs.set(
      w,
      startMoor(c.topo.host(w), `node-agent-${w}`, [
        'node-agent',
        '--node-name',
        w,
        '--underlay-interface',
        'lan0',
        ...CLUSTER_CIDRS.flatMap((x) => ['--cluster-cidr', x]),
        ...cidrs.flatMap((x) => ['--pod-cidr', x]),
        ...kube,
      ]),
    );
  }
  const startGateway = (g: string, n: number) => {
    const p = startMoor(c.topo.host(g), `egress-gateway-${g}-${n}`, [
      'egress-gateway',
      '--node-name',
      g,
      '--heartbeat-key-file',
      keyFile,
      ...kube,
    ]);
    procs.set(g, p);
    return p;
  };
  startGateway('gw1', 0);
  startGateway('gw2', 0);
  const payIp = await waitFor(
    'pay allocated and a gateway active',
    async () => {
      for (const [h, p] of procs)
        if (h !== 'api' && !p.running) throw new Error(`${p.name} exited:\n${p.tail(20)}`);
      const [p, g] = await Promise.all([eg.policy('pay'), eg.gateway('east')]);
      return g.status?.activeNode ? p.status?.ips?.[0] : undefined;
    },
    { timeoutMs: 90_000 },
  );
  return { c, eg, procs, payIp, startGateway, controllerRestarts: () => restarts };
}

/** How many elements an nft set of the node agent's table holds on `host`. */
export async function nodeSetSize(env: EgressBenchEnv, host: string, set: string): Promise<number> {
  const { stdout } = await env.c.topo
    .host(host)
    .exec(['nft', '-j', 'list', 'set', 'ip', 'moor_egress_node', set], { allowFail: true });
  if (!stdout) return 0;
  const items = (JSON.parse(stdout) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables;
  return items.reduce((n, it) => n + (it.set?.elem?.length ?? 0), 0);
}
