import { describe, expect, it } from 'vitest';
import { type ControllerSnapshot, planController } from './egress-controller.ts';
import { historyObject } from './egress-history-wire.ts';
import { mapSliceObject } from './egress-mapping-wire.ts';

const gatewayObj = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, resourceVersion: '1', generation: 1 },
  spec: {
    nodeSelector: { matchLabels: { role: 'gw' } },
    pool: { cidrs: ['10.99.10.32/30'] },
    interface: 'lan0',
    subnet: '10.99.10.0/24',
    floatingIP: '10.99.10.254',
    vni: 4100,
    ...extra,
  },
});
const policyObj = (name: string, spec: Record<string, unknown> = {}) => ({
  metadata: { name, resourceVersion: '1', generation: 2 },
  spec: {
    gateway: 'east',
    destinations: [{ cidr: '0.0.0.0/0' }],
    priority: 0,
    failurePolicy: 'Closed',
    ...spec,
  },
});
const nodeObj = (name: string, ip: string, labels: Record<string, string> = {}) => ({
  metadata: { name, labels },
  status: {
    addresses: [{ type: 'InternalIP', address: ip }],
    conditions: [{ type: 'Ready', status: 'True' }],
  },
});
const podObj = (ns: string, name: string, labels: Record<string, string>, ip: string) => ({
  metadata: { namespace: ns, name, labels },
  spec: { nodeName: 'w1' },
  status: { podIP: ip, phase: 'Running' },
});

const world: ControllerSnapshot = {
  gateways: [gatewayObj('east')],
  policies: [
    policyObj('pay', { podSelector: { matchLabels: { app: 'pay' } } }),
    policyObj('nothing', { podSelector: { matchLabels: { app: 'none' } } }),
  ],
  nodes: [nodeObj('gw1', '10.99.10.2', { role: 'gw' }), nodeObj('w1', '10.99.10.3')],
  namespaces: [{ metadata: { name: 'shop' } }],
  pods: [podObj('shop', 'pay-1', { app: 'pay' }, '10.1.1.5')],
};

/** What the API server would hold after the writes. */
function applyWrites(s: ControllerSnapshot, plan: ReturnType<typeof planController>): ControllerSnapshot {
  const upd = (list: readonly unknown[], kind: string) =>
    list.map((o) => {
      const obj = o as { metadata: { name: string } };
      const w = plan.writes.find((x) => x.kind === kind && x.name === obj.metadata.name);
      return w ? { ...obj, status: JSON.parse(JSON.stringify(w.status)) } : o;
    });
  return { ...s, gateways: upd(s.gateways, 'EgressGateway'), policies: upd(s.policies, 'EgressPolicy') };
}

