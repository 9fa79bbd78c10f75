// UDP + TCP DNS listener on one address and port. The server only moves bytes: answers come from
// the answerer, which never throws; should it ever do so anyway, the query is counted and dropped.
// Nothing a client sends can crash or stall the process: every socket has an error listener, TCP
// connections are capped in number, idle time, buffered input (one frame) and queued output.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import {
  type AddressInfo,
  createServer as createTcpServer,
  isIPv6,
  type Server,
  type Socket,
} from 'node:net';
import { MoorError } from '../errors.ts';
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
  readonly tcpIdleTimeoutMs?: number;
  readonly tcpMaxConnections?: number;
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
  tcpIdleTimeouts: number;
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
    tcpIdleTimeouts: 0,
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
  tcpMaxConnections: 256,
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

  const onTcpConnection = (socket: Socket): void => {
    socket.on('error', () => counters.socketErrors++);
    if (connections.size >= settings.tcpMaxConnections) {
      counters.tcpRejected++;
      socket.destroy();
      return;
    }
    counters.tcpAccepted++;
    connections.add(socket);
    counters.tcpActive = connections.size;
    socket.on('close', () => {
      connections.delete(socket);
      counters.tcpActive = connections.size;
    });
    socket.setNoDelay(true);
    socket.setTimeout(settings.tcpIdleTimeoutMs, () => {
      counters.tcpIdleTimeouts++;
      socket.destroy();
    });
    const send = (reply: Buffer) => {
      if (socket.destroyed) return;
      socket.write(frameMessage(reply));
      if (socket.writableLength > settings.tcpMaxQueuedBytes) {
        counters.tcpSlowReaders++;
        socket.destroy();
      }
    };
    const frames = new FrameReader();
    const onFrame = (frame: Buffer): boolean => {
      counters.tcpQueries++;
      handle(frame, 'tcp', send);
      return !socket.destroyed;
    };
    socket.on('data', (chunk: Buffer) => {
      if (frames.push(chunk, onFrame) === 'bad-frame') {
        counters.tcpBadFrames++;
        socket.destroy();
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
  throw new MoorError('system', `cannot listen for DNS on ${address}:${port}: ${String(lastError)}`, {
    cause: lastError,
    hint: 'pick a free port, or run with CAP_NET_BIND_SERVICE for port 53',
  });
}
