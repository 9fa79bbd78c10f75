// The connection status and DNS follow one rule: a member is connected, and answered by DNS,
// until its health check has lost MAX_LOST_PINGS pings in a row.
import { describe, expect, it } from 'vitest';
import { HealthTracker } from '../health/healthTracker.ts';
import type { Member } from '../plan/members.ts';
import { connectionStatus, MAX_LOST_PINGS, type PeerObservation, usableForDns } from './connectionStatus.ts';

const NOW = Date.parse('2026-12-01T08:00:00Z');
const member: Member = {
  clusterId: 'east',
  endpointName: 'east-submariner-cable-east-10-99-10-2',
  cableName: 'submariner-cable-east-10-99-10-2',
  publicKey: Buffer.alloc(32, 1).toString('base64'),
  endpoint: { host: '10.99.10.2', port: 4500 },
  allowedIPs: ['10.10.0.0/16'],
  healthCheckIP: '10.10.2.1',
  backend: 'wireguard',
};
const peer = (handshakeAgoS: number | null): PeerObservation => ({
  latestHandshake: handshakeAgoS === null ? null : new Date(NOW - handshakeAgoS * 1000),
  rxBytes: 100,
  txBytes: 200,
  endpoint: '10.99.10.2:4500',
});

/** The health of a target after one reply and then `lost` lost pings. */
function afterLosses(lost: number) {
  const tracker = new HealthTracker();
  tracker.setTargets(['10.10.2.1']);
  tracker.record({ target: '10.10.2.1', seq: 0, ok: true, rttMs: 0.4 }, NOW);
  for (let i = 1; i <= lost; i += 1) tracker.record({ target: '10.10.2.1', seq: i, ok: false }, NOW);
  return tracker.get('10.10.2.1');
}

describe('connectionStatus', () => {
  it.each([
    ['no peer yet', undefined, 0, 'connecting', 'peer not programmed yet'],
    ['no handshake yet', peer(null), 0, 'connecting', 'waiting for the first handshake'],
    ['a stale handshake', peer(131), 0, 'error', 'no handshake for 131 s'],
    ['healthy', peer(5), 0, 'connected', 'Rx=100 Bytes, Tx=200 Bytes'],
    ['one ping lost', peer(5), 1, 'connected', 'Rx=100 Bytes, Tx=200 Bytes'],
    ['two pings lost', peer(5), MAX_LOST_PINGS - 1, 'connected', 'Rx=100 Bytes, Tx=200 Bytes'],
    [
      'three pings lost',
      peer(5),
      MAX_LOST_PINGS,
      'error',
      'health check: 3 pings to 10.10.2.1 lost in a row',
    ],
    [
      'six pings lost (Submariner: failed)',
      peer(5),
      6,
      'error',
      'health check: 6 pings to 10.10.2.1 lost in a row',
    ],
  ] as const)('%s → %s', (_case, observed, lost, status, message) => {
    const c = connectionStatus(member, observed, afterLosses(lost), NOW);
    expect(c).toMatchObject({ status, statusMessage: message, lostPings: lost });
  });

  it('never says connected while DNS has dropped the member, nor the other way round', () => {
    for (let lost = 0; lost <= 8; lost += 1) {
      const c = connectionStatus(member, peer(5), afterLosses(lost), NOW);
      expect(usableForDns(c)).toBe(c.status === 'connected');
      expect(usableForDns(c)).toBe(lost < MAX_LOST_PINGS);
    }
  });

  it('recovers on the first reply', () => {
    const tracker = new HealthTracker();
    tracker.setTargets(['10.10.2.1']);
    for (let i = 0; i < 5; i += 1) tracker.record({ target: '10.10.2.1', seq: i, ok: false }, NOW);
    expect(connectionStatus(member, peer(5), tracker.get('10.10.2.1'), NOW).status).toBe('error');
    tracker.record({ target: '10.10.2.1', seq: 5, ok: true, rttMs: 0.3 }, NOW);
    expect(connectionStatus(member, peer(5), tracker.get('10.10.2.1'), NOW).status).toBe('connected');
  });
});
