// One agent per state directory. Node has no flock(2), so the lock is a file created atomically
// (link(2) of a complete temporary file: it never exists half-written) that names its holder by
// PID, process start time and boot ID. A holder is alive only if a process with that PID exists
// and started at that moment in this boot, so a lock left by a killed agent, by a reboot, or
// pointing at a reused PID is recognised as stale and broken safely (under a second, short-lived
// guard file, so two agents breaking the same stale lock cannot both win). See docs/decisions.md.
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MoorError } from '../errors.ts';
import { systemError } from '../systemError.ts';

export const LOCK_FILE = 'agent.lock';
/** A guard older than this belongs to a breaker that died mid-break (it holds it microseconds). */
const GUARD_STALE_MS = 10_000;
const ATTEMPTS = 5;

export interface LockHolder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot; with bootId it names one process. */
  startTicks: string;
  bootId: string;
  command: string;
  since: string;
}

export interface StateDirLock {
  readonly path: string;
  readonly holder: LockHolder;
  release(): void;
}

export function lockPath(stateDir: string): string {
  return join(stateDir, LOCK_FILE);
}

/** Takes the lock for this process, or throws a MoorError naming the live holder. */
export function acquireStateDirLock(stateDir: string, command: string): StateDirLock {
  const path = lockPath(stateDir);
  const me = ownIdentity(command);
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (createExclusive(path, text)) {
      return {
        path,
        holder: me,
        release: () => {
          // Only our own lock: a stale-breaker may have replaced it after we were frozen for long.
          // Never throws: `moor leave` may have removed the whole directory meanwhile.
          try {
            if (readFileSync(path, 'utf8') === text) unlinkSync(path);
          } catch {
            // gone with its directory, or not ours
          }
        },
      };
    }
    const current = readText(path);
    if (current === undefined) continue; // released meanwhile
    const holder = parseHolder(current);
    if (holder && isAlive(holder)) {
      const who = holder.command || 'moor process';
      throw new MoorError(
        'locked',
        `another ${who} (pid ${holder.pid}, running since ${holder.since}) holds the state directory ${stateDir}`,
        {
          hint:
            who === 'moor agent'
              ? `only one agent may run per state directory: stop pid ${holder.pid} (\`moor leave\` does, or systemctl stop moor-agent), or give this one another --state-dir`
              : `only one ${who} may run per state directory: stop pid ${holder.pid}, or give this one another --state-dir`,
        },
      );
    }
    breakStaleLock(path, current);
  }
  throw new MoorError('system', `could not take the lock ${path}: it kept changing`, {
    hint: 'another agent is starting on this state directory at the same time; try again',
  });
}

/** The live holder of the lock, if any (for `moor leave`, which stops it). */
export function lockHolder(stateDir: string): LockHolder | undefined {
  const text = readText(lockPath(stateDir));
  const holder = text === undefined ? undefined : parseHolder(text);
  return holder && isAlive(holder) ? holder : undefined;
}

export function isAlive(holder: LockHolder): boolean {
  if (holder.bootId !== bootId()) return false;
  return startTicksOf(holder.pid) === holder.startTicks;
}

function ownIdentity(command: string): LockHolder {
  return {
    pid: process.pid,
    startTicks: startTicksOf(process.pid) ?? '',
    bootId: bootId(),
    command,
    since: new Date().toISOString(),
  };
}

/** link(2) refuses an existing target, and the file appears with its whole content. */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw systemError(err, `cannot create the lock ${path}`, { subject: path });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
  }
}

function breakStaleLock(path: string, staleText: string): void {
  const guard = `${path}.break`;
  if (!createExclusive(guard, `${process.pid}\n`)) {
    // Another process is breaking it right now; a guard left by a breaker that died expires.
    try {
      if (Date.now() - statSync(guard).mtimeMs > GUARD_STALE_MS) unlinkSync(guard);
    } catch {
      // gone already
    }
    return;
  }
  try {
    // Still the same stale lock (not one a faster agent took meanwhile)?
    if (readText(path) === staleText) unlinkSync(path);
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      // expired and removed by another breaker
    }
  }
}

/**
 * Stops the live holder of the lock (SIGTERM, then SIGKILL after `timeoutMs`) and waits until it
 * has exited. Identity is checked by start time, so a reused PID is never signalled.
 */
export async function stopLockHolder(stateDir: string, timeoutMs: number): Promise<LockHolder | undefined> {
  const holder = lockHolder(stateDir);
  if (!holder) return undefined;
  const running = () => isAlive(holder);
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(holder.pid, name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw systemError(err, `cannot stop the moor agent (pid ${holder.pid})`, {
        hint: 'run moor leave as root (the agent runs as root)',
      });
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (running()) {
    signal('SIGKILL');
    while (running()) await new Promise((r) => setTimeout(r, 20));
  }
  return holder;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw systemError(err, `cannot read the lock ${path}`, { subject: path });
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return undefined;
    if (typeof v.startTicks !== 'string' || typeof v.bootId !== 'string') return undefined;
    return {
      pid: v.pid,
      startTicks: v.startTicks,
      bootId: v.bootId,
      command: typeof v.command === 'string' ? v.command : '',
      since: typeof v.since === 'string' ? v.since : '?',
    };
  } catch {
    return undefined; // not a lock we wrote: stale
  }
}

/** Start time of a process, or undefined when there is none with that PID (or only its zombie). */
export function startTicksOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
  return fields[19]; // field 22 overall: fields after the name start at field 3
}

let cachedBootId: string | undefined;
function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = '';
    }
  }
  return cachedBootId;
}
