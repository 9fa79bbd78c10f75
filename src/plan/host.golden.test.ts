// Golden scenarios for planHost: raw broker JSON and observed path MTUs in, the whole desired
// cable state out; then random event orders (fast-check) that must all end in the same plan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeDesired, planWireGuard } from '../dataplane/wireguard/plan.ts';
import { equalHostPlan, type HostPlanInput, planHost } from './host.ts';

const KEY_EAST = Buffer.alloc(32, 0xe1).toString('base64');
const KEY_WEST = Buffer.alloc(32, 0x77).toString('base64');
const KEY_EVIL = Buffer.alloc(32, 0x66).toString('base64');
const PSK = Buffer.alloc(32, 0x50).toString('base64');
const PRIVATE = Buffer.alloc(32, 0x11).toString('base64');

const SELF = {
  clusterId: 'vm-db',
  addresses: ['100.70.0.10'],
  localRoutes: ['192.168.0.0/16'],
  subnets: ['100.70.0.10/32'],
};
const TUNNEL = {
  interfaceName: 'moor0',
  presharedKey: PSK,
  keepaliveSeconds: 10,
  interfaceAddresses: ['100.70.0.10'],
  routeSource: '100.70.0.10',
};

function rawCluster(id: string, cidrs: string[], created = '2026-01-01T00:00:00Z'): unknown {
  return {
    apiVersion: 'submariner.io/v1',
    kind: 'Cluster',
    metadata: { name: id, labels: { 'submariner-io/clusterID': id }, creationTimestamp: created },
    spec: { cluster_id: id, cluster_cidr: cidrs, service_cidr: [], global_cidr: [] },
  };
}

function rawEndpoint(
  id: string,
  ip: string,
  key: string,
  subnets: unknown,
  extra: Record<string, unknown> = {},
): unknown {
  const cable = `submariner-cable-${id}-${ip.replaceAll('.', '-')}`;
  return {
    apiVersion: 'submariner.io/v1',
    kind: 'Endpoint',
    metadata: {
      name: `${id}-${cable}`,
      labels: { 'submariner-io/clusterID': id },
      creationTimestamp: '2026-01-01T00:01:00Z',
    },
    spec: {
      cluster_id: id,
      cable_name: cable,
      hostname: `gw-${id}`,
      subnets,
      private_ip: ip,
      public_ip: ip,
      nat_enabled: false,
      backend: 'wireguard',
      backend_config: { publicKey: key },
      ...extra,
    },
  };
}

const east = rawCluster('east', ['10.1.0.0/16']);
const eastEp = rawEndpoint('east', '172.16.0.1', KEY_EAST, ['10.1.0.0/16'], { healthCheckIP: '10.1.0.1' });
const west = rawCluster('west', ['10.2.0.0/16', '10.3.0.0/16']);
const westEp = rawEndpoint('west', '172.16.0.2', KEY_WEST, ['10.3.0.0/16', '10.2.0.0/16']);

function input(
  clusters: unknown[],
  endpoints: unknown[],
  mtus: Record<string, number> = { '172.16.0.1': 1500, '172.16.0.2': 1500 },
): HostPlanInput {
  return {
    self: SELF,
    snapshot: { clusters, endpoints },
    tunnel: TUNNEL,
    pathMtus: new Map(Object.entries(mtus)),
  };
}

