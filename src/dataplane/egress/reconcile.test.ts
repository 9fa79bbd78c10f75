import { describe, expect, it } from 'vitest';
import { FakeEgressLinks, FakeSysctl } from './fake.ts';
import { reconcileNeighbours, reconcileSysctls, reconcileVxlans } from './reconcile.ts';

const spec = { name: 'moorvx4100', vni: 4100, port: 4789, dev: 'lan0', remote: '10.99.10.254', mtu: 1450 };

describe('egress link helpers', () => {
  it('creates, brings up, then changes nothing on identical input', async () => {
    const links = new FakeEgressLinks();
    const first = await reconcileVxlans(links, 'moorvx', [spec]);
    expect(first.applied.map((c) => c.op)).toEqual(['vxlan-create', 'set-up']);
    links.calls.length = 0;
    const second = await reconcileVxlans(links, 'moorvx', [spec]);
    expect(second.applied).toEqual([]);
    expect(links.calls).toEqual([]);
  });

  it('re-creates a device whose remote changed, fixes an MTU in place, deletes stale ones', async () => {
    const links = new FakeEgressLinks();
    await reconcileVxlans(links, 'moorvx', [spec, { ...spec, name: 'moorvx4200', vni: 4200 }]);
    links.devices.get('moorvx4100')!.mtu = 1500;
    const r = await reconcileVxlans(links, 'moorvx', [{ ...spec, remote: '10.99.10.253' }]);
    expect(r.applied.map((c) => c.op)).toEqual(['vxlan-delete', 'vxlan-create', 'set-up', 'vxlan-delete']);
    expect(links.devices.get('moorvx4100')).toMatchObject({ remote: '10.99.10.253', mtu: 1450, up: true });
    expect(links.devices.has('moorvx4200')).toBe(false);
  });

  it('leaves devices outside the prefix alone and reports a failure without throwing', async () => {
    const links = new FakeEgressLinks();
    links.devices.set('flannel.1', { ...spec, name: 'flannel.1', mac: 'x', learning: true, up: true });
    const r = await reconcileVxlans(links, 'moorvx', []);
    expect(r.applied).toEqual([]);
    const n = await reconcileNeighbours(links, [
      { dev: 'moorvx9', address: '169.254.109.1', mac: '02:6d:00:00:09:01' },
    ]);
    expect(n.errors[0]?.error.message).toContain('Cannot find device');
  });

  it('neighbours and sysctls are set once', async () => {
    const links = new FakeEgressLinks();
    await reconcileVxlans(links, 'moorvx', [spec]);
    const want = [{ dev: 'moorvx4100', address: '169.254.109.1', mac: '02:6d:00:10:04:01' }];
    expect((await reconcileNeighbours(links, want)).applied).toHaveLength(1);
    expect((await reconcileNeighbours(links, want)).applied).toHaveLength(0);
    const sysctl = new FakeSysctl();
    const keys = [{ key: 'net.ipv4.conf.moorvx4100.rp_filter', value: '2' }];
    expect((await reconcileSysctls(sysctl, keys)).applied).toHaveLength(1);
    expect((await reconcileSysctls(sysctl, keys)).applied).toHaveLength(0);
  });
});
