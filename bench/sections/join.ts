// 1. Join to first packet: from the start of `moor join … --no-start` (then `moor agent`) to the
// first ping reply from a pod behind the oracle gateway. Three fresh joins, leaving in between.

import { PingWatch } from '../../test/harness/ping-watch.ts';
import type { RunningProcess } from '../../test/harness/process.ts';
import { joinHost, leaveHost, newHostSpec, startAgent } from '../lib/host-agent.ts';
import { GATEWAY_IP, NAT_PUBLIC_IP, POD } from '../lib/oracle-env.ts';
import { clearGatewayPeers } from '../lib/oracle-gateway.ts';
import type { Section } from '../lib/section.ts';
import { minMaxMedian } from '../lib/stats.ts';

const RUNS = 3;
const HOST_ADDRESS = '100.70.0.10';

export const joinSection: Section = {
  name: 'join',
  title: 'join to first packet (moor join --no-start + moor agent → first ping to a pod), 3 fresh joins',
  usesOracle: true,
  timeoutMs: 240_000,
  async run(ctx) {
    const env = await ctx.oracle();
    const vm1 = env.topo.host('vm1');
    const totals: number[] = [];
    const joins: number[] = [];
    const agents: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      await clearGatewayPeers(env.east); // the previous host's peer is gone, as after its leave
      const spec = newHostSpec(env.run, `join${i}`, { address: HOST_ADDRESS, publicIp: NAT_PUBLIC_IP });
      let agent: RunningProcess | undefined;
      let ping: PingWatch | undefined;
      try {
        const t0 = Date.now();
        await joinHost(vm1, env.brokerInfo, spec);
        const tJoined = Date.now();
        agent = startAgent(vm1, spec, `agent-join${i}`);
        ping = PingWatch.start(env.run, vm1, POD);
        // The cluster's gateway sees the new Endpoint (written by join) and adds the host as a
        // peer, as Submariner's gateway does on the watch event.
        await env.east.syncPeers(env.run);
        const first = await ping.firstReplyAfter(tJoined, 60_000).catch((err: unknown) => {
          throw new Error(
            `${err instanceof Error ? err.message : String(err)}\n--- agent log ---\n${agent?.tail(20) ?? ''}`,
          );
        });
        totals.push(first - t0);
        joins.push(tJoined - t0);
        agents.push(first - tJoined);
        ctx.log(
          `run ${i}: ${first - t0} ms total = join ${tJoined - t0} ms + agent start to first reply ${first - tJoined} ms`,
        );
      } finally {
        ping?.stop();
        await leaveHost(vm1, env.brokerInfo, spec, agent);
      }
    }
    const t = minMaxMedian(totals);
    ctx.log(`join to first packet: min ${t.min} / median ${t.median} / max ${t.max} ms`);
    ctx.figure({ name: 'join→first packet, median', value: t.median, unit: 'ms', samples: totals });
    ctx.figure({ name: 'join→first packet, min', value: t.min, unit: 'ms' });
    ctx.figure({ name: 'join→first packet, max', value: t.max, unit: 'ms' });
    ctx.figure({
      name: '  of which moor join (median)',
      value: minMaxMedian(joins).median,
      unit: 'ms',
      samples: joins,
    });
    ctx.figure({
      name: '  of which agent start→first reply (median)',
      value: minMaxMedian(agents).median,
      unit: 'ms',
      samples: agents,
    });
    ctx.note(`gateway: Submariner-style oracle at ${GATEWAY_IP}; host behind NAT; ping interval 50 ms`);
  },
};
