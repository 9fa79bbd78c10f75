import { describe, expect, it } from 'vitest';
import type { AclRule } from '../acl/rules.ts';
import { createAnswerer } from './answer.ts';
import { TYPE_A, TYPE_AAAA, TYPE_PTR } from './constants.ts';
import { buildEgressRecords, egressName, resolveEgressQuery, reverseName } from './egress-records.ts';
import { decodeMessage, encodeQuery } from './message.ts';
import { buildRecordIndex } from './records.ts';
import { encodePtrRecords } from './wire-write.ts';

const rule = (ip: string, namespace: string, name: string, kind = 'Deployment'): AclRule => ({
  egressIP: ip,
  namespace,
  workload: { kind, name },
  policy: 'p',
  destinations: [{ cidr: '10.50.0.0/24' }],
  pods: 1,
});
const index = buildEgressRecords([
  {
    cluster: 'cluster-a',
    rules: [rule('203.0.113.20', 'payments', 'checkout'), rule('203.0.113.20', 'payments', 'api')],
  },
  {
    cluster: 'cluster-b',
    rules: [rule('198.51.100.7', 'finance', 'ledger', 'StatefulSet'), rule('198.51.100.8', 'x', 'Bad_Name')],
  },
]);

describe('egress DNS records', () => {
  it('names workloads <workload>.<namespace>.<cluster>.egress.clusterset.local; invalid labels get none', () => {
    expect(egressName(rule('203.0.113.20', 'payments', 'checkout'), 'cluster-a')).toBe(
      'checkout.payments.cluster-a.egress.clusterset.local',
    );
    expect(egressName(rule('1.2.3.4', 'x', 'Bad_Name'), 'c')).toBeUndefined();
    expect(reverseName('203.0.113.20')).toBe('20.113.0.203.in-addr.arpa');
  });

  it('answers PTR for an egress IP with every workload holding it, sorted, across clusters', () => {
    expect(resolveEgressQuery(index, '20.113.0.203.in-addr.arpa.', TYPE_PTR)).toEqual({
      rcode: 'NOERROR',
      answer: {
        kind: 'ptr',
        names: [
          'api.payments.cluster-a.egress.clusterset.local',
          'checkout.payments.cluster-a.egress.clusterset.local',
        ],
      },
    });
    expect(resolveEgressQuery(index, '7.100.51.198.IN-ADDR.ARPA', TYPE_PTR)).toMatchObject({
      answer: { names: ['ledger.finance.cluster-b.egress.clusterset.local'] },
    });
    expect(resolveEgressQuery(index, '8.100.51.198.in-addr.arpa', TYPE_PTR)).toBeNull();
    expect(resolveEgressQuery(index, '9.9.9.9.in-addr.arpa', TYPE_PTR)).toBeNull(); // not ours: forward
  });

  it('answers A for the forward name, NODATA for other types, NXDOMAIN for unknown names in the egress zone', () => {
    expect(resolveEgressQuery(index, 'Checkout.payments.cluster-a.egress.clusterset.local', TYPE_A)).toEqual({
      rcode: 'NOERROR',
      answer: { kind: 'a', ips: ['203.0.113.20'] },
    });
    expect(
      resolveEgressQuery(index, 'checkout.payments.cluster-a.egress.clusterset.local', TYPE_AAAA),
    ).toEqual({
      rcode: 'NOERROR',
      answer: null,
    });
    expect(resolveEgressQuery(index, 'nope.payments.cluster-a.egress.clusterset.local', TYPE_A)).toEqual({
      rcode: 'NXDOMAIN',
    });
    expect(resolveEgressQuery(index, 'checkout.payments.svc.clusterset.local', TYPE_A)).toBeNull();
  });

  it('encodes PTR records: owner pointer, type 12, class IN, TTL, the name in wire form', () => {
    const { bytes, recordEnds } = encodePtrRecords(
      ['checkout.payments.egress.clusterset.local', 'bad..name'],
      5,
    );
    expect(recordEnds).toHaveLength(1);
    expect(bytes.readUInt16BE(0)).toBe(0xc00c);
    expect(bytes.readUInt16BE(2)).toBe(TYPE_PTR);
    expect(bytes.readUInt16BE(4)).toBe(1);
    expect(bytes.readUInt32BE(6)).toBe(5);
    const rdlength = bytes.readUInt16BE(10);
    expect(rdlength).toBe(bytes.length - 12);
    const labels: string[] = [];
    for (let off = 12; bytes[off] !== 0; off += (bytes[off] as number) + 1)
      labels.push(bytes.subarray(off + 1, off + 1 + (bytes[off] as number)).toString('ascii'));
    expect(labels.join('.')).toBe('checkout.payments.egress.clusterset.local');
  });

  it('the answerer serves them on the wire, and answers as before without egress data', () => {
    const answerer = createAnswerer(
      buildRecordIndex({
        serviceImports: [],
        endpointSlices: [],
        localClusterId: 'c',
        connectedClusters: 'all',
      }).index,
    );
    const ask = (name: string, type: number) => {
      const r = answerer.answer(encodeQuery({ id: 7, name, type }), 'udp');
      if (r.kind !== 'reply') throw new Error('dropped');
      const d = decodeMessage(r.message);
      if (!d.ok) throw new Error('undecodable reply');
      return { r, m: d.message };
    };
    // Without egress data a reverse name is not ours (REFUSED, for a forwarder).
    expect(ask('20.113.0.203.in-addr.arpa', TYPE_PTR).r).toMatchObject({ outOfZone: true });
    answerer.updateEgress(index);
    const ptr = ask('20.113.0.203.in-addr.arpa', TYPE_PTR);
    expect(ptr.m.rcode).toBe(0);
    expect(ptr.m.aa).toBe(true);
    expect(ptr.m.answers.map((a) => a.type)).toEqual([TYPE_PTR, TYPE_PTR]);
    const a = ask('checkout.payments.cluster-a.egress.clusterset.local', TYPE_A);
    expect(a.m.answers.map((x) => x.rdata)).toEqual([{ kind: 'A', address: '203.0.113.20' }]);
    expect(ask('nope.payments.cluster-a.egress.clusterset.local', TYPE_A).m.rcode).toBe(3);
    answerer.updateEgress(buildEgressRecords([]));
    expect(ask('20.113.0.203.in-addr.arpa', TYPE_PTR).r).toMatchObject({ outOfZone: true });
  });
});
