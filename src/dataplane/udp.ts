// A UDP socket as a port: datagrams out to a fixed list of destinations (unicast peers or a
// LAN broadcast address), datagrams in from anyone. Used for HA heartbeats; authentication is
// the caller's job (src/ha/heartbeatChannel.ts).
import { createSocket, type Socket } from 'node:dgram';
import { MoorError } from '../errors.ts';

export interface DatagramPort {
  /** Best effort: a send error (no route, buffer full) is counted, never thrown. */
  send(payload: Buffer): void;
  onDatagram(cb: (payload: Buffer, from: string) => void): void;
  close(): Promise<void>;
}

export interface UdpOptions {
  /** Local address to bind (default all). */
  bindAddress?: string;
  port: number;
  destinations: string[];
  log: (line: string) => void;
}

export class UdpDatagrams implements DatagramPort {
  sendErrors = 0;
  private pending = 0;
  private drained: Array<() => void> = [];
  private readonly listeners: Array<(payload: Buffer, from: string) => void> = [];
  private readonly socket: Socket;
  private readonly o: UdpOptions;
  private constructor(socket: Socket, o: UdpOptions) {
    this.socket = socket;
    this.o = o;
    socket.on('message', (msg, rinfo) => {
      for (const l of this.listeners) l(msg, rinfo.address);
    });
    socket.on('error', (err) => o.log(`heartbeat socket: ${err.message}`));
  }

  static open(o: UdpOptions): Promise<UdpDatagrams> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    return new Promise((resolve, reject) => {
      socket.once('error', (err) =>
        reject(
          new MoorError('system', `cannot bind the heartbeat port ${o.port}/udp: ${err.message}`, {
            hint: 'another process uses the port: pick another with --ha-port on every member of the group',
          }),
        ),
      );
      socket.bind(o.port, o.bindAddress, () => {
        socket.removeAllListeners('error');
        socket.setBroadcast(true);
        socket.unref();
        resolve(new UdpDatagrams(socket, o));
      });
    });
  }

  send(payload: Buffer): void {
    for (const to of this.o.destinations) {
      this.pending += 1;
      this.socket.send(payload, this.o.port, to, (err) => {
        this.pending -= 1;
        if (this.pending === 0) for (const d of this.drained.splice(0)) d();
        if (err) {
          this.sendErrors += 1;
          if (this.sendErrors === 1)
            this.o.log(`heartbeat to ${to}: ${err.message} (further errors counted)`);
        }
      });
    }
  }

  onDatagram(cb: (payload: Buffer, from: string) => void): void {
    this.listeners.push(cb);
  }

  /** Closes after the datagrams already handed to send() are out (at most 200 ms). */
  async close(): Promise<void> {
    if (this.pending > 0)
      await new Promise<void>((resolve) => {
        this.drained.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
