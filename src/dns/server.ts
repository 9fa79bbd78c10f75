// UDP + TCP DNS listener on one address and port. The server only moves bytes: answers come from
// the answerer, which never throws; should it ever do so anyway, the query is counted and dropped.
// Nothing a client sends can crash or stall the process: every socket has an error listener, TCP
// connections are capped in number (in all and per client address), buffered input (one frame)
// and queued output, and in time: a connection must deliver a complete message within the idle
// timeout of the previous one (received bytes alone do not count as progress, so a client
// trickling bytes cannot hold a slot), and one message within the message deadline of its first
// byte. When every slot is taken, a client with fewer connections takes one from the client
// holding the most. UDP shares nothing with TCP but the event loop, so it keeps answering.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import {
  type AddressInfo,
  createServer as createTcpServer,
  isIPv6,
  type Server,
  type Socket,
} from 'node:net';
import { MoorError } from '../errors.ts';
import { describeSystemError, errnoCode } from '../systemError.ts';
import type { AnswerResult, Transport } from './answer.ts';
import { RCODE_SERVFAIL } from './constants.ts';
import { FrameReader, frameMessage } from './tcp-framing.ts';
import { isTruncatedReply } from './wire-write.ts';

/** Answers names outside our zones instead of REFUSED; null (no upstream answered) and a
 * rejection both become SERVFAIL, so a client fails fast instead of timing out. */
export interface DnsForwarder {
  forward(query: Buffer, transport: Transport): Promise<Buffer | null>;
}

export type DnsServerLog = (event: string, fields: Record<string, unknown>) => void;

export interface DnsServerOptions {
  readonly address: string;
  /** 0 picks a free port; UDP and TCP then share it. */
  readonly port: number;
  readonly answerer: { answer(query: Buffer, transport: Transport): AnswerResult };
  readonly forwarder?: DnsForwarder;
  readonly log?: DnsServerLog;
  /** A connection that completes no message for this long is closed (bytes alone do not count). */
  readonly tcpIdleTimeoutMs?: number;
  /** A message must be complete this long after its first byte arrived. */
  readonly tcpMessageTimeoutMs?: number;
  readonly tcpMaxConnections?: number;
  /** Connections per client address (IPv4 address, or IPv6 address). */
  readonly tcpMaxConnectionsPerClient?: number;
  /** Queued, unsent reply bytes after which a TCP client that does not read is disconnected. */
  readonly tcpMaxQueuedBytes?: number;
  readonly maxInflightForwards?: number;
}

/** Monotonic counters; read them, never reset them. */
export interface DnsServerCounters {
  udpQueries: number;
  tcpQueries: number;
  replies: number;
  dropped: number;
  truncated: number;
  rcodes: Record<string, number>;
  tcpAccepted: number;
  tcpRejected: number;
  /** Refused because that client address already held its share. */
  tcpRejectedPerClient: number;
  /** Closed to give a slot to a client with fewer connections. */
  tcpEvicted: number;
  tcpIdleTimeouts: number;
  /** Closed because a message was not complete within the message deadline. */
  tcpMessageTimeouts: number;
  tcpBadFrames: number;
  tcpSlowReaders: number;
  tcpActive: number;
  forwarded: number;
  forwardFailures: number;
  sendErrors: number;
  socketErrors: number;
  internalErrors: number;
}

export interface DnsServer {
  address(): AddressInfo;
  close(): Promise<void>;
  readonly counters: Readonly<DnsServerCounters>;
}

export function createDnsServerCounters(): DnsServerCounters {
  return {
    udpQueries: 0,
    tcpQueries: 0,
    replies: 0,
    dropped: 0,
    truncated: 0,
    rcodes: {},
    tcpAccepted: 0,
    tcpRejected: 0,
    tcpRejectedPerClient: 0,
    tcpEvicted: 0,
    tcpIdleTimeouts: 0,
    tcpMessageTimeouts: 0,
    tcpBadFrames: 0,
    tcpSlowReaders: 0,
    tcpActive: 0,
    forwarded: 0,
    forwardFailures: 0,
    sendErrors: 0,
    socketErrors: 0,
    internalErrors: 0,
  };
}

