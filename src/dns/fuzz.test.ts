// Feeds well over 100,000 random and mutated packets through parse + answer and checks that
// nothing throws, every reply decodes as a valid DNS message with the query's id, UDP replies
// respect the size limit, and memory stays flat. The generator is seeded, so a failure names the
// seed and packet that reproduce it.
import { describe, expect, it } from 'vitest';
import { createAnswerer, type Transport } from './answer.ts';
import { fuzzIndex, prng, type Rng } from './fuzz-fixture.ts';
import { decodeMessage, encodeQuery } from './message.ts';

const SEED = Number(process.env.DNS_FUZZ_SEED ?? 0x5eed);
const PACKETS = Number(process.env.DNS_FUZZ_PACKETS ?? 120_000);

const index = fuzzIndex();
const answerer = createAnswerer(index, { customDomains: ['example.org'] });

const NAMES = [
  'web.shop.svc.clusterset.local',
  'API.shop.svc.clusterset.local',
  'east.api.shop.svc.clusterset.local',
  'x.west.api.shop.svc.clusterset.local',
  'vip.shop.svc.example.org',
  'db.shop.svc.clusterset.local',
  'db-7.east.db.shop.svc.clusterset.local',
  '_pg._tcp.db.shop.svc.clusterset.local',
  '_http._tcp.east.api.shop.svc.clusterset.local',
  'nope.shop.svc.clusterset.local',
  'clusterset.local',
  'www.example.com',
  '',
];
const TYPES = [1, 28, 33, 1, 33, 15, 255, 0, 65535];

function validQuery(rng: Rng): Buffer {
  const edns = rng.chance(0.5)
    ? { udpSize: rng.pick([0, 512, 1232, 4096, 65535]), dnssecOk: rng.chance(0.3) }
    : undefined;
  return encodeQuery({
    id: rng.int(0x10000),
    name: rng.pick(NAMES),
    type: rng.pick(TYPES),
    class: rng.pick([1, 1, 1, 3, 255]),
    rd: rng.chance(0.5),
    ...(edns ? { edns } : {}),
  });
}

function randomBytes(rng: Rng, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = rng.int(256);
  return out;
}

