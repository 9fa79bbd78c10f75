// Golden scenarios: raw broker JSON, as the API server returns it, goes through the tolerant
// parsers and the planner; the whole result is compared. Each case reads as a small story.
import { describe, expect, it } from 'vitest';
import { parseCluster, parseEndpoint } from '../broker/objectReader.ts';
import type { ClusterObject, EndpointObject } from '../broker/types.ts';
import { type MemberPlan, planMembers } from './members.ts';

const KEY_EAST = Buffer.alloc(32, 0xe1).toString('base64');
const KEY_EAST_OLD = Buffer.alloc(32, 0xe0).toString('base64');
const KEY_WEST = Buffer.alloc(32, 0x77).toString('base64');
const KEY_EVIL = Buffer.alloc(32, 0x66).toString('base64');
const KEY_GLOBAL = Buffer.alloc(32, 0x42).toString('base64');

const SELF = {
  clusterId: 'vm-db',
  addresses: ['100.70.0.10'],
  localRoutes: ['192.168.0.0/16'],
  subnets: ['100.70.0.0/24'],
};

function rawCluster(
  id: string,
  cidrs: { pod?: string[]; svc?: string[]; global?: string[] },
  created: string,
): unknown {
  return {
    apiVersion: 'submariner.io/v1',
    kind: 'Cluster',
    metadata: {
      name: id,
      namespace: 'submariner-k8s-broker',
      labels: { 'submariner-io/clusterID': id },
      creationTimestamp: created,
      resourceVersion: '100',
    },
    spec: {
      cluster_id: id,
      color_codes: ['blue'],
      cluster_cidr: cidrs.pod ?? [],
      service_cidr: cidrs.svc ?? [],
      global_cidr: cidrs.global ?? [],
    },
  };
}

function rawEndpoint(id: string, ip: string, created: string, spec: Record<string, unknown>): unknown {
  const cable = `submariner-cable-${id}-${ip.replaceAll('.', '-')}`;
  return {
    apiVersion: 'submariner.io/v1',
    kind: 'Endpoint',
    metadata: {
      name: `${id}-${cable}`,
      namespace: 'submariner-k8s-broker',
      labels: { 'submariner-io/clusterID': id },
      creationTimestamp: created,
      resourceVersion: '200',
    },
    spec: {
      cluster_id: id,
      cable_name: cable,
      hostname: `${id}-gateway-0`,
      private_ip: ip,
      public_ip: '',
      nat_enabled: false,
      backend: 'wireguard',
      ...spec,
    },
  };
}

interface GoldenCase {
  name: string;
  self?: typeof SELF & { protected?: Array<{ address: string; why: string }> };
  clusters: unknown[];
  endpoints: unknown[];
  expected: MemberPlan & { unparsable: string[] };
}

