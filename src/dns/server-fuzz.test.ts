// Fuzzes the DNS server through its real sockets on 127.0.0.1: tens of thousands of random and
// mutated datagrams, then hostile TCP clients (garbage frames, zero and huge length prefixes,
// idle and half-closed connections, slowloris, more connections than allowed). After every phase a
// valid query must still get the right answer over UDP and TCP, every query must be accounted for
// in the counters, nothing may throw, and memory must stay flat. fuzz.test.ts covers the parser in
// depth; this file covers what only sockets have: framing, connection limits, timers, backpressure.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAnswerer } from './answer.ts';
import { fuzzIndex, prng, type Rng } from './fuzz-fixture.ts';
import { type DecodedMessage, decodeMessage, encodeQuery } from './message.ts';
import { type DnsServer, startDnsServer } from './server.ts';
import { FrameReader, frameMessage } from './tcp-framing.ts';

const SEED = Number(process.env.DNS_SERVER_FUZZ_SEED ?? 0xf00d);
const UDP_PACKETS = Number(process.env.DNS_SERVER_FUZZ_PACKETS ?? 50_000);
const WARMUP_PACKETS = 5000;
/** Datagrams in flight before a fence query waits for the server to catch up. */
const WINDOW = 200;
/** Also bounds a window's bytes so it fits the server's default socket receive buffer (~208 KiB). */
const WINDOW_BYTES = 96 * 1024;
const MAX_CONNECTIONS = 32;
const IDLE_MS = 800;
const MAX_UDP = 65507;
const GOOD = `web.shop.svc.clusterset.local`;

const index = fuzzIndex();
const answerer = createAnswerer(index, { customDomains: ['example.org'] });

const NAMES = [
  GOOD,
  'API.shop.svc.clusterset.local',
  'east.api.shop.svc.clusterset.local',
  'vip.shop.svc.example.org',
  'db.shop.svc.clusterset.local',
  'db-7.east.db.shop.svc.clusterset.local',
  '_pg._tcp.db.shop.svc.clusterset.local',
  'nope.shop.svc.clusterset.local',
  'www.example.com',
  '',
];

function randomBytes(rng: Rng, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = rng.int(256);
  return out;
}

function validQuery(rng: Rng): Buffer {
  const edns = rng.chance(0.4)
    ? { udpSize: rng.pick([0, 512, 1232, 65535]), version: rng.pick([0, 0, 1]) }
    : null;
  return encodeQuery({
    id: rng.int(0x10000),
    name: rng.pick(NAMES),
    type: rng.pick([1, 28, 33, 1, 255, 15]),
    rd: rng.chance(0.5),
    ...(edns ? { edns } : {}),
  });
}

function mutate(rng: Rng, packet: Buffer): Buffer {
  if (packet.length < 12) return Buffer.concat([packet, randomBytes(rng, rng.int(40))]);
  const p = Buffer.from(packet);
  const header = p.subarray(0, 12);
  switch (rng.int(8)) {
    case 0: // bit flips
      for (let i = rng.int(6) + 1; i > 0; i--) {
        const at = rng.int(p.length);
        p[at] = (p[at] as number) ^ (1 << rng.int(8));
      }
      return p;
    case 1: // truncation
      return p.subarray(0, rng.int(p.length));
    case 2: // compression pointers: to itself, to each other, forward, far out of range
      return Buffer.concat([
        header,
        rng.pick([
          Buffer.from([0xc0, 12]),
          Buffer.from([0xc0, 14, 0xc0, 12]),
          Buffer.from([1, 97, 0xc0, 12]),
        ]),
        Buffer.from([0xc0, rng.int(256), 0, 1, 0, 1]),
      ]);
    case 3: // absurd section counts
      p.writeUInt16BE(rng.pick([0, 2, 0xffff, rng.int(0x10000)]), rng.pick([4, 6, 8, 10]));
      return p;
    case 4: {
      // oversized names: too many labels, too-long labels, reserved label types
      const labels = Array.from({ length: rng.int(8) + 2 }, () => {
        const len = rng.pick([63, 63, 64, 100, 200]);
        return Buffer.concat([Buffer.from([len]), randomBytes(rng, Math.min(len, 63))]);
      });
      return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
    }
    case 5: // header flags: QR, opcodes, TC, Z
      p.writeUInt16BE(rng.int(0x10000), 2);
      return p;
    case 6: // trailing garbage
      return Buffer.concat([p, randomBytes(rng, rng.int(300))]);
    default: // a valid header before random bytes
      return Buffer.concat([header, randomBytes(rng, rng.int(200))]);
  }
}

