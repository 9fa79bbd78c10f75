// The objects we write, checked against the schemas the API server applies: the ServiceImport CRD
// shipped in k8s/broker/crds (structural schema: types, required, enum, maxItems, pruning of
// undeclared fields) and, for the built-in EndpointSlice, the discovery/v1 validation rules.
// The e2e suite repeats this against a real API server; this catches mistakes without one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { mergeServiceImport, type ServiceImportInput, withdrawFromServiceImport } from './lighthouse.ts';
import { buildExportEndpointSlice } from './lighthouseSlices.ts';

interface Schema {
  type?: string;
  format?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  maxItems?: number;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
}

const crd = parse(
  readFileSync(
    new URL('../../k8s/broker/crds/multicluster.x_k8s.io_serviceimports.yaml', import.meta.url),
    'utf8',
  ),
) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> } };
const serviceImportSchema = crd.spec.versions.find((v) => v.name === 'v1alpha1')?.schema.openAPIV3Schema;

/** Problems the API server would report, or fields it would silently prune. */
function check(value: unknown, schema: Schema, path = ''): string[] {
  const at = path === '' ? '<root>' : path;
  const problems: string[] = [];
  if (schema.enum !== undefined && !schema.enum.includes(value))
    problems.push(`${at}: not in ${schema.enum}`);
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${at}: not an object`];
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (!(key in record)) problems.push(`${at}.${key}: required`);
      // No declared properties (metadata): the server validates ObjectMeta itself.
      if (schema.properties === undefined) return problems;
      for (const [key, item] of Object.entries(record)) {
        const sub = schema.properties[key];
        if (sub === undefined) problems.push(`${path}.${key}: not in the schema, would be pruned`);
        else problems.push(...check(item, sub, `${path}.${key}`));
      }
      return problems;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: not a list`];
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        problems.push(`${at}: too many items`);
      const keys = schema['x-kubernetes-list-map-keys'];
      if (schema['x-kubernetes-list-type'] === 'map' && keys !== undefined) {
        const seen = value.map((v) => JSON.stringify(keys.map((k) => (v as Record<string, unknown>)[k])));
        if (new Set(seen).size !== seen.length) problems.push(`${at}: duplicate map keys`);
      }
      value.forEach((item, i) => {
        if (schema.items !== undefined) problems.push(...check(item, schema.items, `${path}[${i}]`));
      });
      return problems;
    }
    case 'string':
      return typeof value === 'string' ? problems : [`${at}: not a string`];
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return [`${at}: not an integer`];
      if (schema.format === 'int32' && (value < -(2 ** 31) || value >= 2 ** 31))
        problems.push(`${at}: not int32`);
      return problems;
    }
    case 'boolean':
      return typeof value === 'boolean' ? problems : [`${at}: not a boolean`];
    default:
      return problems;
  }
}

const input = (overrides: Partial<ServiceImportInput> = {}): ServiceImportInput => ({
  clusterId: 'vm-db',
  serviceName: 'postgres',
  serviceNamespace: 'databases',
  brokerNamespace: 'submariner-k8s-broker',
  type: 'ClusterSetIP',
  ports: [
    { name: 'pg', protocol: 'TCP', port: 5432, appProtocol: 'postgresql' },
    { name: 'metrics', protocol: 'TCP', port: 9187 },
  ],
  exportTimestampNs: '1767225600000000000',
  ...overrides,
});

function built(overrides: Partial<ServiceImportInput> = {}, existing?: unknown) {
  const result = mergeServiceImport(existing, input(overrides));
  if (!result.ok) throw new Error(result.message);
  return result.object;
}

