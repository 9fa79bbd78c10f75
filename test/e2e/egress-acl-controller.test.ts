// `moor controller` (the shipped bundle) writes the ACL mapping on the real API server, with real
// workload controllers (kube-controller-manager's Deployment, ReplicaSet, Job and StatefulSet
// controllers) making the pods and their ownerReferences; a test kubelet binds and runs them.
// Proves: the workload owner through ReplicaSet → Deployment, Job → CronJob, StatefulSet and a
// bare Pod; a Deployment rollout (new ReplicaSet, new pods, old pods deleted) keeps one history
// record under the same workload and IP; `moor acl who --at` before the rollout; a failover to a
// standby and a restart rewrite nothing (resourceVersions unchanged); status.mapping counts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../harness/apiserver.ts';
import {
  apiAndControllerHosts,
  createNamespace,
  createNode,
  createPod,
  deployEgressCrds,
  type EgressObjects,
  egressObjects,
  GROUP,
  VERSION,
} from '../harness/egress-cluster.ts';
import { type FakeKubelet, startFakeKubelet } from '../harness/fake-kubelet.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import type { Topology } from '../harness/topology.ts';

const NS = 'payments';
let run: TestRun;
let topo: Topology;
let api: ApiServer;
let kc: KubeConfig;
let eg: EgressObjects;
let kubelet: FakeKubelet;
let kubeconfigPath: string;
let controller: RunningProcess;
let egressIP: string;

interface Slice {
  metadata: { name: string; resourceVersion: string };
  policy: string;
  entries: {
    namespace: string;
    pod: string;
    node?: string;
    workload: { kind: string; name: string };
    egressIP?: string;
  }[];
}
interface History {
  metadata: { name: string; resourceVersion: string };
  ip: string;
  records: {
    namespace: string;
    workload: { kind: string; name: string };
    from: string;
    to?: string;
    pods: string[];
  }[];
}

const list = async <T>(plural: string): Promise<T[]> =>
  ((await eg.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items: T[] })
    .items;
const slices = () => list<Slice>('egressmapslices');
const histories = () => list<History>('egressiphistories');
const versions = async () =>
  Object.fromEntries(
    [...(await slices()), ...(await histories())].map((o) => [o.metadata.name, o.metadata.resourceVersion]),
  );
const workloadOf = (s: Slice[]) =>
  Object.fromEntries(
    s.flatMap((x) => x.entries).map((e) => [e.pod, `${e.workload.kind}/${e.workload.name}`]),
  );

function startController(identity: string): RunningProcess {
  return startMoor(topo.host('ctl'), `controller-${identity}`, [
    'controller',
    '--kubeconfig',
    kubeconfigPath,
    '--resync',
    '5',
    '--identity',
    identity,
    '--acl-history-retention',
    '30d',
  ]);
}

const template = (labels: Record<string, string>, image = 'app:1') => ({
  metadata: { labels },
  spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image }] },
});

