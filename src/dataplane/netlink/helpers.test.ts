import { beforeEach, describe, expect, test } from 'vitest';
import { reconcileAddresses } from './addresses.ts';
import { FakeNetlink } from './fake.ts';
import { reconcileLink } from './links.ts';
import {
  tunnelMtu,
  tunnelMtuFor,
  underlayMtu,
  WIREGUARD_OVERHEAD_IPV4,
  WIREGUARD_OVERHEAD_IPV6,
} from './mtu.ts';
import { reconcileRules } from './rules.ts';

let fake: FakeNetlink;

beforeEach(async () => {
  fake = new FakeNetlink();
  fake.addLink('eth0', { up: true, mtu: 1500 });
  fake.addLink('eth1', { up: true, mtu: 9000 });
  fake.addLink('wg0', { kind: 'wireguard', mtu: 1420 });
  await fake.addrAdd('eth0', '10.99.0.1/24');
  await fake.addrAdd('eth1', '10.99.50.1/24');
  fake.clearCalls();
});

describe('reconcileAddresses', () => {
  test('adds before deleting, then is a no-op', async () => {
    await reconcileAddresses(fake, 'wg0', ['10.99.1.1/32', '10.99.1.2/32']);
    fake.clearCalls();
    const res = await reconcileAddresses(fake, 'wg0', ['10.99.1.2/32', '10.99.1.3/32']);
    expect(res.applied).toEqual([
      { op: 'add', dev: 'wg0', cidr: '10.99.1.3/32' },
      { op: 'delete', dev: 'wg0', cidr: '10.99.1.1/32' },
    ]);
    fake.clearCalls();
    expect((await reconcileAddresses(fake, 'wg0', ['10.99.1.3/32', '10.99.1.2/32'])).applied).toEqual([]);
    expect(fake.mutatingCalls()).toEqual([]);
  });

  test('manage limits deletion to our addresses on a shared device', async () => {
    const ours = (c: string): boolean => c.startsWith('203.0.113.');
    await reconcileAddresses(fake, 'eth0', ['10.99.0.1/24', '203.0.113.20/32'], { manage: ours });
    const res = await reconcileAddresses(fake, 'eth0', ['203.0.113.21/32'], { manage: ours });
    expect(res.applied.map((c) => `${c.op} ${c.cidr}`)).toEqual([
      'add 203.0.113.21/32',
      'delete 203.0.113.20/32',
    ]);
    expect(fake.dump()).toContain('addr 10.99.0.1/24');
  });

  test('an IPv6 prefix change of the same address deletes first (the kernel refuses a duplicate)', async () => {
    await reconcileAddresses(fake, 'wg0', ['fd99::1/64']);
    const res = await reconcileAddresses(fake, 'wg0', ['fd99::1/128']);
    expect(res.errors).toEqual([]);
    expect(res.applied.map((c) => `${c.op} ${c.cidr}`)).toEqual(['delete fd99::1/64', 'add fd99::1/128']);
  });

  test('a missing device is an error in the result', async () => {
    const res = await reconcileAddresses(fake, 'wg9', ['10.99.1.1/32']);
    expect(res.errors[0]?.error.code).toBe('not-found');
  });
});

describe('reconcileLink', () => {
  test('sets MTU before up, only when different', async () => {
    const res = await reconcileLink(fake, 'wg0', { mtu: 1380, up: true });
    expect(res.applied).toEqual([
      { op: 'set-mtu', dev: 'wg0', mtu: 1380 },
      { op: 'set-up', dev: 'wg0' },
    ]);
    fake.clearCalls();
    expect((await reconcileLink(fake, 'wg0', { mtu: 1380, up: true })).applied).toEqual([]);
    expect(fake.mutatingCalls()).toEqual([]);
  });
});

describe('MTU', () => {
  test('overheads: 60 over IPv4, 80 over IPv6; the tunnel always assumes 80', () => {
    expect(WIREGUARD_OVERHEAD_IPV4).toBe(20 + 8 + 32);
    expect(WIREGUARD_OVERHEAD_IPV6).toBe(40 + 8 + 32);
    expect(tunnelMtu(1500)).toBe(1420);
    expect(() => tunnelMtu(1300)).toThrow(/below 1280/);
  });

  test('underlay MTU follows the route to the peer; several peers take the smallest', async () => {
    expect(await underlayMtu(fake, '10.99.0.7')).toEqual({ dev: 'eth0', src: '10.99.0.1', mtu: 1500 });
    expect(await tunnelMtuFor(fake, ['10.99.50.9', '10.99.0.7'])).toBe(1420);
    expect(await tunnelMtuFor(fake, ['10.99.50.9'])).toBe(8920);
    await expect(underlayMtu(fake, '192.0.2.1')).rejects.toThrow(/no route to 192.0.2.1/);
  });
});

describe('reconcileRules', () => {
  test('adds ours, leaves the kernel defaults, then is a no-op; removal after addition', async () => {
    const rule = { family: 4 as const, priority: 150, table: 150, src: '10.99.1.1/32' };
    expect((await reconcileRules(fake, [rule])).applied).toHaveLength(1);
    fake.clearCalls();
    expect((await reconcileRules(fake, [rule])).applied).toEqual([]);
    expect(fake.mutatingCalls()).toEqual([]);
    const res = await reconcileRules(fake, [{ ...rule, priority: 151 }]);
    expect(res.applied.map((c) => `${c.op} ${c.rule.priority}`)).toEqual(['add 151', 'delete 150']);
    await reconcileRules(fake, []);
    expect((await fake.ruleList(4)).map((r) => r.priority)).toEqual([0, 32766, 32767]);
  });
});

describe('FakeNetlink strictness', () => {
  test('behaves like the kernel where helpers depend on it', async () => {
    await expect(fake.addrAdd('eth0', '10.99.0.1/24')).rejects.toThrow(/File exists/);
    await expect(fake.addrDel('eth0', '10.99.0.9/24')).rejects.toThrow(/Cannot assign/);
    await expect(fake.addrAdd('nope0', '10.99.0.9/24')).rejects.toThrow(/Cannot find device/);
    const downRoute = {
      family: 4 as const,
      dst: '10.7.0.0/16',
      table: 254,
      metric: 0,
      type: 'unicast' as const,
      dev: 'wg0',
      proto: 109,
      scope: 'link' as const,
    };
    await expect(fake.routeReplace(downRoute)).rejects.toThrow(/Nexthop device is not up/);
    await expect(fake.routeDel(downRoute)).rejects.toThrow(/No such process/);
    await expect(
      fake.routeReplace({ ...downRoute, dev: 'eth0', gateway: '10.98.0.1', scope: 'global' }),
    ).rejects.toThrow(/invalid gateway/);
    await fake.linkSetUp('wg0');
    await fake.routeReplace(downRoute);
    await fake.linkDelete('wg0');
    expect(fake.dump()).not.toContain('wg0');
  });
});
