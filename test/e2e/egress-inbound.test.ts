// Inbound on the egress IP (spec.ingress) on real parts: moor controller, node agents and two
// egress gateways (the shipped bundle) under a routed and a masquerading CNI. A client in `fw`
// connects to the policy's egress IP over TCP and UDP and reaches one of the selected pods,
// whose answer names the pod and the client address it saw; fw counts the source of every packet
// it receives, so "the reply comes from the egress IP" is a counted fact. Then the active gateway
// is killed hard and the same flows reach the same pods through the standby, from the same IP,
// while an open TCP connection keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, type EgressObjects, egressObjects } from '../harness/egress-cluster.ts';
import { openTcpSession, probeTcp, probeUdp, startInboundServer } from '../harness/egress-inbound.ts';
import { EAST_GATEWAY_SPEC, type EgressStack, egressStack, fwDelta } from '../harness/egress-stack.ts';
import { buildEgressCluster, type CniStyle, type EgressCluster, FW } from '../harness/egress-topology.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';

const EGRESS_PAY = '10.99.10.33'; // pay: ingress TCP 8080, UDP 9053 → 7000
const EGRESS_OPS = '10.99.10.32'; // ops: no ingress section
const UDP_PORTS = Array.from({ length: 16 }, (_, i) => 40_001 + i);

