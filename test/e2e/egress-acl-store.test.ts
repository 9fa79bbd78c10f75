// The ACL mapping and history live in API objects: a controller that restarts (or a standby that
// takes over) reads them back and writes nothing when nothing changed; a Deployment rollout
// rewrites one slice and extends one history record; `who` for a time before the rollout answers
// from what the API server holds. Real API server, the pure planners, the store.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAclPlan, readAclState } from '../../src/acl/writer.ts';
import { KubeRestClient } from '../../src/k8s/rest.ts';
import { type AclPlanInput, planAcl, readOwned } from '../../src/plan/egress-acl.ts';
import { who } from '../../src/plan/egress-history.ts';
import type { OwnerObject } from '../../src/plan/egress-mapping-owner.ts';
import { resolvePods } from '../../src/plan/egress-pods.ts';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { readYamlDocuments, waitForCrdsEstablished } from '../harness/kube.ts';
import { createCrdRaw } from '../harness/raw-api.ts';
import { TestRun } from '../harness/run.ts';
import { buildTopology } from '../harness/topology.ts';

const CRD_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'egress', 'crds');
const IP = '203.0.113.20';

let run: TestRun;
let api: ApiServer;
let client: KubeRestClient;

beforeAll(async () => {
  run = TestRun.start();
  const topo = await buildTopology(run, {
    hosts: { api: {}, lan: {} },
    links: [{ a: { host: 'api', address: '10.99.0.2/24' }, b: { host: 'lan', address: '10.99.0.1/24' } }],
  });
  const etcd = await startEtcd(run, topo.host('api'));
  api = await startApiServer(run, { name: 'aclstore', host: topo.host('api'), etcd, address: '10.99.0.2' });
  const crds = ['egressmapslices.yaml', 'egressiphistories.yaml'].flatMap((f) =>
    readYamlDocuments(join(CRD_DIR, f)),
  );
  for (const crd of crds) await createCrdRaw(api, crd);
  await waitForCrdsEstablished(
    api.kubeConfig(),
    crds.map((c) => c.metadata?.name ?? ''),
  );
  client = new KubeRestClient({ server: api.localUrl, caPem: api.caPem, token: api.adminToken });
}, 180_000);

afterAll(async () => {
  client?.close();
  await run?.cleanup();
});

const policy = {
  name: 'checkout',
  priority: 0,
  podSelector: { matchLabels: { app: 'checkout' } },
  ips: [IP],
};
const rs = (name: string) =>
  readOwned({
    metadata: {
      namespace: 'payments',
      name,
      ownerReferences: [{ kind: 'Deployment', name: 'checkout', controller: true }],
    },
  }) as OwnerObject;
const pod = (name: string, rsName: string) =>
  readOwned({
    metadata: {
      namespace: 'payments',
      name,
      ownerReferences: [{ kind: 'ReplicaSet', name: rsName, controller: true }],
    },
  }) as OwnerObject;

/** One controller reconcile: read the objects, plan, apply. */
async function reconcile(pods: { name: string; rs: string }[], now: string) {
  const state = await readAclState(client);
  const input: AclPlanInput = {
    resolution: resolvePods({
      policies: [policy],
      namespaces: [{ name: 'payments', labels: {} }],
      pods: pods.map((p) => ({
        namespace: 'payments',
        name: p.name,
        labels: { app: 'checkout' },
        ip: '10.42.1.9',
        node: 'w1',
      })),
    }),
    policies: [{ name: 'checkout', gateway: 'east', destinations: [{ cidr: '10.50.0.0/24' }] }],
    podOwners: pods.map((p) => pod(p.name, p.rs)),
    replicaSets: [rs('checkout-old'), rs('checkout-new')],
    jobs: [],
    previousSlices: state.slices,
    previousHistories: state.histories,
    now,
    retentionMs: 30 * 86_400_000,
  };
  const result = await applyAclPlan(client, planAcl(input), state);
  expect(result.errors).toEqual([]);
  expect(state.problems).toEqual([]);
  return result.applied;
}

const versions = async () => {
  const s = await readAclState(client);
  return [...s.versions.slices, ...s.versions.histories].sort();
};

describe('ACL objects across a controller restart and a rollout', () => {
  it('first pass writes one slice and one history; a restarted controller writes nothing', async () => {
    const before = [
      { name: 'checkout-old-a', rs: 'checkout-old' },
      { name: 'checkout-old-b', rs: 'checkout-old' },
    ];
    expect(await reconcile(before, '2026-11-24T13:00:00Z')).toEqual([
      'EgressMapSlice/checkout-0',
      'EgressIPHistory/ip-203-0-113-20',
    ]);
    const rv = await versions();
    // "Restart": nothing carried in memory; a fresh read and the same cluster later on.
    expect(await reconcile(before, '2026-11-24T15:00:00Z')).toEqual([]);
    expect(await versions()).toEqual(rv);
  });

  it('a rollout rewrites the one slice and keeps one history record under the same workload and IP', async () => {
    const after = [
      { name: 'checkout-new-x', rs: 'checkout-new' },
      { name: 'checkout-new-y', rs: 'checkout-new' },
    ];
    expect(await reconcile(after, '2026-11-25T09:00:00Z')).toEqual([
      'EgressMapSlice/checkout-0',
      'EgressIPHistory/ip-203-0-113-20',
    ]);
    const state = await readAclState(client);
    expect(state.slices.map((s) => s.entries.map((e) => [e.pod, e.workload.name, e.egressIP]))).toEqual([
      [
        ['checkout-new-x', 'checkout', IP],
        ['checkout-new-y', 'checkout', IP],
      ],
    ]);
    expect(state.histories[0]?.records).toEqual([
      {
        namespace: 'payments',
        workload: { kind: 'Deployment', name: 'checkout' },
        policy: 'checkout',
        from: '2026-11-24T13:00:00Z',
        pods: ['checkout-old-a', 'checkout-old-b', 'checkout-new-x', 'checkout-new-y'],
      },
    ]);
  });

  it('the workload leaves: the slice is deleted, the record closed, and who answers for before and after', async () => {
    expect(await reconcile([], '2026-11-26T12:00:00Z')).toEqual([
      'EgressIPHistory/ip-203-0-113-20',
      'EgressMapSlice/checkout-0',
    ]);
    const state = await readAclState(client);
    expect(state.slices).toEqual([]);
    expect(who(state.histories, IP, '2026-11-24T14:02:00Z')).toMatchObject({
      known: true,
      holders: [{ workload: { kind: 'Deployment', name: 'checkout' }, to: '2026-11-26T12:00:00Z' }],
    });
    expect(who(state.histories, IP, '2026-11-27T00:00:00Z')).toMatchObject({
      known: false,
      reason: 'not-held-then',
    });
  });
});
