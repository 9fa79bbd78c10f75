import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { FakeClock, settle } from './fake-clock.ts';
import { ReconcileLoop } from './loop.ts';
import { NO_CHANGE, OutcomeBuilder, type ReconcileOutcome } from './outcome.ts';

function harness(opts: { debounceMs?: number; resyncMs?: number; errorSummaryMs?: number } = {}) {
  const clock = new FakeClock();
  const logs: string[] = [];
  const reasons: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let release: (() => void) | undefined;
  let hold = false;
  let next: () => ReconcileOutcome = () => NO_CHANGE;
  const loop = new ReconcileLoop({
    name: 'test',
    clock,
    log: (l) => logs.push(l),
    ...opts,
    reconcile: async (reason) => {
      reasons.push(reason);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (hold) await new Promise<void>((r) => (release = r));
      inFlight -= 1;
      return next();
    },
  });
  return {
    clock,
    loop,
    logs,
    reasons,
    get maxInFlight() {
      return maxInFlight;
    },
    holdRuns: (on: boolean) => {
      hold = on;
    },
    releaseRun: () => release?.(),
    setOutcome: (f: () => ReconcileOutcome) => {
      next = f;
    },
  };
}

describe('ReconcileLoop', () => {
  it('debounces a burst of marks into one run with every reason', async () => {
    const h = harness({ debounceMs: 50 });
    h.loop.markDirty('a');
    h.loop.markDirty('b');
    await h.clock.advance(10);
    h.loop.markDirty('a');
    expect(h.reasons).toEqual([]);
    await h.clock.advance(40);
    expect(h.reasons).toEqual(['a,b']);
    await h.loop.idle();
  });

  it('never runs two reconciles at once; a mark during a run causes exactly one more', async () => {
    const h = harness({ debounceMs: 5 });
    h.holdRuns(true);
    h.loop.markDirty('first');
    await h.clock.advance(5);
    expect(h.reasons).toEqual(['first']);
    h.loop.markDirty('x');
    h.loop.markDirty('y');
    h.loop.markDirty('z', { immediate: true });
    await h.clock.advance(100);
    expect(h.reasons).toEqual(['first']);
    h.holdRuns(false);
    h.releaseRun();
    await settle();
    expect(h.reasons).toEqual(['first', 'x,y,z']);
    expect(h.maxInFlight).toBe(1);
    await h.loop.idle();
    expect(h.loop.busy).toBe(false);
  });

  it('resyncs periodically after start, and stops cleanly', async () => {
    const h = harness({ resyncMs: 1000, debounceMs: 0 });
    h.loop.start();
    await h.clock.advance(0);
    expect(h.reasons).toEqual(['start']);
    await h.clock.advance(3000);
    expect(h.reasons).toEqual(['start', 'resync', 'resync', 'resync']);
    await h.loop.stop();
    h.loop.markDirty('after stop');
    await h.clock.advance(5000);
    expect(h.reasons).toHaveLength(4);
    expect(h.clock.pending).toBe(0);
  });

  it('reports outcomes to listeners, keeps the last one, counts errors by phase', async () => {
    const h = harness({ debounceMs: 0 });
    const seen: ReconcileOutcome[] = [];
    const unsubscribe = h.loop.onReconciled((o) => seen.push(o));
    h.setOutcome(() =>
      new OutcomeBuilder()
        .applied1('route replace 10.1.0.0/16')
        .fail('route', new MoorError('system', 'RTNETLINK answers: No such process'), '10.2.0.0/16')
        .build(),
    );
    h.loop.markDirty('x');
    await h.clock.advance(0);
    await h.loop.idle();
    expect(seen).toHaveLength(1);
    expect(h.loop.last?.changed).toBe(true);
    expect(h.loop.last?.errors[0]).toMatchObject({ code: 'system', phase: 'route', object: '10.2.0.0/16' });
    expect(h.loop.counters).toEqual({ runs: 1, changes: 1, errorsByPhase: { route: 1 } });
    unsubscribe();
    h.loop.markDirty('y');
    await h.clock.advance(0);
    await h.loop.idle();
    expect(seen).toHaveLength(1);
    expect(h.loop.counters.errorsByPhase).toEqual({ route: 2 });
  });

  it('turns a throwing reconcile into an error of phase "reconcile" and keeps going', async () => {
    const h = harness({ debounceMs: 0 });
    h.setOutcome(() => {
      throw new MoorError('broker-unreachable', 'connect ECONNREFUSED');
    });
    h.loop.markDirty('x');
    await h.clock.advance(0);
    await h.loop.idle();
    expect(h.loop.last?.errors).toEqual([
      { code: 'broker-unreachable', phase: 'reconcile', message: 'connect ECONNREFUSED' },
    ]);
    h.setOutcome(() => NO_CHANGE);
    h.loop.markDirty('y');
    await h.clock.advance(0);
    await h.loop.idle();
    expect(h.loop.last).toBe(NO_CHANGE);
  });

  it('logs a persisting error once, then a periodic summary, then once when it clears', async () => {
    const h = harness({ debounceMs: 0, resyncMs: 5000, errorSummaryMs: 60_000 });
    const failing = () =>
      new OutcomeBuilder().fail('publish', new MoorError('broker-unreachable', 'ECONNREFUSED')).build();
    h.setOutcome(failing);
    h.loop.start();
    await h.clock.advance(119_999); // 24 resyncs
    const errorLines = () => h.logs.filter((l) => l.includes('publish'));
    expect(errorLines()).toEqual([
      'test: error: publish: ECONNREFUSED',
      'test: still failing: 1 error(s) over 13 runs; first: publish: ECONNREFUSED',
    ]);
    h.setOutcome(() => NO_CHANGE);
    await h.clock.advance(5000);
    expect(errorLines().at(-1)).toBe('test: resolved: publish: ECONNREFUSED');
    expect(errorLines()).toHaveLength(3);
    await h.loop.stop();
  });

  it('logs a waiting reason once while it stays the same', async () => {
    const h = harness({ debounceMs: 0, resyncMs: 1000 });
    h.setOutcome(() => new OutcomeBuilder().wait('broker not listed yet').build());
    h.loop.start();
    await h.clock.advance(10_000);
    expect(h.logs).toEqual(['test: waiting: broker not listed yet']);
    await h.loop.stop();
  });

  it('idle() resolves at once when nothing is scheduled', async () => {
    const h = harness();
    await h.loop.idle();
    expect(h.reasons).toEqual([]);
  });
});

