import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MapPolicy, type MapSlice, planMapping } from './egress-mapping.ts';
import { ownerIndex, resolveWorkload, type Workload } from './egress-mapping-owner.ts';
import { mapSliceObject, readMapSlice } from './egress-mapping-wire.ts';
import type { PodAssignment } from './egress-pods.ts';

const T0 = '2026-12-01T08:00:00Z';
const T1 = '2026-12-01T09:00:00Z';
const checkout: MapPolicy = {
  name: 'checkout',
  gateway: 'east',
  destinations: [{ cidr: '10.50.0.0/24' }],
};

function pod(ns: string, name: string, ip: string | undefined, policy = 'checkout'): PodAssignment {
  return { namespace: ns, name, node: 'w1', podIP: '10.42.1.9', policy, egressIP: ip };
}

describe('workload owner', () => {
  const index = ownerIndex({
    replicaSets: [
      {
        namespace: 'payments',
        name: 'checkout-7d9f',
        owners: [{ kind: 'Deployment', name: 'checkout', controller: true }],
      },
      { namespace: 'payments', name: 'orphan-rs', owners: [] },
    ],
    jobs: [
      {
        namespace: 'batch',
        name: 'report-2890',
        owners: [{ kind: 'CronJob', name: 'report', controller: true }],
      },
    ],
  });
  const of = (ns: string, owners: { kind: string; name: string; controller?: boolean }[]) =>
    resolveWorkload({ namespace: ns, name: 'p-1', owners }, index);

  it('walks ReplicaSet → Deployment and Job → CronJob', () => {
    expect(of('payments', [{ kind: 'ReplicaSet', name: 'checkout-7d9f', controller: true }])).toEqual({
      kind: 'Deployment',
      name: 'checkout',
    });
    expect(of('batch', [{ kind: 'Job', name: 'report-2890', controller: true }])).toEqual({
      kind: 'CronJob',
      name: 'report',
    });
  });
  it('StatefulSet and DaemonSet own their pods directly; a bare pod is its own workload', () => {
    expect(of('db', [{ kind: 'StatefulSet', name: 'pg', controller: true }])).toEqual({
      kind: 'StatefulSet',
      name: 'pg',
    });
    expect(of('kube', [{ kind: 'DaemonSet', name: 'fluent', controller: true }])).toEqual({
      kind: 'DaemonSet',
      name: 'fluent',
    });
    expect(of('x', [])).toEqual({ kind: 'Pod', name: 'p-1' });
  });
  it('a ReplicaSet without a Deployment, or one not listed, is the workload itself', () => {
    expect(of('payments', [{ kind: 'ReplicaSet', name: 'orphan-rs', controller: true }])).toEqual({
      kind: 'ReplicaSet',
      name: 'orphan-rs',
    });
    expect(of('payments', [{ kind: 'ReplicaSet', name: 'unknown', controller: true }])).toEqual({
      kind: 'ReplicaSet',
      name: 'unknown',
    });
  });
  it('only the controller reference decides when there are several owners', () => {
    expect(
      of('db', [
        { kind: 'ConfigMap', name: 'x' },
        { kind: 'StatefulSet', name: 'pg', controller: true },
      ]),
    ).toEqual({ kind: 'StatefulSet', name: 'pg' });
    expect(
      of('db', [
        { kind: 'A', name: 'a' },
        { kind: 'B', name: 'b' },
      ]),
    ).toEqual({ kind: 'Pod', name: 'p-1' });
  });
});

const deploy: Workload = { kind: 'Deployment', name: 'checkout' };
const workloads = (pods: PodAssignment[]) =>
  new Map(pods.map((p) => [`${p.namespace}/${p.name}`, deploy] as const));

