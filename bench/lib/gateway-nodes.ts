// Gateway nodes of the two-cluster harness (test/harness/clusterset.ts) as the failover benchmark
// treats them: which one is active, killing one (node death), and bringing it back (a reboot).
import { CustomObjectsApi } from '@kubernetes/client-node';
import { type Clusterset, startGateway } from '../../test/harness/clusterset.ts';
import { exec } from '../../test/harness/exec.ts';
import { type RunningProcess, waitFor } from '../../test/harness/process.ts';
import type { TestRun } from '../../test/harness/run.ts';

/** The host name in the one Endpoint of `clusterId` (waits while there are none or two). */
export async function activeGateway(cs: Clusterset, clusterId: string): Promise<string> {
  const custom = cs.api.kubeConfig().makeApiClient(CustomObjectsApi);
  return waitFor(
    `one active ${clusterId} gateway Endpoint`,
    async () => {
      const list = (await custom.listNamespacedCustomObject({
        group: 'submariner.io',
        version: 'v1',
        namespace: cs.broker.namespace,
        plural: 'endpoints',
      })) as { items: Array<{ spec: { cluster_id: string; hostname: string } }> };
      const eps = list.items.filter((e) => e.spec.cluster_id === clusterId);
      return eps.length === 1 ? eps[0]?.spec.hostname : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 200 },
  );
}

/** Node death: every process in its namespace killed, its LAN link down. */
export async function killNode(cs: Clusterset, node: string, lanIf: string): Promise<void> {
  const host = cs.topo.host(node);
  const pids = (await exec(['ip', 'netns', 'pids', host.ns])).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await host.exec(['ip', 'link', 'set', lanIf, 'down']);
}

/** A rebooted node: its LAN link and routes are back, without the floating address, and its
 * gateway starts (passive, as the other node holds the Lease). */
export async function reviveNode(
  run: TestRun,
  cs: Clusterset,
  node: string,
  round: number,
): Promise<RunningProcess> {
  const east = cs.clusters.east;
  const host = cs.topo.host(node);
  await host.exec(['ip', 'addr', 'del', `${east.vip}/24`, 'dev', `to-${east.id}`], { allowFail: true });
  await host.exec(['ip', 'link', 'del', east.wgName[node] ?? ''], { allowFail: true });
  await host.exec(['ip', 'link', 'set', `to-${east.id}`, 'up']);
  // The link went down with the node, and its routes with it: back as the node's config has them.
  const podNet = `${east.podAddress.split('.').slice(0, 3).join('.')}.0/24`;
  await host.exec(['ip', 'route', 'replace', 'default', 'via', `${east.lan}.254`]);
  await host.exec(['ip', 'route', 'replace', podNet, 'via', `${east.lan}.4`]);
  const proc = startGateway(run, cs, east, node, `revived${round}`);
  await waitFor(
    'revived gateway campaigning',
    () => (proc.log().includes('campaigning') ? true : undefined),
    {
      process: proc,
      timeoutMs: 20_000,
    },
  );
  return proc;
}
