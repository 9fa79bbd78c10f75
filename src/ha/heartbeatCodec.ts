// The heartbeat wire format, its authentication and its replay window. One UDP datagram:
//   "MOORHA1\n" | 32-byte HMAC-SHA256 | JSON body
// The key comes from a cluster Secret through HKDF, bound to the group name, so two groups
// never accept each other's messages. A message is accepted only when its MAC is right, it
// names our group, its wall time is within the window of ours, and its counter is above the last
// one seen from that sender incarnation (epoch). Heartbeats can only DELAY a takeover, never
// cause one before the Lease allows it (docs/decisions.md), so a replay that slips through the
// window costs at most a later takeover.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Heartbeat } from './ports.ts';

const MAGIC = Buffer.from('MOORHA1\n');
const MAC_BYTES = 32;
export const MAX_DATAGRAM_BYTES = 1_200;

export interface HeartbeatBody extends Heartbeat {
  group: string;
  /** Random per process start. */
  epoch: string;
  seq: number;
  /** Sender's wall clock, ms since the epoch: for the replay window only. */
  sentAt: number;
}

/** A 32-byte key for `group` from the Secret's bytes. */
export function deriveHeartbeatKey(secret: Buffer, group: string): Buffer {
  if (secret.length < 16) throw new Error('the heartbeat secret has fewer than 16 bytes');
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(group), 'moor ha heartbeat v1', 32));
}

export function newEpoch(): string {
  return randomBytes(8).toString('hex');
}

export function encodeHeartbeat(key: Buffer, body: HeartbeatBody): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  const mac = createHmac('sha256', key).update(json).digest();
  return Buffer.concat([MAGIC, mac, json]);
}

export type Rejection = 'malformed' | 'bad-mac' | 'other-group' | 'stale' | 'replay' | 'own';

export interface ReplayGuardOptions {
  group: string;
  self: string;
  /** Accept wall times within ± this of ours (clock skew between nodes plus delay). */
  windowMs: number;
}

/** Decodes and checks datagrams; remembers the highest counter per sender incarnation. */
export class HeartbeatVerifier {
  private readonly seen = new Map<string, number>();
  private readonly key: Buffer;
  private readonly o: ReplayGuardOptions;
  constructor(key: Buffer, o: ReplayGuardOptions) {
    this.key = key;
    this.o = o;
  }

  verify(datagram: Buffer, wallNow: number): HeartbeatBody | Rejection {
    if (datagram.length > MAX_DATAGRAM_BYTES || datagram.length <= MAGIC.length + MAC_BYTES)
      return 'malformed';
    if (!datagram.subarray(0, MAGIC.length).equals(MAGIC)) return 'malformed';
    const mac = datagram.subarray(MAGIC.length, MAGIC.length + MAC_BYTES);
    const json = datagram.subarray(MAGIC.length + MAC_BYTES);
    const want = createHmac('sha256', this.key).update(json).digest();
    if (!timingSafeEqual(mac, want)) return 'bad-mac';
    let body: HeartbeatBody;
    try {
      body = parseBody(JSON.parse(json.toString('utf8')));
    } catch {
      return 'malformed';
    }
    if (body.group !== this.o.group) return 'other-group';
    if (body.from === this.o.self) return 'own';
    if (Math.abs(wallNow - body.sentAt) > this.o.windowMs) return 'stale';
    const incarnation = `${body.from}/${body.epoch}`;
    const last = this.seen.get(incarnation);
    if (last !== undefined && body.seq <= last) return 'replay';
    this.seen.delete(incarnation);
    this.seen.set(incarnation, body.seq);
    // Bounded memory: a restart makes a new incarnation; keep the most recent ones.
    if (this.seen.size > 64) this.seen.delete(this.seen.keys().next().value ?? '');
    return body;
  }
}

function parseBody(v: unknown): HeartbeatBody {
  if (typeof v !== 'object' || v === null) throw new Error('not an object');
  const o = v as Record<string, unknown>;
  const str = (k: string) => {
    const x = o[k];
    if (typeof x !== 'string' || x.length > 256) throw new Error(k);
    return x;
  };
  const num = (k: string) => {
    const x = o[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new Error(k);
    return x;
  };
  const role = str('role');
  if (role !== 'leader' && role !== 'standby') throw new Error('role');
  if (typeof o.released !== 'boolean') throw new Error('released');
  const list = o.records;
  if (!Array.isArray(list) || list.length > 4) throw new Error('records');
  const records = list.map((r: unknown) => {
    const e = r as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || typeof e.record !== 'string' || e.record.length > 256)
      throw new Error('record');
    if (typeof e.validForMs !== 'number' || !Number.isFinite(e.validForMs) || e.validForMs < 0)
      throw new Error('validForMs');
    return { record: e.record, validForMs: e.validForMs };
  });
  return {
    group: str('group'),
    from: str('from'),
    epoch: str('epoch'),
    seq: num('seq'),
    sentAt: num('sentAt'),
    role,
    records,
    released: o.released,
  };
}
