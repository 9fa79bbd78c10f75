import { describe, expect, it } from 'vitest';
import { isDnsLabel, type Problem, readEndpointSlice, readServiceImport, show } from './lighthouseImports.ts';
import { LABEL_IS_HEADLESS, LABEL_SERVICE_NAME } from './lighthouseKeys.ts';
import { endpointSlice, serviceImport, tcp, udp } from './lighthouseTesting.ts';

type Json = Record<string, unknown>;

/** Deep copy with a change applied, so each case starts from a valid object. */
function variant(base: Json, change: (copy: Json & { metadata: Json; spec: Json }) => void): Json {
  const copy = structuredClone(base) as Json & { metadata: Json; spec: Json };
  change(copy);
  return copy;
}

function readSi(obj: unknown) {
  const problems: Problem[] = [];
  return { result: readServiceImport(obj, problems), problems };
}

function readEps(obj: unknown) {
  const problems: Problem[] = [];
  return { result: readEndpointSlice(obj, problems), problems };
}

describe('readServiceImport', () => {
  const valid = serviceImport({
    service: 'web',
    namespace: 'shop',
    ports: [tcp('http', 80)],
    ips: ['243.0.0.1'],
  });

  it('reads an aggregated broker import', () => {
    expect(readSi(valid)).toEqual({
      result: {
        objectName: 'web-shop',
        service: 'web',
        namespace: 'shop',
        headless: false,
        ips: ['243.0.0.1'],
        ports: [{ name: 'http', protocol: 'TCP', port: 80, appProtocol: '' }],
        clusters: [],
      },
      problems: [],
    });
    expect(
      readSi(serviceImport({ service: 'db', namespace: 'shop', type: 'Headless' })).result,
    ).toMatchObject({
      headless: true,
      ports: [],
      ips: [],
    });
  });

  const skipped: [string, unknown, RegExp][] = [
    ['not an object', 'nope', /not an object/],
    ['no metadata', { spec: {} }, /not an object with metadata/],
    [
      'legacy per-cluster import (no annotations)',
      variant(valid, (c) => delete c.metadata.annotations),
      /not an aggregated ServiceImport/,
    ],
    [
      'annotation of the wrong type',
      variant(valid, (c) => ((c.metadata.annotations as Json)[LABEL_SERVICE_NAME] = 42)),
      /not an aggregated/,
    ],
    [
      'service name that is no DNS label',
      variant(valid, (c) => ((c.metadata.annotations as Json)[LABEL_SERVICE_NAME] = 'Web.Front')),
      /invalid service/,
    ],
    ['missing spec', variant(valid, (c) => delete (c as Json).spec), /missing spec/],
    [
      'unknown type',
      variant(valid, (c) => (c.spec.type = 'LoadBalancer')),
      /unsupported spec.type "LoadBalancer"/,
    ],
    ['type of the wrong kind', variant(valid, (c) => (c.spec.type = ['x'])), /unsupported spec.type a list/],
  ];
  it.each(skipped)('skips %s', (_name, obj, reason) => {
    const { result, problems } = readSi(obj);
    expect(result).toBeNull();
    expect(problems).toHaveLength(1);
    expect(problems[0]?.reason).toMatch(reason);
  });

  it('keeps the import but drops bad ports and non-string ips, reporting each', () => {
    const obj = variant(valid, (c) => {
      c.spec.ports = [
        tcp('http', 80),
        { name: 7, protocol: 'TCP', port: 81 },
        { name: 'x', protocol: 'ICMP', port: 1 },
        'junk',
      ];
      c.spec.ips = [7, '243.0.0.2'];
    });
    const { result, problems } = readSi(obj);
    expect(result?.ports.map((p) => p.port)).toEqual([80]);
    expect(result?.ips).toEqual(['243.0.0.2']);
    expect(problems.map((p) => p.reason)).toEqual([
      'spec.ips is not a list of strings',
      'spec.ports[1] has a name that is not a string',
      'spec.ports[2] has unknown protocol "ICMP"',
      'spec.ports[3] is not an object',
    ]);
    expect(problems[0]).toMatchObject({
      kind: 'ServiceImport',
      namespace: 'submariner-k8s-broker',
      name: 'web-shop',
    });
  });
});

