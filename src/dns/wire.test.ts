import { describe, expect, it } from 'vitest';
import { RCODE_FORMERR, RCODE_NOTIMP } from './constants.ts';
import { hex } from './testing.ts';
import { type ParsedQuery, parseQuery, splitLabels } from './wire.ts';

const HEADER_A = '1234 0100 0001 0000 0000 0000'; // id 0x1234, RD, one question
const NAME_NGINX = '05 4e47494e58 07 64656661756c74 03 737663 0a 636c75737465727365 74 05 6c6f63616c 00'; // NGINX.default.svc.clusterset.local
const OPT_4096_DO = '00 0029 1000 00 00 8000 0000'; // root, OPT, size 4096, ext-rcode 0, v0, DO

function parsed(buf: Buffer): ParsedQuery {
  const result = parseQuery(buf);
  if (result.kind !== 'query') throw new Error(`expected a query, got ${JSON.stringify(result)}`);
  return result;
}

describe('parseQuery: well-formed queries', () => {
  it('reads id, RD, the lower-cased name, type, class and where the question ends', () => {
    const buf = hex(`${HEADER_A} | ${NAME_NGINX} | 0001 0001`);
    expect(parsed(buf)).toEqual({
      kind: 'query',
      id: 0x1234,
      flags: 0x0100,
      rd: true,
      qname: 'nginx.default.svc.clusterset.local',
      qtype: 1,
      qclass: 1,
      questionEnd: buf.length,
      hasEdns: false,
      ednsUdpSize: 0,
      ednsVersion: 0,
      ednsDo: false,
    });
  });

  it('reads an OPT record: UDP size, version and the DO bit', () => {
    const q = parsed(hex(`1234 0000 0001 0000 0000 0001 | 01 61 00 | 0021 0001 | ${OPT_4096_DO}`));
    expect(q).toMatchObject({
      rd: false,
      qname: 'a',
      qtype: 33,
      hasEdns: true,
      ednsUdpSize: 4096,
      ednsDo: true,
    });
    const v1 = parsed(
      hex(`1234 0000 0001 0000 0000 0001 | 01 61 00 | 0001 0001 | 00 0029 0200 00 01 0000 0000`),
    );
    expect(v1).toMatchObject({ ednsVersion: 1, ednsUdpSize: 512, ednsDo: false });
  });

  it('accepts well-formed EDNS options and skips other additional, answer and authority records', () => {
    const cookie = '000a 0008 0102030405060708';
    const withOption = hex(
      `1234 0000 0001 0000 0000 0001 | 01 61 00 | 0001 0001 | 00 0029 04d0 0000 0000 000c ${cookie}`,
    );
    expect(parsed(withOption)).toMatchObject({ hasEdns: true, ednsUdpSize: 1232 });
    // An answer record whose owner is a pointer loop is skipped, never followed.
    const answer = 'c00c 0001 0001 00000000 0004 01020304';
    const authority = 'c0 1c 0001 0001 00000000 0000'; // pointer to itself
    const other = '00 0010 0001 00000000 0001 00'; // TXT in additional
    const buf = hex(
      `1234 0000 0001 0001 0001 0002 | 01 61 00 | 0001 0001 | ${answer} | ${authority} | ${other} | ${OPT_4096_DO}`,
    );
    expect(parsed(buf)).toMatchObject({ qname: 'a', hasEdns: true, questionEnd: 12 + 3 + 4 });
  });

  it('ignores bytes after the last record, as miekg/dns does', () => {
    expect(parsed(hex(`${HEADER_A} | 01 61 00 | 0001 0001 | deadbeef`)).qname).toBe('a');
  });

  it('parses the root name as the empty string', () => {
    expect(parsed(hex(`${HEADER_A} | 00 | 0002 0001`))).toMatchObject({
      qname: '',
      qtype: 2,
      questionEnd: 17,
    });
  });

  it('escapes bytes that would make names ambiguous, and lower-cases ASCII only', () => {
    const buf = hex(`${HEADER_A} | 03 612e62 | 02 5c41 | 03 20ff7e | 02 c3a9 | 00 | 0001 0001`);
    expect(parsed(buf).qname).toBe('a\\.b.\\\\a.\\032\\255~.\\195\\169');
  });

  it('accepts a name of exactly 255 wire bytes and rejects 256', () => {
    const label = (n: number) => `${n.toString(16).padStart(2, '0')}${'61'.repeat(n)}`;
    const name255 = `${label(63)}${label(63)}${label(63)}${label(61)}00`; // 64*3 + 62 + 1 = 255
    expect(parsed(hex(`${HEADER_A} ${name255} 0001 0001`)).qname).toHaveLength(63 * 3 + 61 + 3);
    const name256 = `${label(63)}${label(63)}${label(63)}${label(62)}00`;
    expect(parseQuery(hex(`${HEADER_A} ${name256} 0001 0001`))).toMatchObject({
      kind: 'reject',
      rcode: RCODE_FORMERR,
    });
  });
});