const cases: GoldenCase[] = [
  {
    name: 'two healthy clusters, one behind NAT on a custom port',
    clusters: [
      rawCluster('east', { pod: ['10.1.0.0/16'], svc: ['10.96.0.0/16'] }, '2026-01-01T00:00:00Z'),
      rawCluster('west', { pod: ['10.2.0.0/16'], svc: ['10.97.0.0/16'] }, '2026-01-02T00:00:00Z'),
    ],
    endpoints: [
      rawEndpoint('west', '172.16.1.5', '2026-01-02T00:01:00Z', {
        public_ip: '203.0.113.20',
        nat_enabled: true,
        subnets: ['10.97.0.0/16', '10.2.0.0/16'],
        backend_config: {
          publicKey: KEY_WEST,
          'udp-port': '4501',
          'natt-discovery-port': '4490',
          'interface-name': 'submariner',
        },
        healthCheckIP: '10.2.0.1',
      }),
      rawEndpoint('east', '172.16.0.5', '2026-01-01T00:01:00Z', {
        subnets: ['10.96.0.0/16', '10.1.0.0/16'],
        backend_config: { publicKey: KEY_EAST },
      }),
    ],
    expected: {
      members: [
        {
          clusterId: 'east',
          endpointName: 'east-submariner-cable-east-172-16-0-5',
          cableName: 'submariner-cable-east-172-16-0-5',
          publicKey: KEY_EAST,
          endpoint: { host: '172.16.0.5', port: 4500 },
          allowedIPs: ['10.1.0.0/16', '10.96.0.0/16'],
          backend: 'wireguard',
        },
        {
          clusterId: 'west',
          endpointName: 'west-submariner-cable-west-172-16-1-5',
          cableName: 'submariner-cable-west-172-16-1-5',
          publicKey: KEY_WEST,
          endpoint: { host: '203.0.113.20', port: 4501 },
          allowedIPs: ['10.2.0.0/16', '10.97.0.0/16'],
          healthCheckIP: '10.2.0.1',
          backend: 'wireguard',
        },
      ],
      rejected: [],
      unparsable: [],
    },
  },
  {
    name: 'gateway fail-over left a stale Endpoint; a libreswan cluster and our own objects are present',
    clusters: [
      rawCluster('east', { pod: ['10.1.0.0/16'] }, '2026-01-01T00:00:00Z'),
      rawCluster('ipsec', { pod: ['10.5.0.0/16'] }, '2026-01-01T00:00:00Z'),
      rawCluster('vm-db', { pod: ['100.70.0.0/24'] }, '2026-01-01T00:00:00Z'),
    ],
    endpoints: [
      rawEndpoint('east', '172.16.0.5', '2026-01-01T00:01:00Z', {
        subnets: ['10.1.0.0/16'],
        backend_config: { publicKey: KEY_EAST_OLD },
      }),
      rawEndpoint('east', '172.16.0.6', '2026-03-01T00:00:00Z', {
        subnets: ['10.1.0.0/16'],
        backend_config: { publicKey: KEY_EAST },
      }),
      rawEndpoint('ipsec', '172.16.5.5', '2026-01-01T00:01:00Z', {
        subnets: ['10.5.0.0/16'],
        backend: 'libreswan',
        backend_config: { 'udp-port': '4500' },
      }),
      rawEndpoint('vm-db', '192.168.10.5', '2026-01-01T00:01:00Z', {
        subnets: ['100.70.0.10/32'],
        backend_config: { publicKey: KEY_GLOBAL },
      }),
    ],
    expected: {
      members: [
        {
          clusterId: 'east',
          endpointName: 'east-submariner-cable-east-172-16-0-6',
          cableName: 'submariner-cable-east-172-16-0-6',
          publicKey: KEY_EAST,
          endpoint: { host: '172.16.0.6', port: 4500 },
          allowedIPs: ['10.1.0.0/16'],
          backend: 'wireguard',
        },
      ],
      rejected: [
        {
          clusterId: 'east',
          endpointName: 'east-submariner-cable-east-172-16-0-5',
          reason: 'superseded by the newer Endpoint east-submariner-cable-east-172-16-0-6',
          code: 'superseded',
        },
        {
          clusterId: 'ipsec',
          endpointName: 'ipsec-submariner-cable-ipsec-172-16-5-5',
          reason: 'uses cable driver libreswan; moor speaks wireguard only',
          code: 'unsupported-backend',
        },
      ],
      unparsable: [],
    },
  },
  {
    name: 'a later member tries to hijack an existing pod CIDR and our own address',
    clusters: [
      rawCluster('east', { pod: ['10.1.0.0/16'] }, '2026-01-01T00:00:00Z'),
      rawCluster('evil', { pod: ['0.0.0.0/0'] }, '2026-06-01T00:00:00Z'),
      rawCluster('evil2', { pod: ['0.0.0.0/0'] }, '2026-06-01T00:00:00Z'),
      rawCluster('sneaky', { pod: ['10.8.0.0/16'] }, '2026-06-01T00:00:00Z'),
    ],
    endpoints: [
      rawEndpoint('east', '172.16.0.5', '2026-01-01T00:01:00Z', {
        subnets: ['10.1.0.0/16'],
        backend_config: { publicKey: KEY_EAST },
      }),
      rawEndpoint('evil', '172.16.6.6', '2026-06-01T00:01:00Z', {
        subnets: ['10.1.128.0/17'],
        backend_config: { publicKey: KEY_EVIL },
      }),
      rawEndpoint('evil2', '172.16.6.7', '2026-06-01T00:01:00Z', {
        subnets: ['100.70.0.10/32'],
        backend_config: { publicKey: KEY_WEST },
      }),
      rawEndpoint('sneaky', '172.16.7.7', '2026-06-01T00:01:00Z', {
        subnets: ['10.8.0.0/16', '10.9.0.0/16'],
        backend_config: { publicKey: KEY_GLOBAL },
      }),
    ],
    expected: {
      members: [
        {
          clusterId: 'east',
          endpointName: 'east-submariner-cable-east-172-16-0-5',
          cableName: 'submariner-cable-east-172-16-0-5',
          publicKey: KEY_EAST,
          endpoint: { host: '172.16.0.5', port: 4500 },
          allowedIPs: ['10.1.0.0/16'],
          backend: 'wireguard',
        },
      ],
      rejected: [
        {
          clusterId: 'evil',
          endpointName: 'evil-submariner-cable-evil-172-16-6-6',
          reason: 'subnet 10.1.128.0/17 overlaps 10.1.0.0/16 of member east, which joined first',
          code: 'overlaps-member',
        },
        {
          clusterId: 'evil2',
          endpointName: 'evil2-submariner-cable-evil2-172-16-6-7',
          reason: 'subnet 100.70.0.10/32 overlaps own address 100.70.0.10/32',
          code: 'overlaps-local',
        },
        {
          clusterId: 'sneaky',
          endpointName: 'sneaky-submariner-cable-sneaky-172-16-7-7',
          reason: "subnet 10.9.0.0/16 is not declared in its Cluster's CIDRs",
          code: 'subnet-outside-cluster',
        },
      ],
      unparsable: [],
    },
  },
  {
    name: 'globalnet and a 0.20 dual-stack member; one not registered yet; one malformed',
    clusters: [
      rawCluster('gn', { pod: ['10.1.0.0/16'], global: ['242.1.0.0/16'] }, '2026-01-01T00:00:00Z'),
      rawCluster('dual', { pod: ['10.3.0.0/16', 'fd00:3::/48'] }, '2026-01-01T00:00:00Z'),
    ],
    endpoints: [
      rawEndpoint('gn', '172.16.2.5', '2026-01-01T00:01:00Z', {
        subnets: ['242.1.0.0/16'],
        backend_config: { publicKey: KEY_GLOBAL },
        healthCheckIP: '242.1.255.254',
      }),
      rawEndpoint('dual', '172.16.3.5', '2026-01-01T00:01:00Z', {
        subnets: ['10.3.0.0/16', 'fd00:3::/48'],
        backend_config: { publicKey: KEY_WEST },
        healthCheckIP: '10.3.0.1',
        healthCheckIPs: ['10.3.0.2', 'fd00:3::1'],
      }),
      rawEndpoint('later', '172.16.4.5', '2026-01-01T00:01:00Z', {
        subnets: ['10.4.0.0/16'],
        backend_config: { publicKey: KEY_EVIL },
      }),
      rawEndpoint('junk', '172.16.9.9', '2026-01-01T00:01:00Z', { subnets: '10.9.0.0/16' }),
    ],
    expected: {
      members: [
        {
          clusterId: 'dual',
          endpointName: 'dual-submariner-cable-dual-172-16-3-5',
          cableName: 'submariner-cable-dual-172-16-3-5',
          publicKey: KEY_WEST,
          endpoint: { host: '172.16.3.5', port: 4500 },
          allowedIPs: ['10.3.0.0/16'],
          healthCheckIP: '10.3.0.2',
          backend: 'wireguard',
        },
        {
          clusterId: 'gn',
          endpointName: 'gn-submariner-cable-gn-172-16-2-5',
          cableName: 'submariner-cable-gn-172-16-2-5',
          publicKey: KEY_GLOBAL,
          endpoint: { host: '172.16.2.5', port: 4500 },
          allowedIPs: ['242.1.0.0/16'],
          healthCheckIP: '242.1.255.254',
          backend: 'wireguard',
        },
      ],
      rejected: [
        {
          clusterId: 'later',
          endpointName: 'later-submariner-cable-later-172-16-4-5',
          reason: 'no Cluster object yet for cluster "later"',
          code: 'no-cluster',
        },
      ],
      unparsable: ['spec.subnets must be a list, got a string'],
    },
  },
  {
    name: 'a newcomer claims the addresses the cables depend on, and special-purpose blocks',
    self: { ...SELF, protected: [{ address: '10.99.0.2', why: 'the broker API server' }] },
    clusters: [
      rawCluster('east', { pod: ['10.1.0.0/16'] }, '2026-01-01T00:00:00Z'),
      rawCluster('evil', { pod: ['0.0.0.0/0'] }, '2026-06-01T00:00:00Z'),
    ],
    endpoints: [
      rawEndpoint('east', '172.16.0.5', '2026-01-01T00:01:00Z', {
        subnets: ['10.1.0.0/16'],
        backend_config: { publicKey: KEY_EAST },
      }),
      rawEndpoint('evil', '172.16.6.6', '2026-06-01T00:01:00Z', {
        subnets: ['172.16.0.0/24'],
        backend_config: { publicKey: KEY_EVIL },
      }),
      rawEndpoint('evil', '172.16.6.7', '2026-06-01T00:01:00Z', {
        subnets: ['10.99.0.0/24'],
        backend_config: { publicKey: KEY_WEST },
      }),
      rawEndpoint('evil', '172.16.6.8', '2026-06-01T00:01:00Z', {
        subnets: ['0.0.0.0/0'],
        backend_config: { publicKey: KEY_GLOBAL },
      }),
      rawEndpoint('evil', '127.0.0.1', '2026-06-01T00:01:00Z', {
        subnets: ['10.50.0.0/16'],
        backend_config: { publicKey: KEY_EAST_OLD },
      }),
    ],
    expected: {
      members: [
        {
          clusterId: 'east',
          endpointName: 'east-submariner-cable-east-172-16-0-5',
          cableName: 'submariner-cable-east-172-16-0-5',
          publicKey: KEY_EAST,
          endpoint: { host: '172.16.0.5', port: 4500 },
          allowedIPs: ['10.1.0.0/16'],
          backend: 'wireguard',
        },
      ],
      rejected: [
        {
          clusterId: 'evil',
          endpointName: 'evil-submariner-cable-evil-127-0-0-1',
          reason:
            "private_ip 127.0.0.1 is in the loopback block 127.0.0.0/8 (RFC 1122), never a host's address",
          code: 'special-purpose-address',
        },
        {
          clusterId: 'evil',
          endpointName: 'evil-submariner-cable-evil-172-16-6-6',
          reason:
            "subnet 172.16.0.0/24 contains 172.16.0.5, the private_ip of member east's tunnel endpoint: a route there would cut that cable",
          code: 'covers-member-endpoint',
        },
        {
          clusterId: 'evil',
          endpointName: 'evil-submariner-cable-evil-172-16-6-7',
          reason:
            'subnet 10.99.0.0/24 contains 10.99.0.2, the broker API server: a route there would pull that traffic into the tunnel',
          code: 'overlaps-protected',
        },
        {
          clusterId: 'evil',
          endpointName: 'evil-submariner-cable-evil-172-16-6-8',
          reason:
            'subnet 0.0.0.0/0 covers the "this network" block 0.0.0.0/8 (RFC 791), which is never routed between hosts',
          code: 'special-purpose-subnet',
        },
      ],
      unparsable: [],
    },
  },
];

describe('planMembers golden scenarios', () => {
  it.each(cases)('$name', ({ self: caseSelf, clusters, endpoints, expected }) => {
    const self = caseSelf ?? SELF;
    const unparsable: string[] = [];
    const parsedClusters = clusters.flatMap((raw): ClusterObject[] => {
      const r = parseCluster(raw);
      if (r.ok) return [r.value];
      unparsable.push(r.reason);
      return [];
    });
    const parsedEndpoints = endpoints.flatMap((raw): EndpointObject[] => {
      const r = parseEndpoint(raw);
      if (r.ok) return [r.value];
      unparsable.push(r.reason);
      return [];
    });
    const plan = planMembers({ self, clusters: parsedClusters, endpoints: parsedEndpoints });
    expect({ ...plan, unparsable }).toEqual(expected);
    // Identical input gives identical output (no hidden state, no clocks).
    expect(planMembers({ self, clusters: parsedClusters, endpoints: parsedEndpoints })).toEqual(plan);
  });
});