const DEFAULTS = {
  tcpIdleTimeoutMs: 10_000,
  tcpMessageTimeoutMs: 5_000,
  tcpMaxConnections: 256,
  tcpMaxConnectionsPerClient: 16,
  tcpMaxQueuedBytes: 1 << 20,
  maxInflightForwards: 256,
};
const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  16: 'BADVERS',
};
const PORT_ATTEMPTS = 8;

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const counters = createDnsServerCounters();
  const log: DnsServerLog = options.log ?? (() => {});
  const connections = new Set<Socket>();
  /** Open connections by client address, oldest first (a Set keeps insertion order). */
  const byClient = new Map<string, Set<Socket>>();
  let inflightForwards = 0;

  /** Answers one query and hands the reply (if any) to `send`. */
  const handle = (query: Buffer, transport: Transport, send: (reply: Buffer) => void): void => {
    let result: AnswerResult;
    try {
      result = options.answerer.answer(query, transport);
    } catch (err) {
      counters.internalErrors++;
      log('dns.answer-error', { error: String(err) });
      return;
    }
    if (result.kind === 'drop') {
      counters.dropped++;
      return;
    }
    const forwarder = options.forwarder;
    if (result.outOfZone && forwarder && inflightForwards < settings.maxInflightForwards) {
      inflightForwards++;
      counters.forwarded++;
      const fallback = withRcode(result.message, RCODE_SERVFAIL);
      forwarder.forward(query, transport).then(
        (reply) => {
          inflightForwards--;
          if (reply) {
            send(reply);
            return;
          }
          counters.forwardFailures++;
          send(fallback);
        },
        (err: unknown) => {
          inflightForwards--;
          counters.forwardFailures++;
          log('dns.forward-error', { error: String(err) });
          send(fallback);
        },
      );
      return;
    }
    const name = RCODE_NAMES[result.rcode] ?? String(result.rcode);
    counters.rcodes[name] = (counters.rcodes[name] ?? 0) + 1;
    if (isTruncatedReply(result.message)) counters.truncated++;
    counters.replies++;
    send(result.message);
  };

  /** Makes room for a client holding `held` connections, if one client holds more; else false. */
  const evictForFairness = (held: number): boolean => {
    let heaviest: Set<Socket> | undefined;
    for (const set of byClient.values()) if (!heaviest || set.size > heaviest.size) heaviest = set;
    const oldest = heaviest && heaviest.size > held + 1 ? heaviest.values().next().value : undefined;
    if (!heaviest || oldest === undefined) return false;
    counters.tcpEvicted++;
    forget(oldest);
    oldest.destroy();
    return true;
  };

  const forget = (socket: Socket): void => {
    if (!connections.delete(socket)) return;
    const key = clientKeyOf.get(socket);
    const set = key === undefined ? undefined : byClient.get(key);
    set?.delete(socket);
    if (key !== undefined && set?.size === 0) byClient.delete(key);
    counters.tcpActive = connections.size;
  };
  const clientKeyOf = new WeakMap<Socket, string>();

  const onTcpConnection = (socket: Socket): void => {
    socket.on('error', () => counters.socketErrors++);
    const key = clientKey(socket.remoteAddress);
    if (key === undefined) {
      socket.destroy(); // already gone
      return;
    }
    const held = byClient.get(key)?.size ?? 0;
    if (held >= settings.tcpMaxConnectionsPerClient) {
      counters.tcpRejected++;
      counters.tcpRejectedPerClient++;
      socket.destroy();
      return;
    }
    if (connections.size >= settings.tcpMaxConnections && !evictForFairness(held)) {
      counters.tcpRejected++;
      socket.destroy();
      return;
    }
    counters.tcpAccepted++;
    connections.add(socket);
    clientKeyOf.set(socket, key);
    const mine = byClient.get(key) ?? new Set<Socket>();
    byClient.set(key, mine);
    mine.add(socket);
    counters.tcpActive = connections.size;
    socket.setNoDelay(true);

    const frames = new FrameReader();
    // One timer per connection. The idle deadline moves on a completed message or a sent reply;
    // a message's first byte can only bring the deadline closer.
    let deadline = Date.now() + settings.tcpIdleTimeoutMs;
    let binding: 'idle' | 'message' = 'idle';
    let completed = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(onDeadline, Math.max(0, deadline - Date.now()));
    };
    const onDeadline = () => {
      if (Date.now() < deadline) {
        arm(); // moved later meanwhile
        return;
      }
      if (binding === 'message') counters.tcpMessageTimeouts++;
      else counters.tcpIdleTimeouts++;
      socket.destroy();
    };
    const progress = () => {
      deadline = Date.now() + settings.tcpIdleTimeoutMs; // the timer re-arms itself when it fires
      binding = 'idle';
    };
    arm();
    socket.on('close', () => {
      clearTimeout(timer);
      forget(socket);
    });
    const send = (reply: Buffer) => {
      if (socket.destroyed) return;
      progress();
      socket.write(frameMessage(reply));
      if (socket.writableLength > settings.tcpMaxQueuedBytes) {
        counters.tcpSlowReaders++;
        socket.destroy();
      }
    };
    const onFrame = (frame: Buffer): boolean => {
      counters.tcpQueries++;
      completed++;
      progress();
      handle(frame, 'tcp', send);
      return !socket.destroyed;
    };
    socket.on('data', (chunk: Buffer) => {
      const partialBefore = frames.bufferedBytes > 0;
      const completedBefore = completed;
      if (frames.push(chunk, onFrame) === 'bad-frame') {
        counters.tcpBadFrames++;
        socket.destroy();
        return;
      }
      const newMessageStarted = frames.bufferedBytes > 0 && (!partialBefore || completed > completedBefore);
      if (newMessageStarted) {
        // It must be complete by its own deadline (never later than the idle one).
        const due = Date.now() + settings.tcpMessageTimeoutMs;
        if (due < deadline) {
          deadline = due;
          binding = 'message';
          arm();
        }
      }
    });
  };

  const { udp, tcp } = await bindBoth(options.address, options.port, onTcpConnection);
  udp.on('error', (err) => {
    counters.socketErrors++;
    log('dns.udp-error', { error: String(err) });
  });
  tcp.on('error', (err) => {
    counters.socketErrors++;
    log('dns.tcp-error', { error: String(err) });
  });
  udp.on('message', (msg, peer) => {
    counters.udpQueries++;
    if (peer.port === 0) {
      counters.dropped++;
      return;
    }
    handle(msg, 'udp', (reply) => {
      try {
        udp.send(reply, peer.port, peer.address, (err) => {
          if (err) counters.sendErrors++;
        });
      } catch {
        // A forwarded reply can arrive after close(); the socket then refuses synchronously.
        counters.sendErrors++;
      }
    });
  });

  const tcpAddress = tcp.address() as AddressInfo;
  return {
    counters,
    address: () => tcpAddress,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/** The address a connection limit counts against; IPv4-mapped IPv6 counts as the IPv4 address. */
function clientKey(remoteAddress: string | undefined): string | undefined {
  if (remoteAddress === undefined) return undefined;
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.')
    ? remoteAddress.slice(7)
    : remoteAddress;
}

function definedOnly(options: DnsServerOptions): Partial<typeof DEFAULTS> {
  const picked: Partial<typeof DEFAULTS> = {};
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = options[key];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) picked[key] = value;
  }
  return picked;
}

