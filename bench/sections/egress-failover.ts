// Egress failover with production HA timings (the `moor egress-gateway` defaults, EGRESS_TIMINGS:
// renew 100 ms, renew deadline 350 ms, Lease 15 s, heartbeats every 50 ms, 150 ms silence), routed CNI: a
// selected pod pings fw at 100/s through the egress gateway while the active gateway dies (its
// moor process SIGKILLed and its LAN link taken down at once). Measured per round: kill → first
// echo answered again (traffic from the same egress IP through the standby). The dead node is
// then "rebooted" (its secondary addresses gone, link up, the gateway restarted as standby).
import { FW, NODES, POD_CIDRS } from '../../test/harness/egress-topology.ts';
import { PingWatch } from '../../test/harness/ping-watch.ts';
import { waitFor } from '../../test/harness/process.ts';
import { TestRun } from '../../test/harness/run.ts';
import { buildEgressBenchEnv } from '../lib/egress-env.ts';
import type { Section } from '../lib/section.ts';
import { minMaxMedian, percentile, sleep } from '../lib/stats.ts';
import { firstReplyAfterGap } from './failover.ts';

const ROUNDS = 10;
const GOAL_MS = 500;
const POD_ROUTES = { [POD_CIDRS.w1]: NODES.w1, [POD_CIDRS.w2]: NODES.w2 };

export const egressFailoverSection: Section = {
  name: 'egress-failover',
  title: `egress gateway failover (routed CNI, production timings): hard kill → first echo through the standby from the same IP (×${ROUNDS})`,
  usesOracle: false,
  timeoutMs: 600_000,
  async run(ctx) {
    const run = TestRun.start();
    try {
      const env = await buildEgressBenchEnv(run);
      const { c, eg, procs: gateways, startGateway } = env;
      const pay = await c.addPod('pay-1', 'w1', '10.1.3.5', { app: 'pay' });
      const totals: number[] = [];
      for (let i = 1; i <= ROUNDS; i++) {
        const dead = await waitFor(
          'an active gateway',
          async () => (await eg.gateway('east')).status?.activeNode,
          { timeoutMs: 60_000 },
        );
        const survivor = dead === 'gw1' ? 'gw2' : 'gw1';
        const ping = PingWatch.start(run, pay, FW, { intervalS: 0.01 });
        try {
          await ping.firstReplyAfter(Date.now(), 60_000);
          await sleep(300);
          const killedAt = Date.now();
          await gateways.get(dead)?.kill();
          await c.topo.host(dead).exec(['ip', 'link', 'set', 'lan0', 'down']);
          const restored = await firstReplyAfterGap(ping, killedAt, 30_000);
          totals.push(restored - killedAt);
          ctx.log(
            `round ${i}: ${dead} died, ${survivor} took over: traffic back ${restored - killedAt} ms after the kill`,
          );
        } finally {
          ping.stop();
        }
        // "Reboot" the dead node: secondary addresses are gone after a reboot.
        const h = c.topo.host(dead);
        await h.exec(['ip', 'addr', 'flush', 'dev', 'lan0', 'secondary']);
        await h.exec(['ip', 'link', 'set', 'lan0', 'up']);
        // The routes a link-down removed, as the node's network setup and the CNI restore them.
        await h.exec(['ip', 'route', 'replace', 'default', 'via', '10.99.10.1']);
        for (const [cidr, via] of Object.entries(POD_ROUTES))
          await h.exec(['ip', 'route', 'replace', cidr, 'via', via]);
        startGateway(dead, i);
        await waitFor('the survivor stays active', async () =>
          (await eg.gateway('east')).status?.activeNode === survivor ? true : undefined,
        );
        await sleep(1500); // the restarted node hears the leader before the next kill
      }
      const med = minMaxMedian(totals).median;
      const p95 = percentile(totals, 95);
      ctx.figure({
        name: 'egress failover: hard kill → traffic restored, median',
        value: med,
        unit: 'ms',
        samples: totals,
        target: `≤ ${GOAL_MS}`,
        met: med <= GOAL_MS,
      });
      ctx.figure({
        name: 'egress failover: hard kill → traffic restored, p95',
        value: p95,
        unit: 'ms',
        target: `≤ ${GOAL_MS}`,
        met: p95 <= GOAL_MS,
      });
      ctx.note('production HA timings (moor egress-gateway defaults), heartbeats on; anchors: 1–5 s');
    } finally {
      await run.cleanup();
    }
  },
};
