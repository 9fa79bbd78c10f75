// One member of an HA group (the gateway nodes of one cluster, or of one egress group): at most
// one member is active and holds the group's addresses. Authority comes from a Lease; direct
// heartbeats between members only make a standby notice a dead leader sooner, and prove when
// that leader's authority has lapsed. The argument for why two members can never be active at
// once is in docs/decisions.md ("Gateway HA"); the rules it relies on are marked RULE below.
import type { Clock, TimerHandle } from '../reconcile/clock.ts';
import { type Heartbeat, type HeartbeatPort, type LeasePort, type LeaseRecord, recordKey } from './ports.ts';
import { type HaTimings, safetyMargin, validateTimings } from './timings.ts';

export interface HaMemberOptions {
  identity: string;
  lease: LeasePort;
  /** Undefined: Lease only (a standby notices a dead leader by polling the Lease). */
  heartbeats: HeartbeatPort | undefined;
  /** Monotonic milliseconds; fake in tests. */
  clock: Clock;
  /** Wall time written into the Lease (informational). Default Date.now. */
  wallClock?: () => number;
  timings: HaTimings;
  /** Take the addresses and announce them. */
  activate: () => Promise<void>;
  /** Drop the addresses FIRST, then the rest. May be called while activate still runs. */
  deactivate: () => Promise<void>;
  log: (line: string) => void;
}

export interface HaStatus {
  role: 'leader' | 'standby';
  /** Holder of the Lease as last seen. */
  holder: string;
  /** Leader: ms until it must have renewed. */
  validForMs: number;
  /** Standby: ms since the last leader heartbeat (undefined: never heard one). */
  leaderHeartbeatAgeMs: number | undefined;
  transitions: number;
}

const MAX_EVIDENCE = 32;

/** Kubernetes MicroTime: the wall-clock millisecond plus a 3-digit counter, unique per writer. */
export function microTime(wallMs: number, counter: number): string {
  const iso = new Date(wallMs).toISOString(); // …T07:26:43.798Z
  return `${iso.slice(0, -1)}${String(counter % 1000).padStart(3, '0')}Z`;
}

export class HaMember {
  private readonly o: HaMemberOptions;
  private readonly t: HaTimings;
  private role: 'leader' | 'standby' = 'standby';
  private stopped = false;
  private gen = 0;
  private becameLeader = 0;
  // Leader state.
  private held: LeaseRecord | undefined;
  private deadline = 0;
  private fenceTimer: TimerHandle | undefined;
  private renewTimer: TimerHandle | undefined;
  // Standby state.
  private observed: { key: string; record: LeaseRecord | undefined; firstSeenAt: number } | undefined;
  /** record key → latest time its holder can still hold addresses, from its own heartbeats. */
  private readonly evidence = new Map<string, number>();
  /** The record being written right now and the deadline it would grant (announced before). */
  private pending: { key: string; deadline: number } | undefined;
  private writeCounter = 0;
  private lastLeaderHb: { at: number; record: string } | undefined;
  private silenceTimer: TimerHandle | undefined;
  private checkTimer: TimerHandle | undefined;
  private checkAt = Number.POSITIVE_INFINITY;
  private campaignNotBefore = 0;
  /** A record read during a takeover whose lapse is only waited for: written over without
   * reading it again (the write is conditional on it, so nothing is lost if it moved). */
  private directTakeover: { key: string; record: LeaseRecord | undefined } | undefined;
  // Shared.
  private heartbeatTimer: TimerHandle | undefined;
  private leaseBusy = false;
  private leaseAgain = false;
  private inflight: AbortController | undefined;
  private activating: Promise<void> = Promise.resolve();
  private deactivating: Promise<void> = Promise.resolve();

  constructor(options: HaMemberOptions) {
    this.o = options;
    this.t = validateTimings(options.timings);
  }

  get active(): boolean {
    return this.role === 'leader';
  }

