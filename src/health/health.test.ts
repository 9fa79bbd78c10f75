import { describe, expect, it } from 'vitest';
import { parseFpingLine } from '../dataplane/ping/fping-output.ts';
import { HealthTracker } from './healthTracker.ts';

describe('parseFpingLine', () => {
  it.each([
    [
      '10.10.2.1    : [3], 64 bytes, 0.512 ms (0.498 avg, 0% loss)',
      { target: '10.10.2.1', seq: 3, ok: true, rttMs: 0.512 },
    ],
    ['10.10.2.1 : [4], timed out (0.498 avg, 20% loss)', { target: '10.10.2.1', seq: 4, ok: false }],
    ['10.10.2.1 : [0], timed out (NaN avg, 100% loss)', { target: '10.10.2.1', seq: 0, ok: false }],
    ['ICMP Host Unreachable from 10.99.0.1 for ICMP Echo sent to 10.10.2.1', undefined],
    ['', undefined],
  ])('%s', (line, expected) => {
    expect(parseFpingLine(line)).toEqual(expected);
  });
});

describe('HealthTracker', () => {
  const probe = (ok: boolean, seq: number) =>
    ok ? ({ target: 'a', seq, ok: true, rttMs: seq } as const) : ({ target: 'a', seq, ok: false } as const);

  it('fails a target only after more than 5 losses in a row, and recovers on one reply', () => {
    const t = new HealthTracker(5);
    t.setTargets(['a']);
    expect(t.get('a')?.state).toBe('unknown');
    t.record(probe(true, 1), 0);
    for (let i = 0; i < 5; i += 1) t.record(probe(false, 2 + i), 0);
    expect(t.get('a')?.state).toBe('ok');
    t.record(probe(false, 7), 0);
    expect(t.get('a')).toMatchObject({ state: 'failing', consecutiveLosses: 6, sent: 7, received: 1 });
    t.record(probe(true, 8), 10);
    expect(t.get('a')).toMatchObject({ state: 'ok', consecutiveLosses: 0, lastReplyAt: 10 });
  });

  it('keeps RTT statistics over the replies', () => {
    const t = new HealthTracker();
    t.setTargets(['a']);
    for (const rtt of [2, 4, 6]) t.record({ target: 'a', seq: rtt, ok: true, rttMs: rtt }, 0);
    expect(t.get('a')?.rtt).toEqual({ lastMs: 6, minMs: 2, avgMs: 4, maxMs: 6, stdDevMs: Math.sqrt(8 / 3) });
  });

  it('forgets targets that are no longer wanted and ignores results for unknown ones', () => {
    const t = new HealthTracker();
    t.setTargets(['a', 'b']);
    t.setTargets(['b']);
    t.record(probe(true, 1), 0);
    expect(t.get('a')).toBeUndefined();
    expect(t.get('b')?.state).toBe('unknown');
  });
});
