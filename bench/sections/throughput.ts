// 3. TCP throughput host → pod through moor's cable versus a hand-configured wireguard-go pair on
// the same path with the same MTU; 5 s iperf3 runs, alternating, 3 each, medians (goal ≥ 0.95).
import type { RunningProcess } from '../../test/harness/process.ts';
import { waitFor } from '../../test/harness/process.ts';
import {
  buildHandTunnel,
  HAND_HOST_ADDRESS,
  HAND_POD_ADDRESS,
  type HandTunnel,
  linkMtu,
} from '../lib/hand-tunnel.ts';
import { joinHost, leaveHost, newHostSpec, startAgent } from '../lib/host-agent.ts';
import { iperfTcp, startIperfServer } from '../lib/iperf.ts';
import { GATEWAY_IP, NAT_PUBLIC_IP, POD } from '../lib/oracle-env.ts';
import { clearGatewayPeers } from '../lib/oracle-gateway.ts';
import type { Section } from '../lib/section.ts';
import { fmt, median } from '../lib/stats.ts';

const RUNS = 3;
const SECONDS = 5;
const PORT = 5201;
const HOST_ADDRESS = '100.70.0.12';
const GOAL = 0.95;

export const throughputSection: Section = {
  name: 'throughput',
  title: 'iperf3 TCP host → pod: moor cable vs hand-configured wireguard-go pair, same path and MTU',
  usesOracle: true,
  timeoutMs: 240_000,
  async run(ctx) {
    const env = await ctx.oracle();
    const vm1 = env.topo.host('vm1');
    const eastgw = env.topo.host('eastgw');
    const eastpod = env.topo.host('eastpod');
    await clearGatewayPeers(env.east);
    const spec = newHostSpec(env.run, 'throughput', { address: HOST_ADDRESS, publicIp: NAT_PUBLIC_IP });
    let agent: RunningProcess | undefined;
    let hand: HandTunnel | undefined;
    let server: RunningProcess | undefined;
    try {
      await joinHost(vm1, env.brokerInfo, spec);
      agent = startAgent(vm1, spec, 'agent-throughput');
      await env.east.syncPeers(env.run);
      const a = agent;
      await waitFor('host → pod through moor', async () => ((await vm1.ping(POD, 1)) ? true : undefined), {
        timeoutMs: 60_000,
        process: a,
      });
      const hostMtu = await linkMtu(vm1, spec.wgName);
      const gatewayMtu = await linkMtu(eastgw, env.east.wg.name);
      hand = await buildHandTunnel(
        env.run,
        { vm: vm1, gateway: eastgw, pod: eastpod },
        { gatewayIp: GATEWAY_IP, natPublicIp: NAT_PUBLIC_IP, hostMtu, gatewayMtu },
      );
      await waitFor(
        'host → pod through the hand tunnel',
        async () => ((await vm1.ping(HAND_POD_ADDRESS, 1)) ? true : undefined),
        { timeoutMs: 30_000 },
      );
      ctx.log(
        `MTU: host tunnel ${hostMtu} (set by moor; the hand tunnel gets the same), gateway ${gatewayMtu}`,
      );
      server = await startIperfServer(eastpod, PORT);
      // Warm-up, not counted: handshakes done, caches and CPU frequency settled on both paths.
      await iperfTcp(vm1, { server: POD, bind: HOST_ADDRESS, port: PORT, seconds: 2 });
      await iperfTcp(vm1, { server: HAND_POD_ADDRESS, bind: HAND_HOST_ADDRESS, port: PORT, seconds: 2 });
      const moor: number[] = [];
      const handMbps: number[] = [];
      const runMoor = () => iperfTcp(vm1, { server: POD, bind: HOST_ADDRESS, port: PORT, seconds: SECONDS });
      const runHand = () =>
        iperfTcp(vm1, { server: HAND_POD_ADDRESS, bind: HAND_HOST_ADDRESS, port: PORT, seconds: SECONDS });
      for (let i = 1; i <= RUNS; i++) {
        // Alternate which tunnel goes first (ABBA…) so slow drift favours neither.
        const moorFirst = i % 2 === 1;
        const first = await (moorFirst ? runMoor() : runHand());
        const second = await (moorFirst ? runHand() : runMoor());
        const [m, h] = moorFirst ? [first, second] : [second, first];
        moor.push(m.mbps);
        handMbps.push(h.mbps);
        ctx.log(
          `round ${i} (${moorFirst ? 'moor first' : 'hand first'}): moor ${fmt(m.mbps)} Mbit/s (${m.retransmits} retransmits), hand ${fmt(h.mbps)} Mbit/s (${h.retransmits} retransmits)`,
        );
      }
      const ratio = median(moor) / median(handMbps);
      ctx.figure({
        name: 'TCP host→pod, moor cable (median)',
        value: median(moor),
        unit: 'Mbit/s',
        samples: moor,
      });
      ctx.figure({
        name: 'TCP host→pod, hand wireguard-go (median)',
        value: median(handMbps),
        unit: 'Mbit/s',
        samples: handMbps,
      });
      ctx.figure({
        name: 'throughput ratio moor/hand',
        value: ratio,
        unit: '×',
        digits: 3,
        target: `≥ ${GOAL}`,
        met: ratio >= GOAL,
      });
      ctx.note(
        'both tunnels: wireguard-go at both ends, host behind the NAT router, gateway 10.99.1.2; 2 cores shared by both ends and iperf3',
      );
    } finally {
      await server?.stop();
      await hand?.stop();
      await leaveHost(vm1, env.brokerInfo, spec, agent);
    }
  },
};
