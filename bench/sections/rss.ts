// 4. Agent memory: VmRSS/VmHWM of `moor agent` (the esbuild bundle) after 10 s idle with one
// gateway, then with 1,000 more members on the broker, and how long the agent takes to program
// their 1,000 WireGuard peers from the first object written.
import type { RunningProcess } from '../../test/harness/process.ts';
import { waitFor } from '../../test/harness/process.ts';
import { createMembers, deleteMembers, fakeMembers } from '../lib/fake-members.ts';
import { joinHost, leaveHost, newHostSpec, startAgent } from '../lib/host-agent.ts';
import { NAT_PUBLIC_IP, POD } from '../lib/oracle-env.ts';
import { clearGatewayPeers } from '../lib/oracle-gateway.ts';
import { commandLineOf, cpuSecondsOf, memoryOf, pidsWithCommandLine } from '../lib/proc-stats.ts';
import type { Section, SectionContext } from '../lib/section.ts';
import { fmt, sleep } from '../lib/stats.ts';

const MEMBERS = 1000;
const IDLE_MS = 10_000;
const RESYNC_MS = 30_000;
const HOST_ADDRESS = '100.70.0.13';
/** Endpoint addresses of the fake members; the `wan` router drops this range (blackhole), so the
 * host's handshakes and keepalives to them never go past the routers of the test topology. */
const ENDPOINT_RANGE = { a: 10, b: 98 };

function sample(ctx: SectionContext, label: string, agentPid: number, wgPid: number | undefined) {
  const agent = memoryOf(agentPid);
  const wg = wgPid ? memoryOf(wgPid) : undefined;
  ctx.log(
    `${label}: agent VmRSS ${fmt(agent.rssMiB, 1)} MiB, VmHWM ${fmt(agent.hwmMiB, 1)} MiB` +
      (wg ? `; its wireguard-go VmRSS ${fmt(wg.rssMiB, 1)} MiB` : ''),
  );
  return { agent, wg };
}

/** Wait IDLE_MS and take the memory sample, then keep going to a full resync period (the agent's
 * default --resync is 30 s, and a resync is where an idle agent spends its CPU) and return the
 * CPU seconds used over that period. */
async function idlePeriod(
  ctx: SectionContext,
  label: string,
  pid: number,
  wgPid: number | undefined,
): Promise<{ memory: ReturnType<typeof sample>; cpuS: number }> {
  const before = cpuSecondsOf(pid);
  await sleep(IDLE_MS);
  const memory = sample(ctx, label, pid, wgPid);
  await sleep(RESYNC_MS - IDLE_MS);
  return { memory, cpuS: cpuSecondsOf(pid) - before };
}

