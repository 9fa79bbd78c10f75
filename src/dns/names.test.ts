import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { TYPE_A, TYPE_AAAA, TYPE_SRV } from './constants.ts';
import { canonicalName, classifyName, normalizeZones, type ServiceQuery } from './names.ts';

const zones = normalizeZones(['example.org', 'deep.clusterset.local']);
const Z = 'clusterset.local';
const MX = 15;

function q(fields: Partial<ServiceQuery>): { kind: 'service'; query: ServiceQuery } {
  const query = {
    zone: Z,
    service: 'web',
    namespace: 'shop',
    cluster: '',
    hostname: '',
    port: '',
    protocol: '',
    ...fields,
  };
  return { kind: 'service', query };
}

describe('normalizeZones', () => {
  it('always has clusterset.local, lower-cases, strips the dot, orders most specific first', () => {
    expect(normalizeZones(['Example.ORG.', 'clusterset.local', 'a.b.c']).map((z) => z.name)).toEqual([
      'a.b.c',
      'clusterset.local',
      'example.org',
    ]);
  });

  it.each(['', '.', 'a..b', 'bad zone', 'ü.de', `${'a'.repeat(64)}.org`])('rejects %j', (zone) => {
    expect(() => normalizeZones([zone])).toThrow(MoorError);
  });
});

describe('classifyName (Lighthouse parse.go)', () => {
  const cases: [string, number, ReturnType<typeof classifyName>][] = [
    // zone, then type, then grammar
    ['web.shop.svc.example.com', TYPE_A, { kind: 'out-of-zone' }],
    ['clusterset.local.evil', TYPE_A, { kind: 'out-of-zone' }],
    ['xclusterset.local', TYPE_A, { kind: 'out-of-zone' }],
    ['', TYPE_A, { kind: 'out-of-zone' }],
    ['web.shop.svc.clusterset.local', MX, { kind: 'unsupported-type' }],
    ['nonsense.clusterset.local', 255, { kind: 'unsupported-type' }],
    ['clusterset.local', TYPE_A, { kind: 'not-a-service' }],
    ['svc.clusterset.local', TYPE_A, { kind: 'not-a-service' }],
    ['shop.svc.clusterset.local', TYPE_A, { kind: 'not-a-service' }],
    ['web.shop.pod.clusterset.local', TYPE_A, { kind: 'not-a-service' }],
    ['web.shop.other.clusterset.local', TYPE_A, { kind: 'not-a-service' }],
    ['web.shop.svc.clusterset.local', TYPE_A, q({})],
    ['web.shop.svc.clusterset.local', TYPE_SRV, q({})],
    ['web.shop.svc.example.org', TYPE_A, q({ zone: 'example.org' })],
    ['web.shop.svc.deep.clusterset.local', TYPE_A, q({ zone: 'deep.clusterset.local' })],
    ['east.web.shop.svc.clusterset.local', TYPE_A, q({ cluster: 'east' })],
    ['web-0.east.web.shop.svc.clusterset.local', TYPE_A, q({ cluster: 'east', hostname: 'web-0' })],
    ['x.web-0.east.web.shop.svc.clusterset.local', TYPE_A, { kind: 'not-a-service' }],
    ['east.web.shop.svc.clusterset.local', TYPE_SRV, q({ cluster: 'east' })],
    ['_http._tcp.web.shop.svc.clusterset.local', TYPE_SRV, q({ port: 'http', protocol: 'tcp' })],
    ['http.tcp.web.shop.svc.clusterset.local', TYPE_SRV, q({ port: 'http', protocol: 'tcp' })],
    ['__http._tcp.web.shop.svc.clusterset.local', TYPE_SRV, q({ port: '_http', protocol: 'tcp' })],
    [
      '_http._tcp.east.web.shop.svc.clusterset.local',
      TYPE_SRV,
      q({ cluster: 'east', port: 'http', protocol: 'tcp' }),
    ],
    ['a._http._tcp.east.web.shop.svc.clusterset.local', TYPE_SRV, { kind: 'not-a-service' }],
    // A reads two prefix labels as host + cluster, even when they look like a port filter.
    ['_http._tcp.web.shop.svc.clusterset.local', TYPE_A, q({ cluster: '_tcp', hostname: '_http' })],
    // AAAA parses no prefix at all.
    ['a.b.c.d.e.web.shop.svc.clusterset.local', TYPE_AAAA, q({})],
    // An escaped dot stays inside its label.
    ['a\\.b.web.shop.svc.clusterset.local', TYPE_A, q({ cluster: 'a\\.b' })],
  ];
  it.each(cases)('%j type %i', (name, qtype, expected) => {
    expect(classifyName(name, qtype, zones)).toEqual(expected);
  });
});

describe('canonicalName', () => {
  it.each([
    [q({ cluster: 'east', hostname: 'h' }), TYPE_A, false, 'east.web.shop.svc.clusterset.local'],
    [q({ cluster: 'east', hostname: 'h' }), TYPE_A, true, 'h.east.web.shop.svc.clusterset.local'],
    [q({ cluster: 'east' }), TYPE_AAAA, true, 'web.shop.svc.clusterset.local'],
    [q({ port: 'http', protocol: 'tcp' }), TYPE_SRV, false, '_http._tcp.web.shop.svc.clusterset.local'],
    [q({ port: '', protocol: 'tcp' }), TYPE_SRV, false, '_._tcp.web.shop.svc.clusterset.local'],
    [q({ port: '', protocol: '', cluster: 'e' }), TYPE_SRV, false, 'e.web.shop.svc.clusterset.local'],
  ])('%j', (classified, qtype, headless, expected) => {
    expect(canonicalName(classified.query, qtype, headless)).toBe(expected);
  });

  it('classifies back to an equivalent query', () => {
    const label = fc.stringMatching(/^_?[a-z0-9-]{1,8}$/);
    fc.assert(
      fc.property(
        fc.array(label, { maxLength: 4 }),
        fc.constantFrom(TYPE_A, TYPE_AAAA, TYPE_SRV),
        fc.boolean(),
        (prefix, qtype, headless) => {
          const name = [...prefix, 'web', 'shop', 'svc', 'clusterset', 'local'].join('.');
          const first = classifyName(name, qtype, zones);
          if (first.kind !== 'service') return;
          const again = classifyName(canonicalName(first.query, qtype, headless), qtype, zones);
          if (again.kind !== 'service') throw new Error(`canonical name of ${name} is not a service`);
          const relevant = (s: ServiceQuery) => ({
            ...s,
            hostname: qtype === TYPE_A && headless ? s.hostname : '',
            cluster: qtype === TYPE_AAAA ? '' : s.cluster,
            protocol: s.port === '' ? '' : s.protocol,
          });
          expect(relevant(again.query)).toEqual(relevant(first.query));
        },
      ),
    );
  });
});
