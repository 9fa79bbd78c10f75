// Test support: the service manager's end of $NOTIFY_SOCKET, a bound AF_UNIX datagram socket
// (through the same koffi route as sdNotify.ts), so tests read exactly the datagrams systemd would.
import { rmSync } from 'node:fs';
import { loadKoffi, sockaddrUn } from './sdNotify.ts';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const MSG_DONTWAIT = 0x40;

export class NotifyListener {
  readonly path: string;
  private readonly fd: number;
  private readonly recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
  private readonly closeFd: (fd: number) => void;

  constructor(path: string) {
    this.path = path;
    const libc = loadKoffi().load('libc.so.6');
    const socket = libc.func('int socket(int domain, int type, int protocol)');
    const bind = libc.func('int bind(int fd, const void *addr, uint32_t addrlen)');
    const recv = libc.func('intptr_t recv(int fd, void *buf, size_t len, int flags)');
    const close = libc.func('int close(int fd)');
    this.recv = (fd, buf, len, flags) => Number(recv(fd, buf, len, flags));
    this.closeFd = (fd) => void close(fd);
    rmSync(path, { force: true });
    this.fd = Number(socket(AF_UNIX, SOCK_DGRAM, 0));
    const addr = sockaddrUn(path);
    if (this.fd < 0 || Number(bind(this.fd, addr, addr.length)) !== 0) {
      throw new Error(`cannot bind a notify listener at ${path}`);
    }
  }

  /** The next datagram, or undefined after timeoutMs. */
  async next(timeoutMs: number): Promise<string | undefined> {
    const buf = Buffer.alloc(4096);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = this.recv(this.fd, buf, buf.length, MSG_DONTWAIT);
      if (n >= 0) return buf.subarray(0, n).toString();
      if (Date.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Datagrams until one contains `line` (returned with all seen), or throws after timeoutMs. */
  async waitFor(line: string, timeoutMs: number): Promise<string[]> {
    const seen: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const d = await this.next(deadline - Date.now());
      if (d === undefined) break;
      seen.push(d);
      if (d.split('\n').includes(line) || d.split('\n').some((l) => l.startsWith(line))) return seen;
    }
    throw new Error(`no "${line}" on ${this.path} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`);
  }

  close(): void {
    this.closeFd(this.fd);
    rmSync(this.path, { force: true });
  }
}
