import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildClusterset,
  type Clusterset,
  joinVm1,
  startAllGateways,
  startGateway,
} from '../harness/clusterset.ts';
import {
  cutApiServer,
  cutDropped,
  killGatewayNode,
  restoreApiServer,
  VipSampler,
  vipHolders,
} from '../harness/gateway-ha.ts';
import { moor } from '../harness/moor.ts';
import { PingWatch } from '../harness/ping-watch.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';

let run: TestRun;
let cs: Clusterset;
let agent: RunningProcess;
let vmState: string;
let VM = '';

type Ep = {
  metadata: { name: string; labels: Record<string, string> };
  spec: { hostname: string; backend_config: Record<string, string> };
};
async function endpointsOf(clusterId: string): Promise<Ep[]> {
  const list = (await cs.api.kubeConfig().makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'submariner.io',
    version: 'v1',
    namespace: cs.broker.namespace,
    plural: 'endpoints',
  })) as { items: Ep[] };
  return list.items.filter((e) => e.metadata.labels['submariner-io/clusterID'] === clusterId);
}

async function activeGateway(clusterId: string): Promise<{ host: string; key: string }> {
  return waitFor(
    `one active ${clusterId} gateway Endpoint`,
    async () => {
      const eps = await endpointsOf(clusterId);
      const only = eps.length === 1 ? eps[0] : undefined;
      return only ? { host: only.spec.hostname, key: only.spec.backend_config.publicKey ?? '' } : undefined;
    },
    { timeoutMs: 30_000 },
  );
}

const reach = (from: string, to: string, timeoutMs = 30_000) =>
  waitFor(`${from} → ${to}`, async () => ((await cs.topo.host(from).ping(to, 1)) ? true : undefined), {
    timeoutMs,
  });

beforeAll(async () => {
  run = TestRun.start();
  cs = await buildClusterset(run);
  startAllGateways(run, cs);
  await activeGateway('east');
  await activeGateway('west');
  const host = await joinVm1(run, cs);
  vmState = host.stateDir;
  VM = host.address;
  agent = host.agent;
});

afterAll(async () => {
  await run?.cleanup();
});

