import { beforeEach, describe, expect, test } from 'vitest';
import { FakeNetlink } from '../netlink/fake.ts';
import { reconcileMarkedRouting } from './marked-routing.ts';

const TOP = 0x6d000000;
const T1 = (TOP | 1) >>> 0;
const T2 = (TOP | 2) >>> 0;
let fake: FakeNetlink;

beforeEach(async () => {
  fake = new FakeNetlink();
  fake.addLink('moorvx1', { up: true });
  fake.addLink('moorvx2', { up: true });
  fake.clearCalls();
});

const OWNER = { markTop: TOP, defaultPriority: 110 };
const want = (tables: number[]) => ({
  routes: tables.map((t) => ({ table: t, dst: '0.0.0.0/0', dev: `moorvx${t & 0xff}`, scope: 'link' })),
  rules: tables.map((t) => ({ table: t, fwmark: t })),
});

describe('reconcileMarkedRouting', () => {
  test('installs routes and rules, then changes nothing for the same input', async () => {
    const first = await reconcileMarkedRouting(fake, OWNER, want([T1, T2]));
    expect(first.routes.map((r) => [r.table, r.result.applied.length])).toEqual([
      [T1, 1],
      [T2, 1],
    ]);
    expect(first.rules.applied.map((c) => [c.op, c.rule.fwmark, c.rule.priority])).toEqual([
      ['add', T1, 110],
      ['add', T2, 110],
    ]);
    fake.clearCalls();
    const again = await reconcileMarkedRouting(fake, OWNER, want([T1, T2]));
    expect(fake.mutatingCalls()).toEqual([]);
    expect(again.rules.applied).toEqual([]);
  });

  test('a table only our stale rule points at is emptied, and the rule removed', async () => {
    await reconcileMarkedRouting(fake, OWNER, want([T1, T2]));
    const after = await reconcileMarkedRouting(fake, OWNER, want([T1]));
    expect(after.routes.find((r) => r.table === T2)?.result.applied.map((c) => c.op)).toEqual(['delete']);
    expect(after.rules.applied.map((c) => [c.op, c.rule.table])).toEqual([['delete', T2]]);
    expect(await fake.routeList({ family: 4, table: T2 })).toEqual([]);
  });

  test("leaves rules with another mark or another owner's protocol alone", async () => {
    await fake.ruleAdd({ family: 4, priority: 100, table: 77, fwmark: 0x12000001, proto: 109 });
    await fake.ruleAdd({ family: 4, priority: 100, table: T2, fwmark: T2, proto: 4 });
    await reconcileMarkedRouting(fake, OWNER, want([T1]));
    const rules = (await fake.ruleList(4)).filter((r) => r.proto !== 0); // not the default rules
    expect(rules.map((r) => [r.table, r.proto]).sort()).toEqual(
      [
        [77, 109],
        [T1, 109],
        [T2, 4],
      ].sort(),
    );
  });
});
