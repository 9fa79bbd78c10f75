import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import {
  buildExportEndpointSlice,
  type ExportEndpointSliceInput,
  exportEndpointSliceName,
} from './lighthouseSlices.ts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const base = {
  clusterId: 'vm-db',
  brokerNamespace: 'submariner-k8s-broker',
  serviceName: 'postgres',
  serviceNamespace: 'databases',
  ports: [{ name: 'pg', protocol: 'TCP' as const, port: 5432 }],
};

function clusterSetIp(overrides: Partial<ExportEndpointSliceInput> = {}): ExportEndpointSliceInput {
  return { ...base, address: '100.70.0.10', ready: true, ...overrides } as ExportEndpointSliceInput;
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

describe('buildExportEndpointSlice (spec §4.3, §4.4 step 2)', () => {
  it('builds the broker copy of a ClusterSetIP slice, field by field', () => {
    const slice = buildExportEndpointSlice(clusterSetIp());
    expect(slice).toEqual({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: exportEndpointSliceName('vm-db', 'postgres', 'databases'),
        namespace: 'submariner-k8s-broker',
        labels: {
          'endpointslice.kubernetes.io/managed-by': 'lighthouse-agent.submariner.io',
          'lighthouse.submariner.io/sourceNamespace': 'databases',
          'multicluster.kubernetes.io/source-cluster': 'vm-db',
          'multicluster.kubernetes.io/service-name': 'postgres',
          'lighthouse.submariner.io/is-headless': 'false',
          'submariner-io/clusterID': 'vm-db',
          'submariner-io/originatingNamespace': 'databases',
        },
        annotations: {
          'lighthouse.submariner.io/publish-not-ready-addresses': 'false',
          'lighthouse.submariner.io/globalnet-enabled': 'false',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['100.70.0.10'], conditions: { ready: true } }],
      ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }],
    });
    // No service-namespace label exists anywhere in Lighthouse (spec §4 table).
    expect(Object.keys(slice.metadata.labels)).not.toContain('multicluster.kubernetes.io/service-namespace');
    expect(slice.metadata).not.toHaveProperty('generateName');
  });

  it.each([
    ['ready', true],
    ['not ready', false],
  ])('flips only conditions.ready when the service is %s', (_label, ready) => {
    const slice = buildExportEndpointSlice(clusterSetIp({ ready }));
    expect(slice.endpoints).toEqual([{ addresses: ['100.70.0.10'], conditions: { ready } }]);
    expect(slice.metadata.name).toBe(buildExportEndpointSlice(clusterSetIp()).metadata.name);
  });

  it('writes name, protocol and port of every port, name "" included (CoreDNS pointer gotcha)', () => {
    const slice = buildExportEndpointSlice(
      clusterSetIp({ ports: [{ name: '', protocol: 'UDP', port: 53, appProtocol: 'dns' }] }),
    );
    expect(slice.ports).toEqual([{ name: '', protocol: 'UDP', port: 53, appProtocol: 'dns' }]);
    for (const port of slice.ports) {
      expect(Object.keys(port)).toEqual(expect.arrayContaining(['name', 'protocol', 'port']));
    }
  });

  it('builds a headless slice with one endpoint per host', () => {
    const slice = buildExportEndpointSlice({
      ...base,
      publishNotReadyAddresses: true,
      headless: {
        endpoints: [
          { address: '100.70.0.10', hostname: 'db-0', ready: true },
          { address: '100.70.0.11', hostname: 'db-1', ready: false },
        ],
      },
    });
    expect(slice.metadata.labels).toEqual({
      'endpointslice.kubernetes.io/managed-by': 'lighthouse-agent.submariner.io',
      'lighthouse.submariner.io/sourceNamespace': 'databases',
      'multicluster.kubernetes.io/source-cluster': 'vm-db',
      'multicluster.kubernetes.io/service-name': 'postgres',
      'lighthouse.submariner.io/is-headless': 'true',
      'lighthouse.submariner.io/source-name': 'postgres',
      'submariner-io/clusterID': 'vm-db',
      'submariner-io/originatingNamespace': 'databases',
    });
    expect(slice.metadata.annotations).toEqual({
      'lighthouse.submariner.io/publish-not-ready-addresses': 'true',
      'lighthouse.submariner.io/globalnet-enabled': 'false',
    });
    expect(slice.endpoints).toEqual([
      { addresses: ['100.70.0.10'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['100.70.0.11'], hostname: 'db-1', conditions: { ready: false } },
    ]);
    expect(slice.ports).toEqual([{ name: 'pg', protocol: 'TCP', port: 5432 }]);
  });

  it('checks the address against the advertised subnets when given', () => {
    expect(() =>
      buildExportEndpointSlice(clusterSetIp({ advertisedSubnets: ['100.70.0.0/24'] })),
    ).not.toThrow();
    const err = thrown(() =>
      buildExportEndpointSlice(clusterSetIp({ advertisedSubnets: ['100.71.0.0/24'] })),
    );
    expect(err.message).toBe('service address 100.70.0.10 is not inside the advertised subnets');
  });

  it.each<[string, Partial<ExportEndpointSliceInput>, string]>([
    ['a bad cluster ID', { clusterId: 'VM_DB' }, 'cluster ID "VM_DB" is not a valid DNS-1123 label'],
    ['a bad broker namespace', { brokerNamespace: 'Broker' }, 'broker namespace "Broker"'],
    ['a bad service name', { serviceName: 'pg.main' }, 'service name "pg.main"'],
    ['a denied namespace', { serviceNamespace: 'kube-system' }, 'starts with "kube-"'],
    ['an IPv6 address', { address: 'fd00::1' }, 'service address:'],
    ['no ports', { ports: [] }, 'the service has no ports'],
    [
      'duplicate port names',
      {
        ports: [
          { name: 'a', protocol: 'TCP', port: 1 },
          { name: 'a', protocol: 'TCP', port: 2 },
        ],
      },
      'port name "a" is used twice',
    ],
    [
      'a bad host name',
      {
        address: undefined,
        ready: undefined,
        headless: { endpoints: [{ address: '1.2.3.4', hostname: 'DB', ready: true }] },
      },
      'host name "DB" is not a DNS-1123 label',
    ],
  ])('refuses %s', (_label, overrides, message) => {
    const err = thrown(() => buildExportEndpointSlice(clusterSetIp(overrides)));
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toContain(message);
    expect(err.hint).toBeTruthy();
  });
});

