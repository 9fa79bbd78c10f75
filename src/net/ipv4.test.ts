import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import {
  cidrContains,
  cidrLast,
  cidrSize,
  contains,
  formatCidr,
  formatIpv4,
  hostCidr,
  isHostAddressInside,
  isIpv4,
  normalizeCidr,
  overlaps,
  parseCidr,
  parseIpv4,
  prefixMask,
  sortCidrs,
  tryParseAddressInCidr,
  tryParseAddressOrCidr,
  tryParseCidr,
  tryParseIpv4,
  tryParseUnicastAddress,
  tryParseUnicastCidr,
} from './ipv4.ts';

const cidr = (text: string) => parseCidr(text);

describe('IPv4 addresses', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.0.0.1', 0x0a000001],
    ['192.168.1.254', 0xc0a801fe],
    ['255.255.255.255', 0xffffffff],
  ])('parses %s', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
    expect(formatIpv4(value)).toBe(text);
  });

  it.each([
    ['1.2.3', 'expected four dot-separated numbers'],
    ['1.2.3.4.5', 'expected four dot-separated numbers'],
    ['01.2.3.4', 'leading zeros are not allowed ("01")'],
    ['1.2.3.00', 'leading zeros are not allowed ("00")'],
    ['256.1.1.1', '256 is larger than 255'],
    ['1.2.3.-4', '"-4" is not a decimal number'],
    ['1.2.3.4 ', '"4 " is not a decimal number'],
    [' 1.2.3.4', '" 1" is not a decimal number'],
    ['1..3.4', '"" is not a decimal number'],
    ['0x1.2.3.4', '"0x1" is not a decimal number'],
    ['1.2.3.1e2', '"1e2" is not a decimal number'],
    ['1.2.3.4/32', '"4/32" is not a decimal number'],
    ['', 'empty string'],
    ['::1', 'IPv6 is not supported yet'],
    ['fd00::10', 'IPv6 is not supported yet'],
    ['1'.repeat(100), 'too long'],
  ])('rejects %j (%s)', (text, message) => {
    const result = tryParseIpv4(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
    expect(isIpv4(text)).toBe(false);
  });

  it('throws MoorError invalid-input with a hint', () => {
    try {
      parseIpv4('1.2.3');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MoorError);
      expect((err as MoorError).code).toBe('invalid-input');
      expect((err as MoorError).hint).toMatch(/four decimal numbers/);
    }
  });

  it('round-trips every uint32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        expect(parseIpv4(formatIpv4(n))).toBe(n);
      }),
    );
  });

  it('never throws from tryParseIpv4 on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        tryParseIpv4(s);
      }),
    );
  });
});

describe('IPv4 CIDRs', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['100.70.0.10/32', '100.70.0.10/32'],
    ['192.168.4.0/22', '192.168.4.0/22'],
  ])('parses %s', (text, formatted) => {
    expect(formatCidr(cidr(text))).toBe(formatted);
  });

  it('reports host bits with the network it meant', () => {
    const result = tryParseCidr('10.1.2.3/16');
    expect(result).toEqual({
      ok: false,
      error: '"10.1.2.3/16" has host bits set; the network is 10.1.0.0/16',
    });
  });

  it('normalises host bits when asked', () => {
    expect(parseCidr('10.1.2.3/16', { allowHostBits: true })).toEqual({ network: 0x0a010000, prefix: 16 });
    expect(normalizeCidr('10.1.2.3/16')).toBe('10.1.0.0/16');
    expect(normalizeCidr('0.0.0.0/0')).toBe('0.0.0.0/0');
  });

  it('keeps the address of interface-style CIDRs', () => {
    expect(tryParseAddressInCidr('10.0.0.5/24')).toEqual({
      ok: true,
      value: { address: 0x0a000005, cidr: { network: 0x0a000000, prefix: 24 }, hostBitsSet: true },
    });
  });

  it.each([
    ['1.2.3.4/33', 'prefix length must be a number 0-32'],
    ['1.2.3.4/', 'prefix length must be a number 0-32'],
    ['1.2.3.4/08', 'prefix length must be a number 0-32'],
    ['1.2.3.4/+8', 'prefix length must be a number 0-32'],
    ['1.2.3.4/8/8', 'prefix length must be a number 0-32'],
    ['1.2.3/24', 'expected four dot-separated numbers'],
    ['01.2.3.0/24', 'leading zeros'],
    ['10.0.0.0', 'expected address/prefix'],
    ['fd00::/64', 'IPv6 is not supported yet'],
  ])('rejects %j (%s)', (text, message) => {
    const result = tryParseCidr(text, { allowHostBits: true });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });

  it('reads a bare address as a /32', () => {
    expect(tryParseAddressOrCidr('100.70.0.10')).toEqual({ ok: true, value: cidr('100.70.0.10/32') });
    expect(tryParseAddressOrCidr('10.0.0.5/24')).toEqual({ ok: true, value: cidr('10.0.0.0/24') });
    expect(tryParseAddressOrCidr('10.0.0').ok).toBe(false);
  });

  it('computes masks, sizes and last addresses', () => {
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(8)).toBe(0xff000000);
    expect(prefixMask(32)).toBe(0xffffffff);
    expect(cidrSize(cidr('0.0.0.0/0'))).toBe(2 ** 32);
    expect(formatIpv4(cidrLast(cidr('10.0.0.0/8')))).toBe('10.255.255.255');
    expect(formatIpv4(cidrLast(cidr('0.0.0.0/0')))).toBe('255.255.255.255');
    expect(hostCidr(parseIpv4('1.2.3.4'))).toEqual(cidr('1.2.3.4/32'));
  });
});

