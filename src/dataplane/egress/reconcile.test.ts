import { describe, expect, it } from 'vitest';
import { FakeEgressLinks, FakeSysctl } from './fake.ts';
import { reconcileFdb, reconcileNeighbours, reconcileSysctls, reconcileVxlans } from './reconcile.ts';

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

describe('reconcileFdb', () => {
  it('adds, keeps, moves and removes only the entries it manages', async () => {
    const links = new FakeEgressLinks();
    await reconcileVxlans(links, 'moorvx', [spec]);
    links.fdb.push({ dev: 'moorvx4100', mac: '00:00:00:00:00:00', dst: '10.0.0.9', permanent: true });
    const ours = (mac: string) => mac.startsWith('02:6e:');
    const want = [
      { dev: 'moorvx4100', mac: '02:6e:00:00:00:01', dst: '10.99.10.3' },
      { dev: 'moorvx4100', mac: '02:6e:00:00:00:02', dst: '10.99.10.4' },
    ];
    const first = await reconcileFdb(links, ['moorvx4100'], want, ours);
    expect(first.applied.map((c) => c.op)).toEqual(['fdb-replace', 'fdb-replace']);
    links.calls.length = 0;
    expect((await reconcileFdb(links, ['moorvx4100'], want, ours)).applied).toEqual([]);
    expect(links.calls).toEqual([]);
    const moved = await reconcileFdb(links, ['moorvx4100'], [{ ...want[0]!, dst: '10.99.10.7' }], ours);
    expect(moved.applied.map((c) => c.op)).toEqual(['fdb-replace', 'fdb-delete']);
    expect(links.fdb.map((e) => `${e.mac} ${e.dst}`).sort()).toEqual([
      '00:00:00:00:00:00 10.0.0.9',
      '02:6e:00:00:00:01 10.99.10.7',
    ]);
  });
});