describe('ServiceImport objects against the CRD schema', () => {
  it('has found the v1alpha1 schema', () => {
    expect(serviceImportSchema?.properties?.spec?.required).toEqual(['ports', 'type']);
  });

  const cases: Array<[string, () => unknown]> = [
    ['a new ClusterSetIP import', () => built()],
    ['a new Headless import', () => built({ type: 'Headless', ports: [] })],
    ['a ClientIP import', () => built({ sessionAffinity: 'ClientIP' })],
    ['an unnamed single port', () => built({ ports: [{ name: '', protocol: 'UDP', port: 53 }] })],
    ['a merged import', () => built({ clusterId: 'vm-b', exportTimestampNs: '1' }, built())],
    [
      'a withdrawn import',
      () => {
        const left = withdrawFromServiceImport(built({ clusterId: 'vm-b' }, built()), 'vm-b');
        return left.ok ? left.object : undefined;
      },
    ],
  ];
  it.each(cases)('%s validates and loses no field to pruning', (_label, make) => {
    const object = make();
    expect(check(object, serviceImportSchema ?? {})).toEqual([]);
    // Hand checks of what the schema says, so a broken schema load cannot hide a mistake.
    const si = object as { spec: { type: string; ports: Array<Record<string, unknown>> } };
    expect(['ClusterSetIP', 'Headless']).toContain(si.spec.type);
    expect(Array.isArray(si.spec.ports)).toBe(true);
    for (const port of si.spec.ports) expect(Number.isInteger(port.port)).toBe(true);
  });

  it('notices the mistakes it is there to catch', () => {
    const object = built() as unknown as Record<string, Record<string, unknown>>;
    const broken = {
      ...object,
      spec: { ports: [{ port: '5432', name: 1 }], type: 'Foo', ips: ['a', 'b'], extra: true },
      status: { clusters: [{ cluster: 'a' }, { cluster: 'a' }] },
    };
    expect(check(broken, serviceImportSchema ?? {})).toEqual([
      '.spec.ports[0].port: not an integer',
      '.spec.ports[0].name: not a string',
      '.spec.type: not in ClusterSetIP,Headless',
      '.spec.ips: too many items',
      '.spec.extra: not in the schema, would be pruned',
      '.status.clusters: duplicate map keys',
    ]);
    const { spec: _spec, ...noSpec } = object;
    expect(check({ ...noSpec, spec: {} }, serviceImportSchema ?? {})).toEqual([
      '.spec.ports: required',
      '.spec.type: required',
    ]);
  });
});

describe('EndpointSlice objects against discovery/v1 validation', () => {
  const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const slices = [
    buildExportEndpointSlice({
      clusterId: 'vm-db',
      brokerNamespace: 'submariner-k8s-broker',
      serviceName: 'postgres',
      serviceNamespace: 'databases',
      ports: [
        { name: 'pg', protocol: 'TCP', port: 5432, appProtocol: 'postgresql' },
        { name: 'dns', protocol: 'UDP', port: 53 },
      ],
      address: '100.70.0.10',
      ready: false,
    }),
    buildExportEndpointSlice({
      clusterId: 'vm-db',
      brokerNamespace: 'submariner-k8s-broker',
      serviceName: 'postgres',
      serviceNamespace: 'databases',
      ports: [{ name: '', protocol: 'SCTP', port: 2905 }],
      headless: { endpoints: [{ address: '100.70.0.11', hostname: 'db-1', ready: true }] },
    }),
  ];

  it.each(slices.map((s) => [s.metadata.labels['lighthouse.submariner.io/is-headless'], s] as const))(
    'headless=%s has every required field with the right type',
    (_headless, slice) => {
      expect(slice.apiVersion).toBe('discovery.k8s.io/v1');
      expect(slice.kind).toBe('EndpointSlice');
      expect(slice.metadata.name).toMatch(DNS1123_SUBDOMAIN);
      expect(slice.metadata.name.length).toBeLessThanOrEqual(253);
      expect(slice.metadata.namespace).toMatch(DNS1123_LABEL);
      expect(['IPv4', 'IPv6', 'FQDN']).toContain(slice.addressType);
      expect(slice.endpoints.length).toBeLessThanOrEqual(1000);
      for (const endpoint of slice.endpoints) {
        expect(endpoint.addresses.length).toBeGreaterThanOrEqual(1);
        expect(endpoint.addresses.length).toBeLessThanOrEqual(100);
        expect(typeof endpoint.conditions.ready).toBe('boolean');
        if (endpoint.hostname !== undefined) expect(endpoint.hostname).toMatch(DNS1123_LABEL);
        expect(Object.keys(endpoint).every((k) => ['addresses', 'hostname', 'conditions'].includes(k))).toBe(
          true,
        );
      }
      expect(slice.ports.length).toBeLessThanOrEqual(100);
      for (const port of slice.ports) {
        expect(typeof port.name).toBe('string');
        if (port.name !== '') expect(port.name).toMatch(DNS1123_LABEL);
        expect(['TCP', 'UDP', 'SCTP']).toContain(port.protocol);
        expect(Number.isInteger(port.port) && port.port >= 1 && port.port <= 65535).toBe(true);
      }
      expect(Object.keys(slice).sort((a, b) => (a < b ? -1 : 1))).toEqual([
        'addressType',
        'apiVersion',
        'endpoints',
        'kind',
        'metadata',
        'ports',
      ]);
    },
  );
});
