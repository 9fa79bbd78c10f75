import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AllocationInput, planAllocations } from './egress-allocate.ts';
import type { GatewayInput, NodeInput, PlannedCondition, PolicyInput } from './egress-types.ts';

const gw = (name: string, over: Partial<GatewayInput> = {}): GatewayInput => ({
  name,
  nodeSelector: { matchLabels: { gw: name } },
  pool: { cidrs: ['10.99.10.32/29'] },
  interface: 'eth0',
  subnet: '10.99.10.0/24',
  floatingIP: '10.99.10.254',
  vni: 4100,
  ...over,
});
const pol = (name: string, over: Partial<PolicyInput> = {}): PolicyInput => ({
  name,
  destinations: [{ cidr: '0.0.0.0/0' }],
  gateway: 'east',
  priority: 0,
  failurePolicy: 'Closed',
  statusIPs: [],
  ...over,
});
const node = (name: string, address: string, labels: Record<string, string> = {}): NodeInput => ({
  name,
  labels,
  addresses: [address],
  ready: true,
});
const nodes = [node('gw1', '10.99.10.2', { gw: 'east' }), node('w1', '10.99.10.3')];

const cond = (c: { conditions: PlannedCondition[] }, type: string) =>
  c.conditions.find((x) => x.type === type);

