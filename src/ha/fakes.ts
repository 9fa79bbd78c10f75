// Strict in-memory fakes of the HA ports for unit tests: a Lease store with conditional writes,
// per-member latency, hangs and failures (all on the fake clock), and a heartbeat bus whose links
// can be cut.
import type { Clock } from '../reconcile/clock.ts';
import type { Heartbeat, HeartbeatPort, LeasePort, LeaseRecord, LeaseWrite } from './ports.ts';

export class FakeLeaseStore {
  record: LeaseRecord | undefined;
  writes = 0;
  reads = 0;
  private version = 0;
  readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  port(name: string): FakeLeasePort {
    return new FakeLeasePort(this, name);
  }

  /** Apply a write now (the moment the API server commits it). */
  commit(next: LeaseWrite, expected: LeaseRecord | undefined): LeaseRecord | undefined {
    this.writes += 1;
    if (expected === undefined ? this.record !== undefined : this.record?.version !== expected.version)
      return undefined;
    this.version += 1;
    const prev = this.record;
    this.record = {
      holder: next.holder,
      version: String(this.version),
      renewTime: next.renewTime,
      leaseDurationMs: next.leaseDurationMs,
      renewDeadlineMs: next.renewDeadlineMs,
      transitions: (prev?.transitions ?? 0) + (next.acquire && prev?.holder !== next.holder ? 1 : 0),
    };
    return { ...this.record };
  }
}

/** One member's view of the API server. */
export class FakeLeasePort implements LeasePort {
  /** Requests never answer (they still honour abort). */
  hang = false;
  /** Requests fail at once with this error. */
  failWith: Error | undefined;
  /** Round trip: the write commits after half of it, the answer arrives after all of it. */
  latencyMs = 2;
  aborted = 0;
  readonly requests: Array<{ kind: 'read' | 'write'; at: number; signal: AbortSignal }> = [];
  readonly store: FakeLeaseStore;
  readonly name: string;

  constructor(store: FakeLeaseStore, name: string) {
    this.store = store;
    this.name = name;
  }

  read(signal: AbortSignal): Promise<LeaseRecord | undefined> {
    return this.call('read', signal, () => {
      this.store.reads += 1;
      return this.store.record ? { ...this.store.record } : undefined;
    });
  }

  write(next: LeaseWrite, expected: LeaseRecord | undefined, signal: AbortSignal) {
    return this.call('write', signal, () => this.store.commit(next, expected));
  }

  private call<T>(kind: 'read' | 'write', signal: AbortSignal, commit: () => T): Promise<T> {
    const clock = this.store.clock;
    this.requests.push({ kind, at: clock.now(), signal });
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.aborted += 1;
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.failWith) {
        const err = this.failWith;
        signal.removeEventListener('abort', onAbort);
        return reject(err);
      }
      if (this.hang) return;
      const half = Math.max(0, this.latencyMs / 2);
      clock.setTimeout(() => {
        if (signal.aborted || this.hang) return;
        const result = commit();
        clock.setTimeout(() => {
          if (signal.aborted) return;
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        }, half);
      }, half);
    });
  }
}

export class FakeHeartbeatBus {
  readonly clock: Clock;
  latencyMs = 1;
  delivered = 0;
  private readonly ports = new Map<string, FakeHeartbeatPort>();
  private readonly cuts = new Set<string>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  port(name: string): FakeHeartbeatPort {
    const p = new FakeHeartbeatPort(this, name);
    this.ports.set(name, p);
    return p;
  }

  /** Drop everything between a and b (both directions), or restore it. */
  cut(a: string, b: string, cut = true): void {
    for (const k of [`${a}>${b}`, `${b}>${a}`]) {
      if (cut) this.cuts.add(k);
      else this.cuts.delete(k);
    }
  }

  send(from: string, hb: Heartbeat): void {
    for (const [name, p] of this.ports) {
      if (name === from || p.closed || this.cuts.has(`${from}>${name}`)) continue;
      this.clock.setTimeout(() => {
        if (p.closed || this.cuts.has(`${from}>${name}`)) return;
        this.delivered += 1;
        p.deliver(hb);
      }, this.latencyMs);
    }
  }
}

export class FakeHeartbeatPort implements HeartbeatPort {
  closed = false;
  /** A dead node sends nothing. */
  mute = false;
  readonly sent: Heartbeat[] = [];
  private readonly listeners: Array<(hb: Heartbeat) => void> = [];
  private readonly bus: FakeHeartbeatBus;
  private readonly name: string;

  constructor(bus: FakeHeartbeatBus, name: string) {
    this.bus = bus;
    this.name = name;
  }

  send(hb: Heartbeat): void {
    if (this.closed || this.mute) return;
    this.sent.push(hb);
    this.bus.send(this.name, hb);
  }

  onHeartbeat(cb: (hb: Heartbeat) => void): void {
    this.listeners.push(cb);
  }

  deliver(hb: Heartbeat): void {
    for (const l of this.listeners) l(hb);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
