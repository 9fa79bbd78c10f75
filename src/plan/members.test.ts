import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClusterObject, EndpointObject } from '../broker/types.ts';
import { MoorError } from '../errors.ts';
import { overlaps, parseCidr, tryParseAddressOrCidr } from '../net/ipv4.ts';
import { cluster, type EndpointOptions, endpoint, key, T1, T2, T3 } from './members.fixtures.ts';
import { type Member, type PlanMembersInput, planMembers } from './members.ts';

const self = { clusterId: 'vm', addresses: ['100.70.0.10'], localRoutes: ['192.168.0.0/16'] };
const plan = (clusters: ClusterObject[], endpoints: EndpointObject[], s = self) =>
  planMembers({ self: s, clusters, endpoints });
const eastCluster = cluster('east', ['10.1.0.0/16']);

describe('planMembers: accepting', () => {
  it('turns a valid Endpoint into a member', () => {
    expect(plan([eastCluster], [endpoint('east', { healthCheckIP: '10.1.0.1' })])).toEqual({
      members: [
        {
          clusterId: 'east',
          endpointName: 'east-submariner-cable-east-172-16-0-1',
          cableName: 'submariner-cable-east-172-16-0-1',
          publicKey: key(1),
          endpoint: { host: '172.16.0.1', port: 4500 },
          allowedIPs: ['10.1.0.0/16'],
          healthCheckIP: '10.1.0.1',
          backend: 'wireguard',
        },
      ],
      rejected: [],
    });
  });

  it('skips our own cluster silently', () => {
    expect(
      plan([cluster('vm', ['100.70.0.0/24'])], [endpoint('vm', { subnets: ['100.70.0.0/24'] })]),
    ).toEqual({
      members: [],
      rejected: [],
    });
  });

  it.each([
    [{ nat: true, publicIp: '203.0.113.7' }, '203.0.113.7'],
    [{ nat: true, publicIp: '' }, '172.16.0.1'],
    [{ nat: false, publicIp: '203.0.113.7' }, '172.16.0.1'],
  ])('picks the tunnel address by the legacy NAT rule: %j', (options, host) => {
    expect(plan([eastCluster], [endpoint('east', options)]).members[0]?.endpoint.host).toBe(host);
  });

  it.each([
    [{ publicKey: key(1) }, 4500],
    [{ publicKey: key(1), 'udp-port': '4501' }, 4501],
    [{ publicKey: key(1), 'udp-port': '65535' }, 65535],
  ])('reads udp-port with 4500 as default: %j', (config, port) => {
    expect(plan([eastCluster], [endpoint('east', { config })]).members[0]?.endpoint.port).toBe(port);
  });

  it('accepts subnets declared in any Cluster CIDR list, and normalises allowedIPs', () => {
    const c = cluster('east', ['10.1.0.0/16']);
    c.spec.service_cidr = ['10.96.0.0/16'];
    c.spec.global_cidr = ['242.1.0.0/16'];
    const e = endpoint('east', { subnets: ['242.1.0.0/16', '10.96.0.0/16', '10.1.0.0/16', '10.96.0.0/16'] });
    expect(plan([c], [e]).members[0]?.allowedIPs).toEqual(['10.1.0.0/16', '10.96.0.0/16', '242.1.0.0/16']);
  });

  it('reads health-check IPs plural first and drops ones outside the subnets', () => {
    const pick = (o: EndpointOptions) => plan([eastCluster], [endpoint('east', o)]).members[0]?.healthCheckIP;
    expect(pick({ healthCheckIPs: ['fd00::1', '10.1.0.2'], healthCheckIP: '10.1.0.1' })).toBe('10.1.0.2');
    expect(pick({ healthCheckIPs: ['10.9.0.2'], healthCheckIP: '10.1.0.1' })).toBe('10.1.0.1');
    expect(pick({ healthCheckIP: '10.9.0.1' })).toBeUndefined();
  });
});

