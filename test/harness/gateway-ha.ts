// Gateway HA in the two-cluster harness (clusterset.ts): who holds the floating address, sampled
// from the kernel; the active node's API traffic blackholed with nft; node death (every process
// SIGKILLed at once, every link deleted) and the node's "reboot" (links rebuilt as the topology
// had them, no floating address, gateway restarted as a standby).
import type { Clusterset, SimCluster } from './clusterset.ts';
import { startGateway } from './clusterset.ts';
import { exec } from './exec.ts';
import type { RunningProcess } from './process.ts';
import type { TestRun } from './run.ts';

export interface VipSample {
  /** Wall-clock ms when the sample began. */
  at: number;
  holders: string[];
}

/** The gateway nodes of `cluster` whose LAN device carries the floating address, read now. */
export async function vipHolders(cs: Clusterset, cluster: SimCluster): Promise<string[]> {
  const held = await Promise.all(
    cluster.gateways.map(async (gw) => {
      const r = await cs.topo
        .host(gw)
        .exec(['ip', '-j', '-4', 'addr', 'show', 'dev', `to-${cluster.id}`], { allowFail: true });
      if (r.code !== 0) return false; // the link is gone (a dead node)
      const list = JSON.parse(r.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
      return list.some((l) => (l.addr_info ?? []).some((a) => a.local === cluster.vip));
    }),
  );
  return cluster.gateways.filter((_, i) => held[i]);
}

/** Samples vipHolders every `intervalMs` until stopped. */
export class VipSampler {
  readonly samples: VipSample[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(cs: Clusterset, cluster: SimCluster, intervalMs = 50) {
    this.done = (async () => {
      while (this.running) {
        const at = Date.now();
        this.samples.push({ at, holders: await vipHolders(cs, cluster) });
        const wait = at + intervalMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    })();
  }

  async stop(): Promise<VipSample[]> {
    this.running = false;
    await this.done;
    return this.samples;
  }

  /** Samples in which more than one node held the address. */
  overlaps(): VipSample[] {
    return this.samples.filter((s) => s.holders.length > 1);
  }

  /** The first sample at or after `t` in which exactly `node` held it. */
  firstHeldBy(node: string, t: number): VipSample | undefined {
    return this.samples.find((s) => s.at >= t && s.holders.length === 1 && s.holders[0] === node);
  }
}

const CUT_TABLE = 'moor_test_api_cut';

/** Blackhole every packet from `node` to the API servers (broker and cluster share 10.99.0.2). */
export async function cutApiServer(cs: Clusterset, node: string): Promise<void> {
  const rules = [
    `table inet ${CUT_TABLE} {`,
    '  chain out {',
    '    type filter hook output priority filter; policy accept;',
    '    ip daddr 10.99.0.2 counter drop',
    '  }',
    '}',
  ].join('\n');
  await cs.topo.host(node).exec(['nft', '-f', '-'], { input: rules });
}

/** Packets the cut has dropped so far (proof that it was in the path). */
export async function cutDropped(cs: Clusterset, node: string): Promise<number> {
  const r = await cs.topo.host(node).exec(['nft', '-j', 'list', 'table', 'inet', CUT_TABLE]);
  const doc = JSON.parse(r.stdout) as {
    nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }>;
  };
  let n = 0;
  for (const item of doc.nftables) for (const e of item.rule?.expr ?? []) n += e.counter?.packets ?? 0;
  return n;
}

export async function restoreApiServer(cs: Clusterset, node: string): Promise<void> {
  await cs.topo.host(node).exec(['nft', 'delete', 'table', 'inet', CUT_TABLE], { allowFail: true });
}

/** Node death: every process in its namespace SIGKILLed at once, then every link deleted.
 * Resolves to the wall-clock ms of the SIGKILLs (the moment of death). */
export async function killGatewayNode(cs: Clusterset, node: string): Promise<number> {
  const host = cs.topo.host(node);
  const pids = (await exec(['ip', 'netns', 'pids', host.ns])).stdout.split(/\s+/).filter(Boolean);
  const diedAt = Date.now();
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const links = JSON.parse((await host.exec(['ip', '-j', 'link', 'show'])).stdout) as Array<{
    ifname: string;
  }>;
  for (const l of links) {
    if (l.ifname !== 'lo') await host.exec(['ip', 'link', 'del', l.ifname], { allowFail: true });
  }
  return diedAt;
}

/** A rebooted node: its LAN link, CNI bridge and routes rebuilt as buildClusterset made them
 * (without the floating address), and its gateway started again (a standby). */
export async function reviveGatewayNode(
  run: TestRun,
  cs: Clusterset,
  cluster: SimCluster,
  node: string,
  name: string,
): Promise<RunningProcess> {
  const host = cs.topo.host(node);
  const index = cluster.gateways.indexOf(node);
  const sw = cs.topo.host(`sw-${cluster.id}`);
  const n = cluster.lan.split('.')[2] ?? '';
  const inHost = run.ifName('v');
  const inSwitch = run.ifName('v');
  await exec(['ip', 'link', 'add', inHost, 'type', 'veth', 'peer', 'name', inSwitch]);
  await exec(['ip', 'link', 'set', inSwitch, 'netns', sw.ns]);
  await sw.exec(['ip', 'link', 'set', inSwitch, 'master', 'br0', 'up']);
  await exec(['ip', 'link', 'set', inHost, 'netns', host.ns]);
  const dev = `to-${cluster.id}`;
  await host.exec(['ip', 'link', 'set', inHost, 'name', dev]);
  await host.exec(['ip', 'addr', 'add', `${cluster.lan}.${2 + index}/24`, 'dev', dev]);
  await host.exec(['ip', 'link', 'set', dev, 'up']);
  await host.exec(['ip', 'link', 'add', 'cni0', 'type', 'bridge']);
  await host.exec(['ip', 'addr', 'add', `10.${n}.${2 + index}.1/24`, 'dev', 'cni0']);
  await host.exec(['ip', 'link', 'set', 'cni0', 'up']);
  await host.exec(['ip', 'route', 'replace', 'default', 'via', `${cluster.lan}.254`]);
  await host.exec(['ip', 'route', 'replace', `10.${n}.1.0/24`, 'via', `${cluster.lan}.4`]);
  return startGateway(run, cs, cluster, node, name);
}
