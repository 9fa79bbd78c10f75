// 2b. Gateway failover in the two-cluster topology (test/harness/clusterset.ts): the active
// `moor gateway` node of cluster east dies (every process in its namespace killed, its LAN link
// down); the passive one takes the Lease, publishes a new Endpoint, and the host's traffic to the
// east pod comes back. Measured: kill → restored, and new Endpoint → restored. The dead node is
// then "rebooted" (link up, no floating address, gateway restarted as passive) for the next round.
import { buildClusterset, type Clusterset, startGateway } from '../../test/harness/clusterset.ts';
import { PingWatch } from '../../test/harness/ping-watch.ts';
import type { RunningProcess } from '../../test/harness/process.ts';
import { waitFor } from '../../test/harness/process.ts';
import { TestRun } from '../../test/harness/run.ts';
import { EndpointWatch } from '../lib/endpoint-watch.ts';
import { activeGateway, killNode, reviveNode } from '../lib/gateway-nodes.ts';
import { joinHost, leaveHost, newHostSpec, startAgent } from '../lib/host-agent.ts';
import { loggedAt, setPeerText } from '../lib/log-time.ts';
import { NAT_PUBLIC_IP } from '../lib/oracle-env.ts';
import type { Section, SectionContext } from '../lib/section.ts';
import { minMaxMedian, sleep } from '../lib/stats.ts';

const ROUNDS = 5;
/** WireGuard's REKEY_TIMEOUT: a lost handshake initiation is retried after 5 s. */
const HANDSHAKE_RETRY_MS = 5_000;
const GOAL_MS = 2_000;

interface Round {
  total: number;
  toEndpoint: number;
  fromEndpoint: number;
}

/** One failover: kill the active east gateway node, time the new Endpoint and restored traffic. */
async function failOnce(
  ctx: SectionContext,
  env: { run: TestRun; cs: Clusterset; watch: EndpointWatch; agent: RunningProcess; hostKey: string },
  round: number,
): Promise<{ round: Round; dead: string }> {
  const { run, cs, watch, agent, hostKey } = env;
  const east = cs.clusters.east;
  const vm1 = cs.topo.host('vm1');
  const dead = await activeGateway(cs, 'east');
  const ping = PingWatch.start(run, vm1, east.podAddress);
  try {
    await ping.firstReplyAfter(Date.now(), 10_000); // the cable works before the kill
    const killedAt = Date.now();
    const restartsAtKill = watch.restarts;
    await killNode(cs, dead, `to-${east.id}`);
    const created = await watch.waitFor(
      (e) => e.clusterId === 'east' && e.hostname !== dead,
      killedAt,
      60_000,
    );
    // No reply can come back before the host has the new gateway's key, which it learns from that
    // Endpoint; earlier replies are echoes that were in flight at the kill.
    const restored = await ping.firstReplyAfter(created.at, 60_000);
    const stray = ping.replies.filter((t) => t > killedAt + 100 && t < created.at).length;
    // Who configured the other's key first: the host (the new gateway's key) or the new gateway
    // (the host's key)? Both log their WireGuard changes.
    await sleep(300);
    const gateway = east.processes[created.hostname];
    const hostSet = loggedAt(agent, setPeerText(created.publicKey), killedAt);
    const gatewaySet = gateway ? loggedAt(gateway, setPeerText(hostKey), killedAt) : undefined;
    const extra = [
      hostSet !== undefined && gatewaySet !== undefined
        ? `host logged the new key +${hostSet - created.at} ms, gateway logged the host's key +${gatewaySet - created.at} ms`
        : '',
      stray > 0 ? `WARNING ${stray} replies between kill and new Endpoint` : '',
      watch.restarts > restartsAtKill
        ? `the runner's watch restarted ${watch.restarts - restartsAtKill}×`
        : '',
    ].filter(Boolean);
    ctx.log(
      `failover ${round} (${dead} died, ${created.hostname} took over): restored ${restored - killedAt} ms after the kill; ` +
        `new Endpoint +${created.at - killedAt} ms, then traffic +${restored - created.at} ms` +
        (extra.length > 0 ? ` (${extra.join('; ')})` : ''),
    );
    return {
      dead,
      round: {
        total: restored - killedAt,
        toEndpoint: created.at - killedAt,
        fromEndpoint: restored - created.at,
      },
    };
  } finally {
    ping.stop();
  }
}

