import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCluster, parseEndpoint } from './objectReader.ts';
import { buildClusterObject, buildEndpointObject, type EndpointObjectInput } from './objects.ts';

// The readers are tested on what our own builders produce, so both sides agree on the format.
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

describe('parsers', () => {
  it('read back what the builders produce, without warnings', () => {
    const endpoint = buildEndpointObject(endpointInput());
    expect(parseEndpoint(JSON.parse(JSON.stringify(endpoint)))).toEqual({
      ok: true,
      value: endpoint,
      warnings: [],
    });
    expect(parseCluster(JSON.parse(JSON.stringify(cluster)))).toEqual({
      ok: true,
      value: cluster,
      warnings: [],
    });
  });

  it('keep metadata we use and drop the rest', () => {
    const object = {
      ...buildEndpointObject(endpointInput()),
      metadata: {
        name: 'x',
        labels: { a: 'b' },
        creationTimestamp: '2026-01-02T03:04:05Z',
        resourceVersion: '42',
        uid: 'u-1',
        managedFields: [{ huge: true }],
      },
      status: { anything: 1 },
    };
    const result = parseEndpoint(object);
    expect(result.ok && result.value.metadata).toEqual({
      name: 'x',
      labels: { a: 'b' },
      creationTimestamp: '2026-01-02T03:04:05Z',
      resourceVersion: '42',
      uid: 'u-1',
    });
  });

  it('tolerate IPv6, host bits, bad optional fields and missing lists, with warnings', () => {
    const endpoint = buildEndpointObject(endpointInput());
    const spec: Record<string, unknown> = {
      ...endpoint.spec,
      subnets: ['100.70.0.10/32', 'fd00:10::/64', '10.1.2.3/16'],
      healthCheckIP: 'not-an-ip',
      healthCheckIPs: ['1.1.1.1', '2.2.2.2', '3.3.3.3'],
    };
    const result = parseEndpoint({
      ...endpoint,
      metadata: { name: 'e', creationTimestamp: 'yesterday' },
      spec,
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.spec.subnets).toEqual(['100.70.0.10/32', '10.1.0.0/16']);
    expect(result.value.spec).not.toHaveProperty('healthCheckIP');
    expect(result.value.spec).not.toHaveProperty('healthCheckIPs');
    expect(result.value.metadata).toEqual({ name: 'e' });
    expect(result.warnings).toEqual([
      'ignored metadata.creationTimestamp "yesterday": not a timestamp',
      'ignored IPv6 spec.subnets[1] "fd00:10::/64"',
      'spec.subnets[2] "10.1.2.3/16" read as 10.1.0.0/16',
      'ignored spec.healthCheckIPs: 3 items, at most 2 are allowed',
      'ignored spec.healthCheckIP is not an IP address: "not-an-ip" is not an IPv4 address: expected four dot-separated numbers (like 10.0.0.1)',
    ]);

    const clusterResult = parseCluster({
      metadata: { name: 'c' },
      spec: { cluster_id: 'c', cluster_cidr: ['fd00::/48', '10.0.0.0/8'], service_cidr: null },
    });
    expect(clusterResult).toEqual({
      ok: true,
      value: {
        apiVersion: 'submariner.io/v1',
        kind: 'Cluster',
        metadata: { name: 'c' },
        spec: { cluster_id: 'c', service_cidr: [], cluster_cidr: ['10.0.0.0/8'], global_cidr: [] },
      },
      warnings: [
        'spec.service_cidr is missing; read as []',
        'ignored IPv6 spec.cluster_cidr[0] "fd00::/48"',
        'spec.global_cidr is missing; read as []',
      ],
    });
  });

  it('keep IPv6 endpoint addresses as text for dual-stack peers', () => {
    const endpoint = buildEndpointObject(endpointInput());
    const result = parseEndpoint({ ...endpoint, spec: { ...endpoint.spec, public_ip: '2001:db8::1' } });
    expect(result.ok && result.value.spec.public_ip).toBe('2001:db8::1');
  });

  const valid = () => JSON.parse(JSON.stringify(buildEndpointObject(endpointInput())));
  const endpointCases: Array<[string, (o: Record<string, Record<string, unknown>>) => unknown, string]> = [
    ['not an object', () => 'x', 'expected an object, got a string'],
    ['a list', () => [], 'expected an object, got a list'],
    ['wrong kind', (o) => ({ ...o, kind: 'Cluster' }), 'kind is "Cluster", expected Endpoint'],
    [
      'wrong apiVersion',
      (o) => ({ ...o, apiVersion: 'v1' }),
      'apiVersion is "v1", expected submariner.io/v1',
    ],
    ['no metadata', (o) => ({ ...o, metadata: undefined }), 'metadata is missing'],
    ['no name', (o) => ({ ...o, metadata: {} }), 'metadata.name is missing'],
    [
      'numeric name',
      (o) => ({ ...o, metadata: { name: 5 } }),
      'metadata.name must be a string, got a number',
    ],
    [
      'label not a string',
      (o) => ({ ...o, metadata: { name: 'x', labels: { a: 1 } } }),
      'metadata.labels.a must be a string, got a number',
    ],
    ['no spec', (o) => ({ ...o, spec: undefined }), 'spec is missing'],
    ['spec is a list', (o) => ({ ...o, spec: [] }), 'spec must be an object, got a list'],
    [
      'no cluster_id',
      (o) => ({ ...o, spec: { ...o.spec, cluster_id: undefined } }),
      'spec.cluster_id is missing',
    ],
    [
      'long cluster_id',
      (o) => ({ ...o, spec: { ...o.spec, cluster_id: 'a'.repeat(64) } }),
      'spec.cluster_id must have 1 to 63 characters',
    ],
    [
      'bad cable_name',
      (o) => ({ ...o, spec: { ...o.spec, cable_name: 'a b' } }),
      'spec.cable_name: cable name contains characters',
    ],
    [
      'long cable_name',
      (o) => ({ ...o, spec: { ...o.spec, cable_name: 'a'.repeat(201) } }),
      'spec.cable_name: cable name has 201 characters',
    ],
    ['no subnets', (o) => ({ ...o, spec: { ...o.spec, subnets: undefined } }), 'spec.subnets is missing'],
    [
      'subnets not a list',
      (o) => ({ ...o, spec: { ...o.spec, subnets: '10.0.0.0/8' } }),
      'spec.subnets must be a list, got a string',
    ],
    [
      'bad CIDR',
      (o) => ({ ...o, spec: { ...o.spec, subnets: ['10.0.0.0/33'] } }),
      'spec.subnets[0] is not a CIDR: "10.0.0.0/33"',
    ],
    [
      'numeric subnet',
      (o) => ({ ...o, spec: { ...o.spec, subnets: [1] } }),
      'spec.subnets[0] must be a string, got a number',
    ],
    [
      'huge subnets',
      (o) => ({ ...o, spec: { ...o.spec, subnets: new Array(100_000).fill('10.0.0.0/8') } }),
      'spec.subnets has 100000 items; at most 256',
    ],
    [
      'bad private_ip',
      (o) => ({ ...o, spec: { ...o.spec, private_ip: '1.2.3.999' } }),
      'spec.private_ip is not an IP address',
    ],
    [
      'nat_enabled as text',
      (o) => ({ ...o, spec: { ...o.spec, nat_enabled: 'true' } }),
      'spec.nat_enabled must be true or false, got a string',
    ],
    ['no backend', (o) => ({ ...o, spec: { ...o.spec, backend: null } }), 'spec.backend is missing'],
    [
      'huge hostname',
      (o) => ({ ...o, spec: { ...o.spec, hostname: 'h'.repeat(5000) } }),
      'spec.hostname is longer than 1024',
    ],
    [
      'config value not a string',
      (o) => ({ ...o, spec: { ...o.spec, backend_config: { 'udp-port': 4500 } } }),
      'spec.backend_config.udp-port must be a string, got a number',
    ],
  ];
  it.each(endpointCases)('reject an Endpoint with %s', (_label, damage, reason) => {
    const result = parseEndpoint(damage(valid()));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('reject a Cluster with a bad CIDR or id', () => {
    expect(
      parseCluster({ metadata: { name: 'c' }, spec: { cluster_id: 'c', cluster_cidr: ['x'] } }),
    ).toMatchObject({
      ok: false,
      reason: expect.stringContaining('spec.cluster_cidr[0] is not a CIDR'),
    });
    expect(parseCluster({ metadata: { name: 'c' }, spec: { cluster_id: '' } })).toMatchObject({
      ok: false,
      reason: 'spec.cluster_id must have 1 to 63 characters',
    });
  });

  it('keep a "__proto__" key as plain data', () => {
    const object = valid();
    object.spec.backend_config = JSON.parse('{"__proto__":"x","udp-port":"4500"}');
    const result = parseEndpoint(object);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const config = result.value.spec.backend_config ?? {};
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(config, '__proto__')?.value).toBe('x');
  });

  it('never throw, even on objects whose getters throw', () => {
    const hostile = { metadata: { name: 'x' } } as Record<string, unknown>;
    Object.defineProperty(hostile, 'spec', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    expect(parseEndpoint(hostile)).toEqual({ ok: false, reason: 'unreadable Endpoint object' });
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(typeof parseEndpoint(value).ok).toBe('boolean');
        expect(typeof parseCluster(value).ok).toBe('boolean');
      }),
    );
  });

  it('never throw when any spec field is replaced by arbitrary JSON', () => {
    const keys = Object.keys(valid().spec).concat(['healthCheckIPs', 'unknown']);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, value) => {
        const object = valid();
        object.spec[key] = value;
        const result = parseEndpoint(object);
        if (!result.ok) expect(result.reason).toMatch(/^spec\./);
      }),
    );
  });
});
