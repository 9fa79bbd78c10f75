// The egress data path on real parts, under two CNI styles: moor controller, moor node-agent on
// the workers and moor egress-gateway on two gateway nodes (all the shipped bundle), pods as
// namespaces, and fw counting every source address it sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EgressObjects, egressObjects } from '../harness/egress-cluster.ts';
import {
  buildEgressCluster,
  CLUSTER_CIDRS,
  type CniStyle,
  type EgressCluster,
  FW,
  NODES,
} from '../harness/egress-topology.ts';
import { startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import type { Host } from '../harness/topology.ts';

const EGRESS_PAY = '10.99.10.33';
const EGRESS_OPS = '10.99.10.32';

describe.each<CniStyle>(['routed', 'masquerade'])('egress data path, %s CNI', (style) => {
  let run: TestRun;
  let c: EgressCluster;
  let eg: EgressObjects;
  const procs = new Map<string, RunningProcess>();
  let pay: Host;
  let web: Host;
  let ops: Host;

  const start = (host: string, args: string[]) => {
    const p = startMoor(c.topo.host(host), `${args[0]}-${procs.size}`, [
      ...args,
      '--kubeconfig',
      c.kubeconfigPath,
    ]);
    procs.set(host, p);
    return p;
  };
  const startNodeAgent = (w: 'w1' | 'w2') =>
    start(w, [
      'node-agent',
      '--node-name',
      w,
      '--underlay-interface',
      'lan0',
      ...CLUSTER_CIDRS.flatMap((x) => ['--cluster-cidr', x]),
      '--pod-cidr',
      w === 'w1' ? '10.1.3.0/24' : '10.1.4.0/24',
      '--resync',
      '5',
    ]);
  const startGateway = (g: 'gw1' | 'gw2') =>
    start(g, [
      'egress-gateway',
      '--node-name',
      g,
      '--lease-duration',
      '2',
      '--renew-deadline-ms',
      '1500',
      '--retry-period-ms',
      '200',
      '--resync',
      '5',
    ]);

  /** Ping fw `count` times; returns how many replies came back. */
  const ping = async (pod: Host, count = 5) => {
    const r = await pod.exec(['ping', '-n', '-q', '-c', String(count), '-i', '0.1', '-W', '1', FW], {
      allowFail: true,
    });
    const m = /(\d+) received/.exec(r.stdout);
    return Number(m?.[1] ?? 0);
  };
  const delta = async (action: () => Promise<unknown>) => {
    const before = await c.fwSources();
    await action();
    const after = await c.fwSources();
    const d = new Map<string, number>();
    for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) d.set(k, v - (before.get(k) ?? 0));
    return d;
  };

  /** What the kernels and fw hold, for a failure message. */
  const dump = async () => {
    const sh = async (host: string, argv: string[]) =>
      `$ ${host}: ${argv.join(' ')}\n${(await c.topo.host(host).exec(argv, { allowFail: true })).stdout}`;
    const parts = [
      `fw sources: ${JSON.stringify([...(await c.fwSources())])}`,
      await sh('w1', ['nft', 'list', 'table', 'ip', 'moor_egress_node']),
      await sh('w1', ['ip', 'rule']),
      await sh('w1', ['ip', 'route', 'show', 'table', 'all', 'dev', 'moorvx4100']),
      await sh('w1', ['ip', 'neigh', 'show', 'dev', 'moorvx4100']),
      await sh('w1', ['ip', '-s', '-d', 'link', 'show', 'moorvx4100']),
      await sh('gw1', ['ip', '-s', '-d', 'link', 'show', 'moorvx4100']),
      await sh('w1', ['ip', 'route', 'get', FW, 'from', '10.1.3.5', 'iif', 'pod1', 'mark', '0x6d001004']),
      await sh('gw1', ['ip', 'route', 'get', FW, 'from', '10.1.3.5', 'iif', 'moorvx4100']),
      await sh('gw1', [
        'nstat',
        '-az',
        'IpInAddrErrors',
        'IpExtInNoRoutes',
        'UdpNoPorts',
        'UdpInErrors',
        'IpInDiscards',
        'TcpExtIPReversePathFilter',
      ]),
      await sh('gw1', ['ip', '-br', 'addr']),
      await sh('gw2', ['ip', '-br', 'addr']),
      await sh('gw1', ['nft', 'list', 'ruleset']),
      ...[...procs.values()].map((p) => `--- ${p.name}\n${p.tail(8)}`),
    ];
    return parts.join('\n');
  };
  const until = async (what: string, check: () => Promise<true | undefined>) =>
    waitFor(what, check, { timeoutMs: 30_000, intervalMs: 500 }).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await dump()}`);
    });

  beforeAll(async () => {
    run = TestRun.start();
    c = await buildEgressCluster(run, style);
    eg = egressObjects(c.kc);
    await eg.createGateway('east', {
      nodeSelector: { matchLabels: { 'egress.moor.io/gateway': 'east' } },
      pool: { cidrs: ['10.99.10.32/28'] },
      interface: 'lan0',
      subnet: '10.99.10.0/24',
      floatingIP: '10.99.10.30',
      vni: 4100,
    });
    await eg.createPolicy('pay', {
      podSelector: { matchLabels: { app: 'pay' } },
      destinations: [{ cidr: '10.99.50.0/24' }],
      gateway: 'east',
      priority: 10,
    });
    await eg.createPolicy('ops', {
      podSelector: { matchLabels: { app: 'ops' } },
      destinations: [{ cidr: '10.99.50.0/24' }],
      gateway: 'east',
      failurePolicy: 'Open',
    });
    pay = await c.addPod('pay-1', 'w1', '10.1.3.5', { app: 'pay' });
    web = await c.addPod('web-1', 'w1', '10.1.3.6', { app: 'web' });
    ops = await c.addPod('ops-1', 'w2', '10.1.4.5', { app: 'ops' });
    start('api', ['controller', '--resync', '5']);
    startGateway('gw1');
    startGateway('gw2');
    startNodeAgent('w1');
    startNodeAgent('w2');
    await waitFor(
      'policies allocated and a gateway active',
      async () => {
        for (const proc of procs.values())
          if (!proc.running) throw new Error(`${proc.name} exited:\n${proc.tail(20)}`);
        const [p, o, g] = await Promise.all([eg.policy('pay'), eg.policy('ops'), eg.gateway('east')]);
        return p.status?.ips?.[0] === EGRESS_PAY && o.status?.ips?.[0] === EGRESS_OPS && g.status?.activeNode
          ? true
          : undefined;
      },
      { timeoutMs: 60_000 },
    ).catch((err: Error) => {
      const logs = [...procs.values()].map((p) => `--- ${p.name}\n${p.tail(15)}`).join('\n');
      throw new Error(`${err.message}\n${logs}`);
    });
  });

  afterAll(async () => {
    await run?.cleanup();
  });

  it('a selected pod reaches fw from its egress IP, and only from it', async () => {
    let seen = new Map<string, number>();
    await until('pay steered', async () => {
      seen = await delta(() => ping(pay, 3));
      return seen.has(EGRESS_PAY) ? true : undefined;
    });
    const d = await delta(async () => expect(await ping(pay, 10)).toBe(10));
    expect([...d.keys()]).toEqual([EGRESS_PAY]);
  });

  it('an unselected pod does not use an egress IP; a pod of another policy gets its own IP', async () => {
    const d = await delta(() => ping(web, 5));
    expect([...d.keys()]).toEqual([style === 'routed' ? '10.1.3.6' : NODES.w1]);
    let o = new Map<string, number>();
    await until('ops steered', async () => {
      o = await delta(() => ping(ops, 3));
      return o.has(EGRESS_OPS) ? true : undefined;
    });
    expect([...o.keys()]).toEqual([EGRESS_OPS]);
  });
});
