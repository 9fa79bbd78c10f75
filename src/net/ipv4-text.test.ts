import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  formatIp,
  normalizeAddressCidr,
  normalizeCidr,
  normalizeIp,
  normalizeSocketAddress,
  parseIp,
  parseSocketAddress,
  prefixContains,
} from './ipv4.ts';

describe('IP parsing and canonical form', () => {
  test.each([
    ['10.99.0.1', '10.99.0.1'],
    ['FD00:0:0::1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ])('%s → %s', (input, out) => {
    expect(normalizeIp(input)).toBe(out);
  });

  test.each(['01.2.3.4', '1.2.3', '256.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '', 'x'])(
    'rejects %s',
    (bad) => {
      expect(parseIp(bad)).toBeUndefined();
    },
  );

  test('format(parse(x)) is stable for any address', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const once = normalizeIp(ip);
        expect(normalizeIp(once)).toBe(once);
      }),
    );
  });

  test('formatIp compresses the longest zero run', () => {
    const bytes = new Uint8Array(16);
    bytes[15] = 1;
    expect(formatIp({ family: 6, bytes })).toBe('::1');
  });
});

describe('prefixes and endpoints', () => {
  test('normalizeCidr clears host bits and adds full-length prefixes', () => {
    expect(normalizeCidr('10.99.2.5/24')).toBe('10.99.2.0/24');
    expect(normalizeCidr('10.99.6.1')).toBe('10.99.6.1/32');
    expect(normalizeCidr('fd00::1/64')).toBe('fd00::/64');
    expect(normalizeCidr('fd00::1')).toBe('fd00::1/128');
    expect(() => normalizeCidr('10.0.0.0/33')).toThrow(/not a valid IP prefix/);
    expect(() => normalizeCidr('10.0.0.0/08')).toThrow();
  });

  test('normalizeAddressCidr keeps host bits', () => {
    expect(normalizeAddressCidr('10.99.0.1/30')).toBe('10.99.0.1/30');
    expect(normalizeAddressCidr('FD99::0001/64')).toBe('fd99::1/64');
  });

  test('endpoints need an IP literal and brackets for IPv6', () => {
    expect(parseSocketAddress('10.0.0.1:4500')).toEqual({ ip: '10.0.0.1', port: 4500, family: 4 });
    expect(normalizeSocketAddress('[FD99:0::2]:4500')).toBe('[fd99::2]:4500');
    for (const bad of [
      'gw.example.com:4500',
      'fd99::2:4500',
      '[10.0.0.1]:1',
      '10.0.0.1:0',
      '10.0.0.1:65536',
      '10.0.0.1',
    ]) {
      expect(() => parseSocketAddress(bad)).toThrow(/not a valid endpoint/);
    }
  });

  test('prefixContains', () => {
    expect(prefixContains('10.99.0.0/16', '10.99.3.0/24')).toBe(true);
    expect(prefixContains('10.99.0.0/16', '10.98.0.1')).toBe(false);
    expect(prefixContains('10.99.0.0/24', '10.99.0.0/16')).toBe(false);
    expect(prefixContains('fd00::/8', '10.0.0.1')).toBe(false);
  });
});
