import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireStateDirLock, isAlive, lockHolder, lockPath, startTicksOf } from './lock.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'moor-lock-'));
  dirs.push(d);
  return d;
}

/** The PID of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('state directory lock', () => {
  it('is exclusive and names its live holder', () => {
    const d = dir();
    const lock = acquireStateDirLock(d, 'moor agent');
    expect(lockHolder(d)?.pid).toBe(process.pid);
    expect(() => acquireStateDirLock(d, 'moor agent')).toThrow(
      new RegExp(`another moor agent \\(pid ${process.pid}, running since .*\\) holds the state directory`),
    );
    lock.release();
    expect(existsSync(lockPath(d))).toBe(false);
    acquireStateDirLock(d, 'moor agent').release();
  });

  it('breaks a lock whose holder is dead, from another boot, or not a lock at all', () => {
    const ticks = startTicksOf(process.pid) ?? '';
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stale = [
      { pid: deadPid(), startTicks: ticks, bootId: boot, command: 'x', since: 'then' },
      { pid: process.pid, startTicks: ticks, bootId: 'another-boot', command: 'x', since: 'then' },
      // Our PID, but another start time: the PID was reused by an unrelated process.
      { pid: process.pid, startTicks: '1', bootId: boot, command: 'x', since: 'then' },
    ].map((h) => JSON.stringify(h));
    for (const text of [...stale, 'garbage', '']) {
      const d = dir();
      writeFileSync(lockPath(d), text);
      expect(lockHolder(d)).toBeUndefined();
      const lock = acquireStateDirLock(d, 'moor agent');
      expect(lock.holder.pid).toBe(process.pid);
      expect(isAlive(lock.holder)).toBe(true);
      lock.release();
    }
  });

  it('release leaves a lock that is not ours alone', () => {
    const d = dir();
    const lock = acquireStateDirLock(d, 'moor agent');
    writeFileSync(lockPath(d), 'someone else');
    lock.release();
    expect(readFileSync(lockPath(d), 'utf8')).toBe('someone else');
  });
});
