import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flattenSlices, type MapRow, type MapSlice } from '../plan/egress-mapping.ts';
import { mapSliceObject, readMapSlice } from '../plan/egress-mapping-wire.ts';
import type { GatewayInput } from '../plan/egress-types.ts';
import { createAnswerer } from './answer.ts';
import { buildClusterEgressRecords, type ClusterEgressInput } from './cluster-egress-records.ts';
import { TYPE_A, TYPE_AAAA, TYPE_PTR } from './constants.ts';
import { decodeMessage, encodeQuery } from './message.ts';

const NAME = 'checkout.payments.cluster-a.egress.clusterset.local';
const gateway = (name: string, cidr: string): GatewayInput => ({
  name,
  nodeSelector: {},
  pool: { cidrs: [cidr] },
  interface: 'lan0',
  subnet: '203.0.113.0/24',
  floatingIP: '203.0.113.254',
  vni: 4100,
});
const gateways = [gateway('east', '203.0.113.16/29'), gateway('west', '203.0.113.32/29')];
const policies = [
  { name: 'checkout', gateway: 'east', statusIPs: ['203.0.113.20', '203.0.113.21'] },
  { name: 'ledger', gateway: 'east', statusIPs: ['203.0.113.22'] },
  { name: 'west', gateway: 'west', statusIPs: ['203.0.113.33'] },
];
const slice = (
  name: string,
  policy: string,
  entries: { pod: string; ip: string; workload?: string; ns?: string }[],
  gw = 'east',
): MapSlice => ({
  name,
  policy,
  gateway: gw,
  destinations: [{ cidr: '10.50.0.0/24' }],
  entries: entries.map((e) => ({
    namespace: e.ns ?? 'payments',
    pod: e.pod,
    workload: { kind: 'Deployment', name: e.workload ?? 'checkout' },
    egressIP: e.ip,
    since: '2026-12-01T10:00:00Z',
  })),
});
const feed = (slices: MapSlice[], over: Partial<ClusterEgressInput> = {}) =>
  buildClusterEgressRecords({
    cluster: 'cluster-a',
    rows: flattenSlices(slices),
    policies,
    gateways,
    ...over,
  });

