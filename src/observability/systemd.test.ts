import { describe, expect, it } from 'vitest';
import type { NotifySocket } from './sdNotify.ts';
import { type ReadinessInput, readiness, SystemdReporter } from './systemd.ts';

const up: ReadinessInput = {
  interface: { name: 'moor0' },
  broker: { synced: true, lastError: null, serving: 'broker' },
  connections: [{ status: 'connected' }, { status: 'connecting' }],
  applyErrors: [],
  dns: { listen: '242.0.0.1:53' },
};

function recorder(): NotifySocket & { sent: string[] } {
  const sent: string[] = [];
  return { sent, send: (m) => void sent.push(m), close() {} };
}

describe('readiness', () => {
  it('is ready once the agent is, and counts connections', () => {
    expect(readiness(up, true, true)).toEqual({
      ready: true,
      status: '1/2 connections up on moor0; DNS on 242.0.0.1:53',
    });
    expect(readiness(up, false, true).status).toBe('1/2 connections up on moor0');
  });

  it('is not ready while the DNS listener is not bound, even when the agent says it is', () => {
    const noDns = {
      ...up,
      dns: { listen: '' },
      applyErrors: ['dns: cannot listen on 242.0.0.1:53 (EADDRINUSE)'],
    };
    expect(readiness(noDns, true, true)).toEqual({
      ready: false,
      status: 'waiting for the clusterset DNS listener: dns: cannot listen on 242.0.0.1:53 (EADDRINUSE)',
    });
    expect(readiness(noDns, false, true).ready).toBe(true);
  });

  it('is not ready before the agent is, and says what it waits for', () => {
    expect(readiness(undefined, true, false)).toEqual({ ready: false, status: 'starting' });
    const down = {
      ...up,
      broker: { synced: false, lastError: 'connect ECONNREFUSED', serving: 'none' as const },
    };
    expect(readiness(down, true, false)).toEqual({
      ready: false,
      status: 'waiting for the broker: connect ECONNREFUSED',
    });
    expect(readiness({ ...up, applyErrors: ['route: RTNETLINK answers: File exists'] }, true, false)).toEqual(
      {
        ready: false,
        status: 'setting up moor0: route: RTNETLINK answers: File exists',
      },
    );
  });

  it('shows a broker outage served from the snapshot, and apply errors, without dropping readiness', () => {
    const outage = { ...up, broker: { synced: false, lastError: 'timeout', serving: 'snapshot' as const } };
    expect(readiness({ ...outage, applyErrors: ['export: web: denied'] }, true, true)).toEqual({
      ready: true,
      status:
        '1/2 connections up on moor0; DNS on 242.0.0.1:53; broker unreachable, serving the last snapshot; 1 apply error(s)',
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
    r.update({ ...up, broker: { synced: false, lastError: null, serving: 'none' } }, false);
    r.update(up, true);
    r.update(up, true);
    r.update({ ...up, connections: [{ status: 'connected' }, { status: 'connected' }] }, true);
    expect(socket.sent).toEqual([
      'STATUS=starting\n',
      'STATUS=waiting for the broker\n',
      'READY=1\nSTATUS=1/2 connections up on moor0; DNS on 242.0.0.1:53\n',
      'STATUS=2/2 connections up on moor0; DNS on 242.0.0.1:53\n',
    ]);
    expect(r.ready).toBe(true);
  });

  it('withholds WATCHDOG=1 once reconciles stop completing, and resumes when they do', () => {
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
    r.reconciled();
    now = 4000;
    r.watchdog();
    now = 6000; // 6 s without a completed reconcile
    r.watchdog();
    r.watchdog();
    now = 7000;
    r.reconciled();
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
    r.update(up, true);
    r.watchdog();
    expect(r.ready).toBe(false);
    expect(logs).toEqual(['systemd: systemd notification to /run/x failed (errno 111)']);
  });
});
