// The HeartbeatPort on top of a datagram socket: every message is signed and counted on the
// way out, verified (MAC, group, replay window) on the way in. Rejections are counted by kind
// and logged once per kind, so a hostile or misconfigured sender cannot flood the log.
import type { DatagramPort } from '../dataplane/udp.ts';
import {
  encodeHeartbeat,
  HeartbeatVerifier,
  MAX_DATAGRAM_BYTES,
  newEpoch,
  type Rejection,
} from './heartbeatCodec.ts';
import type { Heartbeat, HeartbeatPort } from './ports.ts';

export interface HeartbeatChannelOptions {
  datagrams: DatagramPort;
  key: Buffer;
  group: string;
  self: string;
  /** Wall clock for the replay window (default Date.now). */
  wallClock?: () => number;
  /** Default 30 s: generous for clock skew; a replay inside it can only delay a takeover. */
  windowMs?: number;
  log: (line: string) => void;
}

export class HeartbeatChannel implements HeartbeatPort {
  readonly rejected: Record<Rejection, number> = {
    malformed: 0,
    'bad-mac': 0,
    'other-group': 0,
    stale: 0,
    replay: 0,
    own: 0,
  };
  accepted = 0;
  private readonly epoch = newEpoch();
  private seq = 0;
  private readonly verifier: HeartbeatVerifier;
  private readonly wall: () => number;
  private readonly listeners: Array<(hb: Heartbeat) => void> = [];

  private readonly o: HeartbeatChannelOptions;

  constructor(o: HeartbeatChannelOptions) {
    this.o = o;
    this.wall = o.wallClock ?? Date.now;
    this.verifier = new HeartbeatVerifier(o.key, {
      group: o.group,
      self: o.self,
      windowMs: o.windowMs ?? 30_000,
    });
    o.datagrams.onDatagram((d) => this.receive(d));
  }

  send(hb: Heartbeat): void {
    this.seq += 1;
    const datagram = encodeHeartbeat(this.o.key, {
      ...hb,
      group: this.o.group,
      epoch: this.epoch,
      seq: this.seq,
      sentAt: this.wall(),
    });
    if (datagram.length <= MAX_DATAGRAM_BYTES) this.o.datagrams.send(datagram);
  }

  onHeartbeat(cb: (hb: Heartbeat) => void): void {
    this.listeners.push(cb);
  }

  close(): Promise<void> {
    return this.o.datagrams.close();
  }

  private receive(datagram: Buffer): void {
    const r = this.verifier.verify(datagram, this.wall());
    if (typeof r === 'string') {
      this.rejected[r] += 1;
      if (this.rejected[r] === 1 && r !== 'own')
        this.o.log(`heartbeat rejected (${r}); further ${r} rejections are only counted`);
      return;
    }
    this.accepted += 1;
    const hb: Heartbeat = {
      from: r.from,
      role: r.role,
      records: r.records,
      released: r.released,
    };
    for (const l of this.listeners) l(hb);
  }
}
