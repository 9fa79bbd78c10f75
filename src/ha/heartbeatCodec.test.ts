import { describe, expect, it } from 'vitest';
import type { DatagramPort } from '../dataplane/udp.ts';
import { HeartbeatChannel } from './heartbeatChannel.ts';
import {
  deriveHeartbeatKey,
  encodeHeartbeat,
  type HeartbeatBody,
  HeartbeatVerifier,
} from './heartbeatCodec.ts';
import type { Heartbeat } from './ports.ts';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');
const key = deriveHeartbeatKey(secret, 'moor-system/moor-gateway-lock');
const NOW = 1_800_000_000_000;
const body = (over: Partial<HeartbeatBody> = {}): HeartbeatBody => ({
  group: 'moor-system/moor-gateway-lock',
  from: 'gw1',
  epoch: 'e1',
  seq: 1,
  sentAt: NOW,
  role: 'leader',
  records: [{ record: 'gw1|t1', validForMs: 500 }],
  released: false,
  ...over,
});
const verifier = () =>
  new HeartbeatVerifier(key, { group: 'moor-system/moor-gateway-lock', self: 'gw2', windowMs: 30_000 });

describe('heartbeat codec', () => {
  it('accepts a signed, fresh message and returns its fields', () => {
    const r = verifier().verify(encodeHeartbeat(key, body()), NOW + 5);
    expect(r).toMatchObject({
      from: 'gw1',
      role: 'leader',
      records: [{ record: 'gw1|t1', validForMs: 500 }],
    });
  });

  it('rejects a wrong key, a flipped bit, and another group', () => {
    const other = deriveHeartbeatKey(
      Buffer.from('another secret of 32 bytes......'),
      'moor-system/moor-gateway-lock',
    );
    expect(verifier().verify(encodeHeartbeat(other, body()), NOW)).toBe('bad-mac');
    const d = encodeHeartbeat(key, body());
    d[d.length - 3] = (d[d.length - 3] ?? 0) ^ 1;
    expect(verifier().verify(d, NOW)).toBe('bad-mac');
    // The key is bound to the group: the same secret for another group's name does not verify.
    const otherGroupKey = deriveHeartbeatKey(secret, 'egress/blue');
    expect(verifier().verify(encodeHeartbeat(otherGroupKey, body({ group: 'egress/blue' })), NOW)).toBe(
      'bad-mac',
    );
    expect(verifier().verify(encodeHeartbeat(key, body({ group: 'egress/blue' })), NOW)).toBe('other-group');
  });

  it('rejects replays: the same or a lower counter, and times outside the window', () => {
    const v = verifier();
    const first = encodeHeartbeat(key, body({ seq: 7 }));
    expect(typeof v.verify(first, NOW)).toBe('object');
    expect(v.verify(first, NOW)).toBe('replay');
    expect(v.verify(encodeHeartbeat(key, body({ seq: 6 })), NOW)).toBe('replay');
    expect(typeof v.verify(encodeHeartbeat(key, body({ seq: 8 })), NOW)).toBe('object');
    // A restart is a new epoch with its own counter.
    expect(typeof v.verify(encodeHeartbeat(key, body({ epoch: 'e2', seq: 1 })), NOW)).toBe('object');
    expect(v.verify(encodeHeartbeat(key, body({ seq: 9, sentAt: NOW - 31_000 })), NOW)).toBe('stale');
    expect(v.verify(encodeHeartbeat(key, body({ seq: 10, sentAt: NOW + 31_000 })), NOW)).toBe('stale');
  });

  it('rejects malformed datagrams and its own messages', () => {
    const v = verifier();
    expect(v.verify(Buffer.from('hello'), NOW)).toBe('malformed');
    expect(v.verify(Buffer.alloc(2_000), NOW)).toBe('malformed');
    // Valid MAC over a body that is not a heartbeat.
    const bad = encodeHeartbeat(key, { ...body(), role: 'king' } as unknown as HeartbeatBody);
    expect(v.verify(bad, NOW)).toBe('malformed');
    const negative = encodeHeartbeat(key, body({ records: [{ record: 'x', validForMs: -1 }] }));
    expect(v.verify(negative, NOW)).toBe('malformed');
    expect(v.verify(encodeHeartbeat(key, body({ from: 'gw2' })), NOW)).toBe('own');
  });

  it('refuses a short secret', () => {
    expect(() => deriveHeartbeatKey(Buffer.from('short'), 'g')).toThrow(/fewer than 16 bytes/);
  });
});

describe('HeartbeatChannel', () => {
  it('signs what it sends, delivers what verifies, counts and logs rejections once per kind', async () => {
    const wire: Buffer[] = [];
    let deliver: (b: Buffer) => void = () => undefined;
    const datagrams: DatagramPort = {
      send: (b) => wire.push(b),
      onDatagram: (cb) => {
        deliver = (b) => cb(b, '10.0.0.1');
      },
      close: async () => undefined,
    };
    const log: string[] = [];
    const ch = new HeartbeatChannel({
      datagrams,
      key,
      group: 'moor-system/moor-gateway-lock',
      self: 'gw2',
      wallClock: () => NOW,
      log: (l) => log.push(l),
    });
    const got: Heartbeat[] = [];
    ch.onHeartbeat((h) => got.push(h));
    ch.send({ from: 'gw2', role: 'standby', records: [], released: false });
    expect(wire).toHaveLength(1);
    deliver(wire[0]!); // our own broadcast coming back
    const peer = encodeHeartbeat(key, body());
    deliver(peer);
    deliver(peer);
    deliver(peer);
    expect(got).toHaveLength(1);
    expect(ch.rejected).toMatchObject({ own: 1, replay: 2 });
    expect(log.filter((l) => l.includes('replay'))).toHaveLength(1);
  });
});
