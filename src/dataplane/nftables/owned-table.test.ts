import { beforeEach, describe, expect, test } from 'vitest';
import { FakeNftables } from './fake.ts';
import type { NftTableSpec } from './model.ts';
import { OwnedTable } from './owned-table.ts';

type Body = Omit<NftTableSpec, 'name' | 'family'>;

const body = (pods: string[]): Body => ({
  sets: [{ name: 'pods', type: 'ipv4_addr', elements: pods }],
  maps: [
    {
      name: 'egress',
      type: 'ipv4_addr',
      valueType: 'ipv4_addr',
      elements: pods.map((p): [string, string] => [p, '203.0.113.20']),
    },
  ],
  chains: [
    {
      name: 'moor_post',
      base: { type: 'nat', hook: 'postrouting', priority: 'srcnat' },
      rules: ['ip saddr @pods snat ip to ip saddr map @egress'],
    },
  ],
});

let fake: FakeNftables;
let table: OwnedTable;

beforeEach(() => {
  fake = new FakeNftables();
  table = new OwnedTable(fake, 'moor');
});

describe('OwnedTable', () => {
  test('first apply writes once; the same input again writes nothing', async () => {
    expect((await table.apply(body(['10.1.0.7', '10.1.0.8']))).applied).toEqual([
      { op: 'replace-table', table: 'inet moor', reason: 'not-applied-yet' },
    ]);
    fake.clearCalls();
    expect(await table.apply(body(['10.1.0.8', '10.1.0.7']))).toEqual({ applied: [], errors: [] });
    expect(fake.mutatingCalls()).toEqual([]);
  });

  test('changed data replaces set and map contents (no stale elements survive)', async () => {
    await table.apply(body(['10.1.0.7', '10.1.0.8']));
    const res = await table.apply(body(['10.1.0.9']));
    expect(res.applied[0]?.reason).toBe('desired-changed');
    expect(fake.dump()).toBe(`table inet moor
  set pods ipv4_addr [] { 10.1.0.9 }
  map egress ipv4_addr : ipv4_addr [] { 10.1.0.9 : 203.0.113.20 }
  chain moor_post (nat postrouting 100 accept)
    ip saddr @pods snat ip to ip saddr map @egress`);
  });

  test('drift in the kernel is repaired, even with unchanged input', async () => {
    await table.apply(body(['10.1.0.7']));
    fake.tamper('inet', 'moor', (t) => {
      const set = t.sets[0];
      if (set) set.elements = [];
    });
    expect((await table.apply(body(['10.1.0.7']))).applied[0]?.reason).toBe('kernel-changed');
    expect(fake.dump()).toContain('set pods ipv4_addr [] { 10.1.0.7 }');
    fake.tamper('inet', 'moor', () => {});
    await fake.deleteTable('inet', 'moor');
    expect((await table.apply(body(['10.1.0.7']))).applied[0]?.reason).toBe('kernel-changed');
  });

  test('removed and retyped objects are deleted in the same transaction', async () => {
    await table.apply({
      ...body(['10.1.0.7']),
      chains: [...(body([]).chains ?? []), { name: 'moor_extra', rules: ['counter'] }],
    });
    const res = await table.apply({
      sets: [{ name: 'pods', type: 'ipv6_addr', elements: ['fd00::7'] }],
      chains: [
        {
          name: 'moor_post',
          base: { type: 'nat', hook: 'postrouting', priority: 'srcnat' },
          rules: ['ip6 saddr @pods masquerade'],
        },
      ],
    });
    expect(res.errors).toEqual([]);
    expect(fake.mutatingCalls().at(-1)).toMatchObject({
      op: 'replaceTable',
      cleanup: {
        deleteChains: ['moor_extra'],
        deleteSets: ['pods'],
        deleteMaps: ['egress'],
        flushSets: [],
        flushMaps: [],
      },
    });
    expect(fake.dump()).toBe(`table inet moor
  set pods ipv6_addr [] { fd00::7 }
  chain moor_post (nat postrouting 100 accept)
    ip6 saddr @pods masquerade`);
  });

  test('a failing transaction changes nothing and is retried next time', async () => {
    await table.apply(body(['10.1.0.7']));
    const before = fake.dump();
    const res = await table.apply({
      ...body(['10.1.0.7']),
      chains: [{ name: 'moor_post', rules: ['ip saddr @missing accept'] }],
    });
    expect(res.errors[0]?.error.message).toMatch(/@missing/);
    expect(fake.dump()).toBe(before);
    fake.clearCalls();
    expect((await table.apply(body(['10.1.0.7']))).applied).toHaveLength(1);
  });

  test('delete is idempotent', async () => {
    expect(await table.delete()).toBe(false);
    await table.apply(body([]));
    expect(await table.delete()).toBe(true);
    expect(await table.list()).toBeUndefined();
  });
});

describe('FakeNftables strictness', () => {
  test('forgetting to flush a set merges elements, like nft', async () => {
    const spec = {
      family: 'inet' as const,
      name: 'x',
      sets: [{ name: 's', type: 'ipv4_addr', elements: ['10.0.0.1'] }],
      maps: [],
      chains: [],
    };
    const none = { deleteChains: [], deleteSets: [], deleteMaps: [], flushSets: [], flushMaps: [] };
    await fake.replaceTable(spec, none);
    await fake.replaceTable(
      { ...spec, sets: [{ name: 's', type: 'ipv4_addr', elements: ['10.0.0.2'] }] },
      none,
    );
    expect(fake.dump()).toContain('{ 10.0.0.1, 10.0.0.2 }');
    await expect(
      fake.replaceTable({ ...spec, sets: [{ name: 's', type: 'ipv6_addr' }] }, none),
    ).rejects.toThrow(/another type/);
    await expect(fake.replaceTable(spec, { ...none, deleteChains: ['nope'] })).rejects.toThrow(
      /No such file/,
    );
  });
});
