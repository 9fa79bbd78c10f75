// The netlink helpers against a real kernel, in a namespace created (and removed) here: every
// helper converges, a second run issues no mutating command, drift is repaired, and routes of
// other owners are never touched.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skipOutsideCi } from '../../testing-ci.ts';
import {
  randomHex,
  realTestsUnavailable,
  recording,
  type TestNamespace,
  TestNamespaces,
} from '../real-test-support.ts';
import { reconcileAddresses } from './addresses.ts';
import { IpRouteNetlink } from './iproute.ts';
import { reconcileLink } from './links.ts';
import { tunnelMtu, underlayMtu } from './mtu.ts';
import { RouteTable } from './route-table.ts';
import { reconcileRules } from './rules.ts';
import type { NetlinkBasic, RouteSpec } from './types.ts';

const skip = realTestsUnavailable();
const MUTATING = new Set([
  'linkSetUp',
  'linkSetDown',
  'linkSetMtu',
  'linkDelete',
  'addrAdd',
  'addrDel',
  'routeReplace',
  'routeDel',
  'ruleAdd',
  'ruleDel',
]);

describe.skipIf(skipOutsideCi(skip))('netlink helpers on a real kernel', () => {
  const namespaces = new TestNamespaces();
  let ns: TestNamespace;
  let netlink: NetlinkBasic;
  let calls: { method: string; args: unknown[] }[];
  const vx = `vx${randomHex(2)}`;
  const vy = `vy${randomHex(2)}`;
  const mutations = (): string[] => calls.filter((c) => MUTATING.has(c.method)).map((c) => c.method);

  beforeAll(async () => {
    ns = await namespaces.create();
    await ns.runner.run(['ip', 'link', 'add', vx, 'type', 'veth', 'peer', 'name', vy]);
    await ns.runner.run(['ip', 'link', 'set', vy, 'up']);
    const rec = recording<NetlinkBasic>(new IpRouteNetlink(ns.runner));
    netlink = rec.port;
    calls = rec.calls;
  });

  afterAll(async () => {
    await namespaces.destroyAll();
  });

  test('link MTU and state converge, then nothing more happens', async () => {
    expect((await netlink.linkGet(vx))?.kind).toBe('veth');
    expect(await netlink.linkGet('nosuchdev0')).toBeUndefined();
    const first = await reconcileLink(netlink, vx, { mtu: 1400, up: true });
    expect(first.applied.map((c) => c.op)).toEqual(['set-mtu', 'set-up']);
    calls.length = 0;
    expect((await reconcileLink(netlink, vx, { mtu: 1400, up: true })).applied).toEqual([]);
    expect(mutations()).toEqual([]);
  });

  test('addresses: add before delete, global scope only, idempotent', async () => {
    const first = await reconcileAddresses(netlink, vx, ['10.99.10.1/24', 'fd99:10::1/64']);
    expect(first.errors).toEqual([]);
    const second = await reconcileAddresses(netlink, vx, ['10.99.10.1/24', '10.99.11.1/24']);
    expect(second.applied).toEqual([
      { op: 'add', dev: vx, cidr: '10.99.11.1/24' },
      { op: 'delete', dev: vx, cidr: 'fd99:10::1/64' },
    ]);
    calls.length = 0;
    expect((await reconcileAddresses(netlink, vx, ['10.99.11.1/24', '10.99.10.1/24'])).applied).toEqual([]);
    expect(mutations()).toEqual([]);
    // The kernel's link-local address is still there: we never manage it.
    const all = await netlink.addrList(vx);
    expect(all.some((a) => a.scope === 'link')).toBe(true);
  });

  test('RouteTable owns its routes by proto, repairs drift and leaves foreign routes alone', async () => {
    const table = new RouteTable(netlink, { table: 150 });
    const desired: RouteSpec[] = [
      { dst: '10.99.20.0/24', dev: vx, src: '10.99.10.1' },
      { dst: '10.99.21.0/24', gateway: '10.99.10.2', dev: vx },
      { dst: '10.99.22.0/24', type: 'blackhole' },
      { dst: 'fd99:20::/64', dev: vx },
    ];
    const first = await table.reconcile(desired);
    expect(first.errors).toEqual([]);
    expect(first.applied).toHaveLength(4);
    calls.length = 0;
    expect(await table.reconcile(desired)).toEqual({ applied: [], errors: [] });
    expect(mutations()).toEqual([]);

    const { stdout } = await ns.runner.run(['ip', 'route', 'show', 'table', '150', 'proto', '109']);
    expect(stdout).toContain('10.99.20.0/24 dev');

    // Someone deletes one of ours and adds a route of their own.
    await ns.runner.run(['ip', 'route', 'del', '10.99.21.0/24', 'table', '150']);
    await ns.runner.run(['ip', 'route', 'add', '10.99.23.0/24', 'dev', vx, 'table', '150']);
    calls.length = 0;
    const repaired = await table.reconcile([...desired.slice(0, 3), { dst: '10.99.23.0/24', dev: vx }]);
    expect(repaired.applied.map((c) => `${c.op} ${c.route.dst}`)).toEqual([
      'replace 10.99.21.0/24',
      'delete fd99:20::/64',
    ]);
    expect(repaired.errors.map((e) => e.error.message)).toEqual([expect.stringMatching(/route conflict/)]);
    const left = await netlink.routeList({ family: 4, table: 150 });
    expect(left.find((r) => r.dst === '10.99.23.0/24')?.proto).toBe(3);
    expect((await table.list()).map((r) => r.dst).sort()).toEqual([
      '10.99.20.0/24',
      '10.99.21.0/24',
      '10.99.22.0/24',
    ]);

    expect(await table.reconcile([])).toMatchObject({ errors: [] });
    expect(await table.list()).toEqual([]);
  });

  test('rules: ours by protocol, idempotent, add before delete', async () => {
    const want = [{ family: 4 as const, priority: 150, table: 150, src: '10.99.10.0/24' }];
    expect((await reconcileRules(netlink, want)).applied).toHaveLength(1);
    calls.length = 0;
    expect((await reconcileRules(netlink, want)).applied).toEqual([]);
    expect(mutations()).toEqual([]);
    const next = await reconcileRules(netlink, [
      { family: 4, priority: 151, table: 150, fwmark: 0x10, fwmask: 0xff },
    ]);
    expect(next.applied.map((c) => `${c.op} ${c.rule.priority}`)).toEqual(['add 151', 'delete 150']);
    expect((await reconcileRules(netlink, [])).errors).toEqual([]);
    expect((await netlink.ruleList(4)).filter((r) => r.proto === 109)).toEqual([]);
  });

  test('underlay MTU comes from the route to the peer, with a locked route MTU winning', async () => {
    const path = await underlayMtu(netlink, '10.99.10.2');
    expect(path).toEqual({ dev: vx, src: '10.99.10.1', mtu: 1400 });
    expect(tunnelMtu(path.mtu)).toBe(1320);
    await ns.runner.run(['ip', 'route', 'add', '10.99.30.0/24', 'dev', vx, 'mtu', 'lock', '1380']);
    expect((await underlayMtu(netlink, '10.99.30.5')).mtu).toBe(1380);
    await expect(underlayMtu(netlink, '10.98.0.1')).rejects.toThrow(/no route/);
  });
});
