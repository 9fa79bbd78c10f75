import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planGatewayEgress } from './egress-gateway.ts';
import { type IngressPolicy, planIngress } from './egress-ingress.ts';
import { nodeVxlanMac } from './egress-names.ts';
import { planNodeEgress } from './egress-node.ts';
import type { PodAssignment } from './egress-pods.ts';
import { readPolicy } from './egress-read.ts';
import { conditionEvents } from './egress-status.ts';
import type { GatewayInput, NodeInput, PodInput } from './egress-types.ts';

const gateway: GatewayInput = {
  name: 'east',
  nodeSelector: { matchLabels: { role: 'gw' } },
  pool: { cidrs: ['10.99.10.32/28'] },
  interface: 'lan0',
  subnet: '10.99.10.0/24',
  floatingIP: '10.99.10.30',
  vni: 4100,
  vxlanPort: 4789,
};
const nodes: NodeInput[] = [
  { name: 'w1', labels: {}, addresses: ['10.99.10.3'], internalIP: '10.99.10.3', ready: true },
  { name: 'w2', labels: {}, addresses: ['10.99.10.4'], internalIP: '10.99.10.4', ready: true },
  { name: 'gw1', labels: { role: 'gw' }, addresses: ['10.99.10.2'], internalIP: '10.99.10.2', ready: true },
];
const assign = (name: string, node: string, podIP: string, policy = 'pay'): PodAssignment => ({
  namespace: 'shop',
  name,
  node,
  podIP,
  policy,
  egressIP: '10.99.10.33',
});
const assignments = [
  assign('a', 'w1', '10.1.3.5'),
  assign('b', 'w2', '10.1.4.5'),
  assign('on-gw', 'gw1', '10.1.9.5'), // a gateway node runs no node agent: never a target
  assign('web', 'w1', '10.1.3.6', 'web'), // another policy without ingress
  assign('unready', 'w1', '10.1.3.9'),
];
const pods: PodInput[] = [{ namespace: 'shop', name: 'unready', labels: {}, ready: false }];
const pay: IngressPolicy = {
  name: 'pay',
  gateway: 'east',
  ips: ['10.99.10.33'],
  ingress: {
    ports: [
      { port: 8080, protocol: 'TCP', targetPort: 8080 },
      { port: 53, protocol: 'UDP', targetPort: 5353 },
    ],
  },
};
const web: IngressPolicy = { name: 'web', gateway: 'east', ips: ['10.99.10.34'] };

