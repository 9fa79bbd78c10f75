import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildRecordIndex, isConnected, type RecordIndexInput } from './records.ts';
import { endpointSlice, serviceImport, serviceIpSlice, tcp, udp } from './testing.ts';

function build(input: Partial<RecordIndexInput>) {
  return buildRecordIndex({
    serviceImports: [],
    endpointSlices: [],
    localClusterId: 'local',
    connectedClusters: [],
    ...input,
  });
}

/** A compact, comparable view of one service in the index. */
function summary(input: Partial<RecordIndexInput>, key = 'shop/web') {
  const { index, problems } = build(input);
  const service = index.services.get(key);
  return {
    problems: problems.map((p) => `${p.kind} ${p.name}: ${p.reason}`),
    service: service && {
      headless: service.headless,
      clustersetIp: service.clustersetIp,
      merged: service.mergedPorts.map((p) => `${p.name}/${p.protocol}/${p.port}`),
      clusters: Object.fromEntries(
        [...service.clusters].map(([id, c]) => [
          id,
          {
            healthy: c.healthy,
            ips: c.endpoints.map((e) => (e.hostname ? `${e.hostname}=${e.ip}` : e.ip)),
            hosts: Object.fromEntries([...c.byHost].map(([h, rs]) => [h, rs.map((r) => r.ip)])),
          },
        ]),
      ),
    },
  };
}

const WEB = serviceImport({ service: 'web', namespace: 'shop', ports: [tcp('http', 80)] });
const DB = serviceImport({ service: 'web', namespace: 'shop', type: 'Headless' });

describe('buildRecordIndex: ClusterSetIP services', () => {
  it('keeps endpoints[0].addresses[0] per cluster and its ready condition as health', () => {
    const s = summary({
      serviceImports: [WEB],
      endpointSlices: [
        serviceIpSlice('web', 'shop', 'east', '10.1.0.10', [tcp('http', 80)]),
        serviceIpSlice('web', 'shop', 'west', '10.2.0.10', [tcp('http', 80)], false),
        endpointSlice({
          service: 'web',
          namespace: 'shop',
          cluster: 'north',
          endpoints: [{ addresses: ['10.3.0.10', '10.3.0.11'] }, { addresses: ['10.3.0.12'], ready: false }],
        }),
      ],
    });
    expect(s.service?.clusters).toEqual({
      east: { healthy: true, ips: ['10.1.0.10'], hosts: {} },
      north: { healthy: true, ips: ['10.3.0.10'], hosts: {} },
      west: { healthy: false, ips: ['10.2.0.10'], hosts: {} },
    });
  });

  it('intersects ports across all exporting clusters by name, protocol, port and appProtocol', () => {
    const s = summary({
      serviceImports: [WEB],
      endpointSlices: [
        serviceIpSlice('web', 'shop', 'a', '10.0.0.1', [tcp('http', 80), tcp('https', 443), udp('dns', 53)]),
        serviceIpSlice('web', 'shop', 'b', '10.0.0.2', [
          tcp('https', 443),
          tcp('http', 8080),
          udp('dns', 53),
        ]),
        serviceIpSlice('web', 'shop', 'c', '10.0.0.3', [
          udp('dns', 53),
          tcp('https', 443),
          { ...tcp('x', 1), appProtocol: 'h2' },
        ]),
      ],
    });
    expect(s.service?.merged).toEqual(['https/TCP/443', 'dns/UDP/53']);
  });

  it('reads the clusterset IP from spec.ips, ignoring one that is not IPv4', () => {
    const withIp = serviceImport({ service: 'web', namespace: 'shop', ips: ['243.0.0.1'] });
    expect(summary({ serviceImports: [withIp] }).service?.clustersetIp).toBe('243.0.0.1');
    const v6 = serviceImport({ service: 'web', namespace: 'shop', ips: ['fd00::1'] });
    const s = summary({ serviceImports: [v6] });
    expect(s.service?.clustersetIp).toBeNull();
    expect(s.problems).toEqual(['ServiceImport web-shop: spec.ips[0] "fd00::1" is not IPv4; ignored']);
  });

  it('skips a slice without a usable service address, keeping the cluster from a good one', () => {
    const s = summary({
      serviceImports: [WEB],
      endpointSlices: [
        endpointSlice({ name: 'web-1', service: 'web', namespace: 'shop', cluster: 'east', endpoints: [] }),
        endpointSlice({
          name: 'web-2',
          service: 'web',
          namespace: 'shop',
          cluster: 'east',
          endpoints: [{ addresses: ['10.0.0.9'] }],
        }),
        endpointSlice({
          name: 'web-3',
          service: 'web',
          namespace: 'shop',
          cluster: 'east',
          endpoints: [{ addresses: ['10.0.0.8'] }],
        }),
        endpointSlice({
          name: 'web-4',
          service: 'web',
          namespace: 'shop',
          cluster: 'west',
          endpoints: [{ addresses: ['not-an-ip'] }],
        }),
      ],
    });
    expect(s.service?.clusters).toEqual({ east: { healthy: true, ips: ['10.0.0.9'], hosts: {} } });
    expect(s.problems).toEqual([
      'EndpointSlice web-1: no IPv4 service address in endpoints[0].addresses[0] (undefined)',
      "EndpointSlice web-3: another slice already gives cluster east's service IP",
      'EndpointSlice web-4: no IPv4 service address in endpoints[0].addresses[0] ("not-an-ip")',
    ]);
  });

  it('uses a legacy slice (name ending in -<cluster>) only while no newer slice exists', () => {
    const legacy = endpointSlice({
      name: 'web-shop-east',
      service: 'web',
      namespace: 'shop',
      cluster: 'east',
      endpoints: [{ addresses: ['10.9.9.9'] }],
    });
    const current = serviceIpSlice('web', 'shop', 'east', '10.0.0.1', []);
    expect(summary({ serviceImports: [WEB], endpointSlices: [legacy] }).service?.clusters.east?.ips).toEqual([
      '10.9.9.9',
    ]);
    expect(
      summary({ serviceImports: [WEB], endpointSlices: [legacy, current] }).service?.clusters.east?.ips,
    ).toEqual(['10.0.0.1']);
  });
});