describe('planMapping (golden)', () => {
  it('one slice per policy with entries, destinations and since', () => {
    const pods = [
      pod('payments', 'checkout-b', '203.0.113.20'),
      pod('payments', 'checkout-a', '203.0.113.20'),
    ];
    const plan = planMapping({
      policies: [checkout],
      assignments: pods,
      workloads: workloads(pods),
      previous: [],
      now: T0,
    });
    expect(plan.slices).toEqual([
      {
        name: 'checkout-0',
        policy: 'checkout',
        gateway: 'east',
        destinations: [{ cidr: '10.50.0.0/24' }],
        entries: ['checkout-a', 'checkout-b'].map((name) => ({
          namespace: 'payments',
          pod: name,
          node: 'w1',
          podIP: '10.42.1.9',
          workload: deploy,
          egressIP: '203.0.113.20',
          since: T0,
        })),
      },
    ]);
    expect(plan.write).toEqual(['checkout-0']);
    expect(plan.remove).toEqual([]);
    expect(plan.summaries.checkout).toEqual({
      mappedPods: 2,
      podsWithIP: 2,
      slices: 1,
      workloads: ['Deployment/payments/checkout'],
      workloadCount: 1,
      pods: { '203.0.113.20': 2 },
    });
  });

  it('a second pass with nothing new writes nothing and keeps since', () => {
    const pods = [pod('payments', 'a', '203.0.113.20')];
    const first = planMapping({
      policies: [checkout],
      assignments: pods,
      workloads: workloads(pods),
      previous: [],
      now: T0,
    });
    const second = planMapping({
      policies: [checkout],
      assignments: pods,
      workloads: workloads(pods),
      previous: first.slices,
      now: T1,
    });
    expect(second.write).toEqual([]);
    expect(second.slices).toEqual(first.slices);
  });

  it('an IP change restarts since; a pod without an IP yet is mapped and counted apart', () => {
    const first = planMapping({
      policies: [checkout],
      assignments: [pod('p', 'a', '203.0.113.20')],
      workloads: new Map(),
      previous: [],
      now: T0,
    });
    const moved = planMapping({
      policies: [checkout],
      assignments: [pod('p', 'a', '203.0.113.21'), pod('p', 'b', undefined)],
      workloads: new Map(),
      previous: first.slices,
      now: T1,
    });
    expect(moved.slices[0]?.entries.map((e) => [e.pod, e.egressIP, e.since, e.workload.kind])).toEqual([
      ['a', '203.0.113.21', T1, 'Pod'],
      ['b', undefined, T1, 'Pod'],
    ]);
    expect(moved.summaries.checkout).toMatchObject({ mappedPods: 2, podsWithIP: 1 });
  });

  it('slices hold at most maxEntries; removing the last pod of a slice deletes it', () => {
    const pods = ['a', 'b', 'c', 'd', 'e'].map((n) => pod('p', n, '203.0.113.20'));
    const plan = planMapping({
      policies: [checkout],
      assignments: pods,
      workloads: new Map(),
      previous: [],
      now: T0,
      maxEntries: 2,
    });
    expect(plan.slices.map((s) => [s.name, s.entries.map((e) => e.pod)])).toEqual([
      ['checkout-0', ['a', 'b']],
      ['checkout-1', ['c', 'd']],
      ['checkout-2', ['e']],
    ]);
    const after = planMapping({
      policies: [checkout],
      assignments: pods.filter((p) => p.name !== 'e'),
      workloads: new Map(),
      previous: plan.slices,
      now: T1,
      maxEntries: 2,
    });
    expect(after.write).toEqual([]);
    expect(after.remove).toEqual(['checkout-2']);
  });

  it('slices of a deleted policy are removed; a pod found in two slices is kept once', () => {
    const dup: MapSlice = {
      name: 'checkout-9',
      policy: 'checkout',
      gateway: 'east',
      destinations: [{ cidr: '10.50.0.0/24' }],
      entries: [{ namespace: 'p', pod: 'a', workload: deploy, egressIP: '203.0.113.20', since: T0 }],
    };
    const gone: MapSlice = { ...dup, name: 'old-0', policy: 'old' };
    const plan = planMapping({
      policies: [checkout],
      assignments: [pod('p', 'a', '203.0.113.20')],
      workloads: workloads([pod('p', 'a', '203.0.113.20')]),
      previous: [{ ...dup, name: 'checkout-0' }, dup, gone],
      now: T1,
    });
    expect(plan.slices.map((s) => s.name)).toEqual(['checkout-0']);
    expect(plan.remove.sort()).toEqual(['checkout-9', 'old-0']);
  });
});