beforeAll(async () => {
  run = TestRun.start();
  // The workload controllers, but not node lifecycle: no kubelet heartbeats these Nodes.
  ({ topo, api } = await apiAndControllerHosts(run, {
    name: 'aclctl',
    controllers: ['*', '-node-lifecycle-controller', '-taint-eviction-controller'],
  }));
  kc = api.kubeConfig();
  await deployEgressCrds(api);
  await createNamespace(kc, 'moor-egress');
  await createNamespace(kc, NS);
  await createNode(kc, 'gw1', '10.99.10.2', { 'egress.moor.io/gateway': 'east' });
  await createNode(kc, 'w1', '10.99.10.3');
  kubelet = startFakeKubelet(kc, {
    namespace: NS,
    node: 'w1',
    hostIP: '10.99.10.3',
    podIPs: (n) => `10.1.${Math.floor(n / 250)}.${(n % 250) + 2}`,
  });
  run.defer(() => kubelet.stop());
  eg = egressObjects(kc);
  await eg.createGateway('east', {
    nodeSelector: { matchLabels: { 'egress.moor.io/gateway': 'east' } },
    pool: { cidrs: ['10.99.10.16/30'] },
    interface: 'lan0',
    subnet: '10.99.10.0/24',
    floatingIP: '10.99.10.254',
    vni: 4100,
  });
  await eg.createPolicy('checkout', {
    namespaceSelector: {},
    podSelector: { matchLabels: { team: 'checkout' } },
    destinations: [{ cidr: '10.50.0.0/24' }],
    gateway: 'east',
  });
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  await apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: 'checkout' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'checkout' } },
        template: template({ app: 'checkout', team: 'checkout' }),
      },
    },
  });
  await apps.createNamespacedStatefulSet({
    namespace: NS,
    body: {
      metadata: { name: 'ledger' },
      spec: {
        replicas: 1,
        serviceName: 'ledger',
        selector: { matchLabels: { app: 'ledger' } },
        template: template({ app: 'ledger', team: 'checkout' }),
      },
    },
  });
  // A suspended CronJob never fires on its own; its Job is made as the CronJob controller would
  // (controller reference to the CronJob), and the real Job controller makes the pod.
  const cron = await batch.createNamespacedCronJob({
    namespace: NS,
    body: {
      metadata: { name: 'nightly' },
      spec: {
        schedule: '0 3 * * *',
        suspend: true,
        jobTemplate: {
          spec: {
            template: {
              ...template({ team: 'checkout' }),
              spec: { ...template({}).spec, restartPolicy: 'Never' },
            },
          },
        },
      },
    },
  });
  await batch.createNamespacedJob({
    namespace: NS,
    body: {
      metadata: {
        name: 'nightly-29400000',
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: 'nightly',
            uid: cron.metadata?.uid ?? '',
            controller: true,
          },
        ],
      },
      spec: {
        template: {
          ...template({ team: 'checkout' }),
          spec: { ...template({}).spec, restartPolicy: 'Never' },
        },
      },
    },
  });
  await createPod(kc, NS, 'debug', { team: 'checkout' }, 'w1', '10.1.9.9');
  kubeconfigPath = join(run.dir, 'controller.kubeconfig');
  writeFileSync(kubeconfigPath, api.kubeConfigYaml(), { mode: 0o600 });
  controller = startController('first');
}, 240_000);

afterAll(async () => {
  await run?.cleanup();
});

/** Waits until the mapping holds exactly `pods` (names), each with its egress IP and node, and
 * returns the slices. Pods of the real Deployment/StatefulSet/Job controllers are mapped as soon
 * as they exist and bound by the test kubelet a moment later: until then an entry has no node. */
async function mappingOf(pods: number, what: string): Promise<Slice[]> {
  return waitFor(
    what,
    async () => {
      const s = await slices();
      const entries = s.flatMap((x) => x.entries);
      return entries.length === pods && entries.every((e) => e.egressIP && e.node) ? s : undefined;
    },
    { process: controller, timeoutMs: 90_000, intervalMs: 250 },
  );
}

let beforeRollout: string;
let oldPods: string[];

