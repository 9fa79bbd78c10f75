import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NotifyListener } from './notify-listener.ts';
import { openNotifySocket, sockaddrUn, watchdogIntervalMs } from './sdNotify.ts';

describe('sd_notify datagrams', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('delivers one datagram per message to a bound AF_UNIX socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moor-notify-'));
    dirs.push(dir);
    const listener = new NotifyListener(join(dir, 'notify'));
    try {
      const s = openNotifySocket(listener.path);
      s.send('READY=1\nSTATUS=2/2 connections up');
      s.send('WATCHDOG=1');
      s.close();
      expect(await listener.next(2000)).toBe('READY=1\nSTATUS=2/2 connections up');
      expect(await listener.next(2000)).toBe('WATCHDOG=1');
    } finally {
      listener.close();
    }
  });

  it('says which socket refused a datagram when nobody listens', () => {
    const s = openNotifySocket('/nonexistent/moor-notify');
    expect(() => s.send('READY=1')).toThrow(/notification to \/nonexistent\/moor-notify failed/);
    s.close();
  });

  it('encodes paths with their NUL and abstract names without', () => {
    expect([...sockaddrUn('/run/n')]).toEqual([1, 0, ...Buffer.from('/run/n'), 0]);
    expect([...sockaddrUn('@ab')]).toEqual([1, 0, 0, ...Buffer.from('ab')]);
    expect(() => sockaddrUn(`/${'x'.repeat(200)}`)).toThrow(/is not a usable socket name/);
    expect(() => openNotifySocket('vsock:2:1')).toThrow(/is not supported/);
  });

  it('pings at half of WatchdogSec, only in the process systemd watches', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 7)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 7)).toBe(15_000);
    expect(watchdogIntervalMs({}, 7)).toBeUndefined();
  });
});