  get identity(): string {
    return this.o.identity;
  }

  status(): HaStatus {
    const now = this.o.clock.now();
    return {
      role: this.role,
      holder: this.role === 'leader' ? this.o.identity : (this.observed?.record?.holder ?? ''),
      validForMs: this.role === 'leader' ? Math.max(0, this.deadline - now) : 0,
      leaderHeartbeatAgeMs: this.lastLeaderHb ? now - this.lastLeaderHb.at : undefined,
      transitions: this.becameLeader,
    };
  }

  start(): void {
    this.o.heartbeats?.onHeartbeat((hb) => this.onHeartbeat(hb));
    this.beat();
    this.scheduleCheck(0);
  }

  /** Graceful stop: addresses dropped first, then the Lease released and the standbys told. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const h of [
      this.fenceTimer,
      this.renewTimer,
      this.silenceTimer,
      this.checkTimer,
      this.heartbeatTimer,
    ])
      if (h) this.o.clock.clearTimeout(h);
    this.inflight?.abort();
    const wasLeader = this.role === 'leader';
    const held = this.held;
    if (wasLeader) this.stepDown('stopping');
    await this.deactivating;
    await this.activating.catch(() => undefined);
    if (wasLeader && held) await this.release(held);
    // Tell the standbys twice (a lost datagram must not cost them the fast path).
    for (let i = 0; i < 2; i++)
      this.o.heartbeats?.send({
        from: this.o.identity,
        role: 'standby',
        records: [],
        released: wasLeader,
      });
    await this.o.heartbeats?.close();
  }

  // ---- heartbeats -------------------------------------------------------------------------

  private beat(): void {
    if (this.stopped) return;
    if (this.heartbeatTimer) this.o.clock.clearTimeout(this.heartbeatTimer);
    this.sendHeartbeat();
    this.heartbeatTimer = this.o.clock.setTimeout(() => this.beat(), this.t.heartbeatIntervalMs);
  }

  private sendHeartbeat(): void {
    const now = this.o.clock.now();
    const leading = this.role === 'leader';
    // RULE 3: what we announce is the deadline by which our addresses are surely gone, for the
    // record we hold and for the one we are writing (announced BEFORE the write is sent).
    const records: Heartbeat['records'] = [];
    if (leading && this.held)
      records.push({ record: recordKey(this.held), validForMs: Math.max(0, this.deadline - now) });
    if (this.pending)
      records.push({ record: this.pending.key, validForMs: Math.max(0, this.pending.deadline - now) });
    this.o.heartbeats?.send({
      from: this.o.identity,
      role: leading ? 'leader' : 'standby',
      records,
      released: false,
    });
  }

  private nextRenewTime(): string {
    this.writeCounter += 1;
    return microTime((this.o.wallClock ?? Date.now)(), this.writeCounter);
  }

  private onHeartbeat(hb: Heartbeat): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    for (const r of hb.records) {
      // RULE 4: the sender sent this before now, so its deadline for that record is at most
      // now + validFor (plus what clocks can drift over that interval).
      const bound = now + r.validForMs + safetyMargin(this.t, r.validForMs);
      const prev = this.evidence.get(r.record);
      if (prev === undefined || bound < prev) {
        this.evidence.delete(r.record);
        this.evidence.set(r.record, bound);
        if (this.evidence.size > MAX_EVIDENCE) this.evidence.delete(this.evidence.keys().next().value ?? '');
      }
    }
    if (hb.role === 'leader') {
      if (this.role === 'leader') this.o.log(`heartbeat from ${hb.from} claims leadership while we lead`);
      this.lastLeaderHb = { at: now, record: hb.records[0]?.record ?? '' };
      this.directTakeover = undefined; // the leader is alive: read before writing
      if (this.silenceTimer) this.o.clock.clearTimeout(this.silenceTimer);
      this.silenceTimer = this.o.clock.setTimeout(() => this.onSilence(), this.t.heartbeatTimeoutMs);
    } else if (hb.released && this.role === 'standby') {
      this.o.log(`${hb.from} released the lease: taking over`);
      this.scheduleCheck(0);
    }
  }

  private onSilence(): void {
    this.silenceTimer = undefined;
    if (this.stopped || this.role === 'leader' || !this.lastLeaderHb) return;
    this.o.log(`no heartbeat from the leader for ${this.t.heartbeatTimeoutMs} ms: reading the lease`);
    // Read at once: that starts RULE 2's clock on the newest record; the campaign then waits
    // exactly as long as the rules require.
    this.scheduleCheck(0);
  }

  // ---- the Lease --------------------------------------------------------------------------

  private scheduleCheck(inMs: number): void {
    if (this.stopped || this.active) return;
    const at = this.o.clock.now() + inMs;
    if (this.checkTimer && at >= this.checkAt) return;
    if (this.checkTimer) this.o.clock.clearTimeout(this.checkTimer);
    this.checkAt = at;
    this.checkTimer = this.o.clock.setTimeout(() => {
      this.checkTimer = undefined;
      this.checkAt = Number.POSITIVE_INFINITY;
      this.leaseOp();
    }, inMs);
  }

  /** Single flight: one Lease request at a time; a request made meanwhile runs right after. */
  private leaseOp(): void {
    if (this.stopped) return;
    if (this.leaseBusy) {
      this.leaseAgain = true;
      return;
    }
    this.leaseBusy = true;
    const op = this.role === 'leader' ? this.renew() : this.campaign();
    void op
      .catch((err: unknown) => this.o.log(`lease: ${message(err)}`))
      .finally(() => {
        this.leaseBusy = false;
        if (this.leaseAgain && !this.stopped) {
          this.leaseAgain = false;
          this.leaseOp();
        }
      });
  }