describe('planAllocations', () => {
  it('hands out the lowest free addresses in policy name order, skipping node and floating addresses', () => {
    const plan = planAllocations({
      gateways: [gw('east', { pool: { cidrs: ['10.99.10.0/29'] }, floatingIP: '10.99.10.1' })],
      policies: [pol('b'), pol('a', { count: 2 })],
      nodes: [node('gw1', '10.99.10.2', { gw: 'east' }), node('w1', '10.99.10.4')],
    });
    // .0 is the subnet's network address, .1 floating, .2 and .4 nodes.
    expect(plan.policies.a?.ips).toEqual(['10.99.10.3', '10.99.10.5']);
    expect(plan.policies.b?.ips).toEqual(['10.99.10.6']);
    expect(cond(plan.policies.a!, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(plan.gateways.east).toMatchObject({
      allocatedCount: 3,
      freeCount: 1,
      readyNodes: ['gw1'],
      usable: true,
    });
  });

  it('keeps what status records even when a lower address is free (sticky)', () => {
    const plan = planAllocations({
      gateways: [gw('east')],
      policies: [pol('a', { statusIPs: ['10.99.10.37'] }), pol('b')],
      nodes,
    });
    expect(plan.policies.a?.ips).toEqual(['10.99.10.37']);
    expect(plan.policies.b?.ips).toEqual(['10.99.10.32']);
  });

  it('gives a contested fixed IP to its holder, else to the name that sorts first', () => {
    const held = planAllocations({
      gateways: [gw('east')],
      policies: [
        pol('a', { ips: ['10.99.10.33'] }),
        pol('z', { ips: ['10.99.10.33'], statusIPs: ['10.99.10.33'] }),
      ],
      nodes,
    });
    expect(held.policies.z?.ips).toEqual(['10.99.10.33']);
    expect(held.policies.a?.ips).toEqual([]);
    expect(cond(held.policies.a!, 'IPsAllocated')).toMatchObject({
      status: 'False',
      reason: 'RequestedIPTaken',
    });
    const fresh = planAllocations({
      gateways: [gw('east')],
      policies: [pol('z', { ips: ['10.99.10.33'] }), pol('a', { ips: ['10.99.10.33'] })],
      nodes,
    });
    expect(fresh.policies.a?.ips).toEqual(['10.99.10.33']);
    expect(fresh.policies.z?.ips).toEqual([]);
  });

  it('a sticky count allocation beats a later fixed request for the same IP', () => {
    const plan = planAllocations({
      gateways: [gw('east')],
      policies: [pol('a', { ips: ['10.99.10.32'] }), pol('b', { statusIPs: ['10.99.10.32'] })],
      nodes,
    });
    expect(plan.policies.b?.ips).toEqual(['10.99.10.32']);
    expect(cond(plan.policies.a!, 'IPsAllocated')?.message).toContain('already allocated to policy b');
  });

  it('refuses a requested IP that is a node address or outside the pool, with a condition', () => {
    const plan = planAllocations({
      gateways: [gw('east', { pool: { cidrs: ['10.99.10.0/28'] } })],
      policies: [pol('a', { ips: ['10.99.10.2', '10.99.10.100', '10.99.10.5'] })],
      nodes,
    });
    expect(plan.policies.a?.ips).toEqual(['10.99.10.5']);
    const c = cond(plan.policies.a!, 'IPsAllocated');
    expect(c).toMatchObject({ status: 'True', reason: 'RequestedIPUnusable' });
    expect(c?.message).toContain('10.99.10.2 is an address of node gw1');
    expect(c?.message).toContain('10.99.10.100 is not in the pool of gateway east');
  });

  it('reports an exhausted pool and leaves existing allocations untouched', () => {
    const g = gw('east', { pool: { cidrs: ['10.99.10.32/31'] } });
    const plan = planAllocations({
      gateways: [g],
      policies: [
        pol('a', { statusIPs: ['10.99.10.33'] }),
        pol('b', { statusIPs: ['10.99.10.32'] }),
        pol('c'),
      ],
      nodes,
    });
    expect(plan.policies.a?.ips).toEqual(['10.99.10.33']);
    expect(plan.policies.b?.ips).toEqual(['10.99.10.32']);
    expect(plan.policies.c?.ips).toEqual([]);
    expect(cond(plan.policies.c!, 'IPsAllocated')).toMatchObject({
      status: 'False',
      reason: 'PoolExhausted',
    });
    expect(cond(plan.policies.c!, 'Ready')).toMatchObject({ status: 'False', reason: 'NoIPs' });
    expect(plan.gateways.east?.freeCount).toBe(0);
  });

  it('flags overlapping pools on both gateways and allocates nothing new in the overlap', () => {
    const plan = planAllocations({
      gateways: [
        gw('east', { pool: { cidrs: ['10.99.10.32/30'] } }),
        gw('west', {
          pool: { cidrs: ['10.99.10.34/31', '10.99.10.40/30'] },
          floatingIP: '10.99.10.253',
          vni: 4200,
        }),
      ],
      policies: [
        pol('a', { statusIPs: ['10.99.10.35'] }),
        pol('b', { count: 3 }),
        pol('c', { gateway: 'west', count: 2 }),
      ],
      nodes,
    });
    expect(cond(plan.gateways.east!, 'PoolOverlap')).toMatchObject({ status: 'True' });
    expect(cond(plan.gateways.west!, 'PoolOverlap')?.message).toContain(
      'gateway east at 10.99.10.34-10.99.10.35',
    );
    expect(plan.policies.a?.ips).toEqual(['10.99.10.35']); // held inside the overlap: kept
    expect(plan.policies.b?.ips).toEqual(['10.99.10.32', '10.99.10.33']);
    expect(cond(plan.policies.b!, 'IPsAllocated')?.reason).toBe('PoolExhausted');
    expect(plan.policies.c?.ips).toEqual(['10.99.10.40', '10.99.10.41']);
  });

  it('keeps the IPs of a policy whose gateway is gone, and allocates nothing new for it', () => {
    const plan = planAllocations({
      gateways: [gw('east')],
      policies: [
        pol('a', { gateway: 'gone', statusIPs: ['10.99.10.32'] }),
        pol('b', { gateway: 'gone' }),
        pol('c'),
      ],
      nodes,
    });
    expect(plan.policies.a?.ips).toEqual(['10.99.10.32']);
    expect(plan.policies.b?.ips).toEqual([]);
    expect(cond(plan.policies.b!, 'IPsAllocated')).toMatchObject({
      status: 'False',
      reason: 'GatewayNotFound',
    });
    expect(cond(plan.policies.a!, 'Ready')).toMatchObject({ status: 'False', reason: 'GatewayNotFound' });
    expect(plan.policies.c?.ips).toEqual(['10.99.10.33']); // .32 stays reserved for a
  });

  it('releases a held IP that has become a node address and allocates another', () => {
    const plan = planAllocations({
      gateways: [gw('east')],
      policies: [pol('a', { statusIPs: ['10.99.10.32'] })],
      nodes: [...nodes, node('w2', '10.99.10.32')],
    });
    expect(plan.policies.a?.ips).toEqual(['10.99.10.33']);
    expect(cond(plan.policies.a!, 'IPsAllocated')).toMatchObject({ reason: 'HeldIPReleased' });
  });

  it('keeps the first held IPs when count shrinks', () => {
    const plan = planAllocations({
      gateways: [gw('east')],
      policies: [pol('a', { count: 1, statusIPs: ['10.99.10.36', '10.99.10.32'] })],
      nodes,
    });
    expect(plan.policies.a?.ips).toEqual(['10.99.10.36']);
  });

  it('reports a gateway without ready nodes and a duplicate VNI', () => {
    const plan = planAllocations({
      gateways: [gw('east'), gw('west', { pool: { cidrs: ['10.99.10.64/29'] }, floatingIP: '10.99.10.253' })],
      policies: [pol('a', { gateway: 'west' })],
      nodes: [
        { ...node('gw1', '10.99.10.2', { gw: 'east' }), ready: false },
        node('gw2', '10.99.10.5', { gw: 'west' }),
      ],
    });
    expect(cond(plan.gateways.east!, 'Ready')).toMatchObject({ status: 'False', reason: 'NoReadyNode' });
    expect(cond(plan.gateways.west!, 'ConfigValid')).toMatchObject({
      status: 'False',
      reason: 'VniConflict',
    });
    expect(cond(plan.policies.a!, 'Ready')).toMatchObject({ status: 'False', reason: 'GatewayInvalid' });
    // Allocation still happens: fixing the VNI later keeps the same IP.
    expect(plan.policies.a?.ips).toEqual(['10.99.10.64']);
  });

  it('refuses a floating IP that is a node address', () => {
    const plan = planAllocations({
      gateways: [gw('east', { floatingIP: '10.99.10.3' })],
      policies: [],
      nodes,
    });
    expect(cond(plan.gateways.east!, 'ConfigValid')).toMatchObject({
      reason: 'FloatingIPConflict',
      message: expect.stringContaining('address of node w1'),
    });
  });
});

// Random worlds: 1-3 gateways with small, possibly overlapping pools in one /24, policies with
// counts, fixed IPs and arbitrary (possibly stale or bogus) status IPs, and nodes on that /24.
const arbAddress = fc.integer({ min: 1, max: 40 }).map((n) => `10.99.10.${n}`);
const arbWorld: fc.Arbitrary<AllocationInput> = fc
  .record({
    gateways: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('east', 'west', 'north'),
        start: fc.integer({ min: 1, max: 30 }),
        len: fc.integer({ min: 1, max: 10 }),
        floating: fc.integer({ min: 200, max: 210 }),
        vni: fc.integer({ min: 1, max: 3 }),
      }),
      { selector: (g) => g.name, maxLength: 3 },
    ),
    policies: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5', 'p6'),
        gateway: fc.constantFrom('east', 'west', 'north', 'gone'),
        fixed: fc.option(fc.array(arbAddress, { minLength: 1, maxLength: 3 }), { nil: undefined }),
        count: fc.integer({ min: 1, max: 4 }),
        statusIPs: fc.array(arbAddress, { maxLength: 4 }),
      }),
      { selector: (p) => p.name, maxLength: 6 },
    ),
    nodes: fc.uniqueArray(arbAddress, { maxLength: 4 }),
  })
  .map((w) => ({
    gateways: w.gateways.map((g) =>
      gw(g.name, {
        pool: { ranges: [{ start: `10.99.10.${g.start}`, end: `10.99.10.${g.start + g.len}` }] },
        floatingIP: `10.99.10.${g.floating}`,
        vni: g.vni,
      }),
    ),
    policies: w.policies.map((p) =>
      pol(p.name, {
        gateway: p.gateway,
        ...(p.fixed ? { ips: p.fixed } : { count: p.count }),
        statusIPs: p.statusIPs,
      }),
    ),
    nodes: w.nodes.map((a, i) => node(`n${i}`, a)),
  }));

