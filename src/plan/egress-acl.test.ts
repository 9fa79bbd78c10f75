import { describe, expect, it } from 'vitest';
import { planAcl, readOwned } from './egress-acl.ts';
import { resolvePods } from './egress-pods.ts';

const policy = {
  name: 'checkout',
  priority: 0,
  podSelector: { matchLabels: { app: 'checkout' } },
  ips: ['203.0.113.20'],
};
const pods = (names: string[]) =>
  names.map((name) => ({
    namespace: 'payments',
    name,
    labels: { app: 'checkout' },
    ip: '10.42.1.9',
    node: 'w1',
  }));
const rsOwned = (name: string) =>
  readOwned({
    metadata: {
      namespace: 'payments',
      name,
      ownerReferences: [{ kind: 'ReplicaSet', name: 'checkout-7d9f', controller: true }],
    },
  });

describe('planAcl (the controller call)', () => {
  it('maps pods to their Deployment, opens history, and a rollout keeps one record under the same workload and IP', () => {
    const base = {
      policies: [{ name: 'checkout', gateway: 'east', destinations: [{ cidr: '10.50.0.0/24' }] }],
      replicaSets: [
        readOwned({
          metadata: {
            namespace: 'payments',
            name: 'checkout-7d9f',
            ownerReferences: [{ kind: 'Deployment', name: 'checkout', controller: true }],
          },
        }),
      ].filter((x) => x !== undefined),
      jobs: [],
      retentionMs: 86_400_000,
    };
    const resolution = (names: string[]) =>
      resolvePods({ policies: [policy], namespaces: [{ name: 'payments', labels: {} }], pods: pods(names) });
    const first = planAcl({
      ...base,
      resolution: resolution(['checkout-7d9f-a']),
      podOwners: [rsOwned('checkout-7d9f-a')].filter((x) => x !== undefined),
      previousSlices: [],
      previousHistories: [],
      now: '2026-12-01T08:00:00Z',
    });
    expect(first.mapping.slices[0]?.entries[0]).toMatchObject({
      workload: { kind: 'Deployment', name: 'checkout' },
      egressIP: '203.0.113.20',
    });
    expect(first.mapping.summaries.checkout?.workloads).toEqual(['Deployment/payments/checkout']);
    const rollout = planAcl({
      ...base,
      resolution: resolution(['checkout-7d9f-b']),
      podOwners: [rsOwned('checkout-7d9f-b')].filter((x) => x !== undefined),
      previousSlices: first.mapping.slices,
      previousHistories: first.history.histories,
      now: '2026-12-01T09:00:00Z',
    });
    expect(rollout.mapping.write).toEqual(['checkout-0']);
    expect(rollout.history.histories).toEqual([
      {
        ip: '203.0.113.20',
        records: [
          {
            namespace: 'payments',
            workload: { kind: 'Deployment', name: 'checkout' },
            policy: 'checkout',
            from: '2026-12-01T08:00:00Z',
            pods: ['checkout-7d9f-a', 'checkout-7d9f-b'],
          },
        ],
      },
    ]);
  });

  it('readOwned ignores malformed owner references and objects', () => {
    expect(
      readOwned({
        metadata: {
          namespace: 'n',
          name: 'p',
          ownerReferences: [{ kind: 3 }, 'x', { kind: 'Job', name: 'j' }],
        },
      }),
    ).toEqual({
      namespace: 'n',
      name: 'p',
      owners: [{ kind: 'Job', name: 'j' }],
    });
    expect(readOwned({ metadata: { name: 'p' } })).toBeUndefined();
    expect(readOwned(null)).toBeUndefined();
  });

  it('a pod seen before its ReplicaSet waits a pass instead of opening a false ReplicaSet record; a mapped pod keeps its workload', () => {
    const rs = readOwned({
      metadata: {
        namespace: 'payments',
        name: 'checkout-7d9f',
        ownerReferences: [{ kind: 'Deployment', name: 'checkout', controller: true }],
      },
    });
    const common = {
      policies: [{ name: 'checkout', gateway: 'east', destinations: [{ cidr: '10.50.0.0/24' }] }],
      jobs: [],
      retentionMs: 86_400_000,
      resolution: resolvePods({
        policies: [policy],
        namespaces: [{ name: 'payments', labels: {} }],
        pods: pods(['checkout-7d9f-a']),
      }),
      podOwners: [rsOwned('checkout-7d9f-a')].filter((x) => x !== undefined),
    };
    const early = planAcl({
      ...common,
      replicaSets: [],
      previousSlices: [],
      previousHistories: [],
      now: '2026-12-01T08:00:00Z',
    });
    expect(early.mapping.slices).toEqual([]);
    expect(early.history.histories).toEqual([]);
    const known = planAcl({
      ...common,
      replicaSets: [rs].filter((x) => x !== undefined),
      previousSlices: early.mapping.slices,
      previousHistories: early.history.histories,
      now: '2026-12-01T08:00:01Z',
    });
    expect(known.mapping.slices[0]?.entries[0]?.workload).toEqual({ kind: 'Deployment', name: 'checkout' });
    expect(known.history.histories[0]?.records.map((r) => r.workload)).toEqual([
      { kind: 'Deployment', name: 'checkout' },
    ]);
    // The ReplicaSet leaves the index (deleted while its pods drain): the pod stays the Deployment's.
    const draining = planAcl({
      ...common,
      replicaSets: [],
      previousSlices: known.mapping.slices,
      previousHistories: known.history.histories,
      now: '2026-12-01T08:00:02Z',
    });
    expect(draining.mapping.write).toEqual([]);
    expect(draining.history.write).toEqual([]);
  });
});
