// Forwards queries for names outside our zones to upstream resolvers. UDP goes through one shared
// socket per address family, so thousands of queries cost two file descriptors; replies are matched
// by a fresh random ID per attempt and must come from the upstream we asked, echo our question and
// be responses, so an off-path sender has to guess the ID *and* know the question. Nothing here
// caches or grows without bound: the in-flight table has a fixed size and every attempt has a timer.
import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv4, isIPv6, type Socket, SocketAddress } from 'node:net';
import { MoorError } from '../errors.ts';
import type { Transport } from './answer.ts';
import { FLAG_QR, HEADER_LENGTH } from './constants.ts';
import type { DnsForwarder, DnsServerLog } from './server.ts';
import { FrameReader, frameMessage } from './tcp-framing.ts';
import { parseQuery } from './wire.ts';
import { isTruncatedReply, MAX_UDP_PAYLOAD } from './wire-write.ts';

export interface Upstream {
  /** Canonical text form, as received packets report their sender (`::1`, not `0:0::1`). */
  readonly address: string;
  readonly port: number;
  readonly family: 'ipv4' | 'ipv6';
}

export interface UdpForwarderOptions {
  /** Tried in order until one answers; `ip`, `ip:port`, bare IPv6 or `[ipv6]:port`. */
  readonly upstreams: readonly (string | Upstream)[];
  /** How long each upstream gets before the next is tried; default 2000. */
  readonly timeoutMs?: number;
  /** Queries forwarded at once; beyond it forward() resolves to null at once. Default 256. */
  readonly maxInflight?: number;
  readonly log?: DnsServerLog;
}

/** Monotonic counters; read them, never reset them. */
export interface ForwarderCounters {
  queries: number;
  rejectedFull: number;
  answered: number;
  failed: number;
  timeouts: number;
  sendErrors: number;
  /** Datagrams or frames that matched no pending query: late, spoofed or malformed. */
  mismatched: number;
  tcpFallbacks: number;
  socketErrors: number;
}

const DNS_PORT = 53;
const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_INFLIGHT = 256;
// Keeps the table far below 65,536 IDs, so picking an unused random ID takes few tries.
const MAX_INFLIGHT_LIMIT = 4096;
const UPSTREAM_HINT =
  'write an IP address with an optional port: 192.0.2.53, 192.0.2.53:5353, 2001:db8::53 or [2001:db8::53]:5353';

/** Parses `ip[:port]` (IPv6 with a port needs brackets). Host names are refused: resolving them needs DNS. */
export function parseUpstream(text: string): Upstream {
  const input = text.trim();
  const bad = (why: string) =>
    new MoorError('invalid-argument', `upstream DNS server ${JSON.stringify(text)} ${why}`, {
      hint: UPSTREAM_HINT,
    });
  let host = input;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(input);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (!isIPv6(host)) throw bad('has no IPv6 address inside the brackets');
  } else if (input.indexOf(':') === input.lastIndexOf(':') && input.includes(':')) {
    [host = '', portText] = input.split(':');
  }
  if (host.includes('%')) throw bad('has a zone index, which is not supported');
  const family = isIPv4(host) ? 'ipv4' : isIPv6(host) ? 'ipv6' : null;
  if (family === null) throw bad('is not an IP address');
  let port = DNS_PORT;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
    if (port < 1 || port > 65535) throw bad('has no valid port (1-65535)');
  }
  return { address: new SocketAddress({ address: host, family }).address, port, family };
}

interface Pending {
  readonly upstream: Upstream;
  readonly question: Buffer;
  readonly finish: (reply: Buffer | null) => void;
}

