import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../net/ipv4.ts';
import {
  cidrInterval,
  includes,
  intersect,
  normalise,
  size,
  subtract,
  toCidrTexts,
} from './egress-intervals.ts';
import { matchesSelector } from './egress-selector.ts';

const iv = (c: string) => cidrInterval(parseCidr(c));

describe('address intervals', () => {
  it('subtracts exceptions and covers the rest with the fewest CIDRs', () => {
    expect(toCidrTexts(subtract([iv('0.0.0.0/0')], [iv('10.0.0.0/8')]))).toEqual([
      '0.0.0.0/5',
      '8.0.0.0/7',
      '11.0.0.0/8',
      '12.0.0.0/6',
      '16.0.0.0/4',
      '32.0.0.0/3',
      '64.0.0.0/2',
      '128.0.0.0/1',
    ]);
    expect(
      toCidrTexts([{ start: parseCidr('10.0.0.3/32').network, end: parseCidr('10.0.0.8/32').network }]),
    ).toEqual(['10.0.0.3/32', '10.0.0.4/30', '10.0.0.8/32']);
  });

  it('intersects and merges', () => {
    expect(toCidrTexts(intersect([iv('10.0.0.0/24')], [iv('10.0.0.128/25'), iv('10.1.0.0/16')]))).toEqual([
      '10.0.0.128/25',
    ]);
    expect(toCidrTexts(normalise([iv('10.0.0.0/25'), iv('10.0.0.128/25')]))).toEqual(['10.0.0.0/24']);
  });

  it('property: subtract, includes and toCidrs agree address by address', () => {
    const arb = fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 40 })), {
      maxLength: 5,
    });
    fc.assert(
      fc.property(arb, arb, fc.integer({ min: 0, max: 350 }), (a, b, probe) => {
        const A = a.map(([s, l]) => ({ start: s, end: s + l }));
        const B = b.map(([s, l]) => ({ start: s, end: s + l }));
        const d = subtract(A, B);
        const inA = A.some((i) => probe >= i.start && probe <= i.end);
        const inB = B.some((i) => probe >= i.start && probe <= i.end);
        expect(includes(d, probe)).toBe(inA && !inB);
        const covered = toCidrTexts(d).map((c) => cidrInterval(parseCidr(c)));
        expect(size(covered)).toBe(size(d));
      }),
    );
  });
});

describe('matchesSelector', () => {
  const labels = { app: 'checkout', tier: 'web' };
  it.each([
    [undefined, true],
    [{}, true],
    [{ matchLabels: { app: 'checkout' } }, true],
    [{ matchLabels: { app: 'other' } }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'In' as const, values: ['a', 'checkout'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn' as const, values: ['checkout'] }] }, false],
    [{ matchExpressions: [{ key: 'gone', operator: 'NotIn' as const, values: ['x'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' as const }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' as const }] }, false],
    [
      {
        matchLabels: { app: 'checkout' },
        matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['db'] }],
      },
      false,
    ],
  ])('%j → %s', (selector, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });
});
