import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { isWireguardKey, wireguardPsk } from './psk.ts';

describe('wireguardPsk', () => {
  it('hashes the PSK text, not the bytes it encodes', () => {
    // The base64 text of a 48-byte PSK, exactly as it appears in broker-info IPSecPSK.data.psk.
    const pskString = 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQ';
    const expected = createHash('sha256').update(Buffer.from(pskString, 'utf8')).digest('base64');
    expect(wireguardPsk(pskString)).toBe(expected);
    const ofBytes = createHash('sha256').update(Buffer.from(pskString, 'base64')).digest('base64');
    expect(wireguardPsk(pskString)).not.toBe(ofBytes);
  });

  it('matches a known SHA-256 vector', () => {
    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(wireguardPsk('abc')).toBe(
      Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString(
        'base64',
      ),
    );
  });

  it('always yields a valid WireGuard key', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== '' && s !== 'default psk'),
        (s) => {
          expect(isWireguardKey(wireguardPsk(s))).toBe(true);
        },
      ),
    );
  });

  it.each([
    ['', 'the clusterset PSK is empty'],
    ['   ', 'the clusterset PSK is empty'],
    ['default psk', 'placeholder "default psk"'],
  ])('refuses %j', (psk, message) => {
    expect(() => wireguardPsk(psk)).toThrow(MoorError);
    expect(() => wireguardPsk(psk)).toThrow(message);
  });
});

describe('isWireguardKey', () => {
  it('accepts real keys', () => {
    for (let i = 0; i < 50; i++) expect(isWireguardKey(randomBytes(32).toString('base64'))).toBe(true);
  });

  it.each([
    ['too short', randomBytes(31).toString('base64')],
    ['too long', randomBytes(33).toString('base64')],
    ['url-safe alphabet', `${'A'.repeat(42).replace('AA', '-_')}A=`],
    ['no padding', 'A'.repeat(43)],
    ['non-canonical last character', `${'A'.repeat(42)}B=`],
    ['whitespace', ` ${'A'.repeat(42)}A=`],
    ['not a string', 42],
    ['empty', ''],
  ])('rejects %s', (_label, key) => {
    expect(isWireguardKey(key)).toBe(false);
  });
});