describe('parseQuery: hostile and malformed input', () => {
  const formerr = { kind: 'reject', rcode: RCODE_FORMERR, id: 0x1234 };
  const cases: [string, string, object][] = [
    ['empty packet', '', { kind: 'drop', reason: 'short' }],
    ['11-byte header', '1234 0100 0001 0000 0000 00', { kind: 'drop', reason: 'short' }],
    [
      'a response (QR set)',
      '1234 8100 0001 0000 0000 0000 | 01 61 00 | 0001 0001',
      { kind: 'drop', reason: 'response' },
    ],
    [
      'opcode STATUS',
      '1234 1100 0001 0000 0000 0000 | 01 61 00 | 0001 0001',
      { kind: 'reject', rcode: RCODE_NOTIMP },
    ],
    ['opcode UPDATE', '1234 2800 0001 0000 0000 0000', { kind: 'reject', rcode: RCODE_NOTIMP }],
    ['no question', '1234 0100 0000 0000 0000 0000', formerr],
    ['two questions', '1234 0100 0002 0000 0000 0000 | 01 61 00 | 0001 0001 | 01 62 00 | 0001 0001', formerr],
    ['65535 questions', '1234 0100 ffff 0000 0000 0000', formerr],
    ['two answers', '1234 0100 0001 0002 0000 0000 | 01 61 00 | 0001 0001', formerr],
    ['absurd answer count', '1234 0100 0001 ffff 0000 0000 | 01 61 00 | 0001 0001', formerr],
    ['two authority records', '1234 0100 0001 0000 0002 0000 | 01 61 00 | 0001 0001', formerr],
    ['three additional records', '1234 0100 0001 0000 0000 0003 | 01 61 00 | 0001 0001', formerr],
    ['compression pointer in question', `${HEADER_A} | c00c | 0001 0001`, formerr],
    ['pointer after a label in question', `${HEADER_A} | 01 61 c00c | 0001 0001`, formerr],
    ['label length 64 (reserved 01 type)', `${HEADER_A} | 40 ${'61'.repeat(64)} 00 | 0001 0001`, formerr],
    ['extended label type 10', `${HEADER_A} | 80 00 | 0001 0001`, formerr],
    ['name cut inside a label', `${HEADER_A} | 05 6162`, formerr],
    ['name without terminator', `${HEADER_A} | 01 61`, formerr],
    ['missing qtype/qclass', `${HEADER_A} | 01 61 00 | 00`, formerr],
    ['answer count without the answer', '1234 0100 0001 0001 0000 0000 | 01 61 00 | 0001 0001', formerr],
    [
      'rdlength past the end',
      '1234 0100 0001 0000 0000 0001 | 01 61 00 | 0001 0001 | 00 0029 1000 00000000 0010 00',
      formerr,
    ],
    [
      'two OPT records',
      `1234 0100 0001 0000 0000 0002 | 01 61 00 | 0001 0001 | ${OPT_4096_DO} | ${OPT_4096_DO}`,
      formerr,
    ],
    [
      'OPT not owned by root',
      '1234 0100 0001 0000 0000 0001 | 01 61 00 | 0001 0001 | 01 61 00 0029 1000 00000000 0000',
      formerr,
    ],
    [
      'OPT owned by a pointer',
      '1234 0100 0001 0000 0000 0001 | 01 61 00 | 0001 0001 | c00c 0029 1000 00000000 0000',
      formerr,
    ],
    [
      'EDNS option longer than rdata',
      '1234 0100 0001 0000 0000 0001 | 01 61 00 | 0001 0001 | 00 0029 1000 00000000 0006 000a 0008 0102',
      formerr,
    ],
    [
      'EDNS option header cut',
      '1234 0100 0001 0000 0000 0001 | 01 61 00 | 0001 0001 | 00 0029 1000 00000000 0002 000a',
      formerr,
    ],
    [
      'pointer loop in an additional owner (never followed)',
      '1234 0100 0001 0000 0000 0001 | 01 61 00 | 0001 0001 | c0 11',
      formerr,
    ],
  ];
  it.each(cases)('%s', (_name, packet, expected) => {
    expect(parseQuery(hex(packet))).toMatchObject(expected);
  });

  it('keeps the id and flags of rejected queries for the header-only reply', () => {
    expect(parseQuery(hex('beef 2910 0001 0000 0000 0000'))).toMatchObject({ id: 0xbeef, flags: 0x2910 });
  });
});

describe('splitLabels', () => {
  it.each([
    ['', []],
    ['a', ['a']],
    ['a.b.c', ['a', 'b', 'c']],
    ['a\\.b.c', ['a\\.b', 'c']],
    ['a\\\\.b', ['a\\\\', 'b']],
    ['\\046x.y', ['\\046x', 'y']],
  ])('%j', (name, labels) => {
    expect(splitLabels(name)).toEqual(labels);
  });
});