describe('planHost golden scenarios', () => {
  it('two members: peers, link, addresses, routes and health targets', () => {
    const plan = planHost(input([east, west], [westEp, eastEp], { '172.16.0.1': 1500, '172.16.0.2': 1400 }));
    expect({ ...plan, members: plan.members.map((m) => m.clusterId) }).toEqual({
      members: ['east', 'west'],
      rejected: [],
      peers: [
        {
          publicKey: KEY_EAST,
          presharedKey: PSK,
          endpoint: '172.16.0.1:4500',
          allowedIPs: ['10.1.0.0/16'],
          persistentKeepalive: 10,
        },
        {
          publicKey: KEY_WEST,
          presharedKey: PSK,
          endpoint: '172.16.0.2:4500',
          allowedIPs: ['10.2.0.0/16', '10.3.0.0/16'],
          persistentKeepalive: 10,
        },
      ],
      // The smallest path (1400) minus WireGuard's IPv6 worst case (80).
      link: { up: true, mtu: 1320 },
      addresses: ['100.70.0.10/32'],
      routes: [
        { dst: '10.1.0.0/16', dev: 'moor0', src: '100.70.0.10', scope: 'link' },
        { dst: '10.2.0.0/16', dev: 'moor0', src: '100.70.0.10', scope: 'link' },
        { dst: '10.3.0.0/16', dev: 'moor0', src: '100.70.0.10', scope: 'link' },
      ],
      healthTargets: ['10.1.0.1'],
      unknownPaths: [],
      problems: [],
    });
  });

  it('no members: link up with its MTU left alone, addresses only', () => {
    const plan = planHost(input([], []));
    expect(plan).toMatchObject({
      members: [],
      peers: [],
      link: { up: true },
      addresses: ['100.70.0.10/32'],
      routes: [],
      problems: [],
    });
    expect(plan.link).not.toHaveProperty('mtu');
  });

  it('an unknown path is listed for lookup; with none known, the MTU is left and said so', () => {
    const one = planHost(input([east, west], [eastEp, westEp], { '172.16.0.1': 1500 }));
    expect(one.link).toEqual({ up: true, mtu: 1420 });
    expect(one.unknownPaths).toEqual(['172.16.0.2']);
    const none = planHost(input([east], [eastEp], {}));
    expect(none.link).toEqual({ up: true });
    expect(none.problems).toEqual(['MTU: no route to any member endpoint']);
  });

  it('a too-small underlay keeps the old MTU and names the fix', () => {
    const plan = planHost(input([east], [eastEp], { '172.16.0.1': 1300 }));
    expect(plan.link).toEqual({ up: true });
    expect(plan.problems[0]).toMatch(
      /underlay MTU 1300 leaves 1220.*raise the underlay MTU to at least 1360/,
    );
  });

  it('malformed and hostile Endpoints are rejected, never planned, never thrown', () => {
    const evil = rawEndpoint('evil', '172.16.0.66', KEY_EVIL, ['10.1.0.0/16']);
    const junk = rawEndpoint('junk', '172.16.0.9', KEY_EVIL, '10.9.0.0/16');
    const plan = planHost(
      input(
        [east, rawCluster('evil', ['10.1.0.0/16'], '2026-06-01T00:00:00Z')],
        [eastEp, evil, junk, 42, null],
      ),
    );
    expect(plan.members.map((m) => m.clusterId)).toEqual(['east']);
    expect(plan.rejected.map((r) => [r.clusterId, r.code])).toEqual([
      ['evil', 'overlaps-member'],
      ['', 'malformed'],
      ['', 'malformed'],
      ['junk', 'malformed'],
    ]);
    expect(plan.routes.map((r) => r.dst)).toEqual(['10.1.0.0/16']);
  });

  it('feeds the one peer diff: planned peers against a device that has them change nothing', () => {
    const plan = planHost(input([east, west], [eastEp, westEp]));
    const desired = normalizeDesired({ privateKey: PRIVATE, listenPort: 4500, peers: plan.peers });
    const dump = {
      interface: { privateKey: PRIVATE, publicKey: null, listenPort: 4500, fwmark: null },
      peers: desired.peers.map((p) => ({
        publicKey: p.publicKey,
        presharedKey: p.presharedKey ?? null,
        endpoint: p.endpoint ?? null,
        allowedIPs: p.allowedIPs,
        latestHandshake: 0,
        rxBytes: 0,
        txBytes: 0,
        persistentKeepalive: p.persistentKeepalive ?? null,
      })),
    };
    const wg = planWireGuard(desired, dump, { nowSeconds: 0, roamingGraceSeconds: 135 });
    expect(wg).toEqual({ setPeers: [], removePeers: [], notes: [] });
  });
});

