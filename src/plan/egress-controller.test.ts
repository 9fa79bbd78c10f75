import { describe, expect, it } from 'vitest';
import { type ControllerSnapshot, planController } from './egress-controller.ts';

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
});
