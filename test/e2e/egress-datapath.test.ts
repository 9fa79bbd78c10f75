// The egress data path on real parts, under two CNI styles: moor controller, moor node-agent on
// the workers and moor egress-gateway on two gateway nodes (all the shipped bundle), pods as
// namespaces, and fw counting every source address it sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EgressObjects } from '../harness/egress-cluster.ts';
import { EGRESS_OPS, EGRESS_PAY, startEgressCore } from '../harness/egress-scenario.ts';
import { type EgressStack, fwDelta, pingFw } from '../harness/egress-stack.ts';
import { type CniStyle, type EgressCluster, FW, NODES } from '../harness/egress-topology.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import type { Host } from '../harness/topology.ts';

describe.each<CniStyle>(['routed', 'masquerade'])('egress data path, %s CNI', (style) => {
  let run: TestRun;
  let c: EgressCluster;
  let eg: EgressObjects;
  let stack: EgressStack;
  let procs: Map<string, RunningProcess>;
  let pay: Host;
  let web: Host;
  let ops: Host;
  const startNodeAgent = (w: 'w1' | 'w2') => stack.startNodeAgent(w);
  const startGateway = (g: 'gw1' | 'gw2') => stack.startGateway(g);
  const ping = pingFw;
  const delta = (action: () => Promise<unknown>) => fwDelta(c, action);

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
    ({ c, eg, stack, pay, web, ops } = await startEgressCore(run, style));
    procs = stack.procs;
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
  it('fail-closed: with the node agent stopped, a new selected pod sending at once reaches fw with no source at all', async () => {
    await procs.get('w1')?.stop();
    // The agent is gone; steering and guards stay in the kernel. A pod it never saw starts now.
    const fresh = await c.addPod('pay-2', 'w1', '10.1.3.7', { app: 'pay' });
    const d = await delta(() => ping(fresh, 20));
    expect([...d.keys()]).toEqual([]);
    // The pod the agent knew keeps leaving from its egress IP meanwhile.
    const known = await delta(() => ping(pay, 5));
    expect([...known.keys()]).toEqual([EGRESS_PAY]);
    startNodeAgent('w1');
    let steered = new Map<string, number>();
    await until('the restarted agent steers the new pod', async () => {
      steered = await delta(() => ping(fresh, 3));
      return steered.has(EGRESS_PAY) ? true : undefined;
    });
    expect([...steered.keys()]).toEqual([EGRESS_PAY]);
  });

  it('a graceful drain of the active gateway, then a restart of it as standby: no other source, no loss on restart', async () => {
    const active = (await eg.gateway('east')).status?.activeNode as 'gw1' | 'gw2';
    const standby = active === 'gw1' ? 'gw2' : 'gw1';
    const before = await c.fwSources();
    const flood = pay.exec(['ping', '-n', '-q', '-c', '60', '-i', '0.1', FW], { allowFail: true });
    await new Promise((r) => setTimeout(r, 1000));
    await procs.get(active)?.stop(); // SIGTERM: addresses dropped first, Lease released
    await until('the standby is active', async () =>
      (await eg.gateway('east')).status?.activeNode === standby ? true : undefined,
    );
    const drained = Number(/(\d+) received/.exec((await flood).stdout)?.[1] ?? 0);
    console.log(`${style}: graceful drain of ${active}: ${60 - drained} of 60 pings at 10/s lost`);
    expect(drained).toBeGreaterThan(40);
    // The drained node comes back as a standby: it programs the same state and takes nothing.
    const restartFlood = pay.exec(['ping', '-n', '-q', '-c', '40', '-i', '0.1', FW], { allowFail: true });
    startGateway(active);
    const restarted = Number(/(\d+) received/.exec((await restartFlood).stdout)?.[1] ?? 0);
    expect(restarted).toBe(40);
    expect((await eg.gateway('east')).status?.activeNode).toBe(standby);
    const after = await c.fwSources();
    const sources = [...after].filter(([k, v]) => v > (before.get(k) ?? 0)).map(([k]) => k);
    expect(sources).toEqual([EGRESS_PAY]);
  });

  it('a hard kill of the active gateway: traffic and a TCP connection resume from the same IP', async () => {
    const active = (await eg.gateway('east')).status?.activeNode as 'gw1' | 'gw2';
    const standby = active === 'gw1' ? 'gw2' : 'gw1';
    const fw = c.topo.host('fw');
    const server = fw.spawn('tcp-echo', [process.execPath, '-e', TCP_ECHO]);
    await waitFor('echo server', async () => (server.log().includes('listening') ? true : undefined));
    const client = pay.spawn('tcp-client', [process.execPath, '-e', TCP_CLIENT]);
    await waitFor('client connected and echoed', async () =>
      /echo 5\b/.test(client.log()) ? true : undefined,
    );
    const before = await c.fwSources();
    const flood = pay.exec(['ping', '-n', '-q', '-c', '100', '-i', '0.1', FW], { allowFail: true });
    await new Promise((r) => setTimeout(r, 1000));
    await procs.get(active)?.kill();
    await c.topo.host(active).exec(['ip', 'link', 'del', 'lan0']);
    await until('the standby is active', async () =>
      (await eg.gateway('east')).status?.activeNode === standby ? true : undefined,
    );
    const echoes = () => Number(/echo (\d+)\D*$/.exec(client.log())?.[1] ?? 0);
    const atTakeover = echoes();
    await until('the TCP flow moves on', async () => (echoes() > atTakeover + 10 ? true : undefined));
    const r = await flood;
    const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
    expect(received).toBeGreaterThan(50);
    // A figure, not an assertion (npm run bench is the place for timing goals).
    console.log(`${style}: hard kill of ${active}: ${100 - received} of 100 pings at 10/s lost`);
    const after = await c.fwSources();
    const sources = [...after].filter(([k, v]) => v > (before.get(k) ?? 0)).map(([k]) => k);
    expect(sources).toEqual([EGRESS_PAY]);
    expect(client.running).toBe(true);
    // One connection, one 4-tuple, from the egress IP.
    const conns = server
      .log()
      .split('\n')
      .filter((l) => l.startsWith('conn '));
    expect(conns).toHaveLength(1);
    // The SNAT kept the source port: the server sees the pod's own port, from the egress IP.
    const localPort = /local (\d+)/.exec(client.log())?.[1];
    expect(conns[0]).toBe(`conn ${EGRESS_PAY}:${localPort}`);
    await client.stop();
    await server.stop();
  });

  it('a restart of a node agent and of the controller loses no packet and changes no allocation', async () => {
    const ipsBefore = (await eg.policy('pay')).status?.ips;
    const flood = pay.exec(['ping', '-n', '-q', '-c', '40', '-i', '0.1', FW], { allowFail: true });
    await new Promise((r) => setTimeout(r, 500));
    await procs.get('w1')?.stop();
    startNodeAgent('w1');
    await procs.get('api')?.stop();
    stack.startController();
    const received = Number(/(\d+) received/.exec((await flood).stdout)?.[1] ?? 0);
    expect(received).toBe(40);
    expect((await eg.policy('pay')).status?.ips).toEqual(ipsBefore);
  });

  it('multiple matches: the higher priority wins, and an equal priority goes to the name that sorts first', async () => {
    const leavesFrom = async (ip: string) =>
      until(`pay leaves from ${ip}`, async () => {
        const d = await delta(() => ping(pay, 3));
        return d.size === 1 && d.has(ip) ? true : undefined;
      });
    const spec = (priority: number) => ({
      podSelector: { matchLabels: { app: 'pay' } },
      destinations: [{ cidr: '10.99.50.0/24' }],
      gateway: 'east',
      priority,
    });
    await eg.createPolicy('pay-hi', spec(20));
    await until('pay-hi allocated', async () =>
      (await eg.policy('pay-hi')).status?.ips?.[0] === '10.99.10.34' ? true : undefined,
    );
    await leavesFrom('10.99.10.34');
    await eg.createPolicy('pay-aa', spec(20)); // same priority, sorts before pay-hi
    await until('pay-aa allocated', async () =>
      (await eg.policy('pay-aa')).status?.ips?.[0] === '10.99.10.35' ? true : undefined,
    );
    await leavesFrom('10.99.10.35');
    const hi = await eg.policy('pay-hi');
    expect(hi.status?.conditions?.find((x) => x.type === 'Conflict')).toMatchObject({
      reason: 'EqualPriority',
    });
    expect(hi.status?.ips).toEqual(['10.99.10.34']); // it keeps its IP, unused
  });

  it('fail-closed: with the gateway group deleted, Closed traffic is dropped and Open traffic takes the normal path', async () => {
    await eg.deleteGateway('east');
    await until('the nodes stop steering', async () => {
      const d = await delta(() => ping(pay, 3));
      return d.size === 0 ? true : undefined;
    });
    const closed = await delta(() => ping(pay, 20));
    expect([...closed.keys()]).toEqual([]);
    const open = await delta(() => ping(ops, 5));
    expect([...open.keys()]).toEqual([style === 'routed' ? '10.1.4.5' : NODES.w2]);
    // The policy kept its IP: recreating the group gives the same one back.
    expect((await eg.policy('pay')).status?.ips).toEqual([EGRESS_PAY]);
  });
});

// A TCP echo server that logs each connection's remote address and port.
const TCP_ECHO = `require('node:net').createServer((s) => {
  console.log('conn ' + s.remoteAddress + ':' + s.remotePort);
  s.on('data', (d) => s.write(d));
  s.on('error', () => {});
}).listen(5000, '0.0.0.0', () => console.log('listening'));`;

// A client that sends a line every 100 ms and logs every echo; any close or error ends it.
const TCP_CLIENT = `const s = require('node:net').connect(5000, '${FW}');
let n = 0;
s.on('connect', () => { console.log('local ' + s.localPort); setInterval(() => s.write('x\\n'), 100); });
s.on('data', (d) => { n += d.toString().split('\\n').length - 1; console.log('echo ' + n); });
s.on('close', () => { console.log('closed'); process.exit(1); });
s.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });`;
