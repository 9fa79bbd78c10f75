import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { createAnswerer, type Transport } from './answer.ts';
import { TYPE_A, TYPE_AAAA, TYPE_SRV } from './constants.ts';
import { type DecodedMessage, decodeMessage, encodeQuery, type QuerySpec } from './message.ts';
import { classifyName, normalizeZones } from './names.ts';
import { buildRecordIndex, type RecordIndexInput } from './records.ts';
import { resolveServiceQuery } from './resolve.ts';
import { endpointSlice, hex, serviceImport, serviceIpSlice, tcp } from './testing.ts';

const S = 'svc.clusterset.local';
const HTTP = [tcp('http', 80)];

function input(overrides: Partial<RecordIndexInput> = {}): RecordIndexInput {
  return {
    localClusterId: 'local',
    connectedClusters: ['east', 'south'],
    serviceImports: [
      serviceImport({ service: 'web', namespace: 'shop', ports: HTTP }),
      serviceImport({ service: 'api', namespace: 'shop', ports: HTTP }),
      serviceImport({ service: 'db', namespace: 'shop', type: 'Headless' }),
    ],
    endpointSlices: [
      serviceIpSlice('web', 'shop', 'local', '10.0.0.10', HTTP),
      serviceIpSlice('api', 'shop', 'east', '10.1.0.20', HTTP),
      serviceIpSlice('api', 'shop', 'south', '10.3.0.20', HTTP),
      serviceIpSlice('api', 'shop', 'north', '10.4.0.20', HTTP),
      endpointSlice({
        service: 'db',
        namespace: 'shop',
        cluster: 'east',
        headless: true,
        ports: [tcp('pg', 5432)],
        endpoints: Array.from({ length: 100 }, (_, i) => ({
          addresses: [`10.1.1.${i}`],
          hostname: `db-${i}`,
        })),
      }),
    ],
    ...overrides,
  };
}

const answerer = createAnswerer(buildRecordIndex(input()).index, { customDomains: ['example.org'] });

function ask(
  spec: Partial<QuerySpec> & { name: string },
  transport: Transport = 'udp',
  a = answerer,
): DecodedMessage {
  const result = a.answer(encodeQuery({ id: 4242, type: TYPE_A, ...spec }), transport);
  if (result.kind !== 'reply') throw new Error(`dropped: ${result.reason}`);
  const decoded = decodeMessage(result.message);
  if (!decoded.ok) throw new Error(decoded.reason);
  expect(decoded.message.id).toBe(4242);
  return decoded.message;
}

const addresses = (m: DecodedMessage) =>
  m.answers.map((r) => (r.rdata.kind === 'A' ? r.rdata.address : r.rdata.kind));

