// The one reconcile loop every daemon runs on. Events only mark the state dirty; after a short
// debounce one reconcile runs, never two at once; a mark during a run causes exactly one more run;
// a periodic resync repairs drift nobody told us about (a route deleted by hand). Errors are
// logged once when they appear and once when they clear, with a periodic summary while they
// persist, so a long outage does not write a line every few seconds. Counted by phase.
import { type Clock, systemClock, type TimerHandle } from './clock.ts';
import { describeError, type ReconcileOutcome } from './outcome.ts';

export interface ReconcileLoopOptions {
  /** Prefix of log lines ("cables", "dns"). */
  name: string;
  /** Receives the reasons of the marks it serves, comma-separated. May throw: that counts as an
   * error of phase "reconcile". */
  reconcile: (reason: string) => Promise<ReconcileOutcome>;
  /** Delay between the first mark and the run, so a burst of events becomes one run; not reset
   * by later marks (a steady stream still runs once per debounce). Default 20 ms. */
  debounceMs?: number;
  /** Periodic resync; absent or 0: none. */
  resyncMs?: number;
  /** After a run with errors, run again ('retry') after this long, doubling up to maxRetryMs
   * while failures go on; absent or 0: wait for the next mark or resync. */
  retryMs?: number;
  /** Default: resyncMs, or 30 s. */
  maxRetryMs?: number;
  /** While errors persist, a summary line at most this often. Default 5 minutes. */
  errorSummaryMs?: number;
  clock?: Clock;
  log: (line: string) => void;
  /** Log every applied change (default true). */
  logApplied?: boolean;
}

export interface ReconcileCounters {
  runs: number;
  /** Runs that applied something. */
  changes: number;
  /** Failures, by phase, over the loop's life. */
  errorsByPhase: Record<string, number>;
}

export class ReconcileLoop {
  readonly name: string;
  readonly #o: ReconcileLoopOptions;
  readonly #clock: Clock;
  #reasons = new Set<string>();
  #debounce: TimerHandle | undefined;
  #resync: TimerHandle | undefined;
  #retry: TimerHandle | undefined;
  #retryDelay = 0;
  #running: Promise<void> | undefined;
  #started = false;
  #stopped = false;
  #last: ReconcileOutcome | undefined;
  #listeners = new Set<(o: ReconcileOutcome) => void>();
  #idleWaiters: Array<() => void> = [];
  /** Errors currently failing, keyed without the message's volatile parts. */
  #activeErrors = new Map<string, string>();
  #lastSummaryAt = 0;
  #lastWaiting: string | undefined;
  readonly counters: ReconcileCounters = { runs: 0, changes: 0, errorsByPhase: {} };

