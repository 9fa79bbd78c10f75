import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import {
  buildClusterObject,
  buildEndpointObject,
  clusterCidrsOf,
  type EndpointObjectInput,
  endpointHealthCheckIpv4,
} from './objects.ts';
import type { ClusterSpec, EndpointSpec } from './types.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');

const cluster = buildClusterObject({
  clusterId: 'vm-db',
  namespace: 'submariner-k8s-broker',
  serviceCidrs: [],
  clusterCidrs: ['100.70.0.0/24'],
});

function endpointInput(overrides: Partial<EndpointObjectInput> = {}): EndpointObjectInput {
  return {
    cluster: cluster.spec,
    namespace: 'submariner-k8s-broker',
    hostname: 'db1',
    privateIp: '192.168.10.5',
    publicIp: '',
    natEnabled: false,
    subnets: ['100.70.0.10/32'],
    publicKey: KEY,
    udpPort: 4500,
    healthCheckIp: '100.70.0.10',
    ...overrides,
  };
}

function thrown(fn: () => unknown): MoorError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MoorError) return err;
    throw err;
  }
  throw new Error('expected a MoorError');
}

describe('buildClusterObject', () => {
  it('builds the Cluster a pseudo-cluster publishes (spec §2.6)', () => {
    expect(
      buildClusterObject({
        clusterId: 'vm-db',
        namespace: 'submariner-k8s-broker',
        serviceCidrs: ['100.71.0.0/24'],
        clusterCidrs: ['100.70.0.0/24'],
      }),
    ).toEqual({
      apiVersion: 'submariner.io/v1',
      kind: 'Cluster',
      metadata: {
        name: 'vm-db',
        namespace: 'submariner-k8s-broker',
        labels: { 'submariner-io/clusterID': 'vm-db' },
      },
      spec: {
        cluster_id: 'vm-db',
        color_codes: ['blue'],
        service_cidr: ['100.71.0.0/24'],
        cluster_cidr: ['100.70.0.0/24'],
        global_cidr: [],
      },
    });
  });

  it('refuses bad input with a hint', () => {
    const base = { clusterId: 'vm-db', namespace: 'ns', serviceCidrs: [], clusterCidrs: ['10.0.0.0/8'] };
    expect(thrown(() => buildClusterObject({ ...base, clusterId: 'VM' })).message).toContain('DNS-1123');
    expect(thrown(() => buildClusterObject({ ...base, clusterCidrs: ['10.0.0.1/8'] })).message).toBe(
      'cluster CIDR: "10.0.0.1/8" has host bits set; the network is 10.0.0.0/8',
    );
    const empty = thrown(() => buildClusterObject({ ...base, clusterCidrs: [] }));
    expect(empty.message).toBe('the Cluster has no CIDRs');
    expect(empty.code).toBe('invalid-argument');
    expect(empty.hint).toBeTruthy();
  });
});

describe('buildEndpointObject', () => {
  it('builds the Endpoint a pseudo-cluster publishes (spec §2.6), without natt-discovery-port', () => {
    expect(buildEndpointObject(endpointInput())).toEqual({
      apiVersion: 'submariner.io/v1',
      kind: 'Endpoint',
      metadata: {
        name: 'vm-db-submariner-cable-vm-db-192-168-10-5',
        namespace: 'submariner-k8s-broker',
        labels: { 'submariner-io/clusterID': 'vm-db' },
      },
      spec: {
        cluster_id: 'vm-db',
        cable_name: 'submariner-cable-vm-db-192-168-10-5',
        hostname: 'db1',
        private_ip: '192.168.10.5',
        public_ip: '',
        nat_enabled: false,
        subnets: ['100.70.0.10/32'],
        backend: 'wireguard',
        backend_config: { publicKey: KEY, 'udp-port': '4500' },
        healthCheckIP: '100.70.0.10',
      },
    });
  });

  it('writes the plural health-check field only when asked', () => {
    expect(buildEndpointObject(endpointInput()).spec.healthCheckIPs).toBeUndefined();
    expect(buildEndpointObject(endpointInput({ pluralFields: true })).spec.healthCheckIPs).toEqual([
      '100.70.0.10',
    ]);
    expect(buildEndpointObject(endpointInput({ healthCheckIp: undefined })).spec).not.toHaveProperty(
      'healthCheckIP',
    );
  });

  it.each<[string, Partial<EndpointObjectInput>, string]>([
    [
      'subnet outside the Cluster',
      { subnets: ['10.9.0.0/16'] },
      "subnet 10.9.0.0/16 is not inside the Cluster's CIDRs",
    ],
    ['host bits', { subnets: ['100.70.0.1/24'] }, 'subnet: "100.70.0.1/24" has host bits set'],
    ['no subnets', { subnets: [] }, 'the Endpoint has no subnets'],
    [
      'tunnel address inside its own subnets',
      { privateIp: '100.70.0.10' },
      'the private IP 100.70.0.10 is inside the advertised subnet 100.70.0.10/32',
    ],
    [
      'public address inside its own subnets',
      { publicIp: '100.70.0.10', natEnabled: true },
      'the public IP 100.70.0.10 is inside the advertised subnet',
    ],
    ['bad private IP', { privateIp: '192.168.10' }, 'private IP: "192.168.10" is not an IPv4 address'],
    ['bad key', { publicKey: 'abc' }, 'the WireGuard public key is not 32 bytes of base64'],
    ['port 0', { udpPort: 0 }, 'UDP port 0 is not a port number'],
    ['port 65536', { udpPort: 65536 }, 'UDP port 65536 is not a port number'],
    ['empty hostname', { hostname: '' }, 'the Endpoint hostname is empty'],
    [
      'health check outside',
      { healthCheckIp: '100.70.0.11' },
      'the health-check IP 100.70.0.11 is not inside',
    ],
  ])('refuses %s', (_label, overrides, message) => {
    const err = thrown(() => buildEndpointObject(endpointInput(overrides)));
    expect(err.message).toContain(message);
    expect(err.code).toBe('invalid-argument');
    expect(err.hint).toBeTruthy();
  });
});

describe('helpers', () => {
  const spec = (extra: Partial<EndpointSpec>): EndpointSpec => ({
    ...buildEndpointObject(endpointInput()).spec,
    ...extra,
  });

  it('reads the health-check IP plural first, then singular', () => {
    expect(
      endpointHealthCheckIpv4(
        spec({ healthCheckIPs: ['fd00::1', '100.70.0.11'], healthCheckIP: '100.70.0.10' }),
      ),
    ).toBe('100.70.0.11');
    expect(endpointHealthCheckIpv4(spec({ healthCheckIPs: [], healthCheckIP: '100.70.0.10' }))).toBe(
      '100.70.0.10',
    );
    expect(endpointHealthCheckIpv4(spec({ healthCheckIP: '' }))).toBeUndefined();
  });

  it('collects every Cluster CIDR', () => {
    const clusterSpec: ClusterSpec = {
      cluster_id: 'c',
      service_cidr: ['10.96.0.0/16'],
      cluster_cidr: ['10.1.0.0/16'],
      global_cidr: ['242.0.0.0/16', 'junk'],
    };
    expect(clusterCidrsOf(clusterSpec)).toHaveLength(3);
  });
});
