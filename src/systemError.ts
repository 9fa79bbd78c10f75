// Operating-system errors (errno codes from files and sockets) turned into MoorErrors at the
// edge where the file or socket is opened: one line naming what failed, on which path or address,
// why in words, and what to do. Nothing below the edges should ever surface a raw errno error.
import { MoorError } from './errors.ts';

const WHY: Record<string, string> = {
  ENOENT: 'it does not exist',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the directory is not empty',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on this system',
  EIO: 'input/output error',
  EBUSY: 'the resource is busy',
  ENXIO: 'no such device',
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'the address is not one of this host',
  EINVAL: 'invalid argument',
};

const DEFAULT_FIX: Record<string, (subject: string) => string> = {
  ENOENT: (s) => `check the path ${s}`,
  EACCES: (s) => `run moor as root, or make ${s} accessible to this user`,
  EPERM: (s) => `run moor as root, or make ${s} accessible to this user`,
  EISDIR: (s) => `${s} is a directory: give the path of a file`,
  ENOTDIR: (s) => `a parent of ${s} is a file: give another path`,
  EEXIST: (s) => `remove ${s} or give another path`,
  EROFS: () => 'give a path on a writable file system',
  ENOSPC: () => 'free some disk space and try again',
  EDQUOT: () => 'free some disk space and try again',
  ELOOP: (s) => `fix the symbolic links in ${s}`,
  ENAMETOOLONG: () => 'give a shorter path',
  EMFILE: () => 'raise the open-file limit (ulimit -n) or stop other programs',
  ENFILE: () => 'raise the open-file limit (ulimit -n) or stop other programs',
  EADDRINUSE: (s) => `another program listens on ${s}: stop it, or choose another address`,
  EADDRNOTAVAIL: (s) => `${s} is not an address of this host: choose one it has`,
};

/** The errno code of an error from node:fs, node:net or node:dgram, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** Words for an errno code ("permission denied (EACCES)"); the raw message for other errors. */
export function describeSystemError(err: unknown): string {
  const code = errnoCode(err);
  if (code !== undefined) return `${WHY[code] ?? code.toLowerCase()} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * `what` says what was attempted and on what ("cannot read broker-info file /x"); `subject` is the
 * path or address the default fix names. A MoorError passes through unchanged.
 */
export function systemError(
  err: unknown,
  what: string,
  options: { subject?: string; hint?: string } = {},
): MoorError {
  if (err instanceof MoorError) return err;
  const code = errnoCode(err);
  const fix = code === undefined ? undefined : DEFAULT_FIX[code];
  const hint = options.hint ?? (fix ? fix(options.subject ?? 'it') : undefined);
  return new MoorError('system', `${what}: ${describeSystemError(err)}`, {
    cause: err,
    ...(hint ? { hint } : {}),
  });
}