function nextPacket(rng: Rng): Buffer {
  const kind = rng.int(20);
  if (kind === 0) return Buffer.alloc(0);
  if (kind === 1) return randomBytes(rng, rng.int(600));
  if (kind <= 4) return validQuery(rng);
  const once = mutate(rng, validQuery(rng));
  return kind <= 7 ? mutate(rng, once) : once;
}

/** Full-size datagrams, built once: the generator should not be what grows memory. */
function bigDatagrams(rng: Rng): Buffer[] {
  const query = encodeQuery({ id: 7, name: GOOD, type: 1 });
  const pointerSoup = Buffer.alloc(MAX_UDP, 0xc0);
  query.copy(pointerSoup, 0, 0, 12);
  return [
    randomBytes(rng, MAX_UDP),
    Buffer.concat([query, randomBytes(rng, MAX_UDP - query.length)]),
    pointerSoup,
  ];
}

let server: DnsServer;
let port = 0;
/** Sends the fuzz datagrams and counts what comes back. */
let fuzzSocket: UdpSocket;
/** Sends probes and fences, so their replies never mix with fuzz replies. */
let probeSocket: UdpSocket;
const clients = new Set<Socket>();
const processErrors: unknown[] = [];
const onProcessError = (err: unknown) => processErrors.push(err);
const fuzzReplies = { total: 0, undecodable: 0 };
const sent = { udp: 0, probes: 0, tcpConnections: 0, tcpBytes: 0 };
let rssAfterWarmup = 0;
const started = performance.now();

beforeAll(async () => {
  process.on('uncaughtException', onProcessError);
  process.on('unhandledRejection', onProcessError);
  server = await startDnsServer({
    address: '127.0.0.1',
    port: 0,
    answerer,
    tcpMaxConnections: MAX_CONNECTIONS,
    // Every fuzz client comes from 127.0.0.1; the per-client limit has tests of its own.
    tcpMaxConnectionsPerClient: MAX_CONNECTIONS,
    tcpIdleTimeoutMs: IDLE_MS,
  });
  port = server.address().port;
  fuzzSocket = createSocket('udp4');
  probeSocket = createSocket('udp4');
  fuzzSocket.on('error', onProcessError);
  probeSocket.on('error', onProcessError);
  fuzzSocket.on('message', (msg) => {
    fuzzReplies.total++;
    const decoded = decodeMessage(msg);
    if (!decoded.ok || !decoded.message.qr) fuzzReplies.undecodable++;
  });
  await Promise.all(
    [fuzzSocket, probeSocket].map((s) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))),
  );
});

afterAll(async () => {
  for (const socket of clients) socket.destroy();
  await Promise.all(
    [fuzzSocket, probeSocket].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
  await server.close();
  process.off('uncaughtException', onProcessError);
  process.off('unhandledRejection', onProcessError);
});

afterEach(() => {
  expect(processErrors).toEqual([]);
});

function decode(buf: Buffer | undefined): DecodedMessage {
  const decoded = decodeMessage(buf ?? Buffer.alloc(0));
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.message;
}

function expectGoodAnswer(buf: Buffer | undefined, id: number): void {
  const message = decode(buf);
  expect(message).toMatchObject({ id, qr: true, tc: false, rcode: 0 });
  expect(message.answers.map((a) => (a.rdata.kind === 'A' ? a.rdata.address : '?'))).toEqual(['10.0.0.10']);
}

let probeId = 0;
/** One valid UDP query; resolves with its reply. Sent after a window, it is also the fence. */
async function probeUdp(): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    probeId = (probeId + 1) & 0xffff;
    const id = probeId;
    const reply = await new Promise<Buffer | null>((resolve) => {
      const onMessage = (msg: Buffer) => {
        if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(msg);
      };
      const timer = setTimeout(() => done(null), 2000);
      const done = (msg: Buffer | null) => {
        clearTimeout(timer);
        probeSocket.off('message', onMessage);
        resolve(msg);
      };
      probeSocket.on('message', onMessage);
      sent.probes++;
      probeSocket.send(encodeQuery({ id, name: GOOD, type: 1 }), port, '127.0.0.1');
    });
    if (reply) {
      expectGoodAnswer(reply, id);
      return reply;
    }
  }
  throw new Error('no reply to a valid UDP query after 3 tries');
}