export class UdpForwarder implements DnsForwarder {
  readonly #upstreams: readonly Upstream[];
  readonly #timeoutMs: number;
  readonly #maxInflight: number;
  readonly #log: DnsServerLog;
  readonly #counters: ForwarderCounters = {
    queries: 0,
    rejectedFull: 0,
    answered: 0,
    failed: 0,
    timeouts: 0,
    sendErrors: 0,
    mismatched: 0,
    tcpFallbacks: 0,
    socketErrors: 0,
  };
  readonly #pending = new Map<number, Pending>();
  readonly #sockets = new Map<Upstream['family'], UdpSocket>();
  readonly #tcpSockets = new Set<Socket>();
  #inflight = 0;
  #closed = false;

  constructor(options: UdpForwarderOptions) {
    if (options.upstreams.length === 0) {
      throw new MoorError('invalid-argument', 'no upstream DNS server to forward to', {
        hint: UPSTREAM_HINT,
      });
    }
    this.#upstreams = options.upstreams.map((u) => (typeof u === 'string' ? parseUpstream(u) : u));
    this.#timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs', 600_000);
    this.#maxInflight = positive(
      options.maxInflight,
      DEFAULT_MAX_INFLIGHT,
      'maxInflight',
      MAX_INFLIGHT_LIMIT,
    );
    this.#log = options.log ?? (() => {});
  }

  get counters(): Readonly<ForwarderCounters> {
    return this.#counters;
  }

  get inflight(): number {
    return this.#inflight;
  }

  /** The upstream's reply with the client's ID, or null when every upstream failed or we are full. */
  async forward(query: Buffer, transport: Transport): Promise<Buffer | null> {
    this.#counters.queries++;
    const parsed = parseQuery(query);
    // The server only forwards well-formed queries; anything else has no question to match.
    if (this.#closed || parsed.kind !== 'query') return null;
    if (this.#inflight >= this.#maxInflight) {
      this.#counters.rejectedFull++;
      return null;
    }
    // TCP frames may be views into a chunk the server reuses, so keep our own copy.
    const own = Buffer.from(query);
    const question = own.subarray(HEADER_LENGTH, parsed.questionEnd);
    this.#inflight++;
    try {
      for (const upstream of this.#upstreams) {
        if (this.#closed) return null;
        // Only a TCP client can send a query too big for one datagram.
        let reply =
          own.length > MAX_UDP_PAYLOAD
            ? await this.#exchangeTcp(own, question, upstream)
            : await this.#exchangeUdp(own, question, upstream);
        // A UDP client gets a truncated reply as is and retries over TCP; a TCP client must not.
        if (reply && transport === 'tcp' && isTruncatedReply(reply)) {
          this.#counters.tcpFallbacks++;
          reply = await this.#exchangeTcp(own, question, upstream);
        }
        if (reply) {
          reply.writeUInt16BE(parsed.id, 0);
          this.#counters.answered++;
          return reply;
        }
      }
      this.#counters.failed++;
      return null;
    } finally {
      this.#inflight--;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of [...this.#pending.values()]) entry.finish(null);
    for (const socket of this.#tcpSockets) socket.destroy();
    const sockets = [...this.#sockets.values()];
    this.#sockets.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => closeUdp(s, resolve))));
  }

  #exchangeUdp(query: Buffer, question: Buffer, upstream: Upstream): Promise<Buffer | null> {
    return new Promise((resolve) => {
      let id = randomInt(0x10000);
      while (this.#pending.has(id)) id = randomInt(0x10000);
      const packet = Buffer.from(query);
      packet.writeUInt16BE(id, 0);
      const timer = setTimeout(() => {
        this.#counters.timeouts++;
        finish(null);
      }, this.#timeoutMs);
      const entry: Pending = { upstream, question, finish: (reply) => finish(reply) };
      const finish = (reply: Buffer | null) => {
        if (this.#pending.get(id) !== entry) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(reply);
      };
      this.#pending.set(id, entry);
      const onSent = (err: Error | null) => {
        if (!err) return;
        this.#counters.sendErrors++;
        finish(null);
      };
      try {
        this.#socketFor(upstream.family).send(packet, upstream.port, upstream.address, onSent);
      } catch (err) {
        onSent(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** One query on a fresh connection: the rare truncated case does not justify pooling. */
  #exchangeTcp(query: Buffer, question: Buffer, upstream: Upstream): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const id = randomInt(0x10000);
      const packet = Buffer.from(query);
      packet.writeUInt16BE(id, 0);
      const socket = connect({ host: upstream.address, port: upstream.port });
      this.#tcpSockets.add(socket);
      let done = false;
      const finish = (reply: Buffer | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#tcpSockets.delete(socket);
        socket.destroy();
        resolve(reply);
      };
      const timer = setTimeout(() => {
        this.#counters.timeouts++;
        finish(null);
      }, this.#timeoutMs);
      socket.on('error', () => {
        this.#counters.socketErrors++;
        finish(null);
      });
      socket.on('close', () => finish(null));
      const frames = new FrameReader();
      socket.on('data', (chunk: Buffer) => {
        const result = frames.push(chunk, (frame) => {
          if (frame.readUInt16BE(0) === id && echoesQuestion(frame, question)) {
            finish(Buffer.from(frame));
            return false;
          }
          this.#counters.mismatched++;
          return true;
        });
        if (result === 'bad-frame') finish(null);
      });
      socket.write(frameMessage(packet));
    });
  }

  #socketFor(family: Upstream['family']): UdpSocket {
    const existing = this.#sockets.get(family);
    if (existing) return existing;
    // Unbound: the first send binds an OS-chosen ephemeral port on the wildcard address.
    const socket = createSocket(family === 'ipv4' ? { type: 'udp4' } : { type: 'udp6', ipv6Only: true });
    socket.on('message', (msg: Buffer, peer: RemoteInfo) => this.#onMessage(msg, peer));
    socket.on('error', (err) => {
      // A broken socket would time out every later query; the next attempt opens a fresh one.
      this.#counters.socketErrors++;
      this.#log('dns.forward-socket-error', { family, error: String(err) });
      if (this.#sockets.get(family) === socket) this.#sockets.delete(family);
      closeUdp(socket, () => {});
    });
    this.#sockets.set(family, socket);
    return socket;
  }

  #onMessage(msg: Buffer, peer: RemoteInfo): void {
    const entry = msg.length >= HEADER_LENGTH ? this.#pending.get(msg.readUInt16BE(0)) : undefined;
    if (
      entry === undefined ||
      peer.address !== entry.upstream.address ||
      peer.port !== entry.upstream.port ||
      !echoesQuestion(msg, entry.question)
    ) {
      this.#counters.mismatched++;
      return;
    }
    entry.finish(msg);
  }
}

/** A response (QR set) whose one question equals ours; the name may differ in ASCII case. */
function echoesQuestion(reply: Buffer, question: Buffer): boolean {
  const end = HEADER_LENGTH + question.length;
  if (reply.length < end || (reply.readUInt16BE(2) & FLAG_QR) === 0 || reply.readUInt16BE(4) !== 1) {
    return false;
  }
  const nameLength = question.length - 4;
  for (let i = 0; i < question.length; i++) {
    const a = reply[HEADER_LENGTH + i] as number;
    const b = question[i] as number;
    if (a === b) continue;
    // Fold case only inside the name (type and class are numbers) and only for letters.
    if (i >= nameLength || (a | 0x20) !== (b | 0x20) || (a | 0x20) < 0x61 || (a | 0x20) > 0x7a) return false;
  }
  return true;
}

function positive(value: number | undefined, fallback: number, name: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new MoorError('invalid-argument', `forwarder ${name} ${value} is out of range`, {
      hint: `use a whole number from 1 to ${max}`,
    });
  }
  return value;
}

function closeUdp(socket: UdpSocket, done: () => void): void {
  try {
    socket.close(done);
  } catch {
    // Already closed (after an error): nothing left to release.
    done();
  }
}