describe('answerer: reply shape', () => {
  it('answers A authoritatively, echoing RD, the question in its original case, with TTL 5', () => {
    const reply = ask({ name: `WEB.Shop.${S}` });
    expect(reply).toMatchObject({ qr: true, aa: true, rd: true, tc: false, rcode: 0, edns: null });
    expect(reply.questions).toEqual([{ name: `WEB.Shop.${S}`, type: TYPE_A, class: 1 }]);
    expect(reply.answers).toEqual([
      { name: `WEB.Shop.${S}`, type: TYPE_A, class: 1, ttl: 5, rdata: { kind: 'A', address: '10.0.0.10' } },
    ]);
    expect(ask({ name: `web.shop.${S}`, rd: false }).rd).toBe(false);
  });

  it.each([
    ['unknown service', `nope.shop.${S}`, TYPE_A, { rcode: 3, aa: true }],
    ['unsupported type in zone', `web.shop.${S}`, 15, { rcode: 4, aa: true }],
    ['ANY in zone', `web.shop.${S}`, 255, { rcode: 4, aa: true }],
    ['name outside every zone', 'www.example.com', TYPE_A, { rcode: 5, aa: false }],
    ['unsupported type outside every zone', 'www.example.com', 15, { rcode: 5, aa: false }],
    ['AAAA of a known name', `web.shop.${S}`, TYPE_AAAA, { rcode: 0, aa: true }],
    ['pod query', `web.shop.pod.clusterset.local`, TYPE_A, { rcode: 3, aa: true }],
    ['apex', 'clusterset.local', TYPE_A, { rcode: 3, aa: true }],
    ['custom domain', 'web.shop.svc.example.org', TYPE_A, { rcode: 0, aa: true }],
  ])('%s', (_why, name, type, expected) => {
    const reply = ask({ name, type });
    expect(reply).toMatchObject(expected);
    if (expected.rcode !== 0 || type === TYPE_AAAA) expect(reply.answers).toEqual([]);
    expect(reply.questions).toHaveLength(1);
  });

  it('flags out-of-zone REFUSED replies so a forwarder may take over', () => {
    const refused = answerer.answer(encodeQuery({ id: 1, name: 'example.com', type: 1 }), 'udp');
    const nx = answerer.answer(encodeQuery({ id: 1, name: `x.shop.${S}`, type: 1 }), 'udp');
    expect(refused).toMatchObject({ kind: 'reply', outOfZone: true, rcode: 5 });
    expect(nx).toMatchObject({ kind: 'reply', outOfZone: false, rcode: 3 });
  });

  it('drops responses and runts; answers malformed queries with a header-only FORMERR', () => {
    expect(answerer.answer(Buffer.alloc(5), 'udp')).toEqual({ kind: 'drop', reason: 'short' });
    expect(answerer.answer(hex('0001 8000 0001 0000 0000 0000 00 0001 0001'), 'udp')).toEqual({
      kind: 'drop',
      reason: 'response',
    });
    const result = answerer.answer(hex('0001 0100 0001 0000 0000 0000 c00c 0001 0001'), 'udp');
    expect(result).toMatchObject({ kind: 'reply', rcode: 1, message: hex('0001 8101 0000 0000 0000 0000') });
  });

  it('echoes EDNS (our size, the DO bit) and answers other EDNS versions with BADVERS', () => {
    const reply = ask({ name: `web.shop.${S}`, edns: { udpSize: 4096, dnssecOk: true } });
    expect(reply.edns).toEqual({ udpSize: 1232, version: 0, dnssecOk: true });
    const badvers = ask({ name: `web.shop.${S}`, edns: { udpSize: 4096, version: 1 } });
    expect(badvers).toMatchObject({ rcode: 16, aa: false, answers: [], edns: { version: 0 } });
  });

  it('answers in the query class', () => {
    expect(ask({ name: `web.shop.${S}`, class: 3 }).answers[0]?.class).toBe(3);
  });

  it('uses the configured TTL and rejects one out of range', () => {
    const ttl30 = createAnswerer(buildRecordIndex(input()).index, { ttl: 30 });
    expect(ask({ name: `db.shop.${S}` }, 'udp', ttl30).answers.every((r) => r.ttl === 30)).toBe(true);
    expect(() => createAnswerer(buildRecordIndex(input()).index, { ttl: 3601 })).toThrow(MoorError);
    expect(() => createAnswerer(buildRecordIndex(input()).index, { ttl: 1.5 })).toThrow(MoorError);
  });
});

describe('answerer: truncation', () => {
  it('truncates at 512 bytes without EDNS, honours the EDNS size, and sends everything over TCP', () => {
    const plain = ask({ name: `db.shop.${S}` });
    expect(plain.tc).toBe(true);
    expect(plain.answers.length).toBeLessThan(100);
    expect(plain.answers.length).toBeGreaterThan(25);
    const small = answerer.answer(
      encodeQuery({ id: 1, name: `db.shop.${S}`, type: 1, edns: { udpSize: 100 } }),
      'udp',
    );
    expect(small.kind === 'reply' && small.message.length).toBeLessThanOrEqual(512);
    expect(ask({ name: `db.shop.${S}`, edns: { udpSize: 4096 } })).toMatchObject({ tc: false });
    expect(ask({ name: `db.shop.${S}`, edns: { udpSize: 4096 } }).answers).toHaveLength(100);
    const viaTcp = ask({ name: `db.shop.${S}`, type: TYPE_SRV }, 'tcp');
    expect(viaTcp.tc).toBe(false);
    expect(viaTcp.answers).toHaveLength(100);
  });
});

