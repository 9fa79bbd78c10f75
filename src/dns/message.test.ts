import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeQuery } from './message.ts';
import { hex } from './testing.ts';

describe('decodeMessage', () => {
  it('decodes compressed owners and SRV targets, and separates the OPT', () => {
    const msg = hex(
      'abcd 8500 0001 0002 0000 0001 | 01 61 01 62 00 | 0021 0001' +
        '| c00c 0021 0001 00000005 000a 0000 0032 0050 01 78 c00c' + // target x.a.b (compressed)
        '| c00c 0001 0001 00000005 0004 0a000001' +
        '| 00 0029 1000 01 00 8000 0000',
    );
    const decoded = decodeMessage(msg);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.message).toMatchObject({
      id: 0xabcd,
      qr: true,
      aa: true,
      rcode: 16, // extended rcode 1 << 4
      questions: [{ name: 'a.b', type: 33, class: 1 }],
      edns: { udpSize: 4096, version: 0, dnssecOk: true },
      additional: [],
    });
    expect(decoded.message.answers.map((r) => r.rdata)).toEqual([
      { kind: 'SRV', priority: 0, weight: 50, port: 80, target: 'x.a.b' },
      { kind: 'A', address: '10.0.0.1' },
    ]);
  });

  it.each([
    ['pointer to itself', 'abcd 8000 0001 0000 0000 0000 | c00c | 0001 0001'],
    ['forward pointer', 'abcd 8000 0001 0000 0000 0000 | c00e 00 | 0001 0001'],
    ['truncated header', 'abcd 8000 0001'],
    ['trailing bytes', 'abcd 8000 0000 0000 0000 0000 | 00'],
    ['count beyond the data', 'abcd 8000 0000 0001 0000 0000'],
    ['A with 3 bytes', 'abcd 8000 0000 0001 0000 0000 | 00 0001 0001 00000000 0003 010203'],
    [
      'SRV target past rdlength',
      'abcd 8000 0000 0001 0000 0000 | 00 0021 0001 00000000 0007 000000000000 01',
    ],
    ['two OPTs', 'abcd 8000 0000 0000 0000 0002 | 00 0029 1000 00000000 0000 | 00 0029 1000 00000000 0000'],
    ['OPT in the answer section', 'abcd 8000 0000 0001 0000 0000 | 00 0029 1000 00000000 0000'],
    ['bad label type', 'abcd 8000 0001 0000 0000 0000 | 40 00 | 0001 0001'],
  ])('rejects %s', (_name, packet) => {
    expect(decodeMessage(hex(packet)).ok).toBe(false);
  });

  it('round-trips encodeQuery, keeping case', () => {
    const q = encodeQuery({
      id: 77,
      name: 'MiXed.Case',
      type: 28,
      rd: false,
      edns: { udpSize: 1400, dnssecOk: true },
    });
    const decoded = decodeMessage(q);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.message).toMatchObject({
      id: 77,
      qr: false,
      rd: false,
      questions: [{ name: 'MiXed.Case', type: 28, class: 1 }],
      edns: { udpSize: 1400, dnssecOk: true, version: 0 },
    });
  });

  it('encodeQuery refuses names it cannot encode', () => {
    expect(() => encodeQuery({ id: 1, name: 'a..b', type: 1 })).toThrow(RangeError);
  });
});