describe('unnamed ports', () => {
  it('a port without a name is valid, as real lighthouse-agents and `moor export` write it', () => {
    const obj = serviceImport({
      service: 'db',
      namespace: 'shop',
      ports: [{ port: 7777, protocol: 'TCP' }],
      ips: ['243.0.0.7'],
    });
    const { result, problems } = readSi(obj);
    expect(problems).toEqual([]);
    expect(result?.ports).toEqual([{ name: '', protocol: 'TCP', port: 7777, appProtocol: '' }]);
  });

  it('an unnamed EndpointSlice port reads as name ""', () => {
    const slice = endpointSlice({
      service: 'db',
      namespace: 'shop',
      cluster: 'east',
      ports: [{ port: 7777, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.1.0.7'], ready: true }],
    });
    const { result, problems } = readEps(slice);
    expect(problems).toEqual([]);
    expect(result?.ports).toEqual([{ name: '', protocol: 'TCP', port: 7777, appProtocol: '' }]);
  });
});

describe('readEndpointSlice', () => {
  const valid = endpointSlice({
    name: 'web-abcde',
    service: 'web',
    namespace: 'shop',
    cluster: 'east',
    headless: true,
    publishNotReady: true,
    ports: [tcp('http', 80), udp('dns', 53)],
    endpoints: [
      { addresses: ['10.0.0.1'], ready: true, hostname: 'web-0' },
      { addresses: ['10.0.0.2', '10.0.0.3'], targetRef: { kind: 'pod', name: 'web-1' } },
      { addresses: ['10.0.0.4'], ready: false, targetRef: { kind: 'Service', name: 'nope' } },
    ],
  });

  it('reads labels, annotations, ports and endpoints (host name from targetRef of a Pod)', () => {
    const { result, problems } = readEps(valid);
    expect(problems).toEqual([]);
    expect(result).toEqual({
      objectName: 'web-abcde',
      objectNamespace: 'submariner-k8s-broker',
      service: 'web',
      namespace: 'shop',
      cluster: 'east',
      publishNotReady: true,
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, appProtocol: '' },
        { name: 'dns', protocol: 'UDP', port: 53, appProtocol: '' },
      ],
      endpoints: [
        { addresses: ['10.0.0.1'], ready: true, hostname: 'web-0' },
        { addresses: ['10.0.0.2', '10.0.0.3'], ready: null, hostname: 'web-1' },
        { addresses: ['10.0.0.4'], ready: false, hostname: '' },
      ],
    });
  });

  it('ignores slices that Lighthouse does not manage, without a problem', () => {
    const foreign = variant(
      valid,
      (c) => ((c.metadata.labels as Json)['endpointslice.kubernetes.io/managed-by'] = 'x'),
    );
    expect(readEps(foreign)).toEqual({ result: null, problems: [] });
    expect(readEps(variant(valid, (c) => delete c.metadata.labels))).toEqual({ result: null, problems: [] });
  });

  const skipped: [string, unknown, RegExp][] = [
    ['a number', 5, /not an object/],
    [
      'no source-cluster label',
      variant(valid, (c) => delete (c.metadata.labels as Json)['multicluster.kubernetes.io/source-cluster']),
      /missing one of the labels/,
    ],
    [
      'a cluster ID that is no DNS label',
      variant(
        valid,
        (c) => ((c.metadata.labels as Json)['multicluster.kubernetes.io/source-cluster'] = 'East_1'),
      ),
      /invalid source cluster/,
    ],
    [
      'a legacy pre-0.15 slice',
      variant(valid, (c) => delete (c.metadata.labels as Json)[LABEL_IS_HEADLESS]),
      /legacy pre-0.15/,
    ],
    [
      'an IPv6 slice',
      variant(valid, (c) => ((c as Json).addressType = 'IPv6')),
      /addressType "IPv6" not served/,
    ],
    [
      'endpoints that are no list',
      variant(valid, (c) => ((c as Json).endpoints = { a: 1 })),
      /endpoints is not a list/,
    ],
  ];
  it.each(skipped)('skips %s', (_name, obj, reason) => {
    const { result, problems } = readEps(obj);
    expect(result).toBeNull();
    expect(problems[0]?.reason).toMatch(reason);
  });

  it('skips only the broken endpoint or port', () => {
    const obj = variant(valid, (c) => {
      (c as Json).ports = [
        tcp('http', 80),
        { name: 'p', protocol: 'TCP', port: 0 },
        { name: 'q', protocol: 'TCP', port: '80' },
      ];
      (c as Json).endpoints = [
        { addresses: ['10.0.0.1'] },
        { addresses: '10.0.0.2' },
        { addresses: ['10.0.0.3'], conditions: { ready: 'yes' } },
        { addresses: ['10.0.0.4'], conditions: 'ready' },
        { addresses: ['10.0.0.5'], hostname: 'Not_A_Label' },
        null,
      ];
    });
    const { result, problems } = readEps(obj);
    expect(result?.ports.map((p) => p.name)).toEqual(['http']);
    expect(result?.endpoints).toEqual([
      { addresses: ['10.0.0.1'], ready: null, hostname: '' },
      { addresses: ['10.0.0.5'], ready: null, hostname: '' },
    ]);
    expect(problems.map((p) => p.reason)).toEqual([
      'endpoints[1].addresses is not a list of strings',
      'endpoints[2].conditions.ready is not a boolean',
      'endpoints[3].conditions is not an object',
      'endpoints[4] host name "Not_A_Label" is not a DNS label; its addresses get no per-host name',
      'endpoints[5] is not an object',
      'ports[1] has invalid port 0',
      'ports[2] has invalid port "80"',
    ]);
  });

  it('never reads inherited properties', () => {
    const proto = JSON.parse('{"metadata":{"labels":{"__proto__":{"x":1}},"name":"a"}}');
    expect(readEps(proto)).toEqual({ result: null, problems: [] });
  });
});

describe('helpers', () => {
  it.each([
    ['a', true],
    ['web-0', true],
    ['0abc', true],
    ['-a', false],
    ['a-', false],
    ['A', false],
    ['a.b', false],
    ['a_b', false],
    ['', false],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
  ])('isDnsLabel(%j) = %s', (value, expected) => {
    expect(isDnsLabel(value)).toBe(expected);
  });

  it('show() renders any value briefly', () => {
    expect(show('x'.repeat(100))).toBe(`"${'x'.repeat(64)}…"`);
    expect([show(1), show(null), show(undefined), show([]), show({}), show(10n)]).toEqual([
      '1',
      'null',
      'undefined',
      'a list',
      'an object',
      'a bigint',
    ]);
  });
});
