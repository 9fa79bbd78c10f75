// `moor controller` (the shipped bundle) against the real API server: allocations with
// conditions, stickiness across a restart and an edit (the objects are not even rewritten), and
// every bad-input case as a condition plus an Event, leaving working allocations untouched.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../harness/apiserver.ts';
import {
  apiAndControllerHosts,
  condition,
  createNamespace,
  createNode,
  createPod,
  deployEgressCrds,
  type EgressObjects,
  egressObjects,
  setNodeReady,
} from '../harness/egress-cluster.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import type { Topology } from '../harness/topology.ts';

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let kc: KubeConfig;
let eg: EgressObjects;
let kubeconfigPath: string;
let controller: RunningProcess;

const gatewaySpec = (cidr: string, floatingIP: string, vni: number, exclude: string[] = []) => ({
  nodeSelector: { matchLabels: { 'egress.moor.io/gateway': 'east' } },
  pool: { cidrs: [cidr], exclude },
  interface: 'lan0',
  subnet: '10.99.10.0/24',
  floatingIP,
  vni,
});

function startController(identity: string): RunningProcess {
  return startMoor(topo.host('ctl'), `controller-${identity}`, [
    'controller',
    '--kubeconfig',
    kubeconfigPath,
    '--resync',
    '5',
    '--identity',
    identity,
  ]);
}

beforeAll(async () => {
  run = TestRun.start();
  // No kube-controller-manager: its node lifecycle controller would mark the kubelet-less Nodes
  // NotReady after 40 s.
  ({ topo, api } = await apiAndControllerHosts(run, {
    name: 'egress',
    controllerManager: false,
  }));
  kc = api.kubeConfig();
  await deployEgressCrds(api);
  await createNamespace(kc, 'moor-egress');
  await createNamespace(kc, 'shop', { team: 'shop' });
  await createNode(kc, 'gw1', '10.99.10.2', { 'egress.moor.io/gateway': 'east' });
  await createNode(kc, 'gw2', '10.99.10.5', { 'egress.moor.io/gateway': 'east' });
  await createNode(kc, 'w1', '10.99.10.3');
  await createPod(kc, 'shop', 'pay-1', { app: 'pay' }, 'w1', '10.1.1.5');
  await createPod(kc, 'shop', 'web-1', { app: 'web' }, 'w1', '10.1.1.6');
  kubeconfigPath = join(run.dir, 'controller.kubeconfig');
  writeFileSync(kubeconfigPath, api.kubeConfigYaml(), { mode: 0o600 });
  eg = egressObjects(kc);
  // .0/29 holds the node addresses .2, .3 and .5: they must never be handed out; .0 is the
  // subnet's network address and .7 is excluded.
  await eg.createGateway('east', gatewaySpec('10.99.10.0/29', '10.99.10.254', 4100, ['10.99.10.7']));
  await eg.createPolicy('pay', {
    namespaceSelector: { matchLabels: { team: 'shop' } },
    podSelector: { matchLabels: { app: 'pay' } },
    destinations: [{ cidr: '10.50.0.0/16' }],
    gateway: 'east',
    priority: 10,
  });
  await eg.createPolicy('web', {
    podSelector: { matchLabels: { app: 'web' } },
    destinations: [{ cidr: '10.50.0.0/16' }],
    gateway: 'east',
    count: 2,
  });
  controller = startController('first');
});

afterAll(async () => {
  await run?.cleanup();
});

async function settled(name: string, ips: number) {
  return waitFor(
    `policy ${name} with ${ips} IP(s)`,
    async () => {
      const p = await eg.policy(name);
      return (p.status?.ips?.length ?? 0) === ips ? p : undefined;
    },
    { process: controller, timeoutMs: 30_000 },
  );
}

async function events(name: string): Promise<{ reason: string; type: string; message: string }[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: 'default' });
  return list.items
    .filter((e) => e.involvedObject.name === name)
    .map((e) => ({ reason: e.reason ?? '', type: e.type ?? '', message: e.message ?? '' }));
}