const shuffled = <T>(xs: readonly T[], seed: number): T[] => {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};

describe('planAllocations properties', () => {
  it('does not depend on input order', () => {
    fc.assert(
      fc.property(arbWorld, fc.nat(), (w, seed) => {
        const again = planAllocations({
          gateways: shuffled(w.gateways, seed),
          policies: shuffled(w.policies, seed + 1),
          nodes: shuffled(w.nodes, seed + 2),
        });
        expect(again).toEqual(planAllocations(w));
      }),
    );
  });

  it('never gives one IP to two policies, nor a node address, nor one outside the pool', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const plan = planAllocations(w);
        const seen = new Set<string>();
        const nodeAddrs = new Set(w.nodes.flatMap((n) => n.addresses));
        for (const p of w.policies) {
          for (const ip of plan.policies[p.name]?.ips ?? []) {
            expect(seen.has(ip)).toBe(false);
            seen.add(ip);
            const g = w.gateways.find((x) => x.name === p.gateway);
            if (!g) {
              expect(p.statusIPs).toContain(ip); // a missing gateway only keeps what it held
              continue;
            }
            expect(nodeAddrs.has(ip)).toBe(false);
            expect(ip).not.toBe(g.floatingIP);
            const n = Number(ip.split('.')[3]);
            const r = (g.pool.ranges ?? [])[0] as { start: string; end: string };
            expect(n).toBeGreaterThanOrEqual(Number(r.start.split('.')[3]));
            expect(n).toBeLessThanOrEqual(Number(r.end.split('.')[3]));
          }
        }
      }),
    );
  });

  it('is a fixpoint: writing the result to status and planning again changes nothing (restart, failover)', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const first = planAllocations(w);
        const restarted = planAllocations({
          ...w,
          policies: w.policies.map((p) => ({ ...p, statusIPs: first.policies[p.name]?.ips ?? [] })),
        });
        for (const p of w.policies)
          expect(restarted.policies[p.name]?.ips).toEqual(first.policies[p.name]?.ips);
      }),
    );
  });

  it('a new policy never moves an IP some other policy holds', () => {
    fc.assert(
      fc.property(
        arbWorld,
        fc.constantFrom('east', 'west', 'north'),
        fc.integer({ min: 1, max: 5 }),
        (w, g, count) => {
          const first = planAllocations(w);
          const settled = w.policies.map((p) => ({ ...p, statusIPs: first.policies[p.name]?.ips ?? [] }));
          const next = planAllocations({
            ...w,
            policies: [...settled, pol('zz-new', { gateway: g, count })],
          });
          for (const p of settled) expect(next.policies[p.name]?.ips).toEqual(p.statusIPs);
        },
      ),
    );
  });
});
