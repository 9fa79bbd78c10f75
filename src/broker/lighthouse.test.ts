import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import {
  mergeServiceImport,
  type ServiceImportInput,
  sanitisedClusterId,
  serviceImportName,
  timestampAnnotationKey,
  withdrawFromServiceImport,
} from './lighthouse.ts';
import { aggregatePorts, clustersByExportTime } from './lighthousePorts.ts';
import type { ServiceImportObject } from './lighthouseTypes.ts';

const T_OLD = '1700000000000000000';
const T_NEW = '1800000000000000000';

const input = (overrides: Partial<ServiceImportInput> = {}): ServiceImportInput => ({
  clusterId: 'vm-db',
  serviceName: 'postgres',
  serviceNamespace: 'databases',
  brokerNamespace: 'submariner-k8s-broker',
  type: 'ClusterSetIP',
  ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }],
  exportTimestampNs: T_NEW,
  ...overrides,
});

/** What a real agent in cluster "east" leaves on the broker (spec §4.2), with server fields. */
function eastImport(overrides: { type?: string; annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: 'multicluster.x-k8s.io/v1alpha1',
    kind: 'ServiceImport',
    metadata: {
      name: 'postgres-databases',
      namespace: 'submariner-k8s-broker',
      resourceVersion: '4711',
      uid: 'u-1',
      creationTimestamp: '2025-11-14T22:13:20Z',
      managedFields: [{ manager: 'lighthouse-agent' }],
      annotations: {
        'multicluster.kubernetes.io/service-name': 'postgres',
        'lighthouse.submariner.io/sourceNamespace': 'databases',
        'timestamp.submariner.io/east': T_OLD,
        'lighthouse.submariner.io/use-clusterset-ip': 'false',
        ...overrides.annotations,
      },
    },
    spec: {
      type: overrides.type ?? 'ClusterSetIP',
      ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
    },
    status: { clusters: [{ cluster: 'east' }] },
  };
}

function merged(existing: unknown, overrides: Partial<ServiceImportInput> = {}): ServiceImportObject {
  const result = mergeServiceImport(existing, input(overrides));
  if (!result.ok) throw new Error(`${result.reason}: ${result.message}`);
  return result.object;
}

describe('mergeServiceImport: creating (spec §4.2)', () => {
  it('creates the aggregated ClusterSetIP import, field by field', () => {
    expect(mergeServiceImport(undefined, input())).toEqual({
      ok: true,
      created: true,
      object: {
        apiVersion: 'multicluster.x-k8s.io/v1alpha1',
        kind: 'ServiceImport',
        metadata: {
          name: 'postgres-databases',
          namespace: 'submariner-k8s-broker',
          annotations: {
            'multicluster.kubernetes.io/service-name': 'postgres',
            'lighthouse.submariner.io/sourceNamespace': 'databases',
            'timestamp.submariner.io/vm-db': T_NEW,
            'lighthouse.submariner.io/use-clusterset-ip': 'false',
          },
        },
        spec: {
          type: 'ClusterSetIP',
          ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }],
          sessionAffinity: 'None',
        },
        status: { clusters: [{ cluster: 'vm-db' }] },
      },
      statusClusters: [{ cluster: 'vm-db' }],
    });
  });

  it('creates a Headless import with ports [] and without use-clusterset-ip', () => {
    const object = merged(undefined, { type: 'Headless' });
    expect(object.spec).toEqual({ type: 'Headless', ports: [], sessionAffinity: 'None' });
    expect(object.metadata.annotations).toEqual({
      'multicluster.kubernetes.io/service-name': 'postgres',
      'lighthouse.submariner.io/sourceNamespace': 'databases',
      'timestamp.submariner.io/vm-db': T_NEW,
    });
  });

  it('never labels the import with submariner-io/clusterID, so admiral does not sync it as ours', () => {
    const object = merged(undefined);
    expect(object.metadata).not.toHaveProperty('labels');
    expect(JSON.stringify(object)).not.toContain('submariner-io/clusterID');
  });

  it('omits an empty port name, as Go writes mcsv1a1.ServicePort', () => {
    const object = merged(undefined, {
      ports: [{ name: '', protocol: 'UDP', port: 53, appProtocol: 'dns' }],
    });
    expect(object.spec.ports).toEqual([{ protocol: 'UDP', port: 53, appProtocol: 'dns' }]);
  });

  it('writes ClientIP affinity with the Kubernetes default timeout', () => {
    const object = merged(undefined, { sessionAffinity: 'ClientIP' });
    expect(object.spec.sessionAffinity).toBe('ClientIP');
    expect(object.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
  });

  it.each<[string, Partial<ServiceImportInput>, string]>([
    ['a bad cluster ID', { clusterId: 'Vm' }, 'cluster ID "Vm"'],
    ['a denied namespace', { serviceNamespace: 'openshift' }, 'is "openshift"'],
    ['a bad timestamp', { exportTimestampNs: 'yesterday' }, 'export timestamp "yesterday"'],
    ['ClusterSetIP without ports', { ports: [] }, 'the service has no ports'],
    ['a bad type', { type: 'LoadBalancer' as ServiceImportInput['type'] }, 'service type "LoadBalancer"'],
    [
      'a config without ClientIP',
      { sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } },
      'needs session affinity ClientIP',
    ],
    [
      'a timeout above a day',
      { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } },
      'ClientIP timeout 86401 is out of range',
    ],
    ['a bad broker namespace', { brokerNamespace: 'x_y' }, 'broker namespace "x_y"'],
  ])('refuses %s', (_label, overrides, message) => {
    let error: unknown;
    try {
      mergeServiceImport(undefined, input(overrides));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(MoorError);
    expect((error as MoorError).code).toBe('invalid-argument');
    expect((error as MoorError).message).toContain(message);
  });
});