describe('planIngress', () => {
  it('targets the ready selected pods off gateway nodes, sorted; Ready condition (golden)', () => {
    const plan = planIngress({ policies: [web, pay], gateways: [gateway], assignments, pods, nodes });
    const targets = [
      { pod: 'shop/a', podIP: '10.1.3.5', node: 'w1', nodeIP: '10.99.10.3' },
      { pod: 'shop/b', podIP: '10.1.4.5', node: 'w2', nodeIP: '10.99.10.4' },
    ];
    expect(plan.entries).toEqual([
      {
        policy: 'pay',
        gateway: 'east',
        egressIP: '10.99.10.33',
        protocol: 'TCP',
        port: 8080,
        targetPort: 8080,
        targets,
      },
      {
        policy: 'pay',
        gateway: 'east',
        egressIP: '10.99.10.33',
        protocol: 'UDP',
        port: 53,
        targetPort: 5353,
        targets,
      },
    ]);
    expect(plan.conditions).toEqual({
      pay: {
        type: 'Ingress',
        status: 'True',
        reason: 'Ready',
        message: 'TCP/8080, UDP/53 on 10.99.10.33 → 2 pod(s)',
      },
    });
  });

  it('bad input is a condition and programs nothing of that policy', () => {
    const conflicting: IngressPolicy = { ...pay, name: 'pay-b' }; // same IP, same ports
    const noIPs: IngressPolicy = { ...pay, name: 'pay-c', ips: [] };
    const invalid: IngressPolicy = {
      name: 'pay-d',
      gateway: 'east',
      ips: ['10.99.10.36'],
      ingressProblem: 'x',
    };
    const lost: IngressPolicy = { ...pay, name: 'pay-e', gateway: 'gone', ips: ['10.99.10.37'] };
    const plan = planIngress({
      policies: [conflicting, noIPs, invalid, lost, pay],
      gateways: [gateway],
      assignments,
      pods,
      nodes,
    });
    expect(new Set(plan.entries.map((e) => e.policy))).toEqual(new Set(['pay']));
    const reasons = Object.fromEntries(Object.entries(plan.conditions).map(([k, c]) => [k, c.reason]));
    expect(reasons).toEqual({
      pay: 'Ready',
      'pay-b': 'PortConflict',
      'pay-c': 'NoIPs',
      'pay-d': 'InvalidIngress',
      'pay-e': 'GatewayNotFound',
    });
    expect(plan.conditions['pay-b']?.message).toBe('10.99.10.33 TCP/8080 is already taken by policy pay');
    // Each problem is a Warning Event once (when it appears), like every other condition.
    const events = conditionEvents('EgressPolicy', 'pay-b', [], [plan.conditions['pay-b']!]);
    expect(events).toMatchObject([{ type: 'Warning', reason: 'PortConflict' }]);
    expect(conditionEvents('EgressPolicy', 'pay', [], [plan.conditions.pay!])).toEqual([]);
    const none = planIngress({ policies: [pay], gateways: [gateway], assignments: [], pods, nodes });
    expect(none.entries).toEqual([]);
    expect(none.conditions.pay?.reason).toBe('NoReadyPods');
  });

  it('is independent of input order, targets only its own pods and claims each port once (property)', () => {
    const policyArb = fc.record({
      name: fc.constantFrom('p1', 'p2', 'p3'),
      ip: fc.constantFrom('10.99.10.33', '10.99.10.34'),
      ports: fc.uniqueArray(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
    });
    const podArb = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      node: fc.constantFrom('w1', 'w2', 'gw1'),
      policy: fc.constantFrom('p1', 'p2', 'p3', 'none'),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(policyArb, { selector: (p) => p.name, maxLength: 3 }),
        fc.uniqueArray(podArb, { selector: (p) => p.name, maxLength: 5 }),
        (ps, podList) => {
          const policies: IngressPolicy[] = ps.map((p) => ({
            name: p.name,
            gateway: 'east',
            ips: [p.ip],
            ingress: { ports: p.ports.map((port) => ({ port, protocol: 'TCP' as const, targetPort: port })) },
          }));
          const as = podList.map((p, i) => assign(p.name, p.node, `10.1.3.${i + 1}`, p.policy));
          const a = planIngress({ policies, gateways: [gateway], assignments: as, pods: [], nodes });
          const b = planIngress({
            policies: [...policies].reverse(),
            gateways: [gateway],
            assignments: [...as].reverse(),
            pods: [],
            nodes: [...nodes].reverse(),
          });
          expect(b).toEqual(a);
          const keys = a.entries.map((e) => `${e.egressIP} ${e.protocol}/${e.port}`);
          expect(new Set(keys).size).toBe(keys.length);
          for (const e of a.entries)
            for (const t of e.targets) {
              const owner = as.find((x) => `${x.namespace}/${x.name}` === t.pod);
              expect(owner?.policy).toBe(e.policy);
              expect(owner?.node).not.toBe('gw1');
            }
        },
      ),
    );
  });
});

describe('readPolicy spec.ingress', () => {
  const raw = (ingress: unknown) => ({
    metadata: { name: 'pay' },
    spec: { gateway: 'east', destinations: [{ cidr: '10.0.0.0/8' }], ingress },
  });
  it('defaults protocol TCP and targetPort = port; refuses a bad section whole', () => {
    const ok = readPolicy(raw({ ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 5353 }] }));
    expect(ok.ok && ok.value.ingress).toEqual({
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 53, protocol: 'UDP', targetPort: 5353 },
      ],
    });
    for (const [bad, problem] of [
      [
        { ports: [{ port: 80 }, { port: 70000 }] },
        'spec.ingress.ports[1]: port and targetPort must be 1-65535',
      ],
      [{ ports: [{ port: 80 }, { port: 80, protocol: 'TCP' }] }, 'spec.ingress.ports lists TCP/80 twice'],
      [{ ports: [{ port: 80, protocol: 'SCTP' }] }, 'spec.ingress.ports[0]: protocol must be TCP or UDP'],
      [{ ports: [] }, 'spec.ingress.ports must list at least one port'],
    ] as const) {
      const r = readPolicy(raw(bad));
      expect(r.ok).toBe(true); // the rest of the policy (egress) keeps working
      expect(r.ok && r.value.ingress).toBeUndefined();
      expect(r.ok && r.value.ingressProblem).toBe(problem);
    }
  });
});

