import { describe, expect, test } from 'vitest';
import { normalizeTableSpec } from './model.ts';
import { renderTableScript } from './render.ts';

describe('renderTableScript', () => {
  test('create-if-missing, flush, cleanup, then the full body, in one script', () => {
    const spec = normalizeTableSpec({
      name: 'moor',
      sets: [
        { name: 'pods', type: 'ipv4_addr', flags: ['interval'], elements: ['10.1.0.7', '10.1.0.0/24'] },
        { name: 'empty', type: 'ipv4_addr' },
      ],
      maps: [
        {
          name: 'egress',
          type: 'ipv4_addr',
          valueType: 'ipv4_addr',
          elements: [['10.1.0.7', '203.0.113.20']],
        },
      ],
      chains: [
        {
          name: 'moor_post',
          base: { type: 'nat', hook: 'postrouting', priority: 'srcnat' },
          rules: ['ip saddr @pods snat ip to ip saddr map @egress'],
        },
        { name: 'moor_sub' },
      ],
    });
    const cleanup = {
      deleteChains: ['old_chain'],
      deleteSets: ['old_set'],
      deleteMaps: [],
      flushSets: ['pods'],
      flushMaps: ['egress'],
    };
    expect(renderTableScript(spec, cleanup)).toBe(`table inet moor {}
flush table inet moor
delete chain inet moor old_chain
delete set inet moor old_set
flush set inet moor pods
flush map inet moor egress
table inet moor {
\tset pods {
\t\ttype ipv4_addr
\t\tflags interval
\t\telements = { 10.1.0.0/24, 10.1.0.7 }
\t}
\tset empty {
\t\ttype ipv4_addr
\t}
\tmap egress {
\t\ttype ipv4_addr : ipv4_addr
\t\telements = { 10.1.0.7 : 203.0.113.20 }
\t}
\tchain moor_post {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr @pods snat ip to ip saddr map @egress
\t}
\tchain moor_sub {
\t}
}
`);
  });
});

describe('normalizeTableSpec rejects what could break out of the script', () => {
  test.each([
    [{ name: 'bad name' }, /table name/],
    [
      { name: 't', sets: [{ name: 's', type: 'ipv4_addr', elements: ['1.2.3.4 }; flush ruleset'] }] },
      /element/,
    ],
    [{ name: 't', chains: [{ name: 'c', rules: ['accept\nflush ruleset'] }] }, /newline/],
    [{ name: 't', chains: [{ name: 'c', rules: ['accept; flush ruleset'] }] }, /";"/],
    [{ name: 't', chains: [{ name: 'c', rules: ['} flush ruleset {'] }] }, /unbalanced/],
    [
      {
        name: 't',
        sets: [{ name: 'x', type: 'ipv4_addr' }],
        maps: [{ name: 'x', type: 'ipv4_addr', valueType: 'verdict' }],
      },
      /twice/,
    ],
    [
      { name: 't', chains: [{ name: 'c', base: { type: 'filter', hook: 'input', priority: 'first' } }] },
      /unknown priority/,
    ],
  ] as const)('%o', (spec, message) => {
    expect(() => normalizeTableSpec(spec as never)).toThrow(message);
  });
});