describe('buildRecordIndex: headless services', () => {
  it('collects ready addresses of all slices, de-duplicated, with host names', () => {
    const s = summary({
      serviceImports: [DB],
      endpointSlices: [
        endpointSlice({
          name: 'web-a',
          service: 'web',
          namespace: 'shop',
          cluster: 'east',
          headless: true,
          endpoints: [
            { addresses: ['10.0.0.1'], hostname: 'web-0' },
            { addresses: ['10.0.0.2'], ready: false, hostname: 'web-1' },
            { addresses: ['10.0.0.3', '10.0.0.1'], targetRef: { kind: 'Pod', name: 'web-2' } },
            { addresses: ['10.0.0.4', 'fd00::4'] },
          ],
        }),
        endpointSlice({
          name: 'web-b',
          service: 'web',
          namespace: 'shop',
          cluster: 'east',
          headless: true,
          publishNotReady: true,
          endpoints: [
            { addresses: ['10.0.0.5'], ready: false, hostname: 'web-5' },
            { addresses: ['10.0.0.6'], hostname: 'web-0' },
          ],
        }),
      ],
    });
    expect(s.service?.clusters).toEqual({
      east: {
        healthy: true,
        ips: ['web-0=10.0.0.1', 'web-2=10.0.0.3', '10.0.0.4', 'web-5=10.0.0.5', 'web-0=10.0.0.6'],
        // The later endpoint with the same host name wins, as in Lighthouse.
        hosts: { 'web-0': ['10.0.0.6'], 'web-2': ['10.0.0.3'], 'web-5': ['10.0.0.5'] },
      },
    });
    expect(s.problems).toEqual(['EndpointSlice web-a: address "fd00::4" is not IPv4; skipped']);
  });

  it('keeps a host whose addresses were all duplicates, with no records (NODATA later)', () => {
    const s = summary({
      serviceImports: [DB],
      endpointSlices: [
        endpointSlice({
          service: 'web',
          namespace: 'shop',
          cluster: 'east',
          headless: true,
          endpoints: [
            { addresses: ['10.0.0.1'], hostname: 'a' },
            { addresses: ['10.0.0.1'], hostname: 'b' },
          ],
        }),
      ],
    });
    expect(s.service?.clusters.east?.hosts).toEqual({ a: ['10.0.0.1'], b: [] });
  });
});