describe('moor controller', () => {
  it('allocates IPs from the pool, never a node address, and writes status', async () => {
    const pay = await settled('pay', 1);
    const web = await settled('web', 2);
    // Left: .1, .4, .6. "pay" sorts before "web", so it takes the lowest.
    expect(pay.status?.ips).toEqual(['10.99.10.1']);
    expect(web.status?.ips).toEqual(['10.99.10.4', '10.99.10.6']);
    expect(pay.status?.selectedPods).toBe(1);
    expect(condition(pay, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(condition(pay, 'IPsAllocated')).toMatchObject({ status: 'True', reason: 'Allocated' });
    const gw = await waitFor('gateway status', async () => {
      const g = await eg.gateway('east');
      return g.status?.allocatedCount === 3 ? g : undefined;
    });
    expect(gw.status).toMatchObject({ readyNodes: ['gw1', 'gw2'], freeCount: 0 });
    expect(await events('pay')).toContainEqual(
      expect.objectContaining({ type: 'Normal', reason: 'Allocated' }),
    );
  });

  it('moor egress status and show print allocations and each pod with the IP it leaves from', async () => {
    const ctl = topo.host('ctl');
    const status = await moor(ctl, ['egress', 'status', '-o', 'json', '--kubeconfig', kubeconfigPath]);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { policies: { name: string; status: { ips: string[] } }[] };
    expect(report.policies.map((p) => [p.name, p.status.ips])).toEqual([
      ['pay', ['10.99.10.1']],
      ['web', ['10.99.10.4', '10.99.10.6']],
    ]);
    const table = await moor(ctl, ['egress', 'status', '--kubeconfig', kubeconfigPath]);
    expect(table.stdout).toMatch(/^pay\s+east\s+10\.99\.10\.1\s+10\s+1\s/m);
    const show = await moor(ctl, ['egress', 'show', 'pay', '--kubeconfig', kubeconfigPath]);
    expect(show.stdout).toMatch(/^shop\/pay-1\s+w1\s+10\.1\.1\.5\s+10\.99\.10\.1$/m);
    const missing = await moor(ctl, ['egress', 'show', 'nope', '--kubeconfig', kubeconfigPath]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no EgressPolicy "nope"');
    expect(missing.stderr).not.toContain('    at ');
  });

  it('reports an exhausted pool on the new policy only, with an Event', async () => {
    await eg.createPolicy('late', {
      podSelector: { matchLabels: { app: 'late' } },
      destinations: [{ cidr: '10.50.0.0/16' }],
      gateway: 'east',
    });
    const late = await waitFor('late exhausted', async () => {
      const p = await eg.policy('late');
      return condition(p, 'IPsAllocated')?.reason === 'PoolExhausted' ? p : undefined;
    });
    expect(late.status?.ips ?? []).toEqual([]);
    expect(condition(late, 'PodsSelected')).toMatchObject({ status: 'False', reason: 'NoMatchingPods' });
    const ev = await waitFor('exhaustion event', async () => {
      const list = await events('late');
      return list.some((e) => e.reason === 'PoolExhausted') ? list : undefined;
    });
    expect(ev).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'NoMatchingPods' }));
    expect((await eg.policy('pay')).status?.ips).toEqual(['10.99.10.1']);
  });

  it('refuses a fixed IP that is a node address, and a missing gateway', async () => {
    await eg.createPolicy('fixed-node', {
      destinations: [{ cidr: '10.50.0.0/16' }],
      gateway: 'east',
      ips: ['10.99.10.3'],
      podSelector: { matchLabels: { app: 'none' } },
    });
    await eg.createPolicy('orphan', {
      destinations: [{ cidr: '10.50.0.0/16' }],
      gateway: 'nope',
      podSelector: { matchLabels: { app: 'none' } },
    });
    const fixed = await waitFor('fixed-node condition', async () => {
      const p = await eg.policy('fixed-node');
      return condition(p, 'IPsAllocated')?.reason === 'RequestedIPUnusable' ? p : undefined;
    });
    expect(condition(fixed, 'IPsAllocated')?.message).toContain('10.99.10.3 is an address of node w1');
    const orphan = await waitFor('orphan condition', async () => {
      const p = await eg.policy('orphan');
      return condition(p, 'Ready')?.reason === 'GatewayNotFound' ? p : undefined;
    });
    expect(condition(orphan, 'IPsAllocated')?.message).toContain('Create the EgressGateway');
    await waitFor('GatewayNotFound event', async () =>
      (await events('orphan')).some((e) => e.reason === 'GatewayNotFound') ? true : undefined,
    );
  });

  it('reports two policies of equal priority on both, and a pool that overlaps another gateway', async () => {
    await eg.createPolicy('pay-copy', {
      podSelector: { matchLabels: { app: 'pay' } },
      destinations: [{ cidr: '10.50.0.0/16' }],
      gateway: 'east',
      priority: 10,
      ips: ['10.99.10.1'],
    });
    await eg.createGateway('west', gatewaySpec('10.99.10.4/30', '10.99.10.253', 4200));
    const copy = await waitFor('tie reported', async () => {
      const p = await eg.policy('pay-copy');
      return condition(p, 'Conflict')?.reason === 'EqualPriority' ? p : undefined;
    });
    // "pay" sorts first and keeps the pod; the copy's fixed request for pay's IP is refused.
    expect(condition(copy, 'Conflict')?.message).toContain('pay wins');
    expect(condition(copy, 'IPsAllocated')?.reason).toBe('RequestedIPTaken');
    const pay = await eg.policy('pay');
    expect(condition(pay, 'Conflict')).toMatchObject({ status: 'True', reason: 'EqualPriority' });
    expect(pay.status).toMatchObject({ ips: ['10.99.10.1'], selectedPods: 1 });
    const west = await waitFor('overlap reported', async () => {
      const g = await eg.gateway('west');
      return condition(g, 'PoolOverlap')?.status === 'True' ? g : undefined;
    });
    expect(condition(west, 'PoolOverlap')?.message).toContain('gateway east');
    expect((await eg.policy('web')).status?.ips).toEqual(['10.99.10.4', '10.99.10.6']);
  });

  it('changes no allocation across a failover and an unrelated edit: the objects are not even rewritten', async () => {
    const before = await Promise.all(['pay', 'web'].map((n) => eg.policy(n)));
    await controller.kill(); // hard: no lease release; the standby waits for the lease to lapse
    controller = startController('standby');
    // The restarted controller has reconciled once it handles a change made after its start.
    await eg.patchPolicy('late', { count: 1, gateway: 'west' });
    await waitFor(
      'late allocated from west by the new controller',
      async () => {
        const p = await eg.policy('late');
        return (p.status?.ips?.length ?? 0) === 1 ? p : undefined;
      },
      { process: controller, timeoutMs: 60_000 },
    );
    const after = await Promise.all(['pay', 'web'].map((n) => eg.policy(n)));
    for (const [i, p] of after.entries()) {
      expect(p.status?.ips).toEqual(before[i]?.status?.ips);
      expect(p.metadata.resourceVersion).toBe(before[i]?.metadata.resourceVersion);
    }
    // An edit of a policy's spec that does not touch its IPs keeps them.
    await eg.patchPolicy('web', { destinations: [{ cidr: '10.60.0.0/16' }] });
    await waitFor('web observed the edit', async () => {
      const p = await eg.policy('web');
      return condition(p, 'Ready') && (p.status as { observedGeneration?: number }).observedGeneration === 2
        ? p
        : undefined;
    });
    expect((await eg.policy('web')).status?.ips).toEqual(['10.99.10.4', '10.99.10.6']);
  });

  it('reports a gateway group with no ready node, and keeps every allocation', async () => {
    const before = (await eg.policy('pay')).status?.ips;
    await setNodeReady(kc, 'gw1', '10.99.10.2', false);
    await setNodeReady(kc, 'gw2', '10.99.10.5', false);
    const gw = await waitFor('NoReadyNode', async () => {
      const g = await eg.gateway('east');
      return condition(g, 'Ready')?.reason === 'NoReadyNode' ? g : undefined;
    });
    expect(gw.status?.readyNodes ?? []).toEqual([]);
    const pay = await waitFor('pay not ready', async () => {
      const p = await eg.policy('pay');
      return condition(p, 'Ready')?.reason === 'NoReadyGatewayNode' ? p : undefined;
    });
    expect(pay.status?.ips).toEqual(before);
    await waitFor('NoReadyNode event', async () =>
      (await events('east')).some((e) => e.reason === 'NoReadyNode') ? true : undefined,
    );
  });
});
