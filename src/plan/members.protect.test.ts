// The hijack classes of issue 8: subnets that would pull the traffic the cables themselves depend
// on into a tunnel (another member's tunnel endpoint, the broker, the default gateway, a
// nameserver), and special-purpose addresses. Each kind is rejected with its own code, and the
// honest members beside it are untouched.
import { describe, expect, it } from 'vitest';
import { cluster, endpoint, key, T1, T2, T3 } from './members.fixtures.ts';
import { type PlanMembersInput, planMembers, type RejectionCode } from './members.ts';

const self: PlanMembersInput['self'] = {
  clusterId: 'vm',
  addresses: ['100.70.0.10'],
  localRoutes: ['192.168.77.0/24'],
  protected: [
    { address: '10.99.0.2', why: 'the broker API server' },
    { address: '172.31.1.1', why: 'a default gateway' },
    { address: '10.255.255.53', why: 'a nameserver' },
  ],
};

// east is the victim: an honest, senior member whose gateway lives at 10.99.10.2 (NAT: 10.99.3.9).
const east = cluster('east', ['10.10.0.0/16'], T1);
const eastEndpoint = endpoint('east', {
  subnets: ['10.10.0.0/16'],
  privateIp: '10.99.10.2',
  publicIp: '10.99.3.9',
  key: key(1),
  healthCheckIP: '10.10.2.1',
});
const EAST_MEMBER = {
  clusterId: 'east',
  endpoint: { host: '10.99.10.2', port: 4500 },
  allowedIPs: ['10.10.0.0/16'],
  healthCheckIP: '10.10.2.1',
};

/** A hostile member that declares everything in its Cluster and claims `subnets`. */
function withHostile(
  subnets: string[],
  o: { privateIp?: string; created?: string; healthCheckIP?: string } = {},
) {
  const evil = cluster('evil', ['0.0.0.0/0'], o.created ?? T2);
  const evilEndpoint = endpoint('evil', {
    subnets,
    privateIp: o.privateIp ?? '10.99.66.6',
    key: key(6),
    created: o.created ?? T2,
    ...(o.healthCheckIP ? { healthCheckIP: o.healthCheckIP } : {}),
  });
  return planMembers({ self, clusters: [east, evil], endpoints: [eastEndpoint, evilEndpoint] });
}

const rejectedEvil = (p: ReturnType<typeof planMembers>) => p.rejected.filter((r) => r.clusterId === 'evil');