describe('buildRecordIndex: which objects count', () => {
  it('ignores slices of services without an import, and slices Lighthouse does not manage', () => {
    const { index, problems } = build({
      serviceImports: [WEB],
      endpointSlices: [
        serviceIpSlice('other', 'shop', 'east', '10.0.0.1', []),
        {
          metadata: {
            name: 'x',
            labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
          },
        },
      ],
    });
    expect([...index.services.keys()]).toEqual(['shop/web']);
    expect(problems).toEqual([]);
  });

  it('prefers the import named <svc>-<ns> when two carry the same annotations', () => {
    const odd = serviceImport({ service: 'web', namespace: 'shop', name: 'aaa', type: 'Headless' });
    const { index, problems } = build({ serviceImports: [odd, WEB] });
    expect(index.services.get('shop/web')?.headless).toBe(false);
    expect(problems.map((p) => p.reason)).toEqual(['duplicate import of shop/web; using web-shop']);
  });

  it('does not depend on the order objects arrive in', () => {
    const slices = [
      serviceIpSlice('web', 'shop', 'east', '10.0.0.1', [tcp('http', 80)]),
      serviceIpSlice('web', 'shop', 'west', '10.0.0.2', [tcp('http', 80)]),
      endpointSlice({
        name: 'web-shop-east',
        service: 'web',
        namespace: 'shop',
        cluster: 'east',
        endpoints: [{ addresses: ['10.9.9.9'] }],
      }),
    ];
    const forward = summary({ serviceImports: [WEB], endpointSlices: slices });
    const backward = summary({ serviceImports: [WEB], endpointSlices: [...slices].reverse() });
    expect(backward).toEqual(forward);
  });

  it('carries the round-robin position over from the previous index', () => {
    const first = build({ serviceImports: [WEB] }).index;
    const rotation = first.services.get('shop/web')?.rotation;
    if (rotation) rotation.next = 7;
    const second = buildRecordIndex(
      { serviceImports: [WEB], endpointSlices: [], localClusterId: '', connectedClusters: [] },
      first,
    );
    expect(second.index.services.get('shop/web')?.rotation.next).toBe(7);
  });

  it('counts the local cluster as connected, and every cluster when connectivity is not tracked', () => {
    const tracked = build({ connectedClusters: new Set(['east']) }).index;
    expect(['east', 'west', 'local'].map((id) => isConnected(tracked, id))).toEqual([true, false, true]);
    const untracked = build({ connectedClusters: 'all' }).index;
    expect(isConnected(untracked, 'anything')).toBe(true);
  });
});

describe('buildRecordIndex: hostile input never throws', () => {
  it('survives arbitrary JSON in every position', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue()),
        fc.array(fc.jsonValue()),
        fc.anything(),
        (imports, slices, connected) => {
          const result = buildRecordIndex({
            serviceImports: imports,
            endpointSlices: slices,
            localClusterId: 'x',
            connectedClusters: connected as Iterable<string>,
          });
          expect(result.index.services.size).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('survives valid objects with any one field replaced by junk', () => {
    const objects = [
      WEB,
      DB,
      serviceIpSlice('web', 'shop', 'east', '10.0.0.1', [tcp('http', 80)]),
      endpointSlice({
        service: 'web',
        namespace: 'shop',
        cluster: 'east',
        headless: true,
        endpoints: [{ addresses: ['10.0.0.1'], hostname: 'a' }],
      }),
    ];
    const paths = objects.map((o) => allPaths(o));
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.anything(), (which, at, junk) => {
        const i = which % objects.length;
        const copy = structuredClone(objects[i]) as Record<string, unknown>;
        const pathList = paths[i] ?? [];
        setPath(copy, pathList[at % pathList.length] ?? [], junk);
        const input = {
          serviceImports: [copy, WEB],
          endpointSlices: [copy],
          localClusterId: 'east',
          connectedClusters: [],
        };
        expect(() => buildRecordIndex(input)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('survives objects whose getters throw', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          throw new Error('boom');
        },
        getOwnPropertyDescriptor() {
          throw new Error('boom');
        },
      },
    );
    const { problems } = build({ serviceImports: [hostile], endpointSlices: [hostile] });
    expect(problems.map((p) => p.reason)).toEqual([
      'unreadable object: "Error: boom"',
      'unreadable object: "Error: boom"',
    ]);
  });
});

function allPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const nested = Object.entries(value).flatMap(([k, v]) => allPaths(v, [...prefix, k]));
  return [prefix, ...nested];
}

function setPath(root: Record<string, unknown>, path: string[], junk: unknown): void {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) node = (node as Record<string, unknown>)[key];
  const last = path[path.length - 1];
  if (last !== undefined && typeof node === 'object' && node !== null)
    (node as Record<string, unknown>)[last] = junk;
}