describe('egress DNS feed', () => {
  it('names a workload for the IP its policy holds, both ways', () => {
    const f = feed([slice('checkout-0', 'checkout', [{ pod: 'a', ip: '203.0.113.20' }])]);
    expect(f.problems).toEqual([]);
    expect([...f.index.forward]).toEqual([[NAME, ['203.0.113.20']]]);
    expect([...f.index.reverse]).toEqual([['20.113.0.203.in-addr.arpa', [NAME]]]);
  });

  it('hostile or stale slices never produce records, and each is reported', () => {
    const f = feed([
      // claims an IP another policy holds
      slice('checkout-0', 'checkout', [{ pod: 'a', ip: '203.0.113.22', workload: 'thief' }]),
      // claims an IP in the pool that nobody was given
      slice('checkout-1', 'checkout', [{ pod: 'b', ip: '203.0.113.23', workload: 'squatter' }]),
      // a policy that does not exist
      slice('ghost-0', 'ghost', [{ pod: 'c', ip: '203.0.113.21', workload: 'ghost' }]),
      // the right policy and IP, but another gateway than the policy's
      slice('ledger-0', 'ledger', [{ pod: 'd', ip: '203.0.113.22', workload: 'ledger' }], 'west'),
      // a workload that is no DNS label
      slice('checkout-2', 'checkout', [{ pod: 'f', ip: '203.0.113.21', workload: 'Bad_Name' }]),
    ]);
    expect(f.index.forward.size).toBe(0);
    expect(f.index.reverse.size).toBe(0);
    expect(f.problems.map((p) => p.problem)).toEqual([
      'no DNS name: the workload or namespace is not a DNS label',
      'egress IP 203.0.113.22 is not allocated to the policy (status.ips)',
      'egress IP 203.0.113.23 is not allocated to the policy (status.ips)',
      'there is no EgressPolicy ghost',
      'the slice says gateway west, the policy leaves through east',
    ]);
  });

  it('an IP outside the pool is not trusted even when the status lists it', () => {
    const f = feed([slice('checkout-0', 'checkout', [{ pod: 'a', ip: '198.51.100.9' }])], {
      policies: [{ name: 'checkout', gateway: 'east', statusIPs: ['198.51.100.9'] }],
    });
    expect(f.index.forward.size).toBe(0);
    expect(f.problems).toEqual([
      {
        object: 'EgressMapSlice entries of policy checkout',
        problem: 'egress IP 198.51.100.9 is not in the pool of EgressGateway east',
      },
    ]);
  });

  it('a forged slice (label disagrees) is refused by the reader before it reaches the feed', () => {
    const forged = { ...mapSliceObject(slice('x', 'checkout', [{ pod: 'a', ip: '203.0.113.20' }])) };
    forged.metadata = { name: 'x', labels: { 'egress.moor.io/policy': 'ledger' } };
    expect(readMapSlice(forged).ok).toBe(false);
  });

  it('a removed slice or a moved pod changes the records; rows without an IP give none', () => {
    const before = feed([
      slice('checkout-0', 'checkout', [{ pod: 'a', ip: '203.0.113.20' }]),
      slice('ledger-0', 'ledger', [{ pod: 'l', ip: '203.0.113.22', workload: 'ledger', ns: 'finance' }]),
    ]);
    expect(before.index.reverse.has('20.113.0.203.in-addr.arpa')).toBe(true);
    const removed = feed([
      slice('ledger-0', 'ledger', [{ pod: 'l', ip: '203.0.113.22', workload: 'ledger', ns: 'finance' }]),
    ]);
    expect(removed.index.forward.has(NAME)).toBe(false);
    expect(removed.index.reverse.has('20.113.0.203.in-addr.arpa')).toBe(false);
    const moved = feed([slice('checkout-0', 'checkout', [{ pod: 'a', ip: '203.0.113.21' }])]);
    expect(moved.index.forward.get(NAME)).toEqual(['203.0.113.21']);
    expect([...moved.index.reverse.keys()]).toEqual(['21.113.0.203.in-addr.arpa']);
    const waiting: MapRow[] = flattenSlices([
      slice('checkout-0', 'checkout', [{ pod: 'a', ip: '203.0.113.20' }]),
    ]).map(({ egressIP: _, ...r }) => r);
    const none = buildClusterEgressRecords({ cluster: 'cluster-a', rows: waiting, policies, gateways });
    expect(none.index.forward.size + none.problems.length).toBe(0);
  });
});

describe('egress DNS feed, any input (fast-check)', () => {
  const ip = fc.constantFrom<string>('203.0.113.17', '203.0.113.20', '203.0.113.33', '198.51.100.1');
  const row = fc.record({
    policy: fc.constantFrom('checkout', 'ledger', 'west', 'ghost'),
    gateway: fc.constantFrom('east', 'west'),
    pod: fc.constantFrom('a', 'b', 'c', 'd'),
    workload: fc.constantFrom('checkout', 'ledger', 'api'),
    ip,
  });
  const policy = fc.record({
    name: fc.constantFrom('checkout', 'ledger', 'west'),
    gateway: fc.constantFrom('east', 'west'),
    statusIPs: fc.uniqueArray(ip, { maxLength: 3 }),
  });
  it('every record is backed by a row whose policy holds the IP in its gateway pool; order does not matter', () => {
    let withRecords = 0;
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 8 }),
        fc.uniqueArray(policy, { selector: (p) => p.name }),
        (raw, pols) => {
          const rows = raw.map(
            (r): MapRow => ({
              namespace: 'payments',
              pod: r.pod,
              workload: { kind: 'Deployment', name: r.workload },
              egressIP: r.ip,
              since: '2026-12-01T10:00:00Z',
              policy: r.policy,
              gateway: r.gateway,
              destinations: [{ cidr: '10.50.0.0/24' }],
            }),
          );
          const f = buildClusterEgressRecords({ cluster: 'cluster-a', rows, policies: pols, gateways });
          if (f.index.forward.size > 0) withRecords++;
          const pools: Record<string, string[]> = {
            east: ['203.0.113.17', '203.0.113.20'],
            west: ['203.0.113.33'],
          };
          for (const [name, ips] of f.index.forward)
            for (const a of ips)
              expect(
                rows.some((r) => {
                  const p = pols.find((x) => x.name === r.policy);
                  return (
                    `${r.workload.name}.payments.cluster-a.egress.clusterset.local` === name &&
                    r.egressIP === a &&
                    p?.gateway === r.gateway &&
                    p.statusIPs.includes(a) &&
                    (pools[r.gateway] ?? []).includes(a)
                  );
                }),
              ).toBe(true);
          const reversed = buildClusterEgressRecords({
            cluster: 'cluster-a',
            rows: [...rows].reverse(),
            policies: pols,
            gateways,
          });
          expect([...reversed.index.forward]).toEqual([...f.index.forward]);
          expect([...reversed.index.reverse]).toEqual([...f.index.reverse]);
        },
      ),
      // Seeded like the DNS fuzz, so the check below (the property is not vacuous) is stable.
      { seed: 0x5eed, numRuns: 300 },
    );
    expect(withRecords).toBeGreaterThan(20);
  });
});