describe('OutcomeBuilder', () => {
  it('returns the no-change sentinel when nothing happened', () => {
    expect(new OutcomeBuilder().build()).toBe(NO_CHANGE);
    expect(new OutcomeBuilder().add('route', { applied: [], errors: [] }, () => 'never').build()).toBe(
      NO_CHANGE,
    );
  });

  it('folds applier results in with the phase and object', () => {
    const o = new OutcomeBuilder()
      .add(
        'address',
        {
          applied: [{ op: 'add', cidr: '10.0.0.1/32' }],
          errors: [
            {
              change: { op: 'delete', cidr: '10.0.0.2/32' },
              error: new MoorError('system', 'EPERM', { hint: 'run as root' }),
            },
          ],
        },
        (c) => `${c.op} ${c.cidr}`,
      )
      .build();
    expect(o).toEqual({
      changed: true,
      applied: ['address add 10.0.0.1/32'],
      errors: [
        {
          code: 'system',
          phase: 'address',
          object: 'delete 10.0.0.2/32',
          message: 'EPERM',
          hint: 'run as root',
        },
      ],
    });
  });
});

describe('ReconcileLoop retries', () => {
  it('retries a failed run with a doubling delay, and stops retrying once it is clean', async () => {
    const clock = new FakeClock();
    const runs: Array<{ reason: string; at: number }> = [];
    let failing = true;
    const loop = new ReconcileLoop({
      name: 'r',
      clock,
      debounceMs: 0,
      retryMs: 100,
      maxRetryMs: 400,
      log: () => {},
      reconcile: async (reason) => {
        runs.push({ reason, at: clock.now() - start });
        return failing ? new OutcomeBuilder().fail('route', new Error('EBUSY')).build() : NO_CHANGE;
      },
    });
    const start = clock.now();
    loop.markDirty('x');
    await clock.advance(1500);
    expect(runs.slice(0, 5)).toEqual([
      { reason: 'x', at: 0 },
      { reason: 'retry', at: 100 },
      { reason: 'retry', at: 300 },
      { reason: 'retry', at: 700 },
      { reason: 'retry', at: 1100 },
    ]);
    failing = false;
    await clock.advance(400);
    const count = runs.length;
    await clock.advance(10_000);
    expect(runs).toHaveLength(count);
    expect(clock.pending).toBe(0);
    await loop.stop();
  });
});