describe('inbound data path as desired state', () => {
  it('gateway: DNAT by fixed-seed hash, routes/neighbours/FDB into the VXLAN (golden)', () => {
    const { entries } = planIngress({ policies: [pay], gateways: [gateway], assignments, pods, nodes });
    const group = {
      gateway,
      egressIPs: ['10.99.10.33'],
      assignments: assignments.filter((a) => a.policy === 'pay'),
      ingress: entries,
    };
    const standby = planGatewayEgress([{ ...group, active: false }], 1500);
    const active = planGatewayEgress([{ ...group, active: true }], 1500);
    expect(active.table).toEqual(standby.table); // a takeover changes no nft state...
    expect(active.routes).toEqual(standby.routes); // ...and no route
    const dnat = standby.table.chains?.find((c) => c.name === 'moor_ingress_dnat');
    expect(dnat?.base).toEqual({ type: 'nat', hook: 'prerouting', priority: -100 });
    expect(dnat?.rules).toEqual([
      'iifname "lan0" ip daddr 10.99.10.33 tcp dport 8080 ct mark set 0x6d001004 dnat to jhash ip saddr . tcp sport mod 2 seed 0x6d6f6f72 map { 0 : 10.1.3.5, 1 : 10.1.4.5 }',
      'iifname "lan0" ip daddr 10.99.10.33 udp dport 53 ct mark set 0x6d001004 dnat ip to jhash ip saddr . udp sport mod 2 seed 0x6d6f6f72 map { 0 : 10.1.3.5 . 5353, 1 : 10.1.4.5 . 5353 }',
    ]);
    const mark = 0x6d001004;
    expect(standby.rules).toEqual([{ priority: 110, fwmark: mark, table: mark }]);
    expect(standby.routes).toEqual([
      { table: mark, dst: '10.1.3.5/32', dev: 'moorvx4100', scope: 'link' },
      { table: mark, dst: '10.1.4.5/32', dev: 'moorvx4100', scope: 'link' },
    ]);
    expect(standby.neighbours).toEqual([
      { dev: 'moorvx4100', address: '10.1.3.5', mac: nodeVxlanMac('w1') },
      { dev: 'moorvx4100', address: '10.1.4.5', mac: nodeVxlanMac('w2') },
    ]);
    expect(standby.fdb).toEqual([
      { dev: 'moorvx4100', mac: nodeVxlanMac('w1'), dst: '10.99.10.3' },
      { dev: 'moorvx4100', mac: nodeVxlanMac('w2'), dst: '10.99.10.4' },
    ]);
    // One target, no port change: a plain DNAT.
    const single = planGatewayEgress(
      [{ ...group, active: false, ingress: entries.map((e) => ({ ...e, targets: e.targets.slice(0, 1) })) }],
      1500,
    );
    expect(single.table.chains?.find((c) => c.name === 'moor_ingress_dnat')?.rules).toEqual([
      'iifname "lan0" ip daddr 10.99.10.33 tcp dport 8080 ct mark set 0x6d001004 dnat to 10.1.3.5',
      'iifname "lan0" ip daddr 10.99.10.33 udp dport 53 ct mark set 0x6d001004 dnat to 10.1.3.5:5353',
    ]);
    // Without spec.ingress: no DNAT, no route, nothing in the tunnels.
    const none = planGatewayEgress([{ ...group, active: false, ingress: [] }], 1500);
    expect(none.table.chains?.find((c) => c.name === 'moor_ingress_dnat')?.rules).toEqual([]);
    expect([none.routes, none.neighbours, none.fdb]).toEqual([[], [], []]);
  });

  it('node: a fixed VXLAN MAC, ct mark on flows from the tunnel, replies routed back by it', () => {
    expect(nodeVxlanMac('w1')).toMatch(/^02:6e(:[0-9a-f]{2}){4}$/);
    expect(nodeVxlanMac('w1')).not.toBe(nodeVxlanMac('w2'));
    const d = planNodeEgress({
      underlayDevice: 'lan0',
      underlayMtu: 1500,
      clusterCidrs: ['10.1.0.0/16'],
      localPodCidrs: [],
      groups: [{ name: 'east', floatingIP: '10.99.10.30', vni: 4100, vxlanPort: 4789, usable: true }],
      policies: [],
      assignments: [],
      knownPodIPs: [],
      vxlanMac: nodeVxlanMac('w1'),
    });
    expect(d.vxlans[0]?.mac).toBe(nodeVxlanMac('w1'));
    expect(d.sysctls).toEqual([{ key: 'net.ipv4.conf.moorvx4100.rp_filter', value: '2' }]);
    expect(d.vxlanAddresses).toEqual([{ dev: 'moorvx4100', cidrs: ['169.254.109.2/32'] }]);
    expect(d.table.chains?.find((c) => c.name === 'moor_prerouting')?.rules).toEqual([
      'iifname "moorvx4100" ct direction original ct mark set 0x6d001004',
      'meta mark set ip saddr . ip daddr map @steer',
      'ct direction reply ct mark & 0xff000000 == 0x6d000000 meta mark set ct mark',
    ]);
  });
});
