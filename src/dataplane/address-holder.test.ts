import { describe, expect, it } from 'vitest';
import { AddressHolder } from './address-holder.ts';
import { FakeNetlink } from './netlink/fake.ts';

function setup() {
  const nl = new FakeNetlink();
  nl.addLink('eth0', { up: true });
  const arps: string[] = [];
  const holder = new AddressHolder(nl, (ip, dev) => arps.push(`${ip}@${dev}`));
  return { nl, arps, holder };
}
const VIP = { cidr: '10.99.10.10/24', dev: 'eth0' };
const EGRESS = { cidr: '10.99.10.50/32', dev: 'eth0' };

describe('AddressHolder', () => {
  it('adds the addresses, then announces each twice', async () => {
    const { nl, arps, holder } = setup();
    await holder.take([VIP, EGRESS]);
    expect(nl.mutatingCalls().map((c) => `${c.op} ${c.args.join(' ')}`)).toEqual([
      'addrAdd eth0 10.99.10.10/24',
      'addrAdd eth0 10.99.10.50/32',
    ]);
    expect(arps).toEqual(['10.99.10.10@eth0', '10.99.10.50@eth0', '10.99.10.10@eth0', '10.99.10.50@eth0']);
    expect(await holder.present([VIP, EGRESS])).toEqual([VIP, EGRESS]);
  });

  it('taking again adds nothing but announces again (a restart re-announces)', async () => {
    const { nl, arps, holder } = setup();
    await holder.take([VIP]);
    nl.clearCalls();
    await holder.take([VIP]);
    expect(nl.mutatingCalls()).toEqual([]);
    expect(arps).toHaveLength(4);
  });

  it('drops present addresses, and absent ones are fine', async () => {
    const { nl, holder } = setup();
    await holder.take([VIP]);
    await holder.drop([VIP, EGRESS]);
    expect(await holder.present([VIP, EGRESS])).toEqual([]);
    expect(nl.mutatingCalls().filter((c) => c.op === 'addrDel')).toHaveLength(2);
  });

  it('reports a missing device as nothing present', async () => {
    const { holder } = setup();
    expect(await holder.present([{ cidr: '10.0.0.1/24', dev: 'nope0' }])).toEqual([]);
    await expect(holder.take([{ cidr: '10.0.0.1/24', dev: 'nope0' }])).rejects.toThrow();
  });
});
