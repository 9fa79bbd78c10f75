import { describe, expect, test } from 'vitest';
import { parseWgDump } from './dump.ts';

const PRIV = '+H1rW/+3Kh9tNtN8fmldWu9g21BF0KgGwgMNAFZFzlw=';
const PUB = 'KrDRsmW9wFIUZZR4lFCTeTL/QPrF1o3sRuXKrPbf7Sg=';
const PEER = 'crQmKFOyU4sEDiePh7q9fxrAURKmo7/qvq0ChLMx9Ag=';
const PSK = '166qrMxfEPaVleKoxGvaSxg4JA+bZLTIGSEegg98S1o=';

describe('parseWgDump', () => {
  test('a device without key, port chosen by wireguard-go, no peers', () => {
    expect(parseWgDump('(none)\t(none)\t60331\toff\n')).toEqual({
      interface: { privateKey: null, publicKey: null, listenPort: 60331, fwmark: null },
      peers: [],
    });
  });

  test('peers with and without optional values (captured from wg 1.0.20210914)', () => {
    const text = [
      `${PRIV}\t${PUB}\t51820\t0x20`,
      `${PEER}\t${PSK}\t10.99.0.2:4500\t10.99.2.0/24,fd00::/64\t1732385000\t92\t148\t10`,
      `${PUB}\t(none)\t[FD99:0::2]:4500\t(none)\t0\t0\t2220\toff`,
      `${PSK}\t(none)\t(none)\t10.99.3.0/24\t0\t0\t0\toff`,
      '',
    ].join('\n');
    expect(parseWgDump(text)).toEqual({
      interface: { privateKey: PRIV, publicKey: PUB, listenPort: 51820, fwmark: 0x20 },
      peers: [
        {
          publicKey: PEER,
          presharedKey: PSK,
          endpoint: '10.99.0.2:4500',
          allowedIPs: ['10.99.2.0/24', 'fd00::/64'],
          latestHandshake: 1732385000,
          rxBytes: 92,
          txBytes: 148,
          persistentKeepalive: 10,
        },
        {
          publicKey: PUB,
          presharedKey: null,
          endpoint: '[fd99::2]:4500',
          allowedIPs: [],
          latestHandshake: 0,
          rxBytes: 0,
          txBytes: 2220,
          persistentKeepalive: null,
        },
        {
          publicKey: PSK,
          presharedKey: null,
          endpoint: null,
          allowedIPs: ['10.99.3.0/24'],
          latestHandshake: 0,
          rxBytes: 0,
          txBytes: 0,
          persistentKeepalive: null,
        },
      ],
    });
  });

  test('rejects unexpected shapes without echoing keys', () => {
    expect(() => parseWgDump('')).toThrow(/empty output/);
    expect(() => parseWgDump(`wg0\t${PRIV}\t${PUB}\t51820\toff`)).toThrow(/5 fields, expected 4/);
    try {
      parseWgDump(`${PRIV}\t${PUB}\tx\toff`);
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain(PRIV);
    }
  });
});