  private abortAfter(ms: number): { signal: AbortSignal; done: () => void } {
    const ctl = new AbortController();
    this.inflight = ctl;
    const timer = this.o.clock.setTimeout(() => ctl.abort(new Error(`no answer within ${ms} ms`)), ms);
    return {
      signal: ctl.signal,
      done: () => {
        this.o.clock.clearTimeout(timer);
        if (this.inflight === ctl) this.inflight = undefined;
      },
    };
  }

  /** Standby: read the Lease; take it when it is free, ours, or provably lapsed. */
  private async campaign(): Promise<void> {
    const next = () => this.scheduleCheck(this.t.pollIntervalMs);
    const direct = this.directTakeover;
    this.directTakeover = undefined;
    if (direct && this.observed?.key === direct.key) {
      const now = this.o.clock.now();
      if (
        now >= this.campaignNotBefore &&
        now >= this.lapsesAt(direct.record, direct.key, this.observed.firstSeenAt)
      ) {
        await this.acquire(direct.record);
        if (!this.active) this.scheduleCheck(0); // it moved: read it
        return;
      }
    }
    let record: LeaseRecord | undefined;
    const read = this.abortAfter(this.t.requestTimeoutMs);
    try {
      record = await this.o.lease.read(read.signal);
    } catch (err) {
      next();
      throw err;
    } finally {
      read.done();
    }
    if (this.stopped || this.active) return;
    const now = this.o.clock.now();
    const key = recordKey(record);
    // RULE 2: a record first seen now was written no later than now.
    if (this.observed?.key !== key) this.observed = { key, record, firstSeenAt: now };
    else this.observed.record = record;
    const lapsesAt = this.lapsesAt(record, key, this.observed.firstSeenAt);
    if (now < this.campaignNotBefore) return this.scheduleCheck(this.campaignNotBefore - now);
    if (now < lapsesAt) {
      const silent = !this.lastLeaderHb || now - this.lastLeaderHb.at >= this.t.heartbeatTimeoutMs;
      if (silent && lapsesAt - now <= this.t.pollIntervalMs) this.directTakeover = { key, record };
      return this.scheduleCheck(Math.min(this.t.pollIntervalMs, lapsesAt - now));
    }
    await this.acquire(record);
    if (!this.active) next();
  }

