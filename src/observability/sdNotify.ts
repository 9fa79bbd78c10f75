// systemd's notify protocol (sd_notify(3)): one datagram of "KEY=value" lines to the AF_UNIX
// socket named by $NOTIFY_SOCKET. Node's dgram has no AF_UNIX, so the datagram goes out through
// libc's socket(2)/sendto(2) called with koffi (FFI, prebuilt native module, no compiler needed).
// Why not the alternatives: see docs/decisions.md ("sd_notify through koffi").
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MoorError } from '../errors.ts';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
/** sizeof(struct sockaddr_un.sun_path) on Linux. */
const SUN_PATH_MAX = 108;

/** One datagram per call; throws a MoorError when the socket refuses it. */
export interface NotifySocket {
  send(message: string): void;
  close(): void;
}

/** The part of koffi's native module used here (loaded with process.dlopen, see loadKoffi). */
export type KoffiFunction = (...args: unknown[]) => number | bigint;
export interface KoffiNative {
  load(path: string): { func(definition: string): KoffiFunction };
  errno(): number;
}

/**
 * Where koffi.node is: beside the single executable (dist/), in /usr/lib/moor when installed
 * from a package (the binary is /usr/bin/moor), else in node_modules (sources, dist/moor.mjs).
 */
export function koffiCandidates(execPath = process.execPath, argv1 = process.argv[1]): string[] {
  const dir = dirname(execPath);
  const candidates = [join(dir, 'koffi.node'), join(dir, '..', 'lib', 'moor', 'koffi.node')];
  for (const from of [argv1 ?? execPath, join(process.cwd(), 'package.json')]) {
    try {
      candidates.push(createRequire(from).resolve('@koromix/koffi-linux-x64/linux_x64/koffi.node'));
      break;
    } catch {
      // not running from a checkout
    }
  }
  return candidates;
}

let koffi: KoffiNative | undefined;

export function loadKoffi(): KoffiNative {
  if (koffi) return koffi;
  const candidates = koffiCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new MoorError('not-found', `koffi.node (for systemd notifications) is missing`, {
      hint: `reinstall the package; looked in ${candidates.join(', ')}`,
    });
  }
  const module = { exports: {} as KoffiNative };
  process.dlopen(module, path);
  koffi = module.exports;
  return koffi;
}

/** struct sockaddr_un for a path, or for an abstract name written "@name". */
export function sockaddrUn(socketPath: string): Buffer {
  const abstract = socketPath.startsWith('@');
  const name = Buffer.from(abstract ? socketPath.slice(1) : socketPath);
  if (name.length === 0 || name.length >= SUN_PATH_MAX) {
    throw new MoorError('invalid-argument', `NOTIFY_SOCKET "${socketPath}" is not a usable socket name`, {
      hint: 'it must be an absolute path or an @abstract name shorter than 108 bytes',
    });
  }
  // Paths carry their terminating NUL; abstract names are exactly as long as the name.
  const addr = Buffer.alloc(2 + (abstract ? 1 : 0) + name.length + (abstract ? 0 : 1));
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, abstract ? 3 : 2);
  return addr;
}

export function openNotifySocket(socketPath: string): NotifySocket {
  if (!socketPath.startsWith('/') && !socketPath.startsWith('@')) {
    throw new MoorError('invalid-argument', `NOTIFY_SOCKET "${socketPath}" is not supported`, {
      hint: 'moor speaks the AF_UNIX form only (a path or an @abstract name)',
    });
  }
  const addr = sockaddrUn(socketPath);
  const k = loadKoffi();
  const libc = k.load('libc.so.6');
  const socket = libc.func('int socket(int domain, int type, int protocol)');
  const sendto = libc.func(
    'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)',
  );
  const close = libc.func('int close(int fd)');
  const fd = Number(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd < 0) {
    throw new MoorError('system', `cannot create a unix datagram socket (errno ${k.errno()})`);
  }
  let open = true;
  return {
    send(message: string) {
      if (!open) return;
      const buf = Buffer.from(message);
      const sent = Number(sendto(fd, buf, buf.length, MSG_NOSIGNAL, addr, addr.length));
      if (sent !== buf.length) {
        throw new MoorError('system', `systemd notification to ${socketPath} failed (errno ${k.errno()})`, {
          hint: 'is the service manager still listening on $NOTIFY_SOCKET?',
        });
      }
    },
    close() {
      if (open) close(fd);
      open = false;
    },
  };
}

/** How often systemd wants WATCHDOG=1 (half of WatchdogSec), or undefined when it does not. */
export function watchdogIntervalMs(
  env: NodeJS.ProcessEnv = process.env,
  pid = process.pid,
): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}