describe('planMembers: rejecting', () => {
  it.each<[string, EndpointOptions, string, string]>([
    ['no label', { label: null }, 'label-mismatch', 'label submariner-io/clusterID is missing'],
    [
      'a foreign label',
      { label: 'west' },
      'label-mismatch',
      'label submariner-io/clusterID is "west" but spec.cluster_id is "east"',
    ],
    [
      'libreswan',
      { backend: 'libreswan' },
      'unsupported-backend',
      'uses cable driver libreswan; moor speaks wireguard only',
    ],
    [
      'no public key',
      { config: { 'udp-port': '4500' } },
      'invalid-public-key',
      'backend_config.publicKey is missing',
    ],
    ['a short key', { key: 'abc=' }, 'invalid-public-key', 'backend_config.publicKey is not a WireGuard key'],
    [
      'port 0',
      { config: { publicKey: key(1), 'udp-port': '0' } },
      'invalid-port',
      'backend_config.udp-port is not a port number 1-65535',
    ],
    [
      'port 65536',
      { config: { publicKey: key(1), 'udp-port': '65536' } },
      'invalid-port',
      'not a port number',
    ],
    [
      'port 04500',
      { config: { publicKey: key(1), 'udp-port': '04500' } },
      'invalid-port',
      'not a port number',
    ],
    [
      'an IPv6 tunnel address',
      { nat: true, publicIp: '2001:db8::1' },
      'no-usable-address',
      'public_ip "2001:db8::1" is not an IPv4 address to connect to',
    ],
    ['an empty private IP', { privateIp: '' }, 'no-usable-address', 'private_ip "" is not an IPv4 address'],
    ['no subnets', { subnets: [] }, 'no-subnets', 'advertises no IPv4 subnets'],
    [
      'an undeclared subnet',
      { subnets: ['10.1.0.0/16', '10.2.0.0/24'] },
      'subnet-outside-cluster',
      "subnet 10.2.0.0/24 is not declared in its Cluster's CIDRs",
    ],
    [
      'a subnet wider than declared',
      { subnets: ['10.0.0.0/8'] },
      'subnet-outside-cluster',
      'subnet 10.0.0.0/8 is not declared',
    ],
    [
      'its tunnel address inside its subnets',
      { privateIp: '10.1.0.1' },
      'endpoint-inside-subnets',
      'tunnel address 10.1.0.1 is inside its own subnet 10.1.0.0/16',
    ],
  ])('rejects an Endpoint with %s', (_label, options, code, reason) => {
    const result = plan([eastCluster], [endpoint('east', options)]);
    expect(result.members).toEqual([]);
    expect(result.rejected).toEqual([
      {
        clusterId: 'east',
        endpointName: 'east-submariner-cable-east-172-16-0-1',
        code,
        reason: expect.stringContaining(reason),
      },
    ]);
  });

  it('needs the Cluster object, found by its EnsureValidName name', () => {
    expect(plan([], [endpoint('east')]).rejected[0]).toMatchObject({
      code: 'no-cluster',
      reason: 'no Cluster object yet for cluster "east"',
    });
    const impostor = cluster('east', ['10.0.0.0/8']);
    impostor.metadata.name = 'not-east';
    expect(plan([impostor], [endpoint('east')]).rejected[0]?.code).toBe('no-cluster');
  });

  it.each([
    ['own address 100.70.0.10/32', ['100.70.0.0/24'], self],
    ['local route 192.168.0.0/16', ['192.168.4.0/24'], self],
    ['own subnet 10.50.0.0/16', ['10.50.1.0/24'], { ...self, subnets: ['10.50.0.0/16'] }],
  ])('never lets a peer claim our %s', (description, subnets, selfDescription) => {
    const c = cluster('east', ['0.0.0.0/0']);
    const result = plan([c], [endpoint('east', { subnets })], selfDescription);
    expect(result.members).toEqual([]);
    expect(result.rejected[0]).toMatchObject({
      code: 'overlaps-local',
      reason: `subnet ${subnets[0]} overlaps ${description}`,
    });
  });

  it('refuses an invalid self description loudly', () => {
    expect(() => plan([], [], { ...self, addresses: ['100.70.0'] })).toThrow(MoorError);
    expect(() => plan([], [], { ...self, localRoutes: ['192.168.0.0/33'] })).toThrow(/local route/);
  });
});