function report(ctx: SectionContext, rounds: Round[]): void {
  const total = rounds.map((r) => r.total);
  const toEndpoint = rounds.map((r) => r.toEndpoint);
  const fromEndpoint = rounds.map((r) => r.fromEndpoint);
  const e = minMaxMedian(fromEndpoint);
  ctx.figure({
    name: 'failover: kill→traffic restored, median',
    value: minMaxMedian(total).median,
    unit: 'ms',
    samples: total,
  });
  ctx.figure({
    name: '  of which kill→new Endpoint (median)',
    value: minMaxMedian(toEndpoint).median,
    unit: 'ms',
    samples: toEndpoint,
  });
  ctx.figure({
    name: 'failover: new Endpoint→traffic restored, median',
    value: e.median,
    unit: 'ms',
    samples: fromEndpoint,
    target: `≤ ${GOAL_MS}`,
    met: e.median <= GOAL_MS,
  });
  const stalls = fromEndpoint.filter((ms) => ms >= HANDSHAKE_RETRY_MS - 500).length;
  ctx.figure({
    name: '  rounds that waited for a handshake retry',
    value: stalls,
    unit: `of ${rounds.length}`,
  });
  ctx.note('moor gateway Lease: duration 4 s, renew deadline 3 s, retry 1 s (the harness settings)');
}

export const failoverSection: Section = {
  name: 'failover',
  title: `gateway failover (two clusters, moor gateway active/passive): node death → traffic restored (×${ROUNDS})`,
  usesOracle: false,
  timeoutMs: 300_000,
  async run(ctx) {
    const started = performance.now();
    const run = TestRun.start();
    let watch: EndpointWatch | undefined;
    try {
      const cs = await buildClusterset(run);
      for (const c of Object.values(cs.clusters)) for (const gw of c.gateways) startGateway(run, cs, c, gw);
      await activeGateway(cs, 'east');
      await activeGateway(cs, 'west');
      ctx.log(`two-cluster environment ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const vm1 = cs.topo.host('vm1');
      const spec = newHostSpec(run, 'failover', { publicIp: NAT_PUBLIC_IP });
      await joinHost(vm1, cs.adminBrokerInfo, spec);
      let agent: RunningProcess | undefined;
      try {
        agent = startAgent(vm1, spec, 'agent-failover');
        const a = agent;
        const pod = cs.clusters.east.podAddress;
        await waitFor('host → east pod', async () => ((await vm1.ping(pod, 1)) ? true : undefined), {
          timeoutMs: 60_000,
          process: a,
        });
        watch = await EndpointWatch.start(cs.api.kubeConfig(), cs.broker.namespace);
        const hostKey = (await vm1.exec(['wg', 'show', spec.wgName, 'public-key'])).stdout.trim();
        const rounds: Round[] = [];
        for (let i = 1; i <= ROUNDS; i++) {
          const { round, dead } = await failOnce(ctx, { run, cs, watch, agent: a, hostKey }, i);
          rounds.push(round);
          if (i < ROUNDS) await reviveNode(run, cs, dead, i);
        }
        report(ctx, rounds);
      } finally {
        await leaveHost(vm1, cs.adminBrokerInfo, spec, agent).catch((err: unknown) =>
          ctx.log(`leave: ${String(err)}`),
        );
      }
    } finally {
      watch?.stop();
      await run.cleanup();
    }
  },
};