describe('moor controller writes the ACL mapping', () => {
  it('maps every pod to its workload owner, one history per IP, and status.mapping', async () => {
    const s = await mappingOf(5, 'five pods mapped');
    const byPod = workloadOf(s);
    oldPods = Object.keys(byPod).filter((p) => p.startsWith('checkout-'));
    expect(oldPods).toHaveLength(2);
    for (const p of oldPods) expect(byPod[p]).toBe('Deployment/checkout');
    expect(byPod['ledger-0']).toBe('StatefulSet/ledger');
    expect(Object.entries(byPod).find(([p]) => p.startsWith('nightly-29400000-'))?.[1]).toBe(
      'CronJob/nightly',
    );
    expect(byPod.debug).toBe('Pod/debug');
    expect(s.map((x) => x.metadata.name)).toEqual(['checkout-0']);
    const entries = s.flatMap((x) => x.entries);
    egressIP = entries[0]?.egressIP ?? '';
    expect(egressIP).toMatch(/^10\.99\.10\.1[6-9]$/);
    expect(new Set(entries.map((e) => e.egressIP))).toEqual(new Set([egressIP]));
    expect(new Set(entries.map((e) => e.node))).toEqual(new Set(['w1']));

    const [h, ...more] = await waitFor('history', async () => {
      const all = await histories();
      return all.length > 0 && all[0]?.records.length === 4 ? all : undefined;
    });
    expect(more).toEqual([]);
    expect(h?.metadata.name).toBe(`ip-${egressIP.replaceAll('.', '-')}`);
    expect(h?.records.every((r) => r.to === undefined)).toBe(true);

    const policy = await waitFor('status.mapping', async () => {
      const p = (await eg.policy('checkout')) as { status?: { mapping?: { mappedPods?: number } } };
      return p.status?.mapping?.mappedPods === 5 ? p : undefined;
    });
    expect(policy.status?.mapping).toEqual({
      mappedPods: 5,
      podsWithIP: 5,
      slices: 1,
      workloadCount: 4,
      workloads: [
        `CronJob/${NS}/nightly`,
        `Deployment/${NS}/checkout`,
        `Pod/${NS}/debug`,
        `StatefulSet/${NS}/ledger`,
      ],
      ips: [{ ip: egressIP, pods: 5 }],
    });
  });

  it('follows a Deployment rollout: new ReplicaSet and pods, the old ones gone, one record, the same IP', async () => {
    // `since` and `from` have whole seconds: a time strictly after the mapping was written.
    await new Promise((r) => setTimeout(r, 1_100));
    beforeRollout = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1_100));
    const apps = kc.makeApiClient(AppsV1Api);
    const d = await apps.readNamespacedDeployment({ namespace: NS, name: 'checkout' });
    d.spec = {
      ...d.spec,
      template: template({ app: 'checkout', team: 'checkout' }, 'app:2'),
    } as typeof d.spec;
    await apps.replaceNamespacedDeployment({ namespace: NS, name: 'checkout', body: d });
    const s = await waitFor(
      'the rollout in the mapping',
      async () => {
        const now = await slices();
        const pods = Object.keys(workloadOf(now)).filter((p) => p.startsWith('checkout-'));
        return pods.length === 2 && pods.every((p) => !oldPods.includes(p)) ? now : undefined;
      },
      { process: controller, timeoutMs: 120_000, intervalMs: 250 },
    );
    const core = kc.makeApiClient(CoreV1Api);
    const live = (await core.listNamespacedPod({ namespace: NS })).items.map((p) => p.metadata?.name);
    for (const p of oldPods) expect(live).not.toContain(p);
    const newPods = Object.keys(workloadOf(s)).filter((p) => p.startsWith('checkout-'));
    // A new ReplicaSet: the pods' name prefix (the pod-template-hash) changed.
    expect(newPods[0]?.split('-')[1]).not.toBe(oldPods[0]?.split('-')[1]);
    for (const p of newPods) expect(workloadOf(s)[p]).toBe('Deployment/checkout');
    expect(new Set(s.flatMap((x) => x.entries).map((e) => e.egressIP))).toEqual(new Set([egressIP]));

    const [h] = await waitFor('history with the new pods', async () => {
      const all = await histories();
      const rec = all[0]?.records.find((r) => r.workload.name === 'checkout');
      return rec && newPods.every((p) => rec.pods.includes(p)) ? all : undefined;
    });
    const records = h?.records.filter((r) => r.workload.kind === 'Deployment') ?? [];
    expect(records).toHaveLength(1);
    expect(records[0]?.to).toBeUndefined();
    expect(records[0]?.pods.slice(0, 2)).toEqual(oldPods); // oldest first
    expect(records[0]?.pods).toHaveLength(4);
    for (const p of newPods) expect(records[0]?.pods).toContain(p);
    expect(Date.parse(records[0]?.from ?? '')).toBeLessThan(Date.parse(beforeRollout));
  });

  it('refuses a retention of 0 or junk at start-up: exit 2, the fix named, no stack trace', async () => {
    for (const bad of ['0', '0d', 'forever']) {
      const r = await moor(topo.host('ctl'), [
        'controller',
        '--kubeconfig',
        kubeconfigPath,
        '--acl-history-retention',
        bad,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--acl-history-retention');
      expect(r.stderr).toContain('fix:');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // It never took the lease: the running controller still leads and answers.
    await probe('probe-0');
  });

  it('moor acl who --at a time before the rollout names the old pods and their workload', async () => {
    const ctl = topo.host('ctl');
    const r = await moor(ctl, [
      'acl',
      'who',
      egressIP,
      '--at',
      beforeRollout,
      '-o',
      'json',
      '--kubeconfig',
      kubeconfigPath,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout) as {
      known: boolean;
      holders: { namespace: string; workload: { kind: string; name: string }; pods: string[] }[];
    };
    expect(answer.known).toBe(true);
    const deployment = answer.holders.find((h) => h.workload.kind === 'Deployment');
    expect(deployment).toMatchObject({ namespace: NS, workload: { kind: 'Deployment', name: 'checkout' } });
    for (const p of oldPods) expect(deployment?.pods).toContain(p);
    const text = await moor(ctl, [
      'acl',
      'who',
      egressIP,
      '--at',
      beforeRollout,
      '--kubeconfig',
      kubeconfigPath,
    ]);
    expect(text.stdout).toContain(`${NS}/checkout (Deployment)`);
    const early = await moor(ctl, [
      'acl',
      'who',
      egressIP,
      '--at',
      '2020-01-01T00:00:00Z',
      '--kubeconfig',
      kubeconfigPath,
    ]);
    expect(early.code).toBe(1);
    expect(early.stdout).toContain('was not held by any workload');
  });

  it('a failover to a standby and a restart rewrite nothing; the history stays continuous', async () => {
    const before = await versions();
    const policyBefore = (await eg.policy('checkout')).metadata.resourceVersion;
    const standby = startController('standby');
    // Up and contending before the leader dies (a standby only reads the lease while it waits).
    await new Promise((r) => setTimeout(r, 3_000));
    await controller.kill(); // hard: no lease release; the standby takes over after the lease lapses
    controller = standby;
    await probe('probe-a');
    expect(standby.log()).toContain('became the leader (after first)');
    expect(await versions()).toEqual(before);
    expect((await eg.policy('checkout')).metadata.resourceVersion).toBe(policyBefore);

    await controller.stop(); // graceful restart
    controller = startController('restarted');
    await probe('probe-b');
    expect(await versions()).toEqual(before);
    expect((await eg.policy('checkout')).metadata.resourceVersion).toBe(policyBefore);
    const [h] = await histories();
    expect(h?.records.every((r) => r.to === undefined)).toBe(true);
    expect(h?.records).toHaveLength(4);
  });
});

/** A new policy the running controller must answer: proof it has reconciled since it started. */
async function probe(name: string): Promise<void> {
  await eg.createPolicy(name, {
    podSelector: { matchLabels: { team: 'nobody' } },
    destinations: [{ cidr: '10.60.0.0/24' }],
    gateway: 'east',
  });
  await waitFor(
    `${name} reconciled by ${controller.name}`,
    async () => {
      const p = (await eg.policy(name)) as { status?: { mapping?: { mappedPods?: number } } };
      return p.status?.mapping?.mappedPods === 0 ? true : undefined;
    },
    { process: controller, timeoutMs: 90_000 },
  );
}