describe('containment and overlap', () => {
  it('contains addresses', () => {
    expect(contains(cidr('10.0.0.0/8'), parseIpv4('10.255.0.1'))).toBe(true);
    expect(contains(cidr('10.0.0.0/8'), parseIpv4('11.0.0.0'))).toBe(false);
    expect(contains(cidr('0.0.0.0/0'), parseIpv4('255.255.255.255'))).toBe(true);
    expect(contains(cidr('1.2.3.4/32'), parseIpv4('1.2.3.4'))).toBe(true);
    expect(contains(cidr('1.2.3.4/32'), parseIpv4('1.2.3.5'))).toBe(false);
  });

  it('contains networks', () => {
    expect(cidrContains(cidr('10.0.0.0/8'), cidr('10.1.0.0/16'))).toBe(true);
    expect(cidrContains(cidr('10.0.0.0/16'), cidr('10.0.0.0/16'))).toBe(true);
    expect(cidrContains(cidr('10.1.0.0/16'), cidr('10.0.0.0/8'))).toBe(false);
    expect(cidrContains(cidr('10.0.0.0/16'), cidr('10.1.0.0/24'))).toBe(false);
  });

  it('overlaps', () => {
    expect(overlaps(cidr('10.0.0.0/8'), cidr('10.1.0.0/16'))).toBe(true);
    expect(overlaps(cidr('10.1.0.0/16'), cidr('10.0.0.0/8'))).toBe(true);
    expect(overlaps(cidr('10.0.0.0/16'), cidr('10.1.0.0/16'))).toBe(false);
    expect(overlaps(cidr('0.0.0.0/0'), cidr('1.2.3.4/32'))).toBe(true);
  });

  it('agrees with a brute-force range check', () => {
    const arbCidr = fc
      .record({ address: fc.integer({ min: 0, max: 0xffffffff }), prefix: fc.integer({ min: 0, max: 32 }) })
      .map(({ address, prefix }) => ({ network: (address & prefixMask(prefix)) >>> 0, prefix }));
    fc.assert(
      fc.property(arbCidr, arbCidr, (a, b) => {
        const rangesIntersect = a.network <= cidrLast(b) && b.network <= cidrLast(a);
        expect(overlaps(a, b)).toBe(rangesIntersect);
        const inside = a.network <= b.network && cidrLast(b) <= cidrLast(a);
        expect(cidrContains(a, b)).toBe(inside);
      }),
    );
  });

  it('knows usable host addresses', () => {
    const net = cidr('10.0.0.0/24');
    expect(isHostAddressInside(net, parseIpv4('10.0.0.1'))).toBe(true);
    expect(isHostAddressInside(net, parseIpv4('10.0.0.0'))).toBe(false);
    expect(isHostAddressInside(net, parseIpv4('10.0.0.255'))).toBe(false);
    expect(isHostAddressInside(net, parseIpv4('10.0.1.1'))).toBe(false);
    expect(isHostAddressInside(cidr('10.0.0.0/31'), parseIpv4('10.0.0.0'))).toBe(true);
    expect(isHostAddressInside(cidr('10.0.0.7/32'), parseIpv4('10.0.0.7'))).toBe(true);
  });

  it('sorts numerically and removes duplicates', () => {
    const sorted = sortCidrs([
      cidr('10.10.0.0/16'),
      cidr('10.2.0.0/16'),
      cidr('10.2.0.0/15'),
      cidr('10.2.0.0/16'),
    ]);
    expect(sorted.map(formatCidr)).toEqual(['10.2.0.0/15', '10.2.0.0/16', '10.10.0.0/16']);
  });
});

describe('special-purpose addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback block 127.0.0.0/8 (RFC 1122)'],
    ['0.0.0.0', '"this network" block 0.0.0.0/8 (RFC 791)'],
    ['169.254.169.254', 'link-local block 169.254.0.0/16 (RFC 3927)'],
    ['224.0.0.251', 'multicast block 224.0.0.0/4 (RFC 5771)'],
    ['255.255.255.255', 'limited broadcast block 255.255.255.255/32 (RFC 919)'],
    ['192.0.0.170', 'IETF protocol assignments block 192.0.0.0/24 (RFC 6890)'],
  ])('%s is never a host address: %s', (text, block) => {
    const r = tryParseUnicastAddress(text);
    expect(r).toEqual({ ok: false, error: `${text} is in the ${block}, never a host's address` });
  });

  it.each(['10.0.0.1', '100.70.0.10', '192.168.1.1', '172.16.0.1', '242.1.0.1', '198.51.100.7', '8.8.8.8'])(
    '%s is usable',
    (text) => {
      expect(tryParseUnicastAddress(text).ok).toBe(true);
    },
  );

  it('names the lowest block a wide prefix covers, and says inside for a narrower one', () => {
    expect(tryParseUnicastCidr('0.0.0.0/0')).toEqual({
      ok: false,
      error:
        '0.0.0.0/0 covers the "this network" block 0.0.0.0/8 (RFC 791), which is never routed between hosts',
    });
    expect(tryParseUnicastCidr('127.1.0.0/16')).toEqual({
      ok: false,
      error:
        '127.1.0.0/16 is inside the loopback block 127.0.0.0/8 (RFC 1122), which is never routed between hosts',
    });
    expect(tryParseUnicastCidr('10.0.0.0/8')).toEqual({ ok: true, value: parseCidr('10.0.0.0/8') });
    expect(tryParseUnicastCidr('nonsense').ok).toBe(false);
  });
});
