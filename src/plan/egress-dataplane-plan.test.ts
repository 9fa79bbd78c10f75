import { describe, expect, it } from 'vitest';
import { planGatewayEgress } from './egress-gateway.ts';
import { groupMac, groupMark } from './egress-names.ts';
import { effectiveDestinations, type NodeEgressInput, planNodeEgress } from './egress-node.ts';
import type { GatewayInput } from './egress-types.ts';

const gateway: GatewayInput = {
  name: 'east',
  nodeSelector: {},
  pool: { cidrs: ['10.99.10.32/28'] },
  interface: 'lan0',
  subnet: '10.99.10.0/24',
  floatingIP: '10.99.10.254',
  vni: 4100,
  vxlanPort: 4789,
};

const nodeInput: NodeEgressInput = {
  underlayDevice: 'lan0',
  underlayMtu: 1500,
  clusterCidrs: ['10.1.0.0/16', '10.96.0.0/16'],
  localPodCidrs: ['10.1.1.0/24'],
  groups: [{ name: 'east', floatingIP: '10.99.10.254', vni: 4100, vxlanPort: 4789, usable: true }],
  policies: [
    {
      name: 'pay',
      gateway: 'east',
      failurePolicy: 'Closed',
      destinations: [{ cidr: '10.50.0.0/16', except: ['10.50.9.0/24'] }],
    },
    { name: 'open', gateway: 'east', failurePolicy: 'Open', destinations: [{ cidr: '10.60.0.0/24' }] },
  ],
  assignments: [
    { namespace: 'p', name: 'a', node: 'w1', podIP: '10.1.1.5', policy: 'pay', egressIP: '10.99.10.32' },
    { namespace: 'p', name: 'b', node: 'w1', podIP: '10.1.1.6', policy: 'open', egressIP: '10.99.10.33' },
    { namespace: 'p', name: 'new', node: 'w1', podIP: undefined, policy: 'pay', egressIP: '10.99.10.32' },
  ],
  knownPodIPs: ['10.1.1.5', '10.1.1.6', '10.1.1.7'],
};

describe('effectiveDestinations', () => {
  it('removes exceptions and cluster networks', () => {
    expect(
      effectiveDestinations([{ cidr: '10.0.0.0/8', except: ['10.128.0.0/9'] }], ['10.1.0.0/16']),
    ).toEqual([
      '10.0.0.0/16',
      '10.2.0.0/15',
      '10.4.0.0/14',
      '10.8.0.0/13',
      '10.16.0.0/12',
      '10.32.0.0/11',
      '10.64.0.0/10',
    ]);
  });
});

describe('planNodeEgress', () => {
  it('steers selected pods by mark into the group VXLAN and guards Closed traffic (golden)', () => {
    const d = planNodeEgress(nodeInput);
    const mark = groupMark(4100);
    expect(mark).toBe(0x6d001004);
    expect(d.vxlans).toEqual([
      { name: 'moorvx4100', vni: 4100, remote: '10.99.10.254', port: 4789, dev: 'lan0', mtu: 1450 },
    ]);
    expect(d.neighbours).toEqual([{ dev: 'moorvx4100', address: '169.254.109.1', mac: '02:6d:00:10:04:01' }]);
    expect(d.routes).toEqual([
      { table: mark, dst: '169.254.109.1/32', dev: 'moorvx4100', scope: 'link' },
      { table: mark, dst: '0.0.0.0/0', dev: 'moorvx4100', gateway: '169.254.109.1', scope: 'global' },
    ]);
    expect(d.rules).toEqual([{ priority: 110, fwmark: mark, table: mark }]);
    const sets = Object.fromEntries((d.table.sets ?? []).map((s) => [s.name, s.elements]));
    expect(sets.closed_guard).toEqual([
      '10.1.1.5 . 10.50.0.0/21',
      '10.1.1.5 . 10.50.8.0/24',
      '10.1.1.5 . 10.50.10.0/23',
      '10.1.1.5 . 10.50.12.0/22',
      '10.1.1.5 . 10.50.16.0/20',
      '10.1.1.5 . 10.50.32.0/19',
      '10.1.1.5 . 10.50.64.0/18',
      '10.1.1.5 . 10.50.128.0/17',
    ]);
    expect(sets.closed_dsts).toHaveLength(8);
    expect(sets.known_pods).toEqual(['10.1.1.5', '10.1.1.6', '10.1.1.7']);
    expect(sets.steered_pods).toEqual(['10.1.1.5', '10.1.1.6']);
    const steer = d.table.maps?.[0]?.elements ?? [];
    expect(steer).toContainEqual(['10.1.1.6 . 10.60.0.0/24', '0x6d001004']);
    expect(steer).toHaveLength(9);
    const forward = d.table.chains?.find((c) => c.name === 'moor_forward')?.rules ?? [];
    expect(forward[0]).toBe('ip saddr . ip daddr @closed_guard oifname != "moorvx*" drop');
    expect(forward[1]).toBe('ip saddr @local_pods ip saddr != @known_pods ip daddr @closed_dsts drop');
    expect(d.table.chains?.find((c) => c.name === 'moor_postrouting')?.base?.priority).toBe(90);
  });

  it('drops (Closed) or passes (Open) when the group is not usable: no device, no steering', () => {
    const d = planNodeEgress({ ...nodeInput, groups: [{ ...nodeInput.groups[0]!, usable: false }] });
    expect(d.vxlans).toEqual([]);
    expect(d.rules).toEqual([]);
    expect(d.table.maps?.[0]?.elements).toEqual([]);
    // The Closed pod stays in the guard set; the Open pod does not.
    const guard = d.table.sets?.find((s) => s.name === 'closed_guard')?.elements ?? [];
    expect(guard.every((e) => e.startsWith('10.1.1.5 '))).toBe(true);
    expect(d.notSteered.map((n) => n.pod)).toEqual(['p/a', 'p/b']);
  });

  it('turns the unknown-pod guard off without local pod CIDRs', () => {
    const d = planNodeEgress({ ...nodeInput, localPodCidrs: [] });
    expect(d.table.chains?.find((c) => c.name === 'moor_forward')?.rules).toHaveLength(3);
  });
});

