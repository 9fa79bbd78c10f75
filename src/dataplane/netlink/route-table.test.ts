import fc from 'fast-check';
import { beforeEach, describe, expect, test } from 'vitest';
import { FakeNetlink } from './fake.ts';
import { RouteTable } from './route-table.ts';
import type { RouteSpec } from './types.ts';

let fake: FakeNetlink;

beforeEach(async () => {
  fake = new FakeNetlink();
  fake.addLink('eth0', { up: true });
  fake.addLink('wg0', { up: true, mtu: 1420, kind: 'wireguard' });
  await fake.addrAdd('eth0', '10.99.0.1/24');
  await fake.addrAdd('wg0', '10.99.1.1/32');
  fake.clearCalls();
});

const remote = (dst: string, extra: Partial<RouteSpec> = {}): RouteSpec => ({
  dst,
  dev: 'wg0',
  src: '10.99.1.1',
  ...extra,
});

describe('RouteTable', () => {
  test('installs our routes with our proto and is a no-op the second time', async () => {
    const table = new RouteTable(fake, { table: 150 });
    const desired = [
      remote('10.1.0.0/16'),
      remote('10.96.0.0/16'),
      { dst: '10.3.0.0/16', gateway: '10.99.0.254', dev: 'eth0' },
    ];
    const first = await table.reconcile(desired);
    expect(first.errors).toEqual([]);
    expect(fake.dump()).toContain('route 10.1.0.0/16 dev wg0 src 10.99.1.1 proto 109 table 150 metric 0');
    fake.clearCalls();
    expect(await table.reconcile([...desired].reverse())).toEqual({ applied: [], errors: [] });
    expect(fake.mutatingCalls()).toEqual([]);
  });

  test('replaces before it deletes', async () => {
    const table = new RouteTable(fake, { table: 150 });
    await table.reconcile([remote('10.1.0.0/16'), remote('10.2.0.0/16')]);
    fake.clearCalls();
    const res = await table.reconcile([
      remote('10.2.0.0/16', { metric: 0, src: undefined }),
      remote('10.4.0.0/16'),
    ]);
    expect(
      res.applied.map((c) => `${c.op} ${c.route.dst}${c.op === 'replace' ? ` ${c.reason}` : ''}`),
    ).toEqual(['replace 10.2.0.0/16 changed', 'replace 10.4.0.0/16 missing', 'delete 10.1.0.0/16']);
    expect(fake.mutatingCalls().map((c) => c.op)).toEqual(['routeReplace', 'routeReplace', 'routeDel']);
  });

  test('repairs routes the kernel dropped (link flap) by reading fresh state', async () => {
    const table = new RouteTable(fake, { table: 150 });
    await table.reconcile([remote('10.1.0.0/16')]);
    await fake.linkSetDown('wg0');
    await fake.linkSetUp('wg0');
    const res = await table.reconcile([remote('10.1.0.0/16')]);
    expect(res.applied).toEqual([expect.objectContaining({ op: 'replace', reason: 'missing' })]);
  });

  test('never touches routes of other owners and reports conflicts', async () => {
    const table = new RouteTable(fake);
    // The connected route 10.99.0.0/24 (proto kernel) belongs to the kernel.
    const res = await table.reconcile([{ dst: '10.99.0.0/24', dev: 'wg0' }, remote('10.1.0.0/16')]);
    expect(res.applied.map((c) => c.route.dst)).toEqual(['10.1.0.0/16']);
    expect(res.errors[0]?.error.message).toMatch(
      /route conflict: wanted 10.99.0.0\/24 dev wg0 .* found 10.99.0.0\/24 dev eth0 src 10.99.0.1 proto 2/,
    );
    await table.reconcile([]);
    expect(fake.dump()).toContain('route 10.99.0.0/24 dev eth0 src 10.99.0.1 proto 2 table 254 metric 0');
  });

  test('a device-scoped table only sees and deletes routes through its device', async () => {
    const wgTable = new RouteTable(fake, { dev: 'wg0' });
    const ethTable = new RouteTable(fake, { dev: 'eth0' });
    await ethTable.reconcile([{ dst: '10.5.0.0/16', gateway: '10.99.0.254', dev: 'eth0' }]);
    await wgTable.reconcile([remote('10.1.0.0/16')]);
    await wgTable.reconcile([]);
    expect((await ethTable.list()).map((r) => r.dst)).toEqual(['10.5.0.0/16']);
    await expect(wgTable.reconcile([{ dst: '10.6.0.0/16', dev: 'eth0' }])).rejects.toThrow(/manages wg0/);
  });

  test('kernel failures are reported per route, the rest still applies', async () => {
    const table = new RouteTable(fake);
    const res = await table.reconcile([remote('10.1.0.0/16', { src: '10.99.9.9' }), remote('10.2.0.0/16')]);
    expect(res.applied.map((c) => c.route.dst)).toEqual(['10.2.0.0/16']);
    expect(res.errors[0]?.error.message).toMatch(/Invalid prefsrc/);
  });

  test('invalid input throws before any call', async () => {
    const table = new RouteTable(fake, { families: [4] });
    await expect(table.reconcile([{ dst: 'fd00::/64', dev: 'wg0' }])).rejects.toThrow(/IPv6/);
    await expect(table.reconcile([remote('10.1.0.0/16'), remote('10.1.0.0/16')])).rejects.toThrow(/twice/);
    await expect(table.reconcile([{ dst: '10.1.0.0/16' }])).rejects.toThrow(/needs a dev or a gateway/);
    expect(fake.calls).toEqual([]);
  });

  test('path independence: any sequence of desired sets ends like a fresh apply, and repeats are no-ops', async () => {
    const pool: RouteSpec[] = [
      remote('10.1.0.0/16'),
      remote('10.2.0.0/16'),
      { dst: '10.3.0.0/16', gateway: '10.99.0.254', dev: 'eth0' },
      { dst: '10.4.0.0/16', type: 'blackhole' },
      remote('fd00:1::/64', { src: undefined }),
      remote('10.1.0.0/16', { metric: 10 }),
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.subarray(pool), { minLength: 1, maxLength: 5 }), async (states) => {
        const a = new FakeNetlink();
        a.addLink('eth0', { up: true });
        a.addLink('wg0', { up: true });
        await a.addrAdd('eth0', '10.99.0.1/24');
        await a.addrAdd('wg0', '10.99.1.1/32');
        const t = new RouteTable(a, { table: 150 });
        for (const s of states) {
          expect((await t.reconcile(s)).errors).toEqual([]);
          a.clearCalls();
          await t.reconcile(s);
          expect(a.mutatingCalls()).toEqual([]);
        }
        const last = states.at(-1) ?? [];
        const ours = (await t.list()).map((r) => `${r.dst} ${r.metric}`).sort();
        expect(ours).toEqual(
          last.map((r) => `${r.dst} ${r.metric ?? (r.dst.includes(':') ? 1024 : 0)}`).sort(),
        );
      }),
      { numRuns: 50 },
    );
  });
});