/** A copy of a reply we built, with another rcode (used when forwarding fails). */
function withRcode(message: Buffer, rcode: number): Buffer {
  const copy = Buffer.from(message);
  if (copy.length >= 4) copy[3] = ((copy[3] as number) & 0xf0) | rcode;
  return copy;
}

/**
 * Binds TCP, then UDP on the same port. With port 0 the TCP port is free but its UDP twin may not
 * be, so that case retries with a fresh port a few times.
 */
async function bindBoth(
  address: string,
  port: number,
  onConnection: (socket: Socket) => void,
): Promise<{ udp: UdpSocket; tcp: Server }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < (port === 0 ? PORT_ATTEMPTS : 1); attempt++) {
    const tcp = createTcpServer(onConnection);
    const udp = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      const bound = (tcp.address() as AddressInfo).port;
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port: bound, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp };
    } catch (err) {
      lastError = err;
      tcp.close(() => {});
      try {
        udp.close();
      } catch {
        // never bound: nothing to release
      }
    }
  }
  const code = errnoCode(lastError);
  throw new MoorError(
    'system',
    `cannot listen for DNS on ${address}:${port}: ${describeSystemError(lastError)}`,
    {
      cause: lastError,
      hint:
        code === 'EADDRNOTAVAIL'
          ? `${address} is not an address of this host: choose one it has (--dns-listen)`
          : code === 'EACCES'
            ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE'
            : 'another program listens there (a local DNS resolver?): choose another --dns-listen, or "off"',
    },
  );
}