describe('planMembers: choosing between Endpoints', () => {
  it('keeps the newest Endpoint of a cluster and reports the others as superseded', () => {
    const old = endpoint('east', { name: 'east-old', created: T1, key: key(1) });
    const newer = endpoint('east', { name: 'east-new', created: T2, key: key(2) });
    const result = plan([eastCluster], [old, newer]);
    expect(result.members.map((m) => m.endpointName)).toEqual(['east-new']);
    expect(result.rejected).toEqual([
      {
        clusterId: 'east',
        endpointName: 'east-old',
        code: 'superseded',
        reason: 'superseded by the newer Endpoint east-new',
      },
    ]);
  });

  it('breaks creationTimestamp ties by name', () => {
    const a = endpoint('east', { name: 'east-a', key: key(1) });
    const b = endpoint('east', { name: 'east-b', key: key(2) });
    expect(plan([eastCluster], [b, a]).members[0]?.endpointName).toBe('east-a');
  });

  it('does not let a newer broken Endpoint displace a working one', () => {
    const good = endpoint('east', { name: 'east-good', created: T1 });
    const broken = endpoint('east', { name: 'east-broken', created: T2, backend: 'vxlan' });
    const result = plan([eastCluster], [good, broken]);
    expect(result.members.map((m) => m.endpointName)).toEqual(['east-good']);
    expect(result.rejected.map((r) => r.code)).toEqual(['unsupported-backend']);
  });

  it('gives overlapping subnets to the older Cluster, whatever the Endpoint ages', () => {
    const senior = cluster('east', ['10.1.0.0/16'], T1);
    const attacker = cluster('evil', ['10.1.0.0/16'], T2);
    // The senior member's gateway failed over (new Endpoint at T3); the claim at T2 still loses.
    const result = plan(
      [attacker, senior],
      [endpoint('evil', { created: T2, key: key(9) }), endpoint('east', { created: T3, key: key(1) })],
    );
    expect(result.members.map((m) => m.clusterId)).toEqual(['east']);
    expect(result.rejected).toEqual([
      {
        clusterId: 'evil',
        endpointName: 'evil-submariner-cable-evil-172-16-0-1',
        code: 'overlaps-member',
        reason: 'subnet 10.1.0.0/16 overlaps 10.1.0.0/16 of member east, which joined first',
      },
    ]);
  });

  it('breaks Cluster age ties by cluster ID and rejects reused public keys', () => {
    const result = plan(
      [cluster('b', ['10.2.0.0/16']), cluster('a', ['10.1.0.0/16'])],
      [endpoint('b', { subnets: ['10.2.0.0/16'], key: key(5) }), endpoint('a', { key: key(5) })],
    );
    expect(result.members.map((m) => m.clusterId)).toEqual(['a']);
    expect(result.rejected[0]).toMatchObject({
      clusterId: 'b',
      code: 'duplicate-public-key',
      reason: 'uses the same public key as member a',
    });
  });

  it('never lets a rejected object affect other members', () => {
    const clusters = [eastCluster, cluster('west', ['10.2.0.0/16'])];
    const good = endpoint('west', { subnets: ['10.2.0.0/16'], key: key(2) });
    const alone = plan(clusters, [good]);
    const withJunk = plan(clusters, [
      good,
      endpoint('east', { subnets: ['10.2.0.0/16'] }),
      endpoint('east', { name: 'x', backend: 'libreswan' }),
    ]);
    expect(withJunk.members).toEqual(alone.members);
    expect(withJunk.rejected).toHaveLength(2);
  });
});

// ---- Properties -----------------------------------------------------------------------------

const POOL = [
  '10.0.0.0/16',
  '10.0.1.0/24',
  '10.1.0.0/16',
  '10.2.0.0/16',
  '100.70.0.0/24',
  '192.168.1.0/24',
  '0.0.0.0/0',
];
const IDS = ['a', 'b', 'c', 'd', 'vm'];
const TIMES = [T1, T2, T3];