interface Client {
  readonly socket: Socket;
  readonly replies: Buffer[];
  readonly closed: Promise<void>;
}

function tcpClient(): Client {
  const socket = connect(port, '127.0.0.1');
  clients.add(socket);
  sent.tcpConnections++;
  socket.on('error', () => {}); // resets from the server are expected here
  const replies: Buffer[] = [];
  const frames = new FrameReader();
  socket.on('data', (chunk: Buffer) => {
    frames.push(chunk, (frame) => {
      replies.push(Buffer.from(frame));
      return true;
    });
  });
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      clients.delete(socket);
      resolve();
    }),
  );
  return { socket, replies, closed };
}

function write(client: Client, bytes: Buffer): void {
  sent.tcpBytes += bytes.length;
  client.socket.write(bytes);
}

const waitFor = (check: () => void, timeout = 5000) => vi.waitFor(check, { timeout, interval: 20 });

const query = (id: number) => frameMessage(encodeQuery({ id, name: GOOD, type: 1 }));
const snapshot = () => ({ ...server.counters });

/** Waits until the server has let go of every connection, so each phase starts from zero. */
async function settle(): Promise<void> {
  await waitFor(() => expect(server.counters.tcpActive).toBe(0));
}

async function replyWithId(client: Client, id: number): Promise<Buffer> {
  let found: Buffer | undefined;
  await waitFor(() => {
    found = client.replies.find((r) => r.length >= 2 && r.readUInt16BE(0) === id);
    expect(found).toBeDefined();
  });
  return found as Buffer;
}

/** After every phase: right answers over UDP and TCP, every query counted, no internal error. */
async function expectStillHealthy(): Promise<void> {
  await probeUdp();
  const client = tcpClient();
  write(client, query(4242));
  expectGoodAnswer(await replyWithId(client, 4242), 4242);
  client.socket.destroy();
  await client.closed;
  const c = server.counters;
  expect(c.udpQueries + c.tcpQueries).toBe(c.replies + c.dropped + c.internalErrors + c.forwarded);
  expect(Object.values(c.rcodes).reduce((a, b) => a + b, 0)).toBe(c.replies);
  expect(c.internalErrors).toBe(0);
}

/** Sends datagrams in windows, each closed by a fence query, so the server is never flooded. */
async function sendUdp(rng: Rng, count: number, big: Buffer[]): Promise<void> {
  let done = 0;
  let window = 0;
  while (done < count) {
    let bytes = 0;
    // Every 25th window carries a full-size datagram and little else: two do not fit the buffer.
    if (++window % 25 === 0) {
      const packet = rng.pick(big);
      fuzzSocket.send(packet, port, '127.0.0.1');
      bytes += packet.length;
      done++;
    }
    for (let n = 0; n < WINDOW && done < count && bytes < WINDOW_BYTES; n++, done++) {
      const packet = nextPacket(rng);
      fuzzSocket.send(packet, port, '127.0.0.1');
      bytes += packet.length + 512; // the kernel charges each datagram's overhead too
    }
    await probeUdp();
  }
  sent.udp += count;
}