describe('exportEndpointSliceName', () => {
  it('is <svc>-<ns>-<10 hex digits>, stable and distinct per cluster', () => {
    const name = exportEndpointSliceName('vm-db', 'postgres', 'databases');
    expect(name).toMatch(/^postgres-databases-[0-9a-f]{10}$/);
    expect(exportEndpointSliceName('vm-db', 'postgres', 'databases')).toBe(name);
    expect(exportEndpointSliceName('vm-db2', 'postgres', 'databases')).not.toBe(name);
    // "a-b"/"c" and "a"/"b-c" share a prefix but not a hash.
    expect(exportEndpointSliceName('x', 'a-b', 'c')).not.toBe(exportEndpointSliceName('x', 'a', 'b-c'));
  });

  it('is always a DNS-1123 subdomain of at most 253 characters that does not end in -<clusterId>', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    fc.assert(
      fc.property(label, label, label, (clusterId, svc, ns) => {
        const name = exportEndpointSliceName(clusterId, svc, ns);
        expect(name.length).toBeLessThanOrEqual(253);
        expect(name).toMatch(DNS1123_SUBDOMAIN);
        expect(name.endsWith(`-${clusterId}`)).toBe(false);
      }),
    );
    // Cluster IDs that are themselves hex: the legacy check must still hold.
    const hexId = fc.stringMatching(/^[0-9a-f]{1,12}$/);
    fc.assert(
      fc.property(hexId, (clusterId) => {
        expect(exportEndpointSliceName(clusterId, 's', 'n').endsWith(`-${clusterId}`)).toBe(false);
      }),
    );
  });

  it('keeps every label value a valid label value (at most 63 characters)', () => {
    const slice = buildExportEndpointSlice(
      clusterSetIp({
        clusterId: 'c'.repeat(63),
        serviceName: 's'.repeat(63),
        serviceNamespace: 'n'.repeat(63),
      }),
    );
    for (const value of Object.values(slice.metadata.labels)) {
      expect(value.length).toBeLessThanOrEqual(63);
      expect(value).toMatch(LABEL_VALUE);
    }
    expect(slice.metadata.name.length).toBe(63 + 1 + 63 + 1 + 10);
  });
});
