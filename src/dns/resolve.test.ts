import { describe, expect, it } from 'vitest';
import { TYPE_A, TYPE_AAAA, TYPE_SRV } from './constants.ts';
import { classifyName, normalizeZones } from './names.ts';
import { buildRecordIndex } from './records.ts';
import { resolveServiceQuery } from './resolve.ts';
import { endpointSlice, serviceImport, serviceIpSlice, tcp, udp } from './testing.ts';

// One clusterset seen from cluster "local": east, west and south are connected, north is not;
// west's service is unhealthy.
const HTTP = [tcp('http', 80), udp('dns', 53)];
// A Service with one unnamed port, as real lighthouse-agents and `moor export` write it.
const UNNAMED = [{ port: 7777, protocol: 'TCP' }];
const fixture = buildRecordIndex({
  localClusterId: 'local',
  connectedClusters: ['east', 'west', 'south'],
  serviceImports: [
    serviceImport({ service: 'web', namespace: 'shop', ports: HTTP }),
    serviceImport({ service: 'api', namespace: 'shop', ports: HTTP }),
    serviceImport({ service: 'vip', namespace: 'shop', ips: ['243.0.0.1'], ports: [tcp('grpc', 9090)] }),
    serviceImport({ service: 'down', namespace: 'shop' }),
    serviceImport({ service: 'solo', namespace: 'shop', ips: ['243.0.0.7'], ports: UNNAMED }),
    serviceImport({ service: 'bare', namespace: 'shop', ports: UNNAMED }),
    serviceImport({ service: 'empty', namespace: 'shop' }),
    serviceImport({ service: 'db', namespace: 'shop', type: 'Headless' }),
    serviceImport({ service: 'mixed', namespace: 'shop', type: 'Headless' }),
  ],
  endpointSlices: [
    serviceIpSlice('web', 'shop', 'local', '10.0.0.10', HTTP),
    serviceIpSlice('web', 'shop', 'east', '10.1.0.10', [...HTTP, tcp('admin', 8080)]),
    serviceIpSlice('api', 'shop', 'east', '10.1.0.20', [tcp('HTTP', 80)]),
    serviceIpSlice('api', 'shop', 'south', '10.3.0.20', [tcp('HTTP', 80), tcp('extra', 81)]),
    serviceIpSlice('api', 'shop', 'west', '10.2.0.20', [tcp('HTTP', 80)], false),
    serviceIpSlice('api', 'shop', 'north', '10.4.0.20', [tcp('HTTP', 80)]),
    serviceIpSlice('api', 'shop', 'local', '10.0.0.20', [tcp('HTTP', 80)], false),
    serviceIpSlice('vip', 'shop', 'east', '10.1.0.30', [tcp('grpc', 9090)]),
    serviceIpSlice('down', 'shop', 'west', '10.2.0.40', [tcp('http', 80)], false),
    serviceIpSlice('solo', 'shop', 'east', '10.1.0.70', UNNAMED),
    serviceIpSlice('bare', 'shop', 'east', '10.1.0.80', UNNAMED),
    serviceIpSlice('bare', 'shop', 'south', '10.3.0.80', UNNAMED),
    serviceIpSlice('down', 'shop', 'north', '10.4.0.40', [tcp('http', 80)]),
    endpointSlice({
      service: 'db',
      namespace: 'shop',
      cluster: 'east',
      headless: true,
      ports: [tcp('pg', 5432)],
      endpoints: [
        { addresses: ['10.1.1.1'], hostname: 'db-0' },
        { addresses: ['10.1.1.2'], targetRef: { kind: 'Pod', name: 'db-1' } },
        { addresses: ['10.1.1.3'] },
        { addresses: ['10.1.1.4'], hostname: 'db-4', ready: false },
      ],
    }),
    endpointSlice({
      service: 'db',
      namespace: 'shop',
      cluster: 'north',
      headless: true,
      ports: [tcp('pg', 5432)],
      endpoints: [{ addresses: ['10.4.1.1'], hostname: 'db-0' }],
    }),
    endpointSlice({
      service: 'mixed',
      namespace: 'shop',
      cluster: 'east',
      headless: true,
      ports: [tcp('http', 80)],
      endpoints: [{ addresses: ['10.1.2.1'], hostname: 'm-0' }],
    }),
    endpointSlice({
      service: 'mixed',
      namespace: 'shop',
      cluster: 'east',
      headless: true,
      ports: [],
      endpoints: [{ addresses: ['10.1.2.2'], hostname: 'm-1' }],
    }),
  ],
}).index;