describe('mergeServiceImport: joining an existing import', () => {
  it('adds our timestamp and status entry and keeps everything else', () => {
    const result = mergeServiceImport(
      eastImport(),
      input({ ports: [{ name: 'admin', protocol: 'TCP', port: 8080 }] }),
    );
    expect(result).toEqual({
      ok: true,
      created: false,
      object: {
        ...eastImport(),
        metadata: {
          ...eastImport().metadata,
          annotations: { ...eastImport().metadata.annotations, 'timestamp.submariner.io/vm-db': T_NEW },
        },
        spec: {
          ...eastImport().spec,
          ports: [
            { name: 'pg', protocol: 'TCP', port: 5432 },
            { name: 'admin', protocol: 'TCP', port: 8080 },
          ],
        },
        status: { clusters: [{ cluster: 'east' }, { cluster: 'vm-db' }] },
      },
      statusClusters: [{ cluster: 'east' }, { cluster: 'vm-db' }],
    });
  });

  it('does not change the object it was given', () => {
    const existing = eastImport();
    const before = JSON.stringify(existing);
    merged(existing);
    withdrawFromServiceImport(existing, 'east');
    expect(JSON.stringify(existing)).toBe(before);
  });

  it('is idempotent: merging twice lists us once', () => {
    const once = merged(eastImport());
    expect(merged(once)).toEqual(once);
    expect(once.status.clusters).toEqual([{ cluster: 'east' }, { cluster: 'vm-db' }]);
  });

  it('keeps the older exporter’s port when names clash', () => {
    const object = merged(eastImport(), { ports: [{ name: 'pg', protocol: 'TCP', port: 6432 }] });
    expect(object.spec.ports).toEqual([{ name: 'pg', protocol: 'TCP', port: 5432 }]);
  });

  it('leaves session affinity to the oldest exporter', () => {
    const newer = merged(eastImport(), { exportTimestampNs: T_NEW });
    expect(newer.spec.sessionAffinity).toBe('ClientIP');
    expect(newer.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 600 } });
    const older = merged(eastImport(), { exportTimestampNs: '1600000000000000000' });
    expect(older.spec.sessionAffinity).toBe('None');
    expect(older.spec).not.toHaveProperty('sessionAffinityConfig');
  });

  it('adds use-clusterset-ip "false" when a pre-clusterset-IP import lacks it, and keeps "true"', () => {
    const legacy = eastImport();
    delete (legacy.metadata.annotations as Record<string, string>)[
      'lighthouse.submariner.io/use-clusterset-ip'
    ];
    expect(merged(legacy).metadata.annotations['lighthouse.submariner.io/use-clusterset-ip']).toBe('false');
    const withIp = eastImport({ annotations: { 'lighthouse.submariner.io/use-clusterset-ip': 'true' } });
    expect(merged(withIp).metadata.annotations['lighthouse.submariner.io/use-clusterset-ip']).toBe('true');
  });

  it('never adds use-clusterset-ip to a Headless import (ClusterSetIP only)', () => {
    const headless = { ...eastImport({ type: 'Headless' }), spec: { type: 'Headless', ports: [] } };
    delete (headless.metadata.annotations as Record<string, string>)[
      'lighthouse.submariner.io/use-clusterset-ip'
    ];
    const object = merged(headless, { type: 'Headless' });
    expect(object.metadata.annotations).not.toHaveProperty('lighthouse.submariner.io/use-clusterset-ip');
  });

  it('keeps a Headless import’s ports as they are', () => {
    const headless = { ...eastImport({ type: 'Headless' }), spec: { type: 'Headless', ports: [] } };
    expect(merged(headless, { type: 'Headless' }).spec.ports).toEqual([]);
  });

  it('refuses a type conflict, like Lighthouse’s ConflictingType', () => {
    expect(mergeServiceImport(eastImport({ type: 'Headless' }), input())).toEqual({
      ok: false,
      reason: 'conflicting-type',
      existingType: 'Headless',
      message:
        'the local service type ("ClusterSetIP") does not match the type ("Headless") of the existing exported service',
    });
  });

  it('refuses an import of another service that happens to share the name <svc>-<ns>', () => {
    // postgres/databases and postgres-data/bases both map to "postgres-databases".
    const other = eastImport({
      annotations: {
        'multicluster.kubernetes.io/service-name': 'postgres-data',
        'lighthouse.submariner.io/sourceNamespace': 'bases',
      },
    });
    const result = mergeServiceImport(other, input());
    expect(result).toMatchObject({ ok: false, reason: 'name-collision' });
    expect(!result.ok && result.message).toContain('aggregates bases/postgres-data, not databases/postgres');
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'x', 'not an object'],
    ['null', null, 'not an object'],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
      'cannot be read as JSON',
    ],
    ['another kind', { ...eastImport(), kind: 'Service' }, 'kind is "Service"'],
    ['another apiVersion', { ...eastImport(), apiVersion: 'v1' }, 'apiVersion is "v1"'],
    ['no metadata', { ...eastImport(), metadata: undefined }, 'metadata.name is missing'],
    ['an unknown type', { ...eastImport(), spec: { type: 'Foo', ports: [] } }, 'spec.type "Foo"'],
    [
      'numeric annotations',
      { ...eastImport(), metadata: { name: 'x', annotations: { a: 1 } } },
      'metadata.annotations is not a map of strings',
    ],
    ['bad ports', { ...eastImport(), spec: { type: 'ClusterSetIP', ports: [{ port: '1' }] } }, 'spec.ports'],
    ['bad status', { ...eastImport(), status: { clusters: [{ name: 'x' }] } }, 'status.clusters'],
  ])('reports an existing object that is %s as malformed', (_label, existing, message) => {
    const result = mergeServiceImport(existing, input());
    expect(result).toMatchObject({ ok: false, reason: 'malformed' });
    expect(!result.ok && result.message).toContain(message);
    expect(withdrawFromServiceImport(existing, 'vm-db')).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('withdrawFromServiceImport (spec §4.4 step 4)', () => {
  const both = () => merged(eastImport());

  it('removes our status entry and timestamp and keeps the rest', () => {
    const result = withdrawFromServiceImport(both(), 'vm-db');
    expect(result).toEqual({
      ok: true,
      object: { ...both(), metadata: eastImport().metadata, status: { clusters: [{ cluster: 'east' }] } },
      statusClusters: [{ cluster: 'east' }],
      empty: false,
      changed: true,
    });
  });

  it('says empty when the last exporter leaves, so the caller deletes it', () => {
    const result = withdrawFromServiceImport(merged(undefined), 'vm-db');
    expect(result).toMatchObject({ ok: true, empty: true, changed: true, statusClusters: [] });
    expect(result.ok && result.object.metadata.annotations).not.toHaveProperty(
      'timestamp.submariner.io/vm-db',
    );
  });

  it('changes nothing when we were not exporting', () => {
    const result = withdrawFromServiceImport(eastImport(), 'vm-db');
    expect(result).toMatchObject({ ok: true, empty: false, changed: false });
    expect(result.ok && result.object).toEqual(eastImport());
  });
});

describe('ports (spec §4.2 "Ports")', () => {
  const slice = (cluster: string, ports: unknown[], extra: Record<string, string> = {}) => ({
    metadata: {
      name: `postgres-${cluster}x`,
      labels: {
        'endpointslice.kubernetes.io/managed-by': 'lighthouse-agent.submariner.io',
        'lighthouse.submariner.io/sourceNamespace': 'databases',
        'multicluster.kubernetes.io/service-name': 'postgres',
        'multicluster.kubernetes.io/source-cluster': cluster,
        ...extra,
      },
    },
    ports,
  });
  const annotations = (timestamps: Record<string, string>) => ({
    'multicluster.kubernetes.io/service-name': 'postgres',
    'lighthouse.submariner.io/sourceNamespace': 'databases',
    ...Object.fromEntries(Object.entries(timestamps).map(([c, t]) => [`timestamp.submariner.io/${c}`, t])),
  });
  const pg = (port: number) => ({ name: 'pg', protocol: 'TCP', port });

  it.each<[string, unknown[], Record<string, string>, unknown[]]>([
    ['one cluster', [slice('a', [pg(5432)])], { a: '1' }, [pg(5432)]],
    [
      'union by name, oldest first',
      [slice('b', [pg(6432), { name: 'admin', protocol: 'TCP', port: 8080 }]), slice('a', [pg(5432)])],
      { a: '1', b: '2' },
      [pg(5432), { name: 'admin', protocol: 'TCP', port: 8080 }],
    ],
    [
      'timestamp order, not list order',
      [slice('a', [pg(5432)]), slice('b', [pg(6432)])],
      { a: '9', b: '2' },
      [pg(6432)],
    ],
    [
      'ties broken by cluster name',
      [slice('b', [pg(6432)]), slice('a', [pg(5432)])],
      { a: '5', b: '5' },
      [pg(5432)],
    ],
    [
      'a cluster without timestamp is ignored',
      [slice('a', [pg(5432)]), slice('b', [pg(6432)])],
      { b: '7' },
      [pg(6432)],
    ],
    [
      'an unparsable timestamp is ignored',
      [slice('a', [pg(5432)]), slice('b', [pg(6432)])],
      { a: 'x', b: '7' },
      [pg(6432)],
    ],
    [
      'other services and unmanaged slices are ignored',
      [
        slice('a', [pg(1)], { 'multicluster.kubernetes.io/service-name': 'mysql' }),
        slice('a', [pg(2)], { 'lighthouse.submariner.io/sourceNamespace': 'other' }),
        slice('a', [pg(3)], { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' }),
        'junk',
        null,
      ],
      { a: '1' },
      [],
    ],
    [
      'missing fields read as Lighthouse derefs them',
      [slice('a', [{ port: 80 }, { name: 'x', protocol: 'UDP' }])],
      { a: '1' },
      [{ port: 80 }, { name: 'x', protocol: 'UDP', port: 0 }],
    ],
    [
      'a later slice of the same cluster wins',
      [slice('a', [pg(1)]), slice('a', [pg(2)])],
      { a: '1' },
      [pg(2)],
    ],
  ])('%s', (_label, slices, timestamps, expected) => {
    expect(aggregatePorts(slices, annotations(timestamps))).toEqual(expected);
  });

  it('needs the service-name and sourceNamespace annotations', () => {
    expect(aggregatePorts([slice('a', [pg(1)])], { 'timestamp.submariner.io/a': '1' })).toEqual([]);
  });

  it('orders exporters by int64 timestamp, not by text', () => {
    expect(
      clustersByExportTime({
        'timestamp.submariner.io/x': '10',
        'timestamp.submariner.io/y': '9',
        'timestamp.submariner.io/z': '9223372036854775806',
        'timestamp.submariner.io/w': '9223372036854775808',
        other: '1',
      }),
    ).toEqual(['y', 'x', 'z']);
  });
});

describe('names', () => {
  it('follow Lighthouse', () => {
    expect(serviceImportName('postgres', 'databases')).toBe('postgres-databases');
    expect(timestampAnnotationKey('vm-db')).toBe('timestamp.submariner.io/vm-db');
    expect(sanitisedClusterId(`${'A'.repeat(70)}`)).toBe('a'.repeat(63));
    expect(sanitisedClusterId('-Vm_DB-')).toBe('vm-db');
  });
});