  /** When the holder of `record` can no longer hold addresses (free or ours: now). */
  private lapsesAt(record: LeaseRecord | undefined, key: string, firstSeenAt: number): number {
    if (!record || record.holder === '' || record.holder === this.o.identity) return 0;
    // RULE 1 (client-go): unchanged for its whole leaseDuration by our clock.
    const byLease = firstSeenAt + record.leaseDurationMs + safetyMargin(this.t, record.leaseDurationMs);
    // RULE 4: the holder's own heartbeats bound its deadline for exactly this record.
    const byHeartbeat = this.evidence.get(key) ?? Number.POSITIVE_INFINITY;
    // RULE 2: written no later than first seen, and no write gives its holder more than the
    // renewDeadline written into that very record.
    const d = record.renewDeadlineMs;
    const bySeen = d === undefined ? Number.POSITIVE_INFINITY : firstSeenAt + d + safetyMargin(this.t, d);
    return Math.min(byLease, byHeartbeat, bySeen);
  }

  private async acquire(expected: LeaseRecord | undefined): Promise<void> {
    const sentAt = this.o.clock.now();
    const won = await this.writeSelf(sentAt, expected, true);
    if (!won || this.stopped) return;
    this.becomeLeader(won, sentAt, expected?.holder ?? '');
  }

  /** Write ourselves as holder on top of `expected`, announced first, bounded by the timeout. */
  private async writeSelf(
    sentAt: number,
    expected: LeaseRecord | undefined,
    acquire: boolean,
  ): Promise<LeaseRecord | undefined> {
    const renewTime = this.announce(sentAt);
    const ctl = this.abortAfter(this.t.requestTimeoutMs);
    try {
      return await this.o.lease.write(
        {
          holder: this.o.identity,
          leaseDurationMs: this.t.leaseDurationMs,
          renewTime,
          acquire,
          renewDeadlineMs: this.t.renewDeadlineMs,
        },
        expected,
        ctl.signal,
      );
    } finally {
      ctl.done();
      this.pending = undefined;
    }
  }

  private becomeLeader(record: LeaseRecord, sentAt: number, previous: string): void {
    this.role = 'leader';
    this.becameLeader += 1;
    this.held = record;
    this.extendDeadline(sentAt);
    if (this.silenceTimer) this.o.clock.clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    this.o.log(`became the leader${previous && previous !== this.o.identity ? ` (after ${previous})` : ''}`);
    const gen = ++this.gen;
    const after = this.deactivating;
    this.activating = (async () => {
      await after;
      if (gen !== this.gen || this.role !== 'leader') return;
      await this.o.activate();
    })().catch((err: unknown) => {
      if (gen !== this.gen) return;
      this.o.log(`activation failed, stepping down: ${message(err)}`);
      // Hysteresis for a broken node: let the others have the role for a lease duration.
      this.campaignNotBefore = this.o.clock.now() + this.t.leaseDurationMs;
      this.stepDown('activation failed');
      void this.releaseAfterFailure();
    });
    this.scheduleRenew(sentAt + this.t.renewIntervalMs);
  }

  /** Name the record we are about to write, and the deadline it would give us, before writing. */
  private announce(sentAt: number): string {
    const renewTime = this.nextRenewTime();
    this.pending = {
      key: recordKey({ holder: this.o.identity, renewTime }),
      deadline: sentAt + this.t.renewDeadlineMs,
    };
    this.sendHeartbeat();
    return renewTime;
  }

  private async releaseAfterFailure(): Promise<void> {
    await this.deactivating;
    const held = this.held;
    if (held && !this.active) await this.release(held);
  }