const zones = normalizeZones(['example.org']);

/** Resolves and renders the outcome compactly: NXDOMAIN, NODATA, "A ip,ip", "A* ip|ip" (rotating), "SRV port target;…". */
function run(name: string, qtype: number): string {
  const classified = classifyName(name, qtype, zones);
  if (classified.kind !== 'service') return classified.kind;
  const resolution = resolveServiceQuery(fixture, classified.query, qtype);
  if (resolution.rcode === 'NXDOMAIN') return 'NXDOMAIN';
  const answer = resolution.answer;
  if (answer === null) return 'NODATA';
  if (answer.kind === 'a') return `A ${answer.ips.join(',')}`;
  if (answer.kind === 'a-rotating') return `A* ${answer.choices.join('|')}`;
  return `SRV ${answer.records.map((r) => `${r.port} ${r.target}`).join('; ')}`;
}

const S = 'svc.clusterset.local';
const A = TYPE_A;
const SRV = TYPE_SRV;
const AAAA = TYPE_AAAA;

describe('ClusterSetIP A answers (LH getClusterIPRecord)', () => {
  it.each([
    ['local cluster first when it exports and is healthy', `web.shop.${S}`, A, 'A 10.0.0.10'],
    ['round robin over connected healthy clusters', `api.shop.${S}`, A, 'A* 10.1.0.20|10.3.0.20'],
    ['clusterset IP wins over everything but a prefix', `vip.shop.${S}`, A, 'A 243.0.0.1'],
    ['cluster prefix', `east.api.shop.${S}`, A, 'A 10.1.0.20'],
    ['cluster prefix even when unhealthy', `west.api.shop.${S}`, A, 'A 10.2.0.20'],
    ['cluster prefix even when disconnected', `north.api.shop.${S}`, A, 'A 10.4.0.20'],
    ['cluster prefix beats the clusterset IP', `east.vip.shop.${S}`, A, 'A 10.1.0.30'],
    [
      'cluster prefix of the unhealthy local cluster (base name skips it)',
      `local.api.shop.${S}`,
      A,
      'A 10.0.0.20',
    ],
    ['host label is ignored for ClusterSetIP', `anything.east.api.shop.${S}`, A, 'A 10.1.0.20'],
    ['unknown cluster prefix', `mars.api.shop.${S}`, A, 'NXDOMAIN'],
    ['unknown cluster under a host label', `h.mars.api.shop.${S}`, A, 'NXDOMAIN'],
    ['no healthy connected cluster', `down.shop.${S}`, A, 'NODATA'],
    ['no exporting cluster', `empty.shop.${S}`, A, 'NODATA'],
    ['unknown service', `nope.shop.${S}`, A, 'NXDOMAIN'],
    ['unknown namespace', `web.nope.${S}`, A, 'NXDOMAIN'],
    ['too many labels', `a.b.c.web.shop.${S}`, A, 'not-a-service'],
    ['custom domain', 'web.shop.svc.example.org', A, 'A 10.0.0.10'],
  ])('%s', (_why, name, qtype, expected) => {
    expect(run(name, qtype)).toBe(expected);
  });
});

describe('AAAA answers', () => {
  it.each([
    ['existing service', `web.shop.${S}`, 'NODATA'],
    ['existing headless host', `db-0.east.db.shop.${S}`, 'NODATA'],
    ['prefix labels are not parsed for AAAA', `x.y.z.mars.web.shop.${S}`, 'NODATA'],
    ['service without records', `empty.shop.${S}`, 'NODATA'],
    ['unknown service', `nope.shop.${S}`, 'NXDOMAIN'],
  ])('%s', (_why, name, expected) => {
    expect(run(name, AAAA)).toBe(expected);
  });
});