const arbInput: fc.Arbitrary<PlanMembersInput> = fc
  .record({
    clusters: fc.uniqueArray(
      fc.record({
        id: fc.constantFrom(...IDS),
        // Mostly a broad declaration, so that overlap and seniority rules get exercised.
        cidrs: fc.oneof(fc.constant(['10.0.0.0/8']), fc.subarray(POOL)),
        created: fc.constantFrom(...TIMES),
      }),
      { selector: (c) => c.id, minLength: 2 },
    ),
    endpoints: fc.array(
      fc.record({
        id: fc.constantFrom(...IDS),
        subnets: fc.subarray(POOL.slice(0, -1), { minLength: 1, maxLength: 2 }),
        created: fc.constantFrom(...TIMES),
        backend: fc.constantFrom('wireguard', 'wireguard', 'wireguard', 'libreswan'),
        key: fc.integer({ min: 1, max: 6 }),
        privateIp: fc.constantFrom('172.16.0.1', '10.1.0.5', '192.168.1.9'),
        nat: fc.boolean(),
        foreignLabel: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      }),
      { maxLength: 10 },
    ),
  })
  .map(({ clusters, endpoints }) => ({
    self: { clusterId: 'vm', addresses: ['100.70.0.10'], localRoutes: ['192.168.0.0/24'] },
    clusters: clusters.map((c) => cluster(c.id, c.cidrs, c.created)),
    endpoints: endpoints.map((e, i) =>
      endpoint(e.id, {
        name: `${e.id}-ep${i}`,
        subnets: e.subnets,
        created: e.created,
        backend: e.backend,
        key: key(e.key),
        privateIp: e.privateIp,
        publicIp: '203.0.113.1',
        nat: e.nat,
        label: e.foreignLabel ? 'a' : e.id,
      }),
    ),
  }));

const shuffled = <T>(items: readonly T[], seed: number): T[] =>
  items
    .map((item, i) => ({ item, rank: (Math.imul(i + 1, 2654435761) ^ seed) >>> 0 }))
    .sort((x, y) => x.rank - y.rank)
    .map((x) => x.item);

describe('planMembers properties', () => {
  it('does not depend on the order of its input', () => {
    fc.assert(
      fc.property(arbInput, fc.integer(), (input, seed) => {
        const reordered = {
          ...input,
          clusters: shuffled(input.clusters, seed),
          endpoints: shuffled(input.endpoints, seed ^ 7),
        };
        expect(planMembers(reordered)).toEqual(planMembers(input));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts members that never overlap each other or us, stay inside their Cluster, one per cluster', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const { members, rejected } = planMembers(input);
        const own = [...input.self.addresses, ...input.self.localRoutes].map((t) => {
          const parsed = tryParseAddressOrCidr(t);
          if (!parsed.ok) throw new Error(parsed.error);
          return parsed.value;
        });
        const nets = (m: Member) => m.allowedIPs.map((s) => parseCidr(s));
        members.forEach((m, i) => {
          for (const n of nets(m)) expect(own.some((o) => overlaps(o, n))).toBe(false);
          for (const other of members.slice(i + 1)) {
            for (const n of nets(m)) expect(nets(other).some((o) => overlaps(o, n))).toBe(false);
          }
        });
        expect(new Set(members.map((m) => m.clusterId)).size).toBe(members.length);
        expect(new Set(members.map((m) => m.publicKey)).size).toBe(members.length);
        expect(members.every((m) => m.clusterId !== 'vm')).toBe(true);
        const accountedFor = members.length + rejected.length;
        expect(accountedFor).toBe(input.endpoints.filter((e) => e.spec.cluster_id !== 'vm').length);
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a cluster that joins later displace an existing member', () => {
    fc.assert(
      fc.property(arbInput, fc.subarray(POOL, { minLength: 1 }), (input, claim) => {
        const before = planMembers(input).members;
        const late = '2027-01-01T00:00:00Z';
        const after = planMembers({
          ...input,
          clusters: [...input.clusters, cluster('zz-late', ['0.0.0.0/0'], late)],
          endpoints: [
            ...input.endpoints,
            endpoint('zz-late', { subnets: claim, created: late, key: key(200) }),
          ],
        }).members;
        expect(after.filter((m) => m.clusterId !== 'zz-late')).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});
