import { describe, expect, it } from 'vitest';
import { RCODE_BADVERS, RCODE_FORMERR, RCODE_NOERROR, RCODE_NOTIMP, RCODE_NXDOMAIN } from './constants.ts';
import { decodeMessage } from './message.ts';
import { hex } from './testing.ts';
import { type ParsedQuery, parseQuery } from './wire.ts';
import {
  encodeARecords,
  encodeName,
  encodeSrvRecords,
  isTruncatedReply,
  NO_RECORDS,
  replyLimit,
  writeRejection,
  writeReply,
} from './wire-write.ts';

function query(packet: Buffer): ParsedQuery {
  const parsed = parseQuery(packet);
  if (parsed.kind !== 'query') throw new Error('not a query');
  return parsed;
}

const Q_A = hex('abcd 0110 0001 0000 0000 0000 | 03 466f6f 02 6e73 03 737663 00 | 0001 0001'); // Foo.ns.svc A, RD+CD
const Q_A_EDNS = hex(
  'abcd 0100 0001 0000 0000 0001 | 03 666f6f 00 | 0001 0001 | 00 0029 0200 00 00 8000 0000',
);

describe('record encoders', () => {
  it('encodes A records with the owner as a pointer to the question name', () => {
    const encoded = encodeARecords(['10.0.0.1', '192.168.255.7'], 5);
    expect(encoded.bytes).toEqual(
      hex('c00c 0001 0001 00000005 0004 0a000001 | c00c 0001 0001 00000005 0004 c0a8ff07'),
    );
    expect(encoded.recordEnds).toEqual([16, 32]);
  });

  it('skips strings that are not IPv4 addresses', () => {
    expect(encodeARecords(['::1', '1.2.3', 'x', '1.2.3.4'], 0).recordEnds).toEqual([16]);
  });

  it('encodes SRV records with priority 0, weight 50 and an uncompressed target (RFC 2782)', () => {
    const encoded = encodeSrvRecords([{ port: 8080, target: 'a.b' }], 3600);
    expect(encoded.bytes).toEqual(hex('c00c 0021 0001 00000e10 000b | 0000 0032 1f90 | 01 61 01 62 00'));
    expect(encoded.recordEnds).toEqual([23]);
  });

  it('drops SRV records whose target or port cannot be encoded', () => {
    const bad = encodeSrvRecords(
      [
        { port: 70000, target: 'a' },
        { port: 1, target: 'a..b' },
        { port: 1, target: `${'x'.repeat(64)}.b` },
      ],
      5,
    );
    expect(bad.recordEnds).toEqual([]);
  });

  it.each([
    ['a.b', hex('01 61 01 62 00')],
    ['', hex('00')],
    ['x-1_y', hex('05 782d315f79 00')],
    ['a..b', null],
    ['a.', null],
    ['a b', null],
    ['a\\.b', null],
    ['é', null],
    [`${'a'.repeat(64)}`, null],
    [Array(128).fill('a').join('.'), null], // 256 bytes on the wire
  ])('encodeName(%j)', (name, expected) => {
    expect(encodeName(name)).toEqual(expected);
  });
});