describe('ClusterSetIP SRV answers', () => {
  it.each([
    [
      'ports common to all clusters, service target',
      `web.shop.${S}`,
      `SRV 80 web.shop.${S}; 53 web.shop.${S}`,
    ],
    [
      'cluster prefix: that cluster`s ports and target',
      `east.web.shop.${S}`,
      `SRV 80 east.web.shop.${S}; 53 east.web.shop.${S}; 8080 east.web.shop.${S}`,
    ],
    ['port filter', `_dns._udp.web.shop.${S}`, `SRV 53 web.shop.${S}`],
    ['port filter without underscores', `dns.udp.web.shop.${S}`, `SRV 53 web.shop.${S}`],
    ['port filter, wrong protocol', `_dns._tcp.web.shop.${S}`, 'NODATA'],
    ['port filter, unknown port', `_nope._tcp.web.shop.${S}`, 'NODATA'],
    ['port only in one cluster is not common', `_admin._tcp.web.shop.${S}`, 'NODATA'],
    ['port filter with cluster', `_admin._tcp.east.web.shop.${S}`, `SRV 8080 east.web.shop.${S}`],
    ['port names compare lower-cased', `_http._tcp.api.shop.${S}`, `SRV 80 api.shop.${S}`],
    [
      'empty port label means no filter (Lighthouse quirk)',
      `_._x.web.shop.${S}`,
      `SRV 80 web.shop.${S}; 53 web.shop.${S}`,
    ],
    ['clusterset IP: the aggregated spec ports', `vip.shop.${S}`, `SRV 9090 vip.shop.${S}`],
    ['no usable cluster', `down.shop.${S}`, 'NODATA'],
    ['unknown cluster', `_http._tcp.mars.web.shop.${S}`, 'NXDOMAIN'],
    // An unnamed port (LH createSRVRecords): every unfiltered query answers it, no named filter does.
    ['clusterset IP with an unnamed port', `solo.shop.${S}`, `SRV 7777 solo.shop.${S}`],
    ['unnamed port, empty port label', `_._tcp.solo.shop.${S}`, `SRV 7777 solo.shop.${S}`],
    ['unnamed port, named filter', `_http._tcp.solo.shop.${S}`, 'NODATA'],
    ['unnamed port common to all clusters', `bare.shop.${S}`, `SRV 7777 bare.shop.${S}`],
    ['unnamed port of one cluster', `south.bare.shop.${S}`, `SRV 7777 south.bare.shop.${S}`],
  ])('%s', (_why, name, expected) => {
    expect(run(name, SRV)).toBe(expected);
  });
});

describe('headless answers (LH getHeadlessRecords)', () => {
  it.each([
    ['all ready addresses of connected clusters', `db.shop.${S}`, A, 'A 10.1.1.1,10.1.1.2,10.1.1.3'],
    ['one cluster, even when disconnected', `north.db.shop.${S}`, A, 'A 10.4.1.1'],
    ['one host', `db-1.east.db.shop.${S}`, A, 'A 10.1.1.2'],
    ['same host name in another cluster', `db-0.north.db.shop.${S}`, A, 'A 10.4.1.1'],
    ['not-ready host is unknown', `db-4.east.db.shop.${S}`, A, 'NXDOMAIN'],
    ['unknown host', `db-9.east.db.shop.${S}`, A, 'NXDOMAIN'],
    ['unknown cluster', `mars.db.shop.${S}`, A, 'NXDOMAIN'],
    [
      'SRV targets name host and cluster; endpoints without host name are left out',
      `db.shop.${S}`,
      SRV,
      `SRV 5432 db-0.east.db.shop.${S}; 5432 db-1.east.db.shop.${S}`,
    ],
    ['SRV of one cluster', `_pg._tcp.north.db.shop.${S}`, SRV, `SRV 5432 db-0.north.db.shop.${S}`],
    ['SRV port filter miss', `_http._tcp.db.shop.${S}`, SRV, 'NODATA'],
    [
      'one record without a matching port empties the answer (Lighthouse quirk)',
      `mixed.shop.${S}`,
      SRV,
      'NODATA',
    ],
    ['A is unaffected by that', `mixed.shop.${S}`, A, 'A 10.1.2.1,10.1.2.2'],
  ])('%s', (_why, name, qtype, expected) => {
    expect(run(name, qtype)).toBe(expected);
  });
});

describe('connectivity', () => {
  it('treats every cluster as connected when connectivity is not tracked', () => {
    const all = buildRecordIndex({
      localClusterId: '',
      connectedClusters: 'all',
      serviceImports: [serviceImport({ service: 'api', namespace: 'shop' })],
      endpointSlices: [
        serviceIpSlice('api', 'shop', 'east', '10.1.0.20', []),
        serviceIpSlice('api', 'shop', 'north', '10.4.0.20', []),
      ],
    }).index;
    const classified = classifyName(`api.shop.${S}`, A, zones);
    if (classified.kind !== 'service') throw new Error('unexpected');
    expect(resolveServiceQuery(all, classified.query, A)).toMatchObject({
      answer: { kind: 'a-rotating', choices: ['10.1.0.20', '10.4.0.20'] },
    });
  });
});