describe('planMembers: addresses the cables depend on', () => {
  const cases: Array<{ kind: string; subnets: string[]; code: RejectionCode; reason: RegExp }> = [
    {
      kind: "another member's private_ip, exactly",
      subnets: ['10.99.10.2/32'],
      code: 'covers-member-endpoint',
      reason: /contains 10\.99\.10\.2, the private_ip of member east's tunnel endpoint/,
    },
    {
      kind: "another member's endpoint through a wider prefix",
      subnets: ['10.99.0.0/17'],
      code: 'overlaps-protected', // the broker 10.99.0.2 is in there too, and is checked first
      reason: /contains 10\.99\.0\.2, the broker API server/,
    },
    {
      kind: "another member's endpoint LAN",
      subnets: ['10.99.10.0/24'],
      code: 'covers-member-endpoint',
      reason: /10\.99\.10\.0\/24 contains 10\.99\.10\.2/,
    },
    {
      kind: 'the broker API server',
      subnets: ['10.99.0.2/32'],
      code: 'overlaps-protected',
      reason: /contains 10\.99\.0\.2, the broker API server: a route there would pull that traffic/,
    },
    {
      kind: 'the default gateway',
      subnets: ['172.31.0.0/16'],
      code: 'overlaps-protected',
      reason: /contains 172\.31\.1\.1, a default gateway/,
    },
    {
      kind: 'a nameserver',
      subnets: ['10.255.255.53/32'],
      code: 'overlaps-protected',
      reason: /contains 10\.255\.255\.53, a nameserver/,
    },
    {
      kind: 'the default route 0.0.0.0/0',
      subnets: ['0.0.0.0/0'],
      code: 'special-purpose-subnet',
      reason: /0\.0\.0\.0\/0 covers the "this network" block 0\.0\.0\.0\/8/,
    },
    {
      kind: 'half the internet, 128.0.0.0/1',
      subnets: ['128.0.0.0/1'],
      code: 'special-purpose-subnet',
      reason: /covers the link-local block 169\.254\.0\.0\/16/,
    },
  ];
  it.each(cases)(
    'rejects a subnet over $kind as $code; east keeps its cable',
    ({ subnets, code, reason }) => {
      const p = withHostile(subnets);
      expect(p.members).toEqual([expect.objectContaining(EAST_MEMBER)]);
      expect(rejectedEvil(p)).toEqual([
        expect.objectContaining({ code, reason: expect.stringMatching(reason) }),
      ]);
    },
  );

  it("protects a NATed member's public_ip, and leaves its unused private_ip to others", () => {
    // vm behind a home NAT: reached at 10.99.3.9, its LAN address 192.168.77.2 is never used by
    // our cable, and 192.168.0.0/16 is Calico's default pod CIDR, so a cluster may well route it.
    const vm = cluster('vmnat', ['100.70.0.20/32'], T1);
    const vmEndpoint = endpoint('vmnat', {
      subnets: ['100.70.0.20/32'],
      privateIp: '192.168.77.2',
      publicIp: '10.99.3.9',
      nat: true,
      key: key(3),
    });
    const plan = (subnets: string[]) => {
      const calico = cluster('calico', ['0.0.0.0/0'], T2);
      const e = endpoint('calico', { subnets, privateIp: '10.99.40.2', key: key(4), created: T2 });
      return planMembers({
        self: { ...self, localRoutes: [] },
        clusters: [vm, calico],
        endpoints: [vmEndpoint, e],
      });
    };
    expect(plan(['192.168.0.0/16']).members.map((m) => m.clusterId)).toEqual(['calico', 'vmnat']);
    expect(plan(['10.99.3.0/24']).rejected).toEqual([
      expect.objectContaining({
        clusterId: 'calico',
        code: 'covers-member-endpoint',
        reason: expect.stringMatching(/contains 10\.99\.3\.9, the public_ip of member vmnat/),
      }),
    ]);
  });

  it('protects a member endpoint by seniority: a newer member whose endpoint is inside an older subnet loses', () => {
    // evil joined first and holds 10.50.0.0/16; a newcomer puts its tunnel endpoint inside it.
    const evil = cluster('evil', ['10.50.0.0/16'], T1);
    const evilEndpoint = endpoint('evil', {
      subnets: ['10.50.0.0/16'],
      privateIp: '10.99.66.6',
      key: key(6),
    });
    const late = cluster('late', ['10.60.0.0/16'], T3);
    const lateEndpoint = endpoint('late', {
      subnets: ['10.60.0.0/16'],
      privateIp: '10.50.1.1',
      key: key(7),
      created: T3,
    });
    const p = planMembers({ self, clusters: [evil, late], endpoints: [evilEndpoint, lateEndpoint] });
    expect(p.members.map((m) => m.clusterId)).toEqual(['evil']);
    expect(p.rejected).toEqual([
      expect.objectContaining({
        clusterId: 'late',
        code: 'endpoint-inside-member',
        reason: expect.stringMatching(
          /tunnel address 10\.50\.1\.1 is inside subnet 10\.50\.0\.0\/16 of member evil/,
        ),
      }),
    ]);
  });

  it('cannot evict a senior member by moving its own endpoint into that member', () => {
    // The newcomer claims nothing of east's, but puts its endpoint inside east's pod CIDR.
    const p = withHostile(['10.30.0.0/16'], { privateIp: '10.10.5.5' });
    expect(p.members).toEqual([expect.objectContaining(EAST_MEMBER)]);
    expect(rejectedEvil(p)).toEqual([expect.objectContaining({ code: 'endpoint-inside-member' })]);
  });

  it('lets seniority decide as for overlaps: an older member keeps a subnet a newer endpoint is in', () => {
    // evil joined before east and routes 10.99.10.2/32, where east later puts its gateway. Like
    // an overlap, the older claim stands (the planner cannot tell which one is honest, and
    // a newcomer must never be able to displace a member); east is reported, not evil.
    const p = withHostile(['10.99.10.2/32'], { created: '2025-01-01T00:00:00Z' });
    expect(p.members.map((m) => m.clusterId)).toEqual(['evil']);
    expect(p.rejected).toEqual([
      expect.objectContaining({ clusterId: 'east', code: 'endpoint-inside-member' }),
    ]);
  });

  it('reports each hostile Endpoint once and leaves other members and the protected list alone', () => {
    const west = cluster('west', ['10.20.0.0/16'], T1);
    const westEndpoint = endpoint('west', {
      subnets: ['10.20.0.0/16'],
      privateIp: '10.99.20.2',
      key: key(2),
    });
    const evil = cluster('evil', ['0.0.0.0/0'], T2);
    const hostile = ['10.99.10.2/32', '10.99.0.2/32', '172.31.1.1/32', '10.255.255.53/32', '127.0.0.0/8'].map(
      (s, i) =>
        endpoint('evil', {
          name: `evil-${i}`,
          subnets: [s],
          privateIp: '10.99.66.6',
          key: key(10 + i),
          created: T2,
        }),
    );
    const p = planMembers({
      self,
      clusters: [east, west, evil],
      endpoints: [eastEndpoint, westEndpoint, ...hostile],
    });
    expect(p.members.map((m) => m.clusterId)).toEqual(['east', 'west']);
    expect(p.rejected.map((r) => [r.endpointName, r.code])).toEqual([
      ['evil-0', 'covers-member-endpoint'],
      ['evil-1', 'overlaps-protected'],
      ['evil-2', 'overlaps-protected'],
      ['evil-3', 'overlaps-protected'],
      ['evil-4', 'special-purpose-subnet'],
    ]);
  });

  it('refuses a malformed protected address with a clear error', () => {
    expect(() =>
      planMembers({
        self: { ...self, protected: [{ address: '10.0.0', why: 'a nameserver' }] },
        clusters: [],
        endpoints: [],
      }),
    ).toThrow(/protected address \(a nameserver\) "10\.0\.0" is not an IPv4 address/);
  });
});

