// The controller daemon on a strict in-memory API (watches included): the ACL mapping and its
// history are written from the same pass as the status, an unchanged reconcile makes no request
// at all (also while the watch lags behind our own writes), a rollout extends one history record,
// a failed write is an outcome error of phase acl-mapping that the next pass repairs, and an
// unreadable slice is reported once and never trusted.
import { afterEach, describe, expect, it } from 'vitest';
import { egressPaths } from '../k8s/egress-paths.ts';
import { EgressController } from './controller.ts';
import { FakeKubeApi } from './fake-api.ts';

const P = egressPaths;
const IP = '10.99.10.32';
const DAY = 86_400_000;

function world(): FakeKubeApi {
  const api = new FakeKubeApi([
    P.gateways,
    P.policies,
    P.nodes,
    P.namespaces,
    P.pods,
    P.replicaSets,
    P.jobs,
    P.mapSlices,
    P.histories,
    P.events('default'),
  ]);
  api.seed(P.gateways, {
    metadata: { name: 'east', generation: 1 },
    spec: {
      nodeSelector: { matchLabels: { role: 'gw' } },
      pool: { cidrs: ['10.99.10.32/30'] },
      interface: 'lan0',
      subnet: '10.99.10.0/24',
      floatingIP: '10.99.10.254',
      vni: 4100,
    },
  });
  api.seed(P.policies, {
    metadata: { name: 'checkout', generation: 1 },
    spec: {
      gateway: 'east',
      destinations: [{ cidr: '10.50.0.0/24' }],
      podSelector: { matchLabels: { app: 'checkout' } },
      priority: 0,
      failurePolicy: 'Closed',
    },
  });
  for (const [name, ip, labels] of [
    ['gw1', '10.99.10.2', { role: 'gw' }],
    ['w1', '10.99.10.3', {}],
  ] as const)
    api.seed(P.nodes, {
      metadata: { name, labels },
      status: {
        addresses: [{ type: 'InternalIP', address: ip }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
  api.seed(P.namespaces, { metadata: { name: 'payments' } });
  api.seed(P.replicaSets, owned('checkout-aaa', 'Deployment', 'checkout'));
  api.seed(P.jobs, owned('nightly-29000', 'CronJob', 'nightly'));
  pod(api, 'checkout-aaa-1', 'ReplicaSet', 'checkout-aaa', '10.1.1.5');
  pod(api, 'checkout-aaa-2', 'ReplicaSet', 'checkout-aaa', '10.1.1.6');
  pod(api, 'nightly-29000-x', 'Job', 'nightly-29000', '10.1.1.7');
  pod(api, 'db-0', 'StatefulSet', 'db', '10.1.1.8');
  pod(api, 'debug', undefined, undefined, '10.1.1.9');
  return api;
}

function owned(name: string, kind?: string, owner?: string) {
  return {
    metadata: {
      namespace: 'payments',
      name,
      labels: { app: 'checkout' },
      ...(kind ? { ownerReferences: [{ kind, name: owner, controller: true }] } : {}),
    },
  };
}

function pod(
  api: FakeKubeApi,
  name: string,
  kind: string | undefined,
  owner: string | undefined,
  ip: string,
) {
  api.seed(P.pods, {
    ...owned(name, kind, owner),
    spec: { nodeName: 'w1' },
    status: { phase: 'Running', podIP: ip },
  });
}

let running: EgressController | undefined;
const logs: string[] = [];

function start(api: FakeKubeApi): EgressController {
  logs.length = 0;
  running = new EgressController({
    client: api,
    eventNamespace: 'default',
    debounceMs: 1,
    resyncMs: 0,
    identity: 'test',
    aclHistoryRetentionMs: 90 * DAY,
    log: (l) => logs.push(l),
  });
  running.start();
  return running;
}

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Until no watch event is on its way and the loop has nothing to do, three checks in a row. */
async function settle(c: EgressController, api: FakeKubeApi): Promise<void> {
  for (let quiet = 0; quiet < 3; ) {
    await new Promise((r) => setTimeout(r, 5));
    await c.loop.idle();
    quiet = api.pending === 0 && !c.loop.busy ? quiet + 1 : 0;
  }
}

type Slice = {
  metadata: { name: string };
  entries: { pod: string; workload: { kind: string; name: string } }[];
};
type History = {
  metadata: { name: string };
  records: { workload: { kind: string; name: string }; pods: string[]; to?: string }[];
};
const slices = (api: FakeKubeApi) => api.list(P.mapSlices) as unknown as Slice[];
const histories = (api: FakeKubeApi) => api.list(P.histories) as unknown as History[];
const mappingStatus = (api: FakeKubeApi) =>
  (api.list(P.policies)[0] as { status?: { mapping?: unknown } }).status?.mapping;

describe('EgressController: the ACL mapping', () => {
  it('writes slices with each workload owner, one history per IP and status.mapping', async () => {
    const api = world();
    const c = start(api);
    await settle(c, api);
    const [slice, ...more] = slices(api);
    expect(more).toEqual([]);
    expect(slice?.metadata.name).toBe('checkout-0');
    expect(slice?.entries.map((e) => [e.pod, `${e.workload.kind}/${e.workload.name}`])).toEqual([
      ['checkout-aaa-1', 'Deployment/checkout'],
      ['checkout-aaa-2', 'Deployment/checkout'],
      ['db-0', 'StatefulSet/db'],
      ['debug', 'Pod/debug'],
      ['nightly-29000-x', 'CronJob/nightly'],
    ]);
    const [history] = histories(api);
    expect(history?.metadata.name).toBe('ip-10-99-10-32');
    expect(history?.records.map((r) => `${r.workload.kind}/${r.workload.name}`).sort()).toEqual([
      'CronJob/nightly',
      'Deployment/checkout',
      'Pod/debug',
      'StatefulSet/db',
    ]);
    expect(mappingStatus(api)).toEqual({
      mappedPods: 5,
      podsWithIP: 5,
      slices: 1,
      workloadCount: 4,
      workloads: [
        'CronJob/payments/nightly',
        'Deployment/payments/checkout',
        'Pod/payments/debug',
        'StatefulSet/payments/db',
      ],
      ips: [{ ip: IP, pods: 5 }],
    });
    expect(c.loop.last?.errors).toEqual([]);
  });

  it('makes no request at all on an unchanged reconcile, also while its watch lags behind its writes', async () => {
    const api = world();
    // Our own writes are not seen back until release: the next passes plan from the overlay.
    api.hold(P.mapSlices);
    api.hold(P.histories);
    const c = start(api);
    await settle(c, api);
    const firstWrites = api.writes.filter((w) => /egressmapslices|egressiphistories/.test(w));
    expect(firstWrites).toEqual([`POST ${P.mapSlices}`, `POST ${P.histories}`]);
    const before = api.calls.length;
    c.loop.markDirty('test');
    await settle(c, api);
    api.release(P.mapSlices);
    api.release(P.histories);
    await settle(c, api);
    c.loop.markDirty('test');
    await settle(c, api);
    expect(api.calls.slice(before)).toEqual([]);
    expect(c.loop.counters.errorsByPhase).toEqual({});
  });

  it('follows a Deployment rollout: one record for the workload, old and new pods, the same IP', async () => {
    const api = world();
    const c = start(api);
    await settle(c, api);
    api.seed(P.replicaSets, owned('checkout-bbb', 'Deployment', 'checkout'));
    pod(api, 'checkout-bbb-1', 'ReplicaSet', 'checkout-bbb', '10.1.1.15');
    pod(api, 'checkout-bbb-2', 'ReplicaSet', 'checkout-bbb', '10.1.1.16');
    await settle(c, api);
    api.unseed(P.pods, 'payments', 'checkout-aaa-1');
    api.unseed(P.pods, 'payments', 'checkout-aaa-2');
    await settle(c, api);
    const pods = slices(api).flatMap((s) => s.entries.map((e) => e.pod));
    expect(pods).toEqual(['checkout-bbb-1', 'checkout-bbb-2', 'db-0', 'debug', 'nightly-29000-x']);
    const deployment = histories(api)[0]?.records.filter((r) => r.workload.name === 'checkout');
    expect(deployment).toHaveLength(1);
    expect(deployment?.[0]?.to).toBeUndefined();
    expect(deployment?.[0]?.pods).toEqual([
      'checkout-aaa-1',
      'checkout-aaa-2',
      'checkout-bbb-1',
      'checkout-bbb-2',
    ]);
    expect(c.loop.counters.errorsByPhase).toEqual({});
  });

  it('reports a failed write as an error of phase acl-mapping and writes it on the next pass', async () => {
    const api = world();
    api.failNext('POST', P.mapSlices, 500);
    const c = start(api);
    await settle(c, api);
    expect(c.loop.counters.errorsByPhase['acl-mapping']).toBe(1);
    if (slices(api).length === 0) {
      // No later event came by: the next mark (or resync) retries.
      c.loop.markDirty('retry');
      await settle(c, api);
    }
    expect(slices(api).map((s) => s.metadata.name)).toEqual(['checkout-0']);
    expect(c.loop.last?.errors).toEqual([]);
  });

  it('reports an unreadable slice once and never trusts it', async () => {
    const api = world();
    api.seed(P.mapSlices, {
      metadata: { name: 'forged', labels: { 'egress.moor.io/policy': 'other' } },
      policy: 'checkout',
      gateway: 'east',
      destinations: [{ cidr: '0.0.0.0/0' }],
      entries: [],
    });
    const c = start(api);
    await settle(c, api);
    c.loop.markDirty('again');
    await settle(c, api);
    const reported = logs.filter((l) => l.includes('forged'));
    expect(reported).toHaveLength(1);
    expect(reported[0]).toContain('does not match policy checkout');
    // Not a previous slice of the policy (not reused, not deleted); the real one is written.
    expect(slices(api).map((s) => s.metadata.name)).toEqual(['forged', 'checkout-0']);
    expect(c.loop.last?.errors.map((e) => e.phase)).toEqual(['read']);
  });
});