describe('clusterset with moor gateways and a host', () => {
  it('allocated the host address from the pool and connects everyone, both ways', async () => {
    // The first free address of the pool: the network address is skipped.
    expect(VM).toBe('100.70.0.1');
    const status = await waitFor('agent status', async () => {
      const r = await moor(cs.topo.host('vm1'), ['status', '-o', 'json', '--state-dir', vmState]);
      return r.code === 0 ? (JSON.parse(r.stdout) as { addresses: string[] }) : undefined;
    });
    expect(status.addresses).toEqual([VM]);
    const { east, west } = cs.clusters;
    await reach('vm1', east.podAddress);
    await reach('vm1', west.podAddress);
    await reach(east.pod, VM);
    await reach(west.pod, VM);
    await reach(east.pod, west.podAddress);
    await reach(west.pod, east.podAddress);
  });

  it('publishes gateway Endpoints in Submariner form and reports health of both cables', async () => {
    const [ep] = await endpointsOf('east');
    expect(ep?.metadata.name).toMatch(/^east-submariner-cable-east-10-99-10-[23]$/);
    const conns = await waitFor('both connections connected', async () => {
      const r = await moor(cs.topo.host('vm1'), [
        'show',
        'connections',
        '-o',
        'json',
        '--state-dir',
        vmState,
      ]);
      const c = JSON.parse(r.stdout || '[]') as Array<{
        clusterId: string;
        status: string;
        healthCheckIP: string | null;
      }>;
      return c.length === 2 && c.every((x) => x.status === 'connected') ? c : undefined;
    });
    const scrape = async (host: string) =>
      (
        await cs.topo
          .host(host)
          .exec([
            process.execPath,
            '-e',
            "fetch('http://127.0.0.1:9477/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))",
          ])
      ).stdout;
    // vm1's view above can still show the previous active gateway for a few seconds if the role
    // moved (a leader starved of CPU past its renew deadline fences itself, by design): read the
    // active gateway and its metrics together until its cable to vm1 is up.
    const active = await waitFor(
      "the active east gateway's cable to vm1 connected, in its metrics",
      async () => {
        const host = (await activeGateway('east')).host;
        return /moor_gateway_active 1\n[\s\S]*moor_connection_status\{cluster_id="vm1",status="connected"\} 1/.test(
          await scrape(host),
        )
          ? host
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const passive = cs.clusters.east.gateways.find((g) => g !== active) ?? '';
    const passiveMetrics = await scrape(passive);
    expect(passiveMetrics).toMatch(/^moor_gateway_active 0$/m);
    expect(passiveMetrics).toMatch(/^moor_ha_leader 0$/m);
    // A standby hears the active gateway's heartbeats (every 100 ms).
    expect(Number(/^moor_ha_leader_heartbeat_age_seconds (\S+)$/m.exec(passiveMetrics)?.[1])).toBeLessThan(5);
    expect(passiveMetrics).not.toMatch(/moor_connection_status/);
    expect(conns.map((c) => c.healthCheckIP).sort()).toEqual([
      expect.stringMatching(/^10\.10\.[23]\.1$/),
      expect.stringMatching(/^10\.20\.[23]\.1$/),
    ]);
  });

  it('restores connectivity after the active gateway restarts with a new key', async () => {
    const east = cs.clusters.east;
    const before = await activeGateway('east');
    const proc = east.processes[before.host];
    await proc?.stop();
    startGateway(run, cs, east, before.host, 'restarted');
    const after = await waitFor('a new east key', async () => {
      const a = await activeGateway('east');
      return a.key !== before.key ? a : undefined;
    });
    expect(after.key).not.toBe(before.key);
    await reach('vm1', east.podAddress);
    await reach(east.pod, cs.clusters.west.podAddress);
  });

  it('a second moor gateway on the same state directory exits at once and disturbs nothing', async () => {
    const east = cs.clusters.east;
    const before = await activeGateway('east');
    const first = east.processes[before.host];
    if (!first) throw new Error(`no gateway process on ${before.host}`);
    const second = startGateway(run, cs, east, before.host, 'second');
    east.processes[before.host] = first; // the harness's handle stays on the running one
    const exit = await second.waitExit();
    expect(exit.code).toBe(1);
    expect(second.log()).toMatch(new RegExp(`another moor gateway \\(pid ${first.pid},`));
    expect(first.running).toBe(true);
    expect(await activeGateway('east')).toEqual(before); // same host, same key on the broker
    await reach('vm1', east.podAddress);
  });

  it('graceful stop: the standby takes the floating address at once and traffic resumes', async () => {
    const east = cs.clusters.east;
    const { active, standby, sampler, ping } = await startWatching();
    const stoppedAt = Date.now();
    await east.processes[active]?.stop();
    const moved = await resumedThrough(sampler, ping, standby, stoppedAt);
    await sampler.stop();
    expect(sampler.overlaps()).toEqual([]);
    expect(moved.holders).toEqual([standby]);
    expect((await activeGateway('east')).host).toBe(standby);
    ping.stop();
    // Back as a standby for the next scenario.
    const proc = startGateway(run, cs, east, active, 'after-stop');
    await waitFor(
      'restarted gateway campaigning',
      () => (proc.log().includes('campaigning') ? true : undefined),
      {
        process: proc,
      },
    );
  });

  it('an active gateway cut off from the API server fences itself; never two holders; no flap back', async () => {
    const { active, standby, sampler, ping } = await startWatching();
    const cutAt = Date.now();
    await cutApiServer(cs, active);
    try {
      const moved = await resumedThrough(sampler, ping, standby, cutAt);
      expect(moved.holders).toEqual([standby]);
      // The cut was in the path: the old leader's renewals were dropped by it.
      expect(await cutDropped(cs, active)).toBeGreaterThan(0);
    } finally {
      await restoreApiServer(cs, active);
    }
    // Hysteresis: with its API back, the old leader stays a standby.
    const healedAt = Date.now();
    await waitFor('five seconds of samples after the cut heals', () =>
      sampler.samples.some((s) => s.at > healedAt + 5_000) ? true : undefined,
    );
    await sampler.stop();
    ping.stop();
    expect(sampler.overlaps()).toEqual([]);
    expect(sampler.samples.filter((s) => s.at > healedAt).every((s) => s.holders.join() === standby)).toBe(
      true,
    );
    expect((await activeGateway('east')).host).toBe(standby);
  });

  it('hard kill of the active gateway node (all processes, all links): traffic resumes through the standby', async () => {
    const { active, standby, sampler, ping } = await startWatching();
    const killedAt = await killGatewayNode(cs, active);
    const moved = await resumedThrough(sampler, ping, standby, killedAt);
    await sampler.stop();
    ping.stop();
    expect(sampler.overlaps()).toEqual([]);
    expect(moved.holders).toEqual([standby]);
    expect((await activeGateway('east')).host).toBe(standby);
    // The gratuitous ARP reached the worker: its neighbour entry for the floating address is
    // the standby's MAC (without GARP the dead node's MAC would linger for seconds).
    const east = cs.clusters.east;
    const mac = JSON.parse(
      (await cs.topo.host(standby).exec(['ip', '-j', 'link', 'show', `to-${east.id}`])).stdout,
    )[0]?.address;
    const neigh = JSON.parse(
      (await cs.topo.host(east.worker).exec(['ip', '-j', 'neigh', 'show', east.vip])).stdout || '[]',
    ) as Array<{ lladdr?: string }>;
    expect(neigh[0]?.lladdr).toBe(mac);
    await reach('vm1', cs.clusters.east.podAddress);
    await reach(cs.clusters.west.pod, cs.clusters.east.podAddress);
    expect(agent.running).toBe(true);
  });
});

/** The east gateway that holds the floating address, the other one, a 50 ms sampler of who
 * holds it, and the east pod pinging the host at 100/s (already answered). */
async function startWatching() {
  const east = cs.clusters.east;
  const active = await waitFor('exactly one east gateway holds the floating address', async () => {
    const h = await vipHolders(cs, east);
    return h.length === 1 ? h[0] : undefined;
  });
  const standby = east.gateways.find((g) => g !== active) ?? '';
  const sampler = new VipSampler(cs, east, 50);
  const ping = PingWatch.start(run, cs.topo.host(east.pod), VM, { intervalS: 0.01 });
  await ping.firstReplyAfter(Date.now(), 30_000);
  return { active, standby, sampler, ping };
}

/** Waits until `standby` alone holds the address (sampled after `t0`) and a pod's echo is
 * answered after that: traffic through the standby. */
async function resumedThrough(sampler: VipSampler, ping: PingWatch, standby: string, t0: number) {
  const moved = await waitFor(
    'the standby holds the floating address',
    async () => sampler.firstHeldBy(standby, t0),
    {
      timeoutMs: 30_000,
      intervalMs: 50,
    },
  );
  await ping.firstReplyAfter(moved.at, 30_000);
  return moved;
}
