import { describe, expect, test } from 'vitest';
import { normalizeTableSpec } from './model.ts';
import { parseNftListing, planCleanup, tableSignature } from './observe.ts';

// Captured from nftables v1.0.6 (`nft -j list table inet moortest`).
const LISTING = JSON.stringify({
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'inet', name: 'moortest', handle: 1 } },
    {
      set: {
        family: 'inet',
        name: 's4',
        table: 'moortest',
        type: 'ipv4_addr',
        handle: 4,
        flags: ['interval'],
        elem: [
          { prefix: { addr: '10.99.0.0', len: 24 } },
          '10.99.5.1',
          { range: ['10.99.7.1', '10.99.7.9'] },
        ],
      },
    },
    {
      map: {
        family: 'inet',
        name: 'm',
        table: 'moortest',
        type: 'ipv4_addr',
        handle: 5,
        map: 'ipv4_addr',
        elem: [['10.99.1.1', '10.99.2.2']],
      },
    },
    {
      set: {
        family: 'inet',
        name: 'ports',
        table: 'moortest',
        type: 'inet_service',
        handle: 6,
        elem: [22, 80],
      },
    },
    {
      set: {
        family: 'inet',
        name: 'pairs',
        table: 'moortest',
        type: ['ipv4_addr', 'inet_service'],
        handle: 9,
        elem: [{ concat: ['10.0.0.1', 443] }],
      },
    },
    {
      chain: {
        family: 'inet',
        table: 'moortest',
        name: 'post',
        handle: 1,
        type: 'nat',
        hook: 'postrouting',
        prio: 100,
        policy: 'accept',
      },
    },
    { chain: { family: 'inet', table: 'moortest', name: 'sub', handle: 3 } },
    {
      rule: {
        family: 'inet',
        table: 'moortest',
        chain: 'post',
        handle: 9,
        expr: [
          { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@s4' } },
          { counter: { packets: 7, bytes: 420 } },
        ],
      },
    },
    {
      rule: {
        family: 'inet',
        table: 'moortest',
        chain: 'sub',
        handle: 12,
        expr: [{ counter: { packets: 0, bytes: 0 } }],
      },
    },
  ],
});

describe('parseNftListing', () => {
  test('sets, maps, chains and rules in our model', () => {
    const t = parseNftListing(LISTING, 'inet', 'moortest');
    expect(t.sets).toEqual([
      {
        name: 's4',
        type: 'ipv4_addr',
        flags: ['interval'],
        elements: ['10.99.0.0/24', '10.99.5.1', '10.99.7.1-10.99.7.9'],
      },
      { name: 'ports', type: 'inet_service', flags: [], elements: ['22', '80'] },
      { name: 'pairs', type: 'ipv4_addr . inet_service', flags: [], elements: ['10.0.0.1 . 443'] },
    ]);
    expect(t.maps).toEqual([
      {
        name: 'm',
        type: 'ipv4_addr',
        valueType: 'ipv4_addr',
        flags: [],
        elements: [['10.99.1.1', '10.99.2.2']],
      },
    ]);
    expect(t.chains.map((c) => [c.name, c.base, c.rules.length])).toEqual([
      ['post', { type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' }, 1],
      ['sub', undefined, 1],
    ]);
  });

  test('the signature ignores counters and handles but sees everything else', () => {
    const base = tableSignature(parseNftListing(LISTING, 'inet', 'moortest'));
    const counted = LISTING.replace('"packets":7,"bytes":420', '"packets":9000,"bytes":1').replaceAll(
      '"handle":9',
      '"handle":99',
    );
    expect(tableSignature(parseNftListing(counted, 'inet', 'moortest'))).toBe(base);
    const changed = LISTING.replace('"10.99.5.1"', '"10.99.5.2"');
    expect(tableSignature(parseNftListing(changed, 'inet', 'moortest'))).not.toBe(base);
    expect(tableSignature(undefined)).toBe('(absent)');
  });
});

describe('planCleanup', () => {
  test('flushes compatible sets, deletes unwanted or incompatible objects', () => {
    const observed = parseNftListing(LISTING, 'inet', 'moortest');
    const desired = normalizeTableSpec({
      name: 'moortest',
      sets: [
        { name: 's4', type: 'ipv4_addr', flags: ['interval'] },
        { name: 'ports', type: 'ipv4_addr' },
      ],
      maps: [{ name: 'm', type: 'ipv4_addr', valueType: 'ipv4_addr' }],
      chains: [
        { name: 'post', base: { type: 'nat', hook: 'postrouting', priority: 'srcnat' } },
        { name: 'other' },
      ],
    });
    expect(planCleanup(desired, observed)).toEqual({
      deleteChains: ['sub'],
      deleteSets: ['ports', 'pairs'],
      deleteMaps: [],
      flushSets: ['s4'],
      flushMaps: ['m'],
    });
    expect(planCleanup(desired, undefined)).toEqual({
      deleteChains: [],
      deleteSets: [],
      deleteMaps: [],
      flushSets: [],
      flushMaps: [],
    });
  });
});