describe('the in-cluster answerer (egress only)', () => {
  const answerer = createAnswerer(
    { localClusterId: 'cluster-a', connected: 'all', services: new Map() },
    { serviceNames: false },
  );
  const ask = (name: string, type = TYPE_A) => {
    const r = answerer.answer(encodeQuery({ id: 9, name, type }), 'udp');
    if (r.kind !== 'reply') throw new Error('dropped');
    const d = decodeMessage(r.message);
    if (!d.ok) throw new Error(d.reason);
    return { rcode: d.message.rcode, aa: d.message.aa, answers: d.message.answers, outOfZone: r.outOfZone };
  };

  it('is the authority for the egress zone even while empty, and for nothing else', () => {
    expect(ask(NAME)).toMatchObject({ rcode: 3, aa: true });
    expect(ask('web.shop.svc.clusterset.local')).toMatchObject({ rcode: 5, aa: false, outOfZone: true });
    expect(ask('20.113.0.203.in-addr.arpa', TYPE_PTR)).toMatchObject({ rcode: 5, outOfZone: true });
  });

  it('answers names, PTRs, empty non-terminals, unused pool addresses and foreign addresses', () => {
    answerer.updateEgress(feed([slice('checkout-0', 'checkout', [{ pod: 'a', ip: '203.0.113.20' }])]).index);
    expect(ask(NAME).answers.map((a) => [a.ttl, a.rdata])).toEqual([
      [5, { kind: 'A', address: '203.0.113.20' }],
    ]);
    expect(ask(NAME, TYPE_AAAA)).toMatchObject({ rcode: 0, answers: [] });
    const ptr = ask('20.113.0.203.in-addr.arpa', TYPE_PTR);
    expect(ptr).toMatchObject({ rcode: 0, aa: true });
    expect(ptr.answers.map((a) => a.type)).toEqual([TYPE_PTR]);
    // Names above an existing one exist (NODATA), so no resolver concludes the subtree is empty.
    for (const n of [
      'payments.cluster-a.egress.clusterset.local',
      'cluster-a.egress.clusterset.local',
      'egress.clusterset.local',
    ])
      expect(ask(n)).toMatchObject({ rcode: 0, aa: true, answers: [] });
    expect(ask('nope.payments.cluster-a.egress.clusterset.local')).toMatchObject({ rcode: 3, aa: true });
    // An unused pool address: ours, and it has no name. Outside every pool: not ours.
    expect(ask('23.113.0.203.in-addr.arpa', TYPE_PTR)).toMatchObject({ rcode: 3, aa: true });
    expect(ask('9.9.9.9.in-addr.arpa', TYPE_PTR)).toMatchObject({ rcode: 5, outOfZone: true });
    expect(ask('113.0.203.in-addr.arpa', TYPE_PTR)).toMatchObject({ rcode: 5 });
    expect(ask('023.113.0.203.in-addr.arpa', TYPE_PTR)).toMatchObject({ rcode: 5 });
  });
});
