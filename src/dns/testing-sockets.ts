// Real-socket DNS clients for the server tests: UDP exchanges and a TCP client that collects
// framed replies, optionally from another loopback source address (127.0.0.0/8 is all local).
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { FrameReader } from './tcp-framing.ts';

/** Sends datagrams and resolves with the first reply, or null after `timeoutMs`. */
export function udpExchange(port: number, packets: Buffer[], timeoutMs = 2000): Promise<Buffer | null> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(null), timeoutMs);
    const finish = (reply: Buffer | null) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    socket.on('message', (msg) => finish(msg));
    for (const packet of packets) socket.send(packet, port, '127.0.0.1');
  });
}

/** A DNS-over-TCP client that collects decoded replies. */
export function tcpClient(
  port: number,
  options: { host?: string; localAddress?: string } = {},
): {
  socket: Socket;
  replies: Buffer[];
  closed: Promise<void>;
  waitFor(n: number): Promise<Buffer[]>;
} {
  const socket = connect({
    port,
    host: options.host ?? '127.0.0.1',
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const replies: Buffer[] = [];
  const frames = new FrameReader();
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk) => {
    frames.push(chunk, (frame) => {
      replies.push(Buffer.from(frame));
      for (const w of waiters) w();
      return true;
    });
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const waitFor = (n: number) =>
    new Promise<Buffer[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${replies.length} of ${n} replies`)), 5000);
      const check = () => {
        if (replies.length >= n) {
          clearTimeout(timer);
          resolve(replies);
        }
      };
      waiters.push(check);
      check();
    });
  return { socket, replies, closed, waitFor };
}