/** One mutation from the classes the parser must survive. */
function mutate(rng: Rng, packet: Buffer): Buffer {
  if (packet.length < 12) return Buffer.concat([packet, randomBytes(rng, rng.int(40))]);
  const p = Buffer.from(packet);
  switch (rng.int(10)) {
    case 0: // bit flips
      for (let i = rng.int(8) + 1; i > 0; i--) {
        const at = rng.int(p.length);
        p[at] = (p[at] as number) ^ (1 << rng.int(8));
      }
      return p;
    case 1: // truncation
      return p.subarray(0, rng.int(p.length));
    case 2: // random byte overwrites
      for (let i = rng.int(4) + 1; i > 0; i--) p[rng.int(p.length)] = rng.int(256);
      return p;
    case 3: {
      // compression pointers (loops, forward, self) at a label position
      const at = 12 + rng.int(Math.max(1, p.length - 13));
      if (at + 1 < p.length) p.writeUInt16BE(0xc000 | rng.pick([12, at, at + 2, rng.int(0x4000)]), at);
      return p;
    }
    case 4: // giant or odd section counts
      p.writeUInt16BE(rng.pick([0, 1, 2, 3, 0xffff, rng.int(0x10000)]), rng.pick([4, 6, 8, 10]));
      return p;
    case 5: {
      // oversized names: long labels, many labels, reserved label types
      const labels = Array.from({ length: rng.int(10) + 1 }, () => {
        const len = rng.pick([1, 62, 63, 64, 127, 192, 255]);
        return Buffer.concat([Buffer.from([len]), randomBytes(rng, Math.min(len, 63))]);
      });
      return Buffer.concat([p.subarray(0, 12), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
    }
    case 6: {
      // additional records: duplicate OPT, OPT with bad options, non-root OPT owner
      p.writeUInt16BE(rng.int(3) + 1, 10);
      const opt = Buffer.from([
        0,
        0,
        41,
        rng.int(256),
        rng.int(256),
        rng.int(256),
        rng.int(3),
        0x80,
        0,
        0,
        rng.int(9),
      ]);
      return Buffer.concat([p, opt, randomBytes(rng, rng.int(12)), rng.chance(0.5) ? opt : Buffer.alloc(0)]);
    }
    case 7: // header flags: QR, opcodes, TC, Z
      p.writeUInt16BE(rng.int(0x10000), 2);
      return p;
    case 8: // trailing garbage
      return Buffer.concat([p, randomBytes(rng, rng.int(600))]);
    default: // random prefix length of random bytes after a valid header
      return Buffer.concat([p.subarray(0, 12), randomBytes(rng, rng.int(300))]);
  }
}

function nextPacket(rng: Rng): Buffer {
  const kind = rng.int(10);
  if (kind === 0) return randomBytes(rng, rng.int(600));
  const base = validQuery(rng);
  if (kind <= 2) return base;
  let packet = mutate(rng, base);
  if (rng.chance(0.3)) packet = mutate(rng, packet);
  return packet;
}

/** Outcome tally, to prove the fuzzer reaches every branch rather than only the first check. */
const outcomes = new Map<string, number>();
const tally = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);

function check(packet: Buffer, transport: Transport): void {
  const result = answerer.answer(packet, transport);
  if (result.kind === 'drop') {
    tally(`drop-${result.reason}`);
    return;
  }
  tally(`rcode-${result.rcode}`);
  const decoded = decodeMessage(result.message);
  if (!decoded.ok) throw new Error(`invalid reply (${decoded.reason}) to ${packet.toString('hex')}`);
  const message = decoded.message;
  if (message.id !== packet.readUInt16BE(0) || !message.qr) {
    throw new Error(`reply id/QR mismatch for ${packet.toString('hex')}`);
  }
  if (transport === 'udp' && message.edns === null && result.message.length > 512) {
    throw new Error(`oversized UDP reply for ${packet.toString('hex')}`);
  }
  if (message.tc) tally('truncated');
  if (message.answers.length > 0) tally('answered');
}

describe('DNS fuzz', () => {
  it(`survives ${PACKETS} random and mutated packets (seed ${SEED}) with flat memory`, () => {
    const rng = prng(SEED);
    const run = (count: number) => {
      for (let i = 0; i < count; i++) {
        const packet = nextPacket(rng);
        check(packet, rng.chance(0.5) ? 'udp' : 'tcp');
      }
    };
    run(10_000); // warm-up: JIT, pools, heap growth
    const before = process.memoryUsage().rss;
    const started = performance.now();
    run(PACKETS);
    const elapsed = performance.now() - started;
    const grownMb = (process.memoryUsage().rss - before) / 2 ** 20;
    console.log(`dns fuzz: ${PACKETS} packets in ${elapsed.toFixed(0)} ms, rss +${grownMb.toFixed(1)} MB`);
    console.log(`dns fuzz outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
    expect(grownMb).toBeLessThan(64);
    for (const key of [
      'drop-short',
      'drop-response',
      'rcode-0',
      'rcode-1',
      'rcode-3',
      'rcode-4',
      'rcode-5',
      'rcode-16',
    ]) {
      expect(outcomes.get(key) ?? 0, key).toBeGreaterThan(100);
    }
    expect(outcomes.get('truncated') ?? 0).toBeGreaterThan(100);
    expect(outcomes.get('answered') ?? 0).toBeGreaterThan(1000);
  }, 60_000);

  it('answers every well-formed query with the same id and one question', () => {
    const rng = prng(SEED + 1);
    for (let i = 0; i < 5000; i++) {
      const packet = validQuery(rng);
      const result = answerer.answer(packet, 'udp');
      expect(result.kind).toBe('reply');
      if (result.kind !== 'reply') return;
      const decoded = decodeMessage(result.message);
      expect(decoded.ok && decoded.message.questions.length).toBe(1);
      expect(decoded.ok && decoded.message.id).toBe(packet.readUInt16BE(0));
    }
  });
});