// ---- Random event orders ------------------------------------------------------------------------

/** A pool of broker objects, some valid, some conflicting, some broken. */
const POOL: Array<{ kind: 'cluster' | 'endpoint'; name: string; raw: unknown }> = [
  { kind: 'cluster', name: 'east', raw: east },
  { kind: 'cluster', name: 'west', raw: west },
  {
    kind: 'cluster',
    name: 'late',
    raw: rawCluster('late', ['10.1.0.0/16', '10.5.0.0/16'], '2026-09-01T00:00:00Z'),
  },
  { kind: 'endpoint', name: 'east', raw: eastEp },
  { kind: 'endpoint', name: 'west', raw: westEp },
  { kind: 'endpoint', name: 'late', raw: rawEndpoint('late', '172.16.0.5', KEY_EVIL, ['10.1.0.0/16']) },
  { kind: 'endpoint', name: 'late2', raw: rawEndpoint('late', '172.16.0.6', KEY_EVIL, ['10.5.0.0/16']) },
  { kind: 'endpoint', name: 'junk', raw: rawEndpoint('junk', '172.16.0.9', KEY_EVIL, 'x') },
];

type Event = { op: 'put' | 'delete'; item: number };
const arbEvents = fc.array(
  fc.record({ op: fc.constantFrom<'put' | 'delete'>('put', 'put', 'delete'), item: fc.nat(POOL.length - 1) }),
  { maxLength: 30 },
);

/** What a reflector holds after the events: last write wins per object. */
function replay(events: readonly Event[]): Map<string, unknown> {
  const store = new Map<string, unknown>();
  for (const e of events) {
    const p = POOL[e.item]!;
    const key = `${p.kind}/${p.name}`;
    if (e.op === 'put') store.set(key, p.raw);
    else store.delete(key);
  }
  return store;
}

function planOf(store: Map<string, unknown>, order: (keys: string[]) => string[] = (k) => k) {
  const keys = order([...store.keys()]);
  return planHost(
    input(
      keys.filter((k) => k.startsWith('cluster/')).map((k) => store.get(k)),
      keys.filter((k) => k.startsWith('endpoint/')).map((k) => store.get(k)),
    ),
  );
}

describe('planHost over random event sequences', () => {
  it('the plan depends only on the objects present, never on the order they arrived in', () => {
    fc.assert(
      fc.property(arbEvents, fc.func(fc.integer()), (events, rank) => {
        const store = replay(events);
        const sorted = planOf(store, (k) => [...k].sort());
        const shuffled = planOf(store, (k) => [...k].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1)));
        expect(equalHostPlan(sorted, shuffled)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('replaying the same state again is equal (the no-change sentinel holds)', () => {
    fc.assert(
      fc.property(arbEvents, (events) => {
        const a = planOf(replay(events));
        const b = planOf(
          replay([
            ...events,
            ...events.filter(
              (e) => e.op === 'put' && replay(events).has(`${POOL[e.item]!.kind}/${POOL[e.item]!.name}`),
            ),
          ]),
        );
        expect(equalHostPlan(a, b)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('every plan is internally consistent: a route per allowed IP, no prefix twice, routes via our link', () => {
    fc.assert(
      fc.property(arbEvents, (events) => {
        const plan = planOf(replay(events));
        const allowed = plan.peers.flatMap((p) => p.allowedIPs);
        expect(new Set(allowed).size).toBe(allowed.length);
        expect(plan.routes.map((r) => r.dst)).toEqual([...allowed].sort());
        for (const r of plan.routes) expect(r).toMatchObject({ dev: 'moor0', src: '100.70.0.10' });
        expect(plan.members.length).toBe(plan.peers.length);
      }),
      { numRuns: 300 },
    );
  });
});