export const rssSection: Section = {
  name: 'rss',
  title: 'agent RSS idle and with 1,000 members on the broker; time to program 1,000 peers',
  usesOracle: true,
  timeoutMs: 300_000,
  async run(ctx) {
    const env = await ctx.oracle();
    const vm1 = env.topo.host('vm1');
    await clearGatewayPeers(env.east);
    await env.topo
      .host('wan')
      .exec(['ip', 'route', 'replace', 'blackhole', `${ENDPOINT_RANGE.a}.${ENDPOINT_RANGE.b}.0.0/16`]);
    const spec = newHostSpec(env.run, 'rss', { address: HOST_ADDRESS, publicIp: NAT_PUBLIC_IP });
    let agent: RunningProcess | undefined;
    let created = false;
    const kc = env.api.kubeConfig();
    try {
      await joinHost(vm1, env.brokerInfo, spec);
      agent = startAgent(vm1, spec, 'agent-rss');
      await env.east.syncPeers(env.run);
      const a = agent;
      await waitFor('host → pod', async () => ((await vm1.ping(POD, 1)) ? true : undefined), {
        timeoutMs: 60_000,
        process: a,
      });
      const cmd = commandLineOf(a.pid);
      if (!cmd.some((c) => c.endsWith('dist/moor.mjs')))
        throw new Error(`pid ${a.pid} is not the agent: ${cmd.join(' ')}`);
      const wgPid = pidsWithCommandLine(['wireguard-go', '-f', spec.wgName])[0];
      const { memory: idle, cpuS: idleCpuS } = await idlePeriod(
        ctx,
        `after ${IDLE_MS / 1000} s idle (1 peer)`,
        a.pid,
        wgPid,
      );

      const members = fakeMembers(MEMBERS, ENDPOINT_RANGE);
      const peers = async () =>
        (await vm1.exec(['wg', 'show', spec.wgName, 'peers'])).stdout.split('\n').filter(Boolean).length;
      const routes = async () =>
        (await vm1.exec(['ip', '-4', 'route', 'show', 'dev', spec.wgName])).stdout.split('\n').filter(Boolean)
          .length;
      const base = { peers: await peers(), routes: await routes() };
      const t0 = Date.now();
      created = true;
      const creating = createMembers(kc, env.broker.namespace, members).then(() => Date.now());
      creating.catch(() => undefined); // awaited below; a failure must not be an unhandled rejection
      let peersAt: number | undefined;
      let routesAt: number | undefined;
      await waitFor(
        `${MEMBERS} peers and routes programmed`,
        async () => {
          if (peersAt === undefined && (await peers()) - base.peers >= MEMBERS) peersAt = Date.now();
          if (routesAt === undefined && (await routes()) - base.routes >= MEMBERS) routesAt = Date.now();
          return peersAt !== undefined && routesAt !== undefined ? true : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 250, process: a },
      ).catch(async (err: unknown) => {
        throw new Error(
          `${String(err)}; now ${(await peers()) - base.peers} peers, ${(await routes()) - base.routes} routes`,
        );
      });
      const writtenAt = await creating;
      ctx.log(
        `${MEMBERS} Clusters + Endpoints written in ${writtenAt - t0} ms; ${MEMBERS} peers programmed +${(peersAt ?? 0) - t0} ms, routes +${(routesAt ?? 0) - t0} ms`,
      );
      const { memory: full, cpuS: busyCpuS } = await idlePeriod(
        ctx,
        `${IDLE_MS / 1000} s after programming ${MEMBERS} members`,
        a.pid,
        wgPid,
      );

      ctx.figure({ name: 'agent VmRSS idle (1 gateway)', value: idle.agent.rssMiB, unit: 'MiB', digits: 1 });
      ctx.figure({ name: 'agent VmHWM idle (1 gateway)', value: idle.agent.hwmMiB, unit: 'MiB', digits: 1 });
      ctx.figure({
        name: `agent VmRSS with ${MEMBERS} members`,
        value: full.agent.rssMiB,
        unit: 'MiB',
        digits: 1,
      });
      ctx.figure({
        name: `agent VmHWM with ${MEMBERS} members`,
        value: full.agent.hwmMiB,
        unit: 'MiB',
        digits: 1,
      });
      ctx.figure({ name: `first object written→${MEMBERS} peers`, value: (peersAt ?? 0) - t0, unit: 'ms' });
      ctx.figure({ name: `first object written→${MEMBERS} routes`, value: (routesAt ?? 0) - t0, unit: 'ms' });
      ctx.figure({
        name: `  broker writes of ${2 * MEMBERS} objects took`,
        value: writtenAt - t0,
        unit: 'ms',
      });
      ctx.figure({ name: '  last object written→all peers', value: (peersAt ?? 0) - writtenAt, unit: 'ms' });
      ctx.figure({ name: 'agent CPU per idle 30 s, 1 gateway', value: idleCpuS, unit: 'CPU s', digits: 2 });
      ctx.figure({
        name: `agent CPU per idle 30 s, ${MEMBERS} members`,
        value: busyCpuS,
        unit: 'CPU s',
        digits: 2,
      });
      if (idle.wg && full.wg)
        ctx.figure({
          name: `host wireguard-go VmRSS with ${MEMBERS} peers`,
          value: full.wg.rssMiB,
          unit: 'MiB',
          digits: 1,
        });
      ctx.note('fake members carry a healthCheckIP, as Submariner gateways do; the agent health-checks them');
    } finally {
      if (created) await deleteMembers(kc, env.broker.namespace).catch(() => undefined);
      await leaveHost(vm1, env.brokerInfo, spec, agent);
    }
  },
};