describe('planMembers: special-purpose addresses (IANA registry)', () => {
  const subnetCases: Array<[string, string]> = [
    ['loopback', '127.0.0.0/8'],
    ['loopback, one address', '127.0.0.1/32'],
    ['"this network"', '0.0.0.0/8'],
    ['the unspecified address', '0.0.0.0/32'],
    ['link-local', '169.254.0.0/16'],
    ['link-local, cloud metadata', '169.254.169.254/32'],
    ['multicast', '224.0.0.0/4'],
    ['multicast, one group', '239.1.2.3/32'],
    ['limited broadcast', '255.255.255.255/32'],
    ['IETF protocol assignments', '192.0.0.0/24'],
    ['a prefix covering loopback', '64.0.0.0/2'],
  ];
  it.each(subnetCases)('rejects a %s subnet (%s)', (_kind, subnet) => {
    const p = withHostile([subnet]);
    expect(p.members).toEqual([expect.objectContaining(EAST_MEMBER)]);
    expect(rejectedEvil(p)).toEqual([
      expect.objectContaining({ code: 'special-purpose-subnet', reason: expect.stringContaining(subnet) }),
    ]);
  });

  const addressCases: Array<[string, string]> = [
    ['loopback', '127.0.0.1'],
    ['unspecified', '0.0.0.0'],
    ['"this network"', '0.1.2.3'],
    ['link-local', '169.254.1.1'],
    ['multicast', '224.0.0.5'],
    ['limited broadcast', '255.255.255.255'],
    ['IETF protocol assignments', '192.0.0.8'],
  ];
  it.each(addressCases)('rejects a %s tunnel endpoint address (%s)', (_kind, address) => {
    const p = withHostile(['10.30.0.0/16'], { privateIp: address });
    expect(p.members).toEqual([expect.objectContaining(EAST_MEMBER)]);
    expect(rejectedEvil(p)).toEqual([
      expect.objectContaining({
        code: 'special-purpose-address',
        reason: expect.stringMatching(new RegExp(`^private_ip ${address.replaceAll('.', '\\.')} is in the `)),
      }),
    ]);
  });

  it('checks the address actually connected to: public_ip when NAT is on', () => {
    const evil = cluster('evil', ['10.30.0.0/16'], T2);
    const e = endpoint('evil', {
      subnets: ['10.30.0.0/16'],
      privateIp: '10.99.66.6',
      publicIp: '127.0.0.1',
      nat: true,
      key: key(6),
      created: T2,
    });
    const p = planMembers({ self, clusters: [east, evil], endpoints: [eastEndpoint, e] });
    expect(rejectedEvil(p)).toEqual([
      expect.objectContaining({
        code: 'special-purpose-address',
        reason: expect.stringMatching(
          /^public_ip 127\.0\.0\.1 is in the loopback block 127\.0\.0\.0\/8 \(RFC 1122\)/,
        ),
      }),
    ]);
  });

  it('keeps usable ranges usable: private, shared (CGN), Globalnet 242/8, documentation, benchmarking', () => {
    for (const subnet of [
      '10.30.0.0/16',
      '100.64.0.0/16',
      '242.0.0.0/8',
      '198.51.100.0/24',
      '198.18.0.0/15',
    ]) {
      const p = withHostile([subnet]);
      expect(p.members.map((m) => m.clusterId)).toEqual(['east', 'evil']);
    }
  });

  it('never uses a special-purpose health-check IP: it cannot be inside an accepted subnet', () => {
    const p = withHostile(['10.30.0.0/16'], { healthCheckIP: '127.0.0.1' });
    expect(p.members.find((m) => m.clusterId === 'evil')?.healthCheckIP).toBeUndefined();
  });
});