  constructor(options: ReconcileLoopOptions) {
    this.name = options.name;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** The outcome of the latest run; undefined before the first. */
  get last(): ReconcileOutcome | undefined {
    return this.#last;
  }

  /** True while a run is in progress or one is scheduled. */
  get busy(): boolean {
    return this.#running !== undefined || this.#debounce !== undefined;
  }

  /** Starts the resync timer and schedules a first run. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#scheduleResync();
    this.markDirty('start');
  }

  /** No run starts after this; resolves when the current one (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#debounce) this.#clock.clearTimeout(this.#debounce);
    if (this.#resync) this.#clock.clearTimeout(this.#resync);
    if (this.#retry) this.#clock.clearTimeout(this.#retry);
    this.#debounce = undefined;
    this.#resync = undefined;
    this.#retry = undefined;
    await this.#running;
    this.#notifyIdle();
  }

  /** Something changed. `immediate` skips the debounce (the run still waits for a current one). */
  markDirty(reason: string, opts: { immediate?: boolean } = {}): void {
    if (this.#stopped) return;
    this.#reasons.add(reason);
    if (this.#running) return; // the run loop picks the mark up when the current run ends
    if (opts.immediate) {
      if (this.#debounce) this.#clock.clearTimeout(this.#debounce);
      this.#debounce = undefined;
      this.#run();
      return;
    }
    if (this.#debounce) return;
    this.#debounce = this.#clock.setTimeout(() => {
      this.#debounce = undefined;
      this.#run();
    }, this.#o.debounceMs ?? 20);
  }

  /** Resolves when no run is scheduled or in progress. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Subscribe to completed runs (e.g. systemd WATCHDOG=1); returns the unsubscribe function. */
  onReconciled(cb: (o: ReconcileOutcome) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  #scheduleResync(): void {
    const every = this.#o.resyncMs ?? 0;
    if (every <= 0 || this.#stopped) return;
    this.#resync = this.#clock.setTimeout(() => {
      this.#resync = undefined;
      this.markDirty('resync');
      this.#scheduleResync();
    }, every);
  }

  #run(): void {
    if (this.#running || this.#stopped) return;
    this.#running = (async () => {
      while (this.#reasons.size > 0 && !this.#stopped) {
        const reason = [...this.#reasons].join(',');
        this.#reasons.clear();
        const outcome = await this.#once(reason);
        this.#record(outcome);
      }
    })().finally(() => {
      this.#running = undefined;
      // A mark that arrived after the last iteration checked (impossible in one thread, but a
      // listener may mark): serve it.
      if (this.#reasons.size > 0 && !this.#stopped) this.#run();
      else this.#notifyIdle();
    });
  }

  async #once(reason: string): Promise<ReconcileOutcome> {
    try {
      return await this.#o.reconcile(reason);
    } catch (err) {
      return {
        changed: false,
        applied: [],
        errors: [
          {
            code: (err as { code?: string }).code ?? 'internal',
            phase: 'reconcile',
            message: err instanceof Error ? err.message : String(err),
          },
        ],
      };
    }
  }

  #record(outcome: ReconcileOutcome): void {
    this.#last = outcome;
    this.counters.runs += 1;
    if (outcome.changed) this.counters.changes += 1;
    for (const e of outcome.errors) {
      this.counters.errorsByPhase[e.phase] = (this.counters.errorsByPhase[e.phase] ?? 0) + 1;
    }
    this.#logOutcome(outcome);
    this.#scheduleRetry(outcome);
    for (const cb of this.#listeners) {
      try {
        cb(outcome);
      } catch (err) {
        this.#o.log(`${this.name}: a reconcile listener failed: ${String(err)}`);
      }
    }
  }

  #logOutcome(outcome: ReconcileOutcome): void {
    const log = this.#o.log;
    if (this.#o.logApplied ?? true) for (const line of outcome.applied) log(`${this.name}: ${line}`);
    if (outcome.waiting !== this.#lastWaiting) {
      if (outcome.waiting !== undefined) log(`${this.name}: waiting: ${outcome.waiting}`);
      this.#lastWaiting = outcome.waiting;
    }
    const now = this.#clock.now();
    const current = new Map<string, string>();
    for (const e of outcome.errors) current.set(`${e.phase}|${e.object ?? ''}|${e.code}`, describeError(e));
    for (const [key, text] of current) {
      if (!this.#activeErrors.has(key)) {
        log(`${this.name}: error: ${text}`);
        this.#lastSummaryAt = now;
      }
    }
    for (const [key, text] of this.#activeErrors) {
      if (!current.has(key)) log(`${this.name}: resolved: ${text}`);
    }
    const persisting = [...current.keys()].filter((k) => this.#activeErrors.has(k));
    if (persisting.length > 0 && now - this.#lastSummaryAt >= (this.#o.errorSummaryMs ?? 300_000)) {
      log(
        `${this.name}: still failing: ${current.size} error(s) over ${this.counters.runs} runs; first: ${[...current.values()][0]}`,
      );
      this.#lastSummaryAt = now;
    }
    this.#activeErrors = current;
  }

  #scheduleRetry(outcome: ReconcileOutcome): void {
    const first = this.#o.retryMs ?? 0;
    if (outcome.errors.length === 0 || first <= 0) {
      this.#retryDelay = 0;
      if (this.#retry) this.#clock.clearTimeout(this.#retry);
      this.#retry = undefined;
      return;
    }
    if (this.#retry || this.#stopped) return;
    const max = this.#o.maxRetryMs ?? (this.#o.resyncMs || 30_000);
    this.#retryDelay = this.#retryDelay === 0 ? first : Math.min(max, this.#retryDelay * 2);
    this.#retry = this.#clock.setTimeout(() => {
      this.#retry = undefined;
      this.markDirty('retry');
    }, this.#retryDelay);
  }

  #notifyIdle(): void {
    if (this.busy) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
