import { describe, expect, it } from 'vitest';
import type { NotifySocket } from './sdNotify.ts';
import { type ReadinessInput, readiness, SystemdReporter } from './systemd.ts';

const up: ReadinessInput = {
  interface: { name: 'moor0' },
  broker: { synced: true, lastError: null },
  connections: [{ status: 'connected' }, { status: 'connecting' }],
  applyErrors: [],
  counters: { reconciles: 3 },
  dns: { listen: '242.0.0.1:53', ready: true },
};

function recorder(): NotifySocket & { sent: string[] } {
  const sent: string[] = [];
  return { sent, send: (m) => void sent.push(m), close() {} };
}

describe('readiness', () => {
  it('is ready with the tunnel, its routes and the DNS listener up, and counts connections', () => {
    expect(readiness(up, true)).toEqual({
      ready: true,
      status: '1/2 connections up on moor0; DNS on 242.0.0.1:53',
    });
  });

  it('waits for the broker, the first whole reconcile, routes and the DNS listener', () => {
    expect(readiness(undefined, true).ready).toBe(false);
    const unsynced = { ...up, broker: { synced: false, lastError: 'connect ECONNREFUSED' } };
    expect(readiness(unsynced, true)).toEqual({
      ready: false,
      status: 'waiting for the broker: connect ECONNREFUSED',
    });
    expect(readiness(up, true, false).ready).toBe(false);
    expect(readiness({ ...up, applyErrors: ['route: RTNETLINK answers: File exists'] }, true).status).toBe(
      'tunnel moor0 not ready: route: RTNETLINK answers: File exists',
    );
    const noDns = { ...up, dns: { listen: '', ready: false } };
    expect(readiness(noDns, true).ready).toBe(false);
    expect(readiness(noDns, false).ready).toBe(true);
  });

  it('does not hold readiness back for an export or resolver problem, but shows it', () => {
    expect(readiness({ ...up, applyErrors: ['export: web: denied'] }, true)).toEqual({
      ready: true,
      status: '1/2 connections up on moor0; DNS on 242.0.0.1:53; 1 apply error(s)',
    });
  });
});

describe('SystemdReporter', () => {
  it('sends READY=1 once, STATUS only on change', () => {
    const socket = recorder();
    const r = new SystemdReporter({
      socket,
      dnsEnabled: true,
      watchdogMs: 1000,
      maxSilenceMs: 5000,
      log() {},
    });
    r.update(undefined, false);
    r.update(up, false);
    r.update(up, true);
    r.update(up, true);
    r.update({ ...up, connections: [{ status: 'connected' }, { status: 'connected' }] }, true);
    expect(socket.sent).toEqual([
      'STATUS=starting: no reconcile yet\n',
      'STATUS=waiting for the broker\n',
      'READY=1\nSTATUS=1/2 connections up on moor0; DNS on 242.0.0.1:53\n',
      'STATUS=2/2 connections up on moor0; DNS on 242.0.0.1:53\n',
    ]);
    expect(r.ready).toBe(true);
  });

  it('withholds WATCHDOG=1 once reconciles stop starting, and resumes when they do', () => {
    const socket = recorder();
    let now = 0;
    const logs: string[] = [];
    const r = new SystemdReporter({
      socket,
      dnsEnabled: false,
      watchdogMs: 1000,
      maxSilenceMs: 5000,
      now: () => now,
      log: (l) => logs.push(l),
    });
    r.update(up);
    socket.sent.length = 0;
    now = 4000;
    r.watchdog();
    now = 6000;
    r.update(up); // same reconcile count: no progress
    r.watchdog();
    r.watchdog();
    now = 7000;
    r.update({ ...up, counters: { reconciles: 4 } });
    r.watchdog();
    expect(socket.sent).toEqual(['WATCHDOG=1\n', 'WATCHDOG=1\n']);
    expect(logs.filter((l) => l.includes('withholding'))).toHaveLength(1);
  });

  it('survives a vanished socket and says so once', () => {
    const logs: string[] = [];
    const socket: NotifySocket = {
      send() {
        throw new Error('systemd notification to /run/x failed (errno 111)');
      },
      close() {},
    };
    const r = new SystemdReporter({
      socket,
      dnsEnabled: false,
      watchdogMs: 1,
      maxSilenceMs: 5,
      log: (l) => logs.push(l),
    });
    r.update(up);
    r.watchdog();
    expect(r.ready).toBe(false);
    expect(logs).toEqual(['systemd: systemd notification to /run/x failed (errno 111)']);
  });
});
