// What an HA member needs from the world, as narrow ports: a Lease store with conditional writes,
// and an authenticated heartbeat channel. Real adapters: ./kubeLease.ts and ./heartbeatChannel.ts.

/** One version of the group's Lease record. */
export interface LeaseRecord {
  /** '' when nobody holds it (released). */
  holder: string;
  /** Changes on every write; the write precondition. */
  version: string;
  /** The holder's renewTime as written (identifies a record together with holder). */
  renewTime: string;
  leaseDurationMs: number;
  transitions: number;
  /** The writer's renewDeadline, written with the record (a moor annotation): no write gives
   * its holder authority for longer than this. Undefined for writers that are not moor. */
  renewDeadlineMs?: number;
}

/** Same holder and same renewal: the same record. The writer chooses renewTime, unique per
 * write, so it can name a record in a heartbeat before the record exists. */
export const recordKey = (r: { holder: string; renewTime: string } | undefined): string =>
  r === undefined ? '' : `${r.holder}|${r.renewTime}`;

export interface LeaseWrite {
  holder: string;
  leaseDurationMs: number;
  /** Written verbatim as renewTime (and acquireTime on acquire). Informational wall time plus
   * a counter: nobody compares clocks, the string only has to be unique. */
  renewTime: string;
  /** A new holder (acquireTime and transitions change), not a renewal. */
  acquire: boolean;
  /** Written with the record; see LeaseRecord.renewDeadlineMs. */
  renewDeadlineMs: number;
}

export interface LeasePort {
  /** The current record; undefined when the Lease does not exist. */
  read(signal: AbortSignal): Promise<LeaseRecord | undefined>;
  /** Write `next` on top of exactly `expected` (undefined: create). Resolves to the new record,
   * or to undefined when the precondition failed (someone else wrote first). */
  write(
    next: LeaseWrite,
    expected: LeaseRecord | undefined,
    signal: AbortSignal,
  ): Promise<LeaseRecord | undefined>;
}

/** What members tell each other, about every 100 ms. */
export interface Heartbeat {
  /** Sender identity (its Lease holder identity). */
  from: string;
  role: 'leader' | 'standby';
  /** The Lease records (recordKey) the sender's authority may come from: the one it holds and
   * the one it is writing, each with how long after SENDING this message the sender will still
   * hold its addresses on its account, at most. */
  records: Array<{ record: string; validForMs: number }>;
  /** The sender stopped gracefully and released the Lease: take over now. */
  released: boolean;
}

export interface HeartbeatPort {
  send(hb: Heartbeat): void;
  /** Only authenticated, fresh messages from other members arrive here. */
  onHeartbeat(cb: (hb: Heartbeat) => void): void;
  close(): Promise<void>;
}
