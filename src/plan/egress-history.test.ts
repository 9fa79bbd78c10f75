import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advanceHistory, historyName, type IpHistory, parseRetention, who } from './egress-history.ts';
import { historyObject, readHistory } from './egress-history-wire.ts';
import type { MapRow } from './egress-mapping.ts';

const DAY = 86_400_000;
const IP = '203.0.113.20';
function row(pod: string, since: string, workload = 'checkout', ip: string | null = IP): MapRow {
  return {
    namespace: 'payments',
    pod,
    workload: { kind: 'Deployment', name: workload },
    since,
    policy: 'checkout',
    gateway: 'east',
    destinations: [{ cidr: '10.50.0.0/24' }],
    ...(ip ? { egressIP: ip } : {}),
  };
}
const step = (previous: IpHistory[], rows: MapRow[], now: string, retentionMs = 90 * DAY) =>
  advanceHistory({ previous, rows, now, retentionMs });

describe('advanceHistory', () => {
  it('opens a record from the earliest since, keeps it through a rollout, closes it on release', () => {
    const t1 = step(
      [],
      [row('checkout-a', '2026-11-24T13:00:00Z'), row('checkout-b', '2026-11-24T13:30:00Z')],
      '2026-11-24T14:00:00Z',
    );
    expect(t1.write).toEqual([IP]);
    expect(t1.histories).toEqual([
      {
        ip: IP,
        records: [
          {
            namespace: 'payments',
            workload: { kind: 'Deployment', name: 'checkout' },
            policy: 'checkout',
            from: '2026-11-24T13:00:00Z',
            pods: ['checkout-a', 'checkout-b'],
          },
        ],
      },
    ]);
    // Rollout: pods replaced, same workload and IP → the same record, new names appended.
    const t2 = step(t1.histories, [row('checkout-c', '2026-11-25T09:00:00Z')], '2026-11-25T09:01:00Z');
    expect(t2.histories[0]?.records).toHaveLength(1);
    expect(t2.histories[0]?.records[0]?.pods).toEqual(['checkout-a', 'checkout-b', 'checkout-c']);
    // Unchanged input: nothing written (restart-safe: a new controller re-derives the same).
    expect(
      step(t2.histories, [row('checkout-c', '2026-11-25T09:00:00Z')], '2026-11-25T10:00:00Z').write,
    ).toEqual([]);
    // Another workload takes the IP over.
    const t3 = step(
      t2.histories,
      [row('ledger-x', '2026-11-26T12:00:00Z', 'ledger')],
      '2026-11-26T12:00:05Z',
    );
    expect(t3.histories[0]?.records.map((r) => [r.workload.name, r.from, r.to])).toEqual([
      ['checkout', '2026-11-24T13:00:00Z', '2026-11-26T12:00:05Z'],
      ['ledger', '2026-11-26T12:00:00Z', undefined],
    ]);
    const w = who(t3.histories, IP, '2026-11-25T14:02:00Z');
    expect(w).toMatchObject({ known: true, holders: [{ workload: { name: 'checkout' } }] });
    expect(who(t3.histories, IP, '2026-11-27T00:00:00Z')).toMatchObject({
      known: true,
      holders: [{ workload: { name: 'ledger' } }],
    });
    expect(who(t3.histories, IP, '2026-11-01T00:00:00Z')).toMatchObject({
      known: false,
      reason: 'not-held-then',
    });
    expect(who(t3.histories, '203.0.113.99', '2026-11-25T14:02:00Z')).toMatchObject({
      known: false,
      reason: 'never-used',
    });
  });

  it('drops records closed longer ago than the retention, and the object with the last one', () => {
    const open = step([], [row('a', '2026-11-01T00:00:00Z')], '2026-11-01T00:00:00Z');
    const closed = step(open.histories, [], '2026-11-02T00:00:00Z', 7 * DAY);
    expect(closed.histories[0]?.records[0]?.to).toBe('2026-11-02T00:00:00Z');
    expect(step(closed.histories, [], '2026-11-08T00:00:00Z', 7 * DAY).histories).toHaveLength(1);
    const gone = step(closed.histories, [], '2026-11-09T00:00:01Z', 7 * DAY);
    expect(gone.histories).toEqual([]);
    expect(gone.remove).toEqual([IP]);
  });

  it('keeps at most maxRecords, dropping the oldest closed ones, never an open one', () => {
    let h: IpHistory[] = [];
    for (let i = 0; i < 6; i++)
      h = advanceHistory({
        previous: h,
        rows: [row(`p${i}`, `2026-11-0${i + 1}T00:00:00Z`, `w${i}`)],
        now: `2026-11-0${i + 1}T00:00:00Z`,
        retentionMs: 90 * DAY,
        maxRecords: 3,
      }).histories;
    expect(h[0]?.records.map((r) => [r.workload.name, r.to === undefined])).toEqual([
      ['w3', false],
      ['w4', false],
      ['w5', true],
    ]);
  });

  it('pods without an egress IP hold no IP', () => {
    expect(step([], [row('a', '2026-11-01T00:00:00Z', 'x', null)], '2026-11-01T00:00:00Z').histories).toEqual(
      [],
    );
  });

  it('property: every record is closed or held now; history only grows inside the retention; order of rows is irrelevant', () => {
    const arbRows = fc.array(
      fc.record({
        pod: fc.constantFrom('a', 'b', 'c'),
        w: fc.constantFrom('x', 'y'),
        ip: fc.constantFrom(IP, '203.0.113.21'),
      }),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(fc.array(arbRows, { maxLength: 6 }), (steps) => {
        let h: IpHistory[] = [];
        steps.forEach((rs, i) => {
          const now = new Date(Date.UTC(2026, 10, 1 + i)).toISOString();
          const rows = [...new Map(rs.map((r) => [r.pod, row(r.pod, now, r.w, r.ip)])).values()];
          const plan = step(h, rows, now);
          expect(step(h, [...rows].reverse(), now)).toEqual(plan);
          for (const hist of plan.histories) {
            const open = hist.records.filter((r) => r.to === undefined);
            const holders = new Set(rows.filter((r) => r.egressIP === hist.ip).map((r) => r.workload.name));
            expect(new Set(open.map((r) => r.workload.name))).toEqual(holders);
            expect(open.length).toBe(holders.size);
          }
          // Append-only: every earlier record is still there, possibly closed, with the same start.
          for (const old of h.flatMap((x) => x.records.map((r) => `${x.ip} ${r.workload.name} ${r.from}`)))
            expect(
              plan.histories.flatMap((x) => x.records.map((r) => `${x.ip} ${r.workload.name} ${r.from}`)),
            ).toContain(old);
          h = plan.histories;
        });
      }),
    );
  });
});

