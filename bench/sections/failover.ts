// 2b. Gateway failover in the two-cluster topology (test/harness/clusterset.ts) with PRODUCTION HA
// timings (the `moor gateway` defaults: renew every 200 ms, renew deadline 600 ms, Lease 15 s,
// heartbeats every 100 ms, 300 ms silence): the active east gateway node dies (every process in
// its namespace SIGKILLed at once, every link deleted) while the east pod pings the joined host
// at 100/s. Measured per round: kill → the standby holds the floating address (its log), kill →
// new Endpoint on the broker, kill → the first echo answered again (traffic through the standby).
// The dead node is then rebuilt and its gateway restarted as the standby for the next round.
import { buildClusterset, type Clusterset, startAllGateways } from '../../test/harness/clusterset.ts';
import { killGatewayNode, reviveGatewayNode, vipHolders } from '../../test/harness/gateway-ha.ts';
import { PingWatch } from '../../test/harness/ping-watch.ts';
import type { RunningProcess } from '../../test/harness/process.ts';
import { waitFor } from '../../test/harness/process.ts';
import { TestRun } from '../../test/harness/run.ts';
import { EndpointWatch } from '../lib/endpoint-watch.ts';
import { joinHost, leaveHost, newHostSpec, startAgent } from '../lib/host-agent.ts';
import { loggedAt } from '../lib/log-time.ts';
import { NAT_PUBLIC_IP } from '../lib/oracle-env.ts';
import type { Section, SectionContext } from '../lib/section.ts';
import { minMaxMedian, percentile, sleep } from '../lib/stats.ts';

const ROUNDS = 20;
const GOAL_MS = 1_000;
/** Traffic is back at the first reply after a silence this long that began after the death:
 * an echo in flight at the kill (queued on a busy machine) cannot count as restored traffic,
 * and detection alone takes 300 ms, so a real outage is always longer than this. */
const GAP_MS = 150;

/** The first reply after `since` that follows at least GAP_MS without replies. */
export async function firstReplyAfterGap(ping: PingWatch, since: number, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const after = ping.replies.filter((t) => t >= since);
    const before = ping.replies.filter((t) => t < since).at(-1) ?? since;
    for (let i = 0; i < after.length; i++) {
      const prev = i === 0 ? before : (after[i - 1] ?? since);
      if ((after[i] ?? 0) - Math.max(prev, since) >= GAP_MS) return after[i] ?? 0;
    }
    if (Date.now() > end) throw new Error(`no reply after a gap within ${timeoutMs} ms`);
    await sleep(20);
  }
}

interface Round {
  total: number;
  toLeader: number;
  toEndpoint: number;
}

async function waitForOneHolder(cs: Clusterset): Promise<string> {
  return waitFor(
    'exactly one east gateway holds the floating address',
    async () => {
      const h = await vipHolders(cs, cs.clusters.east);
      return h.length === 1 ? h[0] : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

async function failOnce(
  ctx: SectionContext,
  env: { run: TestRun; cs: Clusterset; watch: EndpointWatch; host: string },
  round: number,
): Promise<{ round: Round; dead: string }> {
  const { run, cs, watch } = env;
  const east = cs.clusters.east;
  const dead = await waitForOneHolder(cs);
  const survivor = east.gateways.find((g) => g !== dead) ?? '';
  const ping = PingWatch.start(run, cs.topo.host(east.pod), env.host, { intervalS: 0.01 });
  try {
    await ping.firstReplyAfter(Date.now(), 30_000); // the path works before the kill
    await sleep(300);
    const killedAt = await killGatewayNode(cs, dead);
    const restored = await firstReplyAfterGap(ping, killedAt, 60_000);
    const created = await watch.waitFor(
      (e) => e.clusterId === 'east' && e.hostname === survivor,
      killedAt,
      30_000,
    );
    const proc = east.processes[survivor] as RunningProcess;
    const leader = loggedAt(proc, 'became the leader', killedAt) ?? Number.NaN;
    const holders = await vipHolders(cs, east);
    if (holders.join() !== survivor)
      throw new Error(`after the failover the floating address is on [${holders}]`);
    ctx.log(
      `failover ${round} (${dead} died, ${survivor} took over): traffic back ${restored - killedAt} ms after the kill; ` +
        `leader +${leader - killedAt} ms, new Endpoint +${created.at - killedAt} ms`,
    );
    return {
      dead,
      round: { total: restored - killedAt, toLeader: leader - killedAt, toEndpoint: created.at - killedAt },
    };
  } finally {
    ping.stop();
  }
}

function report(ctx: SectionContext, rounds: Round[]): void {
  const total = rounds.map((r) => r.total);
  const med = minMaxMedian(total).median;
  const p95 = percentile(total, 95);
  ctx.figure({
    name: 'failover: node death → traffic restored, median',
    value: med,
    unit: 'ms',
    samples: total,
    target: `≤ ${GOAL_MS}`,
    met: med <= GOAL_MS,
  });
  ctx.figure({
    name: 'failover: node death → traffic restored, p95',
    value: p95,
    unit: 'ms',
    target: `≤ ${GOAL_MS}`,
    met: p95 <= GOAL_MS,
  });
  const leader = rounds.map((r) => r.toLeader);
  ctx.figure({
    name: '  of which death → standby took the Lease (median)',
    value: minMaxMedian(leader).median,
    unit: 'ms',
    samples: leader,
  });
  const ep = rounds.map((r) => r.toEndpoint);
  ctx.figure({
    name: '  death → new Endpoint on the broker (median)',
    value: minMaxMedian(ep).median,
    unit: 'ms',
    samples: ep,
  });
  ctx.note(
    'production HA timings (moor gateway defaults): renew 200 ms, renew deadline 600 ms, Lease 15 s, heartbeats 100 ms, 300 ms silence; Submariner: 10–15 s',
  );
}

export const failoverSection: Section = {
  name: 'failover',
  title: `gateway failover (two clusters, moor gateway active/standby, production timings): node death → traffic restored (×${ROUNDS})`,
  usesOracle: false,
  timeoutMs: 600_000,
  async run(ctx) {
    const started = performance.now();
    const run = TestRun.start();
    let watch: EndpointWatch | undefined;
    try {
      const cs = await buildClusterset(run);
      startAllGateways(run, cs);
      await waitForOneHolder(cs);
      ctx.log(`two-cluster environment ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const vm1 = cs.topo.host('vm1');
      const spec = newHostSpec(run, 'failover', { publicIp: NAT_PUBLIC_IP });
      const joined = await joinHost(vm1, cs.adminBrokerInfo, spec);
      let agent: RunningProcess | undefined;
      try {
        agent = startAgent(vm1, spec, 'agent-failover');
        const a = agent;
        await waitFor(
          'host → east pod',
          async () => ((await vm1.ping(cs.clusters.east.podAddress, 1)) ? true : undefined),
          {
            timeoutMs: 60_000,
            process: a,
          },
        );
        watch = await EndpointWatch.start(cs.api.kubeConfig(), cs.broker.namespace);
        const rounds: Round[] = [];
        for (let i = 1; i <= ROUNDS; i++) {
          const { round, dead } = await failOnce(ctx, { run, cs, watch, host: joined }, i);
          rounds.push(round);
          if (i < ROUNDS) {
            const proc = await reviveGatewayNode(run, cs, cs.clusters.east, dead, `revived${i}`);
            await waitFor(
              'revived gateway hears the leader',
              () => (proc.log().includes('campaigning') ? true : undefined),
              {
                process: proc,
                timeoutMs: 20_000,
              },
            );
            await sleep(1_500);
          }
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