describe('planGatewayEgress', () => {
  const assignments = [
    { namespace: 'p', name: 'a', node: 'w1', podIP: '10.1.1.5', policy: 'pay', egressIP: '10.99.10.32' },
    { namespace: 'p', name: 'c', node: 'w2', podIP: '10.1.2.5', policy: 'pay', egressIP: '10.99.10.99' },
  ];
  it('maps pods to egress IPs and holds addresses only when active (golden)', () => {
    const standby = planGatewayEgress(
      [{ gateway, egressIPs: ['10.99.10.32', '10.99.10.33'], assignments, active: false }],
      1500,
    );
    expect(standby.addresses).toEqual([]);
    expect(standby.vxlans).toEqual([
      { name: 'moorvx4100', vni: 4100, port: 4789, dev: 'lan0', mac: groupMac(4100), mtu: 1450 },
    ]);
    // A pod whose egress IP is not one of the group's is never mapped.
    expect(standby.table.maps?.[0]?.elements).toEqual([['10.1.1.5', '10.99.10.32']]);
    expect(standby.table.chains?.map((c) => [c.name, c.rules])).toEqual([
      [
        'moor_forward',
        [
          'iifname "moorvx*" ct state invalid drop',
          'iifname "moorvx*" ip saddr != @mapped_pods drop',
          'oifname "moorvx*" ct mark & 0xff000000 != 0x6d000000 drop',
          'iifname != "moorvx*" oifname != "moorvx*" ct direction original ct mark & 0xff000000 == 0x6d000000 drop',
          'oifname "moorvx*" tcp flags & (syn | rst) == syn tcp option maxseg size > 1410 tcp option maxseg size set 1410',
        ],
      ],
      ['moor_ingress_dnat', []],
      [
        'moor_ingress_mark',
        [
          'iifname != "moorvx*" ct direction original ct mark & 0xff000000 == 0x6d000000 meta mark set ct mark',
        ],
      ],
      ['moor_snat', ['iifname "moorvx*" oifname "lan0" snat to ip saddr map @snat_map']],
      ['moor_guard', ['iifname "moorvx*" fib saddr type != local ip saddr != @egress_ips drop']],
      ['moor_input', ['ip daddr @egress_ips drop']],
    ]);
    const active = planGatewayEgress(
      [{ gateway, egressIPs: ['10.99.10.33', '10.99.10.32'], assignments, active: true }],
      1500,
    );
    expect(active.table).toEqual(standby.table); // takeover changes no nft state
    expect(active.addresses).toEqual([
      { dev: 'lan0', cidrs: ['10.99.10.254/24', '10.99.10.32/24', '10.99.10.33/24'] },
    ]);
    expect(active.announce).toEqual([
      { dev: 'lan0', addresses: ['10.99.10.254', '10.99.10.32', '10.99.10.33'] },
    ]);
  });
});