describe('DNS server under hostile traffic on real sockets', () => {
  const rng = prng(SEED);
  const big = bigDatagrams(rng);

  it(`survives ${UDP_PACKETS} random and mutated datagrams (seed ${SEED})`, async () => {
    await sendUdp(rng, WARMUP_PACKETS, big);
    rssAfterWarmup = process.memoryUsage().rss;
    const before = { ...server.counters, rcodes: { ...server.counters.rcodes } };
    const probesBefore = sent.probes;
    const repliesBefore = fuzzReplies.total;
    const t0 = performance.now();
    await sendUdp(rng, UDP_PACKETS, big);
    const ms = performance.now() - t0;
    const c = server.counters;
    const probes = sent.probes - probesBefore;
    // Every datagram reached the server (the windows keep its receive buffer from overflowing),
    // and every reply the server sent to the fuzzing socket arrived.
    expect(c.udpQueries - before.udpQueries).toBe(UDP_PACKETS + probes);
    await waitFor(() => expect(fuzzReplies.total - repliesBefore).toBe(c.replies - before.replies - probes));
    // ... and the garbage shows up as drops and FORMERR, the valid part as answers.
    expect(c.dropped - before.dropped).toBeGreaterThan(UDP_PACKETS / 20);
    expect((c.rcodes.FORMERR ?? 0) - (before.rcodes.FORMERR ?? 0)).toBeGreaterThan(UDP_PACKETS / 20);
    expect((c.rcodes.NOERROR ?? 0) - (before.rcodes.NOERROR ?? 0)).toBeGreaterThan(UDP_PACKETS / 20);
    expect(c.truncated - before.truncated).toBeGreaterThan(0);
    expect(fuzzReplies.undecodable).toBe(0);
    console.log(
      `server fuzz udp: ${UDP_PACKETS} datagrams in ${ms.toFixed(0)} ms; ` +
        `dropped ${c.dropped - before.dropped}, FORMERR ${(c.rcodes.FORMERR ?? 0) - (before.rcodes.FORMERR ?? 0)}`,
    );
    await expectStillHealthy();
  }, 30_000);

  it('survives garbage frames over many connections', async () => {
    const before = snapshot();
    const WAVE = 24; // below MAX_CONNECTIONS, so none is refused
    const CONNECTIONS = 14 * WAVE;
    for (let opened = 0; opened < CONNECTIONS; opened += WAVE) {
      await settle();
      const wave = Array.from({ length: WAVE }, () => tcpClient());
      for (const client of wave) {
        const parts: Buffer[] = [];
        // An empty packet frames as a zero length prefix: the server hangs up there.
        for (let i = rng.int(16) + 1; i > 0; i--) parts.push(frameMessage(nextPacket(rng)));
        // Random bytes read as a random (often huge) length prefix whose frame never completes.
        if (rng.chance(0.3)) parts.push(randomBytes(rng, rng.int(64)));
        write(client, Buffer.concat(parts));
        client.socket.end(); // half-close: the server answers what it has, then closes too
      }
      await Promise.all(wave.map((c) => c.closed));
    }
    const c = server.counters;
    expect(c.tcpAccepted - before.tcpAccepted).toBe(CONNECTIONS);
    expect(c.tcpRejected - before.tcpRejected).toBe(0);
    expect(c.tcpQueries - before.tcpQueries).toBeGreaterThan(CONNECTIONS);
    expect(c.tcpBadFrames - before.tcpBadFrames).toBeGreaterThan(0);
    expect(c.dropped - before.dropped).toBeGreaterThan(0);
    await expectStillHealthy();
  });

  it('hangs up on zero length prefixes and survives 64 KiB frames', async () => {
    await settle();
    const before = snapshot();
    const zero = Array.from({ length: 10 }, () => tcpClient());
    for (const client of zero) write(client, Buffer.from([0, 0]));
    // A valid query behind a maximal garbage frame on the same connection is still answered.
    const huge = Array.from({ length: 8 }, () => tcpClient());
    for (const [i, client] of huge.entries()) {
      write(client, Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(rng, 0xffff), query(1000 + i)]));
    }
    // A huge prefix whose frame never completes: hanging up releases the buffer.
    const partial = Array.from({ length: 4 }, () => tcpClient());
    for (const client of partial) {
      write(client, Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(rng, 1000)]));
      client.socket.end();
    }
    await Promise.all([...zero, ...partial].map((c) => c.closed));
    for (const [i, client] of huge.entries()) expectGoodAnswer(await replyWithId(client, 1000 + i), 1000 + i);
    for (const client of huge) client.socket.destroy();
    expect(server.counters.tcpBadFrames - before.tcpBadFrames).toBe(zero.length);
    expect(server.counters.tcpQueries - before.tcpQueries).toBe(2 * huge.length);
    await expectStillHealthy();
  });

  it('reaps idle and half-open connections, and answers half-closed ones', async () => {
    await settle();
    const before = snapshot();
    const silent = Array.from({ length: 8 }, () => tcpClient());
    const partialFrame = Array.from({ length: 8 }, () => tcpClient());
    for (const client of partialFrame) write(client, Buffer.from([0, 200, 1, 2, 3]));
    const halfPrefix = Array.from({ length: 4 }, () => tcpClient());
    for (const client of halfPrefix) write(client, Buffer.from([0]));
    const halfClosed = Array.from({ length: 8 }, () => tcpClient());
    for (const [i, client] of halfClosed.entries()) {
      write(client, query(2000 + i));
      client.socket.end();
    }
    for (const [i, client] of halfClosed.entries()) {
      expectGoodAnswer(await replyWithId(client, 2000 + i), 2000 + i);
    }
    await Promise.all([...silent, ...partialFrame, ...halfPrefix].map((c) => c.closed));
    expect(server.counters.tcpIdleTimeouts - before.tcpIdleTimeouts).toBe(20);
    await expectStillHealthy();
  });

  it('disconnects slowloris clients sending a byte every 50 ms, and keeps serving meanwhile', async () => {
    await settle();
    const before = snapshot();
    const slow = Array.from({ length: 16 }, () => tcpClient());
    const frames = slow.map((_, i) => query(3000 + i));
    const length = frames[0]?.length ?? 0;
    // Trickled this slowly a frame takes longer than the idle timeout: bytes are not progress.
    expect(length * 50).toBeGreaterThan(IDLE_MS);
    let offset = 0;
    const dribble = setInterval(() => {
      for (const [i, client] of slow.entries())
        if (!client.socket.destroyed) write(client, frames[i]?.subarray(offset, offset + 1) as Buffer);
      if (++offset >= length) clearInterval(dribble);
    }, 50);
    try {
      await Promise.all(slow.map((c) => c.closed));
      await expectStillHealthy();
    } finally {
      clearInterval(dribble);
    }
    expect(slow.every((client) => client.replies.length === 0)).toBe(true);
    const c = server.counters;
    expect(
      c.tcpIdleTimeouts + c.tcpMessageTimeouts - before.tcpIdleTimeouts - before.tcpMessageTimeouts,
    ).toBe(slow.length);
  });

  it('refuses connections beyond tcpMaxConnections and recovers', async () => {
    await settle();
    const before = snapshot();
    const EXTRA = 40;
    const flood = Array.from({ length: MAX_CONNECTIONS + EXTRA }, () => tcpClient());
    await waitFor(() => {
      const c = server.counters;
      expect(c.tcpAccepted + c.tcpRejected - before.tcpAccepted - before.tcpRejected).toBe(flood.length);
    });
    expect(server.counters.tcpRejected - before.tcpRejected).toBe(EXTRA);
    expect(server.counters.tcpActive).toBe(MAX_CONNECTIONS);
    for (const [i, client] of flood.entries()) write(client, query(4000 + i));
    await waitFor(() => expect(flood.reduce((n, c) => n + c.replies.length, 0)).toBe(MAX_CONNECTIONS));
    await probeUdp(); // UDP is unaffected while every TCP slot is taken
    for (const client of flood) client.socket.destroy();
    await Promise.all(flood.map((c) => c.closed));

    // Connect-and-reset churn: the server sees resets on sockets it just accepted.
    for (let round = 0; round < 5; round++) {
      await settle();
      const churn = Array.from({ length: 20 }, () => tcpClient());
      await Promise.all(churn.map((c) => new Promise((resolve) => c.socket.once('connect', resolve))));
      for (const client of churn) client.socket.resetAndDestroy();
      await Promise.all(churn.map((c) => c.closed));
    }
    await settle();
    expect(server.counters.socketErrors - before.socketErrors).toBeGreaterThan(0);
    await expectStillHealthy();
  });

  it('keeps memory flat', () => {
    const grownMb = (process.memoryUsage().rss - rssAfterWarmup) / 2 ** 20;
    const c = server.counters;
    console.log(
      `server fuzz: ${sent.udp} datagrams, ${sent.probes} probes, ${sent.tcpConnections} TCP connections ` +
        `(${(sent.tcpBytes / 2 ** 20).toFixed(1)} MiB) in ${(performance.now() - started).toFixed(0)} ms; ` +
        `rss ${grownMb >= 0 ? '+' : ''}${grownMb.toFixed(1)} MB after warm-up; counters ${JSON.stringify(c)}`,
    );
    expect(grownMb).toBeLessThan(64);
  });
});
