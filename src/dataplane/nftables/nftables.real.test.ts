// OwnedTable against real nftables in a namespace created (and removed) here: one transaction
// per change, none when nothing changed, repair after drift, and clean removal of objects that
// are no longer wanted or changed type.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skipOutsideCi } from '../../testing-ci.ts';
import { realTestsUnavailable, recording, type TestNamespace, TestNamespaces } from '../real-test-support.ts';
import type { NftTableSpec } from './model.ts';
import { NftCli } from './nft.ts';
import { OwnedTable } from './owned-table.ts';
import type { NftablesBasic } from './types.ts';

const skip = realTestsUnavailable();

const spec = (allowed: string[]): Omit<NftTableSpec, 'name' | 'family'> => ({
  sets: [
    { name: 'allowed4', type: 'ipv4_addr', flags: ['interval'], elements: allowed },
    { name: 'ports', type: 'inet_service', elements: ['22', '443'] },
  ],
  maps: [
    { name: 'egress', type: 'ipv4_addr', valueType: 'ipv4_addr', elements: [['10.99.1.1', '10.99.200.1']] },
  ],
  chains: [
    {
      name: 'moor_forward',
      base: { type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' },
      rules: ['ip saddr @allowed4 tcp dport @ports counter accept', 'jump moor_sub'],
    },
    { name: 'moor_sub', rules: ['counter'] },
    {
      name: 'moor_post',
      base: { type: 'nat', hook: 'postrouting', priority: 'srcnat' },
      rules: ['ip saddr 10.99.1.0/24 snat ip to ip saddr map @egress'],
    },
  ],
});

describe.skipIf(skipOutsideCi(skip))('OwnedTable on real nftables', () => {
  const namespaces = new TestNamespaces();
  let ns: TestNamespace;
  let table: OwnedTable;
  let calls: { method: string; args: unknown[] }[];
  const writes = (): number => calls.filter((c) => c.method !== 'listTable').length;

  beforeAll(async () => {
    ns = await namespaces.create();
    const rec = recording<NftablesBasic>(new NftCli(ns.runner));
    calls = rec.calls;
    table = new OwnedTable(rec.port, 'moor_test');
  });

  afterAll(async () => {
    await namespaces.destroyAll();
  });

  test('creates the table in one transaction and reads it back', async () => {
    const res = await table.apply(spec(['10.99.0.0/24', '10.99.5.1']));
    expect(res.errors).toEqual([]);
    expect(res.applied).toEqual([
      { op: 'replace-table', table: 'inet moor_test', reason: 'not-applied-yet' },
    ]);
    const seen = await table.list();
    expect(seen?.sets.find((s) => s.name === 'allowed4')?.elements).toEqual(['10.99.0.0/24', '10.99.5.1']);
    expect(seen?.maps[0]?.elements).toEqual([['10.99.1.1', '10.99.200.1']]);
    expect(seen?.chains.map((c) => [c.name, c.rules.length])).toEqual([
      ['moor_forward', 2],
      ['moor_sub', 1],
      ['moor_post', 1],
    ]);
  });

  test('the same input again (elements in another order) writes nothing', async () => {
    calls.length = 0;
    expect(await table.apply(spec(['10.99.5.1', '10.99.0.0/24']))).toEqual({ applied: [], errors: [] });
    expect(writes()).toBe(0);
  });

  test('changed elements replace the old ones (flush set inside the transaction)', async () => {
    const res = await table.apply(spec(['10.99.7.0/24']));
    expect(res.applied[0]?.reason).toBe('desired-changed');
    expect((await table.list())?.sets.find((s) => s.name === 'allowed4')?.elements).toEqual(['10.99.7.0/24']);
  });

  test('drift made by hand is repaired on the next apply', async () => {
    await ns.runner.run(['nft', 'flush', 'chain', 'inet', 'moor_test', 'moor_sub']);
    const res = await table.apply(spec(['10.99.7.0/24']));
    expect(res.applied[0]?.reason).toBe('kernel-changed');
    expect((await table.list())?.chains.find((c) => c.name === 'moor_sub')?.rules).toHaveLength(1);
  });

  test('objects no longer wanted, or redefined with another type, are removed in the same transaction', async () => {
    const res = await table.apply({
      sets: [{ name: 'ports', type: 'ipv4_addr', elements: ['10.99.9.9'] }],
      chains: [
        {
          name: 'moor_forward',
          base: { type: 'filter', hook: 'forward', priority: -10, policy: 'drop' },
          rules: ['ip daddr @ports accept'],
        },
      ],
    });
    expect(res.errors).toEqual([]);
    const seen = await table.list();
    expect(seen?.sets.map((s) => [s.name, s.type])).toEqual([['ports', 'ipv4_addr']]);
    expect(seen?.maps).toEqual([]);
    expect(seen?.chains.map((c) => [c.name, c.base?.priority, c.base?.policy])).toEqual([
      ['moor_forward', -10, 'drop'],
    ]);
  });

  test('a broken rule fails the whole transaction and leaves the table as it was', async () => {
    const before = await table.list();
    const res = await table.apply({
      chains: [{ name: 'moor_forward', rules: ['ip saddr @nosuchset accept'] }],
    });
    expect(res.errors).toHaveLength(1);
    expect(await table.list()).toEqual(before);
  });

  test('delete removes the table and is idempotent', async () => {
    expect(await table.delete()).toBe(true);
    expect(await table.delete()).toBe(false);
    expect(await table.list()).toBeUndefined();
  });
});
