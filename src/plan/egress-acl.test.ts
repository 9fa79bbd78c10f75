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
});
