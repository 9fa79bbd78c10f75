// Making sure the state directory can hold state before anything else happens (join checks it
// before it touches the broker). Node's mkdirSync({recursive: true}) loops forever on /proc
// (the kernel answers ENOENT for every mkdir there), so the directory is created one component
// at a time, a bounded walk; kernel pseudo file systems are refused with a clear message.
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MoorError } from '../errors.ts';
import { systemError } from '../systemError.ts';

/** statfs f_type of file systems that cannot hold files (Linux magic numbers, <linux/magic.h>). */
const PSEUDO_FILE_SYSTEMS: Record<number, string> = {
  40864: 'proc',
  1650812274: 'sysfs',
  2613483: 'cgroup',
  1667723888: 'cgroup2',
  7377: 'devpts',
  1684170528: 'debugfs',
  1953653091: 'tracefs',
  1935894131: 'securityfs',
  3405662737: 'bpf',
  1650812272: 'configfs',
  1634035564: 'pstore',
  1112100429: 'binfmt_misc',
  3730735588: 'efivarfs',
};

const FIX_PATH = 'pass a --state-dir on a writable disk, such as the default /var/lib/moor';

function badDir(dir: string, problem: string, hint = FIX_PATH): MoorError {
  return new MoorError('invalid-argument', `state directory ${dir}: ${problem}`, { hint });
}

export interface PreparedStateDir {
  /** The directory, absolute. */
  dir: string;
  /** The topmost directory this call created (remove it to undo), or undefined if it existed. */
  created: string | undefined;
}

/**
 * Creates `dir` (0700) if needed. With `probe`, also proves a file can be written there.
 * Throws a MoorError naming the path and the fix; never a raw errno error, never loops.
 */
export function prepareStateDir(dir: string, options: { probe?: boolean } = {}): PreparedStateDir {
  if (dir.length > 1024) throw badDir(`${dir.slice(0, 64)}…`, 'the path is longer than 1024 characters');
  const absolute = resolve(dir);
  const missing: string[] = [];
  let existing = absolute;
  // Walk up to the nearest existing ancestor; every step shortens the path, so this ends at "/".
  for (;;) {
    try {
      if (!statSync(existing).isDirectory()) {
        throw badDir(
          absolute,
          existing === absolute ? 'it is a file, not a directory' : `${existing} is a file, not a directory`,
          `pass a --state-dir that is a directory, or move ${existing} away`,
        );
      }
      break;
    } catch (err) {
      if (err instanceof MoorError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a component above is a file; walking up finds it and names it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        throw systemError(err, `cannot use state directory ${absolute}`, { subject: existing });
      const parent = dirname(existing);
      if (parent === existing) throw badDir(absolute, 'no part of the path exists');
      missing.unshift(existing);
      existing = parent;
    }
  }
  const fsType = fileSystemType(existing);
  if (fsType !== undefined) {
    throw badDir(absolute, `${existing} is on ${fsType}, a kernel pseudo file system that cannot hold files`);
  }
  for (const path of missing) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Created meanwhile by someone else: fine if it is a directory.
      if (code !== 'EEXIST' || !isDirectory(path)) {
        if (missing[0] !== undefined && path !== missing[0])
          rmSync(missing[0], { recursive: true, force: true });
        throw systemError(err, `cannot create state directory ${path}`, { subject: dirname(path) });
      }
    }
  }
  const created = missing[0];
  if (created === undefined && options.probe) refuseForeignDirectory(absolute);
  try {
    chmodSync(absolute, 0o700);
    if (options.probe) {
      const probe = join(absolute, `.probe-${process.pid}`);
      writeFileSync(probe, '', { mode: 0o600, flag: 'wx' });
      unlinkSync(probe);
    }
  } catch (err) {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw systemError(err, `cannot write to state directory ${absolute}`, { subject: absolute });
  }
  return { dir: absolute, created };
}

/**
 * Join makes the directory 0700 and `moor leave` deletes it: an existing directory must be empty
 * or already private (0700, as moor leaves it), never /, /tmp, /var/lib or someone's home.
 */
function refuseForeignDirectory(dir: string): void {
  let entries: string[];
  let mode: number;
  try {
    entries = readdirSync(dir);
    mode = statSync(dir).mode;
  } catch (err) {
    throw systemError(err, `cannot read state directory ${dir}`, { subject: dir });
  }
  if (entries.length > 0 && (mode & 0o077) !== 0) {
    throw badDir(
      dir,
      `it is not empty and not private (mode ${(mode & 0o777).toString(8)}): it is not a moor state directory`,
      'give a directory of its own (it need not exist), such as the default /var/lib/moor',
    );
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function fileSystemType(path: string): string | undefined {
  try {
    return PSEUDO_FILE_SYSTEMS[statfsSync(path).type];
  } catch {
    return undefined; // statfs unsupported: mkdir below still fails cleanly
  }
}