describe('planController', () => {
  it('writes allocations and conditions, then nothing on the next round (identical input changes nothing)', () => {
    const first = planController(world, '2026-12-01T08:00:00Z');
    const pay = first.writes.find((w) => w.name === 'pay')?.status as { ips: string[]; selectedPods: number };
    expect(pay).toMatchObject({ ips: ['10.99.10.33'], selectedPods: 1, observedGeneration: 2 });
    expect(first.writes.find((w) => w.name === 'nothing')?.status).toMatchObject({
      ips: ['10.99.10.32'],
      selectedPods: 0,
    });
    expect(first.writes.find((w) => w.name === 'east')?.status).toMatchObject({
      allocatedCount: 2,
      freeCount: 2,
      readyNodes: ['gw1'],
    });
    expect(first.events).toContainEqual(
      expect.objectContaining({
        kind: 'EgressPolicy',
        name: 'nothing',
        type: 'Warning',
        reason: 'NoMatchingPods',
      }),
    );
    const second = planController(applyWrites(world, first), '2026-12-01T08:01:00Z');
    expect(second.writes).toEqual([]);
    expect(second.events).toEqual([]);
  });

  it('keeps allocations of a restarted controller and reports a new problem once', () => {
    const settled = applyWrites(world, planController(world, '2026-12-01T08:00:00Z'));
    const grown = {
      ...settled,
      policies: [
        ...settled.policies,
        policyObj('late', { count: 3, podSelector: { matchLabels: { app: 'x' } } }),
      ],
    };
    const p = planController(grown, '2026-12-01T08:02:00Z');
    expect(p.writes.map((w) => w.name)).toEqual(['east', 'late']);
    expect(p.writes[1]?.status).toMatchObject({ ips: ['10.99.10.34', '10.99.10.35'] });
    expect(p.events.filter((e) => e.name === 'late').map((e) => e.reason)).toContain('PoolExhausted');
    const again = planController(applyWrites(grown, p), '2026-12-01T08:03:00Z');
    expect(again.events).toEqual([]);
    const lateStatus = p.writes[1]?.status as { conditions: { type: string; lastTransitionTime: string }[] };
    expect(lateStatus.conditions.find((c) => c.type === 'IPsAllocated')?.lastTransitionTime).toBe(
      '2026-12-01T08:02:00Z',
    );
  });

  it('reports unreadable objects instead of throwing', () => {
    const p = planController(
      { ...world, policies: [{ metadata: { name: 'broken' }, spec: { gateway: 'east' } }] },
      'now',
    );
    expect(p.unreadable).toEqual(['EgressPolicy broken: spec.destinations is empty']);
  });

  it('plans the ACL mapping from its own resolution, puts the summary on status.mapping, then writes nothing', () => {
    const acl = { acl: { retentionMs: 86_400_000 } };
    const owned = {
      ...world,
      pods: [
        {
          ...podObj('shop', 'pay-7c9-x', { app: 'pay' }, '10.1.1.5'),
          metadata: {
            namespace: 'shop',
            name: 'pay-7c9-x',
            labels: { app: 'pay' },
            ownerReferences: [{ kind: 'ReplicaSet', name: 'pay-7c9', controller: true }],
          },
        },
      ],
      replicaSets: [
        {
          metadata: {
            namespace: 'shop',
            name: 'pay-7c9',
            ownerReferences: [{ kind: 'Deployment', name: 'pay', controller: true }],
          },
        },
      ],
    };
    const first = planController(owned, '2026-12-01T08:00:00Z', acl);
    const slices = first.acl?.mapping.slices ?? [];
    expect(slices.map((s) => s.name)).toEqual(['pay-0']);
    // The IP the allocation gave in the same pass.
    expect(slices[0]?.entries).toMatchObject([
      { pod: 'pay-7c9-x', workload: { kind: 'Deployment', name: 'pay' }, egressIP: '10.99.10.33' },
    ]);
    expect(first.acl?.history.write).toEqual(['10.99.10.33']);
    expect(first.writes.find((w) => w.name === 'pay')?.status).toMatchObject({
      mapping: {
        mappedPods: 1,
        podsWithIP: 1,
        slices: 1,
        workloadCount: 1,
        workloads: ['Deployment/shop/pay'],
        ips: [{ ip: '10.99.10.33', pods: 1 }],
      },
    });
    const written = {
      ...applyWrites(owned, first),
      mapSlices: slices.map(mapSliceObject),
      histories: (first.acl?.history.histories ?? []).map(historyObject),
    };
    const second = planController(written, '2026-12-01T08:01:00Z', acl);
    expect(second.writes).toEqual([]);
    expect(second.acl).toMatchObject({
      mapping: { write: [], remove: [] },
      history: { write: [], remove: [] },
    });
    expect(second.unreadable).toEqual([]);
  });

  it('reports an unreadable slice or history and does not plan from it', () => {
    const p = planController(
      {
        ...world,
        mapSlices: [{ metadata: { name: 'pay-0', labels: {} }, policy: 'pay', gateway: 'east' }],
        histories: [{ metadata: { name: 'ip-10-99-10-1' }, ip: '10.99.10.2', records: [] }],
      },
      '2026-12-01T08:00:00Z',
      { acl: { retentionMs: 86_400_000 } },
    );
    expect(p.unreadable).toEqual([
      'EgressMapSlice pay-0: label egress.moor.io/policy=undefined does not match policy pay',
      'EgressIPHistory ip-10-99-10-1: name does not match ip 10.99.10.2 (want ip-10-99-10-2)',
    ]);
    // Not previous state: pay-0 is planned afresh (and written over the refused object).
    expect(p.acl?.mapping.write).toEqual(['pay-0']);
    expect(p.acl?.mapping.remove).toEqual([]);
  });
});
