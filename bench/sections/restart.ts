// 2a. Gateway restart with a new key: the oracle gateway's wireguard-go comes back with a fresh
// key and its peers; then its Endpoint update is written, and the host pings the pod every 50 ms
// until a reply arrives. Measures Endpoint write → traffic restored (goal ≤ 2 s).

import { PingWatch } from '../../test/harness/ping-watch.ts';
import type { RunningProcess } from '../../test/harness/process.ts';
import { waitFor } from '../../test/harness/process.ts';
import { joinHost, leaveHost, newHostSpec, startAgent } from '../lib/host-agent.ts';
import { loggedAt, setPeerText } from '../lib/log-time.ts';
import { NAT_PUBLIC_IP, POD } from '../lib/oracle-env.ts';
import { clearGatewayPeers, publishGatewayKey, rekeyGatewayDevice } from '../lib/oracle-gateway.ts';
import type { Section } from '../lib/section.ts';
import { median, minMaxMedian, sleep } from '../lib/stats.ts';

const RUNS = 6;
const GOAL_MS = 2_000;

export const restartSection: Section = {
  name: 'restart',
  title: 'gateway restart with a new key: Endpoint update written → traffic restored on the host (×6)',
  usesOracle: true,
  timeoutMs: 240_000,
  async run(ctx) {
    const env = await ctx.oracle();
    const vm1 = env.topo.host('vm1');
    await clearGatewayPeers(env.east);
    const spec = newHostSpec(env.run, 'restart', { address: '100.70.0.11', publicIp: NAT_PUBLIC_IP });
    let agent: RunningProcess | undefined;
    try {
      await joinHost(vm1, env.brokerInfo, spec);
      agent = startAgent(vm1, spec, 'agent-restart');
      await env.east.syncPeers(env.run);
      const a = agent;
      await waitFor(
        'host → pod before the restarts',
        async () => ((await vm1.ping(POD, 1)) ? true : undefined),
        {
          timeoutMs: 60_000,
          process: a,
        },
      );
      const restored: number[] = [];
      const applied: number[] = [];
      for (let i = 1; i <= RUNS; i++) {
        const key = await rekeyGatewayDevice(env.run, env.east); // the tunnel is broken from here on
        const ping = PingWatch.start(env.run, vm1, POD);
        try {
          await sleep(300); // ping is up; the old session no longer works
          const { sent, acked } = await publishGatewayKey(env.east, key);
          const first = await ping.firstReplyAfter(sent, 30_000);
          const quiet = ping.replies.filter((t) => t < sent).length;
          await sleep(500); // the agent logs its WireGuard changes after the whole device reconcile
          const appliedAt = loggedAt(a, setPeerText(key), sent);
          restored.push(first - sent);
          if (appliedAt !== undefined) applied.push(appliedAt - sent);
          ctx.log(
            `restart ${i}: restored ${first - sent} ms after the Endpoint write (write acked +${acked - sent} ms` +
              `${appliedAt === undefined ? '' : `, agent logged the new peer +${appliedAt - sent} ms`})` +
              `${quiet > 0 ? `; WARNING ${quiet} replies before the write` : ''}`,
          );
        } finally {
          ping.stop();
        }
      }
      const r = minMaxMedian(restored);
      ctx.figure({
        name: 'gateway restart: Endpoint write→traffic, median',
        value: r.median,
        unit: 'ms',
        samples: restored,
        target: `≤ ${GOAL_MS}`,
        met: r.median <= GOAL_MS,
      });
      ctx.figure({ name: 'gateway restart: Endpoint write→traffic, max', value: r.max, unit: 'ms' });
      if (applied.length > 0)
        ctx.figure({
          name: '  of which write→agent logged new peer (median)',
          value: median(applied),
          unit: 'ms',
          samples: applied,
        });
    } finally {
      await leaveHost(vm1, env.brokerInfo, spec, agent);
    }
  },
};