describe('retention', () => {
  it('accepts durations and refuses 0 or junk with a message', () => {
    expect(parseRetention('90d')).toEqual({ ok: true, ms: 90 * DAY });
    expect(parseRetention('12h')).toEqual({ ok: true, ms: 12 * 3_600_000 });
    expect(parseRetention('0d')).toMatchObject({
      ok: false,
      message: expect.stringContaining('keeps no history'),
    });
    expect(parseRetention('0')).toMatchObject({
      ok: false,
      message: expect.stringContaining('not a duration'),
    });
    expect(parseRetention('soon')).toMatchObject({ ok: false, message: expect.stringContaining('like 90d') });
    expect(parseRetention('-5d')).toMatchObject({ ok: false });
    expect(parseRetention('99999d')).toMatchObject({
      ok: false,
      message: expect.stringContaining('10 years'),
    });
  });
});

describe('EgressIPHistory wire', () => {
  it('round-trips; refuses a name for another IP; skips a record that ends before it starts', () => {
    const [h] = step([], [row('a', '2026-11-01T00:00:00Z')], '2026-11-01T00:00:00Z').histories;
    if (!h) throw new Error('no history');
    const obj = historyObject(h);
    expect((obj.metadata as { name: string }).name).toBe(historyName(IP));
    expect(readHistory(obj)).toEqual({ ok: true, history: h, skippedRecords: 0 });
    expect(readHistory({ ...obj, ip: '203.0.113.21' })).toMatchObject({
      ok: false,
      problem: expect.stringContaining('does not match'),
    });
    const bad = { ...obj, records: [...h.records, { ...h.records[0], to: '2026-10-01T00:00:00Z' }, 'junk'] };
    expect(readHistory(bad)).toMatchObject({ ok: true, skippedRecords: 2 });
  });
});