  /** Hand the Lease back (only after the addresses are gone); failure is harmless: the standbys
   * then take over by the deadline rule. */
  private async release(held: LeaseRecord): Promise<void> {
    const ctl = this.abortAfter(this.t.requestTimeoutMs);
    try {
      await this.o.lease.write(
        {
          holder: '',
          leaseDurationMs: 1_000,
          renewTime: this.nextRenewTime(),
          acquire: true,
          renewDeadlineMs: this.t.renewDeadlineMs,
        },
        held,
        ctl.signal,
      );
      this.o.log('released the lease');
    } catch (err) {
      this.o.log(`could not release the lease (standbys take over after its deadline): ${message(err)}`);
    } finally {
      ctl.done();
    }
  }

  /** RULE 3: authority lasts renewDeadline from the SEND time of the last successful write. */
  private extendDeadline(sentAt: number): void {
    this.deadline = sentAt + this.t.renewDeadlineMs;
    if (this.fenceTimer) this.o.clock.clearTimeout(this.fenceTimer);
    const fenceIn = this.deadline - this.t.releaseBudgetMs - this.o.clock.now();
    this.fenceTimer = this.o.clock.setTimeout(
      () => this.stepDown(`could not renew the lease within ${this.t.renewDeadlineMs} ms`),
      Math.max(0, fenceIn),
    );
  }

  private scheduleRenew(at: number): void {
    if (this.renewTimer) this.o.clock.clearTimeout(this.renewTimer);
    this.renewTimer = this.o.clock.setTimeout(
      () => {
        this.renewTimer = undefined;
        this.leaseOp();
      },
      Math.max(0, at - this.o.clock.now()),
    );
  }

  private async renew(): Promise<void> {
    const held = this.held;
    if (!held) return;
    const sentAt = this.o.clock.now();
    let renewed: LeaseRecord | undefined;
    try {
      renewed = await this.writeSelf(sentAt, held, false);
    } catch (err) {
      if (this.role === 'leader') {
        this.scheduleRenew(Math.max(sentAt + this.t.renewIntervalMs, this.o.clock.now()));
        this.o.log(
          `lease renewal failed (${Math.max(0, this.deadline - this.o.clock.now())} ms left): ${message(err)}`,
        );
      }
      return;
    }
    if (this.role !== 'leader' || this.stopped) return;
    if (renewed) {
      this.held = renewed;
      this.extendDeadline(sentAt);
      this.scheduleRenew(sentAt + this.t.renewIntervalMs);
      return;
    }
    // The precondition failed: find out who wrote.
    const read = this.abortAfter(this.t.requestTimeoutMs);
    let current: LeaseRecord | undefined;
    try {
      current = await this.o.lease.read(read.signal);
    } finally {
      read.done();
    }
    if (!this.active) return;
    this.scheduleRenew(this.o.clock.now());
    if (current?.holder === this.o.identity) {
      // Our own write whose answer we missed: adopt it for the next precondition, but do not
      // extend the deadline (we do not know when that request was sent).
      this.held = current;
      return;
    }
    this.stepDown(`the lease now belongs to ${current?.holder || 'nobody'}`);
  }

  /** Drop the role: addresses first (deactivate), before any other work. */
  private stepDown(reason: string): void {
    if (this.role !== 'leader') return;
    this.role = 'standby';
    this.gen += 1;
    this.deactivating = this.o.deactivate().catch((err: unknown) => {
      this.o.log(`deactivation failed: ${message(err)}`);
    });
    for (const h of [this.fenceTimer, this.renewTimer]) if (h) this.o.clock.clearTimeout(h);
    this.fenceTimer = undefined;
    this.renewTimer = undefined;
    this.inflight?.abort(new Error('stepped down'));
    this.o.log(`stepped down: ${reason}`);
    if (!this.stopped) this.scheduleCheck(this.t.pollIntervalMs);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