describe('answerer: round robin', () => {
  it('rotates per query over connected healthy clusters, shared across zones and spellings', () => {
    const a = createAnswerer(buildRecordIndex(input()).index, { customDomains: ['example.org'] });
    const seen = [
      ask({ name: `api.shop.${S}` }, 'udp', a),
      ask({ name: `API.shop.${S}` }, 'udp', a),
      ask({ name: 'api.shop.svc.example.org' }, 'tcp', a),
      ask({ name: `api.shop.${S}` }, 'udp', a),
    ].map((m) => addresses(m).join());
    expect(seen).toEqual(['10.1.0.20', '10.3.0.20', '10.1.0.20', '10.3.0.20']);
  });

  it('keeps its position across index updates and follows connectivity changes', () => {
    const first = buildRecordIndex(input()).index;
    const a = createAnswerer(first);
    expect(addresses(ask({ name: `api.shop.${S}` }, 'udp', a))).toEqual(['10.1.0.20']);
    const second = buildRecordIndex(input(), first).index;
    a.update(second);
    expect(addresses(ask({ name: `api.shop.${S}` }, 'udp', a))).toEqual(['10.3.0.20']);
    a.update(buildRecordIndex(input({ connectedClusters: ['north'] }), second).index);
    expect(addresses(ask({ name: `api.shop.${S}` }, 'udp', a))).toEqual(['10.4.0.20']);
    a.update(buildRecordIndex(input({ connectedClusters: [] })).index);
    expect(ask({ name: `api.shop.${S}` }, 'udp', a)).toMatchObject({ rcode: 0, answers: [] });
  });
});

describe('answerer: precomputed and slow paths agree with resolve()', () => {
  const index = buildRecordIndex(input()).index;
  const zones = normalizeZones();
  const label = fc.constantFrom(
    'east',
    'south',
    'north',
    'local',
    'mars',
    '_http',
    '_tcp',
    'http',
    'tcp',
    '_pg',
    'db-7',
    'x',
  );
  const service = fc.constantFrom('web.shop', 'api.shop', 'db.shop', 'nope.shop');

  it('for random names built from the fixture’s vocabulary', () => {
    const a = createAnswerer(index);
    expect(a.precomputedNames).toBeGreaterThan(100);
    fc.assert(
      fc.property(
        fc.array(label, { maxLength: 3 }),
        service,
        fc.constantFrom(TYPE_A, TYPE_AAAA, TYPE_SRV),
        (prefix, svc, type) => {
          const name = [...prefix, svc, S].join('.');
          const reply = ask({ name, type }, 'tcp', a);
          const classified = classifyName(name, type, zones);
          if (classified.kind !== 'service') {
            expect(reply.rcode).toBe(3);
            return;
          }
          const expected = resolveServiceQuery(index, classified.query, type);
          if (expected.rcode === 'NXDOMAIN' || expected.answer === null) {
            expect({ rcode: reply.rcode, answers: reply.answers.length }).toEqual({
              rcode: expected.rcode === 'NXDOMAIN' ? 3 : 0,
              answers: 0,
            });
            return;
          }
          const got = reply.answers.map((r) =>
            r.rdata.kind === 'SRV'
              ? `${r.rdata.port} ${r.rdata.target}`
              : addresses({ ...reply, answers: [r] })[0],
          );
          const answer = expected.answer;
          if (answer.kind === 'a') expect(got).toEqual(answer.ips);
          else if (answer.kind === 'a-rotating') expect(answer.choices).toContain(got[0]);
          else expect(got).toEqual(answer.records.map((r) => `${r.port} ${r.target}`));
          expect(reply.answers.every((r) => r.name === name)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