describe('EgressMapSlice wire', () => {
  it('round-trips and refuses a label that disagrees with the content', () => {
    const pods = [pod('payments', 'a', '203.0.113.20')];
    const [slice] = planMapping({
      policies: [checkout],
      assignments: pods,
      workloads: workloads(pods),
      previous: [],
      now: T0,
    }).slices;
    if (!slice) throw new Error('no slice');
    const obj = mapSliceObject(slice);
    expect(readMapSlice(obj)).toEqual({ ok: true, slice, skippedEntries: 0 });
    const forged = { ...obj, metadata: { name: slice.name, labels: { 'egress.moor.io/policy': 'other' } } };
    expect(readMapSlice(forged)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('does not match'),
    });
    const garbled = {
      ...obj,
      entries: [...(obj.entries as unknown[]), { pod: 3 }, { ...slice.entries[0], egressIP: 'x' }],
    };
    expect(readMapSlice(garbled)).toMatchObject({ ok: true, skippedEntries: 2 });
    expect(readMapSlice(null)).toMatchObject({ ok: false });
  });
});

describe('planMapping (properties)', () => {
  const arbPods = fc.uniqueArray(
    fc.record({
      ns: fc.constantFrom('a', 'b'),
      name: fc.stringMatching(/^[a-z]{1,4}$/),
      ip: fc.constantFrom('203.0.113.20', '203.0.113.21', undefined),
      policy: fc.constantFrom('checkout', 'ledger'),
    }),
    { selector: (p) => `${p.ns}/${p.name}`, maxLength: 40 },
  );
  const policies: MapPolicy[] = [
    checkout,
    { name: 'ledger', gateway: 'east', destinations: [{ cidr: '0.0.0.0/0' }] },
  ];
  const toAssign = (ps: { ns: string; name: string; ip: string | undefined; policy: string }[]) =>
    ps.map((p) => pod(p.ns, p.name, p.ip, p.policy));

  it('the result does not depend on the order of assignments or previous slices', () => {
    fc.assert(
      fc.property(arbPods, arbPods, fc.integer(), (before, now, seed) => {
        const prev = planMapping({
          policies,
          assignments: toAssign(before),
          workloads: new Map(),
          previous: [],
          now: T0,
          maxEntries: 3,
        }).slices;
        const shuffle = <T>(xs: T[]) => {
          const out = [...xs];
          let r = seed >>> 0;
          for (let i = out.length - 1; i > 0; i--) {
            r = (Math.imul(r, 1103515245) + 12345) >>> 0;
            const j = r % (i + 1);
            [out[i], out[j]] = [out[j] as T, out[i] as T];
          }
          return out;
        };
        const a = planMapping({
          policies,
          assignments: toAssign(now),
          workloads: new Map(),
          previous: prev,
          now: T1,
          maxEntries: 3,
        });
        const b = planMapping({
          policies: [...policies].reverse(),
          assignments: shuffle(toAssign(now)),
          workloads: new Map(),
          previous: shuffle(prev),
          now: T1,
          maxEntries: 3,
        });
        expect(b).toEqual(a);
      }),
    );
  });

  it('one pod added, removed or changed rewrites at most one slice per policy it touches, and no slice exceeds the limit', () => {
    fc.assert(
      fc.property(arbPods, fc.nat(), fc.constantFrom('add', 'remove', 'change'), (pods, pick, op) => {
        const base = toAssign(pods);
        const prev = planMapping({
          policies,
          assignments: base,
          workloads: new Map(),
          previous: [],
          now: T0,
          maxEntries: 3,
        });
        let next = base;
        if (op === 'add') next = [...base, pod('z', 'new', '203.0.113.20')];
        else if (base.length > 0) {
          const victim = base[pick % base.length] as PodAssignment;
          next = base.filter((p) => p !== victim);
          if (op === 'change')
            next.push({
              ...victim,
              egressIP: victim.egressIP === '203.0.113.99' ? undefined : '203.0.113.99',
            });
        }
        const plan = planMapping({
          policies,
          assignments: next,
          workloads: new Map(),
          previous: prev.slices,
          now: T1,
          maxEntries: 3,
        });
        expect(plan.write.length + plan.remove.length).toBeLessThanOrEqual(1);
        for (const s of plan.slices) expect(s.entries.length).toBeLessThanOrEqual(3);
        const mapped = plan.slices.flatMap((s) => s.entries.map((e) => `${e.namespace}/${e.pod}`)).sort();
        expect(mapped).toEqual(next.map((p) => `${p.namespace}/${p.name}`).sort());
      }),
    );
  });
});