describe.each<CniStyle>(['routed', 'masquerade'])('inbound on the egress IP, %s CNI', (style) => {
  let run: TestRun;
  let c: EgressCluster;
  let eg: EgressObjects;
  let stack: EgressStack;
  let procs: Map<string, RunningProcess>;
  /** UDP local port → the pod that answered it, before the failover. */
  let udpPods: Record<string, string> = {};
  const fw = () => c.topo.host('fw');
  const logs = () => [...procs.values()].map((p) => `--- ${p.name}\n${p.tail(12)}`).join('\n');
  const dump = async () => {
    const sh = async (host: string, argv: string[]) =>
      `$ ${host}: ${argv.join(' ')}\n${(await c.topo.host(host).exec(argv, { allowFail: true })).stdout}`;
    const active = (await eg.gateway('east')).status?.activeNode ?? 'gw1';
    return [
      await sh(active, ['nft', 'list', 'table', 'ip', 'moor_egress_gw']),
      await sh(active, ['ip', 'route', 'show', 'table', 'all', 'dev', 'moorvx4100']),
      await sh(active, ['bridge', 'fdb', 'show', 'dev', 'moorvx4100']),
      await sh(active, ['ip', 'neigh', 'show', 'dev', 'moorvx4100']),
      await sh(active, ['cat', '/proc/net/nf_conntrack']),
      await sh('w1', ['cat', '/proc/net/nf_conntrack']),
      await sh('w1', ['nft', 'list', 'table', 'ip', 'moor_egress_node']),
      await sh('w1', ['ip', '-d', 'link', 'show', 'moorvx4100']),
      logs(),
    ].join('\n');
  };
  const until = async (what: string, check: () => Promise<true | undefined>) =>
    waitFor(what, check, { timeoutMs: 30_000, intervalMs: 500 }).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await dump()}`);
    });
  /** "<egress IP>:<port> <pod> <client as the pod saw it>" for every UDP port. */
  const udpAnswers = (port: number) => probeUdp(fw(), EGRESS_PAY, port, UDP_PORTS);
  const podOf = (answer: string) => answer.split(' ')[1] ?? '';
  /** Probe the UDP flows again until each has answered once; every answer must be exactly the
   * one before (same egress IP, same pod). A lost datagram is retried (UDP; the role may move
   * under CPU starvation, by design), a different answer fails at once. Returns the losses. */
  const sameUdpAnswers = async (what: string) => {
    const answered = new Set<string>();
    let lost = 0;
    await until(what, async () => {
      for (const [lp, a] of Object.entries(await udpAnswers(9053))) {
        if (a === 'timeout') lost++;
        else {
          if (a !== udpPods[lp])
            throw new Error(`UDP flow from port ${lp}: ${a}, before: ${udpPods[lp]}\n${await dump()}`);
          answered.add(lp);
        }
      }
      return answered.size === UDP_PORTS.length ? true : undefined;
    });
    return lost;
  };

  beforeAll(async () => {
    run = TestRun.start();
    c = await buildEgressCluster(run, style);
    stack = egressStack(run, c);
    procs = stack.procs;
    eg = egressObjects(c.kc);
    await eg.createGateway('east', EAST_GATEWAY_SPEC);
    await eg.createPolicy('pay', {
      podSelector: { matchLabels: { app: 'pay' } },
      destinations: [{ cidr: '10.99.50.0/24' }],
      gateway: 'east',
      ingress: { ports: [{ port: 8080 }, { port: 9053, protocol: 'UDP', targetPort: 7000 }] },
    });
    await eg.createPolicy('ops', {
      podSelector: { matchLabels: { app: 'ops' } },
      destinations: [{ cidr: '10.99.50.0/24' }],
      gateway: 'east',
    });
    const pods = [
      await c.addPod('pay-1', 'w1', '10.1.3.5', { app: 'pay' }),
      await c.addPod('pay-2', 'w2', '10.1.4.5', { app: 'pay' }),
      await c.addPod('web-1', 'w1', '10.1.3.6', { app: 'web' }),
      await c.addPod('ops-1', 'w2', '10.1.4.6', { app: 'ops' }),
    ];
    // Every pod listens on the same ports: only the selected ones may ever answer.
    for (const pod of pods) await startInboundServer(pod, pod.name.replace(/^pod-/, ''), 8080, 7000);
    stack.startController();
    stack.startGateway('gw1');
    stack.startGateway('gw2');
    stack.startNodeAgent('w1');
    stack.startNodeAgent('w2');
    await waitFor(
      'IPs allocated, a gateway active, Ingress ready',
      async () => {
        for (const proc of procs.values())
          if (!proc.running) throw new Error(`${proc.name} exited:\n${proc.tail(20)}`);
        const [p, o, g] = await Promise.all([eg.policy('pay'), eg.policy('ops'), eg.gateway('east')]);
        return p.status?.ips?.[0] === EGRESS_PAY &&
          o.status?.ips?.[0] === EGRESS_OPS &&
          g.status?.activeNode &&
          condition(p, 'Ingress')?.status === 'True'
          ? true
          : undefined;
      },
      { timeoutMs: 60_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    expect(condition(await eg.policy('pay'), 'Ingress')).toMatchObject({ reason: 'Ready' });
    expect(condition(await eg.policy('ops'), 'Ingress')).toBeUndefined();
  });

  afterAll(async () => {
    await run?.cleanup();
  });

  it('TCP and UDP to the egress IP reach a selected pod, which sees the client; replies come from the egress IP', async () => {
    const answer = new RegExp(`^${EGRESS_PAY} pay-[12] ${FW}:\\d+$`);
    await until('TCP via the egress IP', async () =>
      answer.test(await probeTcp(fw(), EGRESS_PAY, 8080)) ? true : undefined,
    );
    const tcp: string[] = [];
    const seen = await fwDelta(c, async () => {
      for (let i = 0; i < 6; i++) tcp.push(await probeTcp(fw(), EGRESS_PAY, 8080));
      udpPods = await udpAnswers(9053);
    });
    for (const a of tcp) expect(a).toMatch(answer);
    // Every datagram answered from the egress IP and the exposed port, by pay-1 or pay-2
    // (targetPort 7000 inside), which saw the client's own address and port.
    for (const [lp, a] of Object.entries(udpPods))
      expect(a).toMatch(new RegExp(`^${EGRESS_PAY}:9053 pay-[12] ${FW}:${lp}$`));
    // The hash spreads flows over both selected pods.
    expect(new Set(Object.values(udpPods).map(podOf))).toEqual(new Set(['pay-1', 'pay-2']));
    // fw received packets from the egress IP only: no pod IP, no node IP.
    expect([...seen.keys()]).toEqual([EGRESS_PAY]);
    // The same flow goes to the same pod every time.
    await sameUdpAnswers('every UDP flow answered again by the same pod');
    console.log(
      `${style}: 16 UDP flows → pay-1 ${Object.values(udpPods).filter((a) => podOf(a) === 'pay-1').length}, pay-2 ${Object.values(udpPods).filter((a) => podOf(a) === 'pay-2').length}`,
    );
  });

  it('an unselected pod, a port without ingress and a policy without ingress are not reachable', async () => {
    // web-1 and ops-1 listen on 8080 and 7000 as well; none of this may reach them.
    expect(await probeTcp(fw(), EGRESS_PAY, 7000)).toBe('timeout'); // targetPort, not exposed
    expect(await probeTcp(fw(), EGRESS_OPS, 8080)).toBe('timeout'); // no ingress on ops
    const ops = await probeUdp(fw(), EGRESS_OPS, 7000, [41_001, 41_002]);
    expect(ops).toEqual({ 41001: 'timeout', 41002: 'timeout' });
    const pay7000 = await probeUdp(fw(), EGRESS_PAY, 7000, [41_003]);
    expect(pay7000).toEqual({ 41003: 'timeout' });
    for (let i = 0; i < 4; i++) expect(await probeTcp(fw(), EGRESS_PAY, 8080)).not.toContain('web-1');
  });

  it('ingress on a policy without an egress IP is a condition, and nothing of it is programmed', async () => {
    await eg.createPolicy('pay-late', {
      podSelector: { matchLabels: { app: 'late' } },
      destinations: [{ cidr: '10.99.51.0/24' }],
      gateway: 'east',
      ips: [EGRESS_PAY], // held by pay: this policy gets no IP
      ingress: { ports: [{ port: 8443 }] },
    });
    await until('pay-late: Ingress NoIPs', async () =>
      condition(await eg.policy('pay-late'), 'Ingress')?.reason === 'NoIPs' ? true : undefined,
    );
    const late = await eg.policy('pay-late');
    expect(condition(late, 'Ingress')?.status).toBe('False');
    expect(condition(late, 'IPsAllocated')?.reason).toBe('RequestedIPTaken');
    const active = (await eg.gateway('east')).status?.activeNode as string;
    const table = await c.topo
      .host(active)
      .exec(['nft', 'list', 'chain', 'ip', 'moor_egress_gw', 'moor_ingress_dnat']);
    expect(table.stdout).toContain('dport 8080');
    expect(table.stdout).not.toContain('8443');
    expect(await probeTcp(fw(), EGRESS_PAY, 8443)).toBe('timeout');
    // pay keeps its IP and its inbound ports.
    expect(condition(await eg.policy('pay'), 'Ingress')?.reason).toBe('Ready');
  });

  it('a hard kill of the active gateway: the same IP, the same pod per flow, and an open TCP connection keeps working', async () => {
    // The active one is the node that holds the floating IP (a fact, not the status field).
    const holds = async (g: 'gw1' | 'gw2') =>
      (await c.topo.host(g).exec(['ip', '-br', 'addr', 'show', 'lan0'])).stdout.includes(
        `${EAST_GATEWAY_SPEC.floatingIP}/`,
      );
    const active = (await holds('gw1')) ? 'gw1' : 'gw2';
    expect(await holds(active)).toBe(true);
    const standby = active === 'gw1' ? 'gw2' : 'gw1';
    const session = openTcpSession(fw(), EGRESS_PAY, 8080);
    await until('session echoing', async () => (session.echoes() > 5 ? true : undefined));
    const pod = podOf(`x ${session.lastAnswer()}`);
    expect(pod).toMatch(/^pay-[12]$/);
    await procs.get(active)?.kill();
    await c.topo.host(active).exec(['ip', 'link', 'del', 'lan0']);
    await until('the standby is active', async () =>
      (await eg.gateway('east')).status?.activeNode === standby && (await holds(standby)) ? true : undefined,
    );
    const atTakeover = session.echoes();
    await until('the open TCP connection moves on', async () =>
      session.echoes() > atTakeover + 10 ? true : undefined,
    );
    expect(session.proc.running).toBe(true);
    expect(podOf(`x ${session.lastAnswer()}`)).toBe(pod); // still the same pod
    expect(session.proc.log()).toContain(`remote ${EGRESS_PAY}`);
    // A figure, not an assertion (npm run bench is the place for timing goals).
    console.log(
      `${style}: the open TCP connection stalled ${session.longestGapMs()} ms across the hard kill`,
    );
    // New flows: every UDP flow reaches the pod it reached before, from the same IP.
    let lost = 0;
    const seen = await fwDelta(c, async () => {
      lost = await sameUdpAnswers('every UDP flow answered by its pod through the new active');
      expect(await probeTcp(fw(), EGRESS_PAY, 8080)).toMatch(new RegExp(`^${EGRESS_PAY} pay-[12] `));
    });
    console.log(`${style}: after the hard kill, ${lost} of the first UDP datagrams of 16 flows lost`);
    expect([...seen.keys()].filter((k) => k !== EGRESS_PAY)).toEqual([]);
    await session.proc.stop();
  });
});