describe('writeReply', () => {
  it('builds the exact reply: echoed id, RD/CD, question bytes (case kept), AA, records', () => {
    const reply = writeReply(Q_A, query(Q_A), RCODE_NOERROR, true, encodeARecords(['10.0.0.1'], 5), 512);
    expect(reply).toEqual(
      hex(
        'abcd 8510 0001 0001 0000 0000 | 03 466f6f 02 6e73 03 737663 00 | 0001 0001 | c00c 0001 0001 00000005 0004 0a000001',
      ),
    );
  });

  it('echoes an OPT with our UDP size and the DO bit', () => {
    const reply = writeReply(Q_A_EDNS, query(Q_A_EDNS), RCODE_NXDOMAIN, true, NO_RECORDS, 512);
    expect(reply).toEqual(
      hex('abcd 8503 0001 0000 0000 0001 | 03 666f6f 00 | 0001 0001 | 00 0029 04d0 00 00 8000 0000'),
    );
  });

  it('puts the upper bits of an extended rcode into the OPT (BADVERS = 16)', () => {
    const reply = writeReply(Q_A_EDNS, query(Q_A_EDNS), RCODE_BADVERS, false, NO_RECORDS, 512);
    const decoded = decodeMessage(reply);
    expect(decoded.ok && decoded.message.rcode).toBe(16);
    expect(reply.readUInt16BE(2) & 0xf).toBe(0);
  });

  it('answers in the query class (Lighthouse copies QClass into every record)', () => {
    const chaos = hex('0001 0000 0001 0000 0000 0000 | 01 61 00 | 0001 0003');
    const reply = writeReply(
      chaos,
      query(chaos),
      RCODE_NOERROR,
      true,
      encodeARecords(['1.1.1.1', '2.2.2.2'], 5),
      512,
    );
    const decoded = decodeMessage(reply);
    expect(decoded.ok && decoded.message.answers.map((r) => r.class)).toEqual([3, 3]);
  });

  it('keeps whole records that fit, sets TC, and still carries the OPT', () => {
    const records = encodeARecords(
      Array.from({ length: 40 }, (_, i) => `10.0.0.${i}`),
      5,
    );
    const q = query(Q_A_EDNS);
    // header 12 + question 9 + OPT 11 = 32; 512 leaves 480 = 30 records of 16 bytes.
    const reply = writeReply(Q_A_EDNS, q, RCODE_NOERROR, true, records, replyLimit(q, 'udp'));
    expect(reply.length).toBe(512);
    const decoded = decodeMessage(reply);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.message).toMatchObject({ tc: true, aa: true, edns: { udpSize: 1232 } });
    expect(decoded.message.answers).toHaveLength(30);
    expect(isTruncatedReply(reply)).toBe(true);

    const full = writeReply(Q_A_EDNS, q, RCODE_NOERROR, true, records, replyLimit(q, 'tcp'));
    expect(isTruncatedReply(full)).toBe(false);
    expect(full.readUInt16BE(6)).toBe(40);
  });

  it('sends TC with no records when not even one fits', () => {
    const big = encodeSrvRecords(
      [{ port: 1, target: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}` }],
      5,
    );
    const reply = writeReply(Q_A, query(Q_A), RCODE_NOERROR, true, big, 100);
    expect(reply.readUInt16BE(6)).toBe(0);
    expect(isTruncatedReply(reply)).toBe(true);
  });
});

describe('replyLimit', () => {
  const plain = query(Q_A);
  const edns = (size: number) => ({ ...query(Q_A_EDNS), ednsUdpSize: size });
  it.each([
    ['no EDNS over UDP', plain, 'udp', 512],
    ['EDNS 4096', edns(4096), 'udp', 4096],
    ['EDNS below the 512 floor', edns(100), 'udp', 512],
    ['EDNS above one datagram', edns(65535), 'udp', 65507],
    ['TCP', plain, 'tcp', 65535],
  ] as const)('%s', (_name, q, transport, limit) => {
    expect(replyLimit(q, transport)).toBe(limit);
  });
});

describe('writeRejection', () => {
  it('FORMERR: header only, id and RD kept, opcode cleared', () => {
    expect(
      writeRejection({ kind: 'reject', id: 0xbeef, flags: 0x0110, rcode: RCODE_FORMERR, reason: '' }),
    ).toEqual(hex('beef 8111 0000 0000 0000 0000'));
  });

  it('NOTIMP: header only with the refused opcode kept', () => {
    expect(writeRejection({ kind: 'reject', id: 1, flags: 0x2900, rcode: RCODE_NOTIMP, reason: '' })).toEqual(
      hex('0001 a904 0000 0000 0000 0000'),
    );
  });
});
