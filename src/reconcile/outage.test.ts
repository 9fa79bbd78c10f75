import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.ts';
import { OutageReporter } from './outage.ts';
import { NO_CHANGE, type ReconcileOutcome } from './outcome.ts';
import { runStages } from './stage.ts';

describe('OutageReporter', () => {
  it('says an outage once, summarises it every interval, and says its end', async () => {
    const clock = new FakeClock();
    const logs: string[] = [];
    const r = new OutageReporter({ what: 'broker', clock, log: (l) => logs.push(l), summaryMs: 60_000 });
    for (let i = 0; i < 100; i++) {
      r.failed('connect ECONNREFUSED');
      await clock.advance(1500);
    }
    expect(r.since).toBe(clock.now() - 150_000);
    r.recovered();
    r.recovered();
    expect(logs).toEqual([
      'broker unreachable: connect ECONNREFUSED; keeping the last known state and retrying with backoff',
      'broker still unreachable after 60s (41 failed attempts; last: connect ECONNREFUSED)',
      'broker still unreachable after 2m (81 failed attempts; last: connect ECONNREFUSED)',
      'broker reachable again after 3m',
    ]);
    expect(r.since).toBeUndefined();
  });
});

describe('runStages', () => {
  it('runs every stage in order; a throwing stage is an error of its phase and the rest still run', async () => {
    const order: string[] = [];
    const stage = (name: string, result: () => ReconcileOutcome) => ({
      name,
      reconcile: async () => {
        order.push(name);
        return result();
      },
    });
    const run = runStages([
      stage('cables', () => ({ changed: true, applied: ['route replace 10.1.0.0/16'], errors: [] })),
      stage('dns', () => {
        throw new Error('EADDRINUSE');
      }),
      stage('exports', () => NO_CHANGE),
    ]);
    expect(await run('start')).toEqual({
      changed: true,
      applied: ['route replace 10.1.0.0/16'],
      errors: [{ code: 'internal', phase: 'dns', message: 'EADDRINUSE' }],
    });
    expect(order).toEqual(['cables', 'dns', 'exports']);
    expect(await runStages([{ name: 'x', reconcile: async () => NO_CHANGE }])('resync')).toBe(NO_CHANGE);
  });
});
