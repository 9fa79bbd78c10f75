import { describe, expect, it } from 'vitest';
import { renderMetrics } from './metrics.ts';
import { parseListenAddress } from './metricsServer.ts';

const status = {
  version: 1,
  updatedAt: '2026-11-23T00:00:00.000Z',
  pid: 1,
  clusterId: 'vm1',
  addresses: ['100.70.0.1'],
  interface: { name: 'moor0', driver: 'wireguard-go', publicKey: 'k', listenPort: 4500, mtu: 1420 },
  broker: { server: 'https://b', namespace: 'ns', synced: true, lastError: null },
  registration: { published: true, endpointName: 'vm1-x', lastError: null },
  connections: [
    {
      clusterId: 'east',
      endpointName: 'e',
      cableName: 'c',
      endpoint: '10.0.0.1:4500',
      subnets: ['10.10.0.0/16'],
      publicKey: 'p',
      status: 'connected',
      statusMessage: '',
      lastHandshake: null,
      rxBytes: 10,
      txBytes: 20,
      healthCheckIP: '10.10.0.1',
      rtt: { lastMs: 1.5, minMs: 1, avgMs: 1.2, maxMs: 2, stdDevMs: 0.1 },
      lostPings: 0,
      since: 0,
    },
  ],
  rejected: [
    { clusterId: 'evil', endpointName: 'a', reason: 'x', code: 'overlaps-member' },
    { clusterId: 'evil', endpointName: 'b', reason: 'y', code: 'overlaps-member' },
    { clusterId: 'junk', endpointName: 'c', reason: 'z', code: 'malformed' },
  ],
  applyErrors: [],
  counters: { reconciles: 7, applyErrors: 1, rejectedEndpoints: 3 },
};

describe('renderMetrics', () => {
  it('exposes connections, rejections and counters in Prometheus text format', () => {
    const text = renderMetrics(status);
    expect(text).toContain('moor_connection_status{cluster_id="east",status="connected"} 1');
    expect(text).toContain('moor_connection_status{cluster_id="east",status="error"} 0');
    expect(text).toContain('moor_connection_rtt_seconds{cluster_id="east"} 0.0015');
    expect(text).toContain('moor_rejected_endpoints{reason="overlaps-member"} 2');
    expect(text).toContain('moor_rejected_endpoints{reason="malformed"} 1');
    expect(text).toContain('moor_rejected_endpoints_total 3');
    expect(text).toContain('moor_reconciles_total 7');
    expect(text).toContain('moor_broker_synced 1');
    expect(text).toContain('# TYPE moor_apply_errors_total counter');
  });

  it('counts reconcile errors by phase, in a stable order', () => {
    const text = renderMetrics({
      ...status,
      counters: { ...status.counters, errorsByPhase: { route: 2, dns: 1 } },
    });
    expect(text).toContain('# TYPE moor_reconcile_errors_total counter');
    const lines = text.split('\n').filter((l) => l.startsWith('moor_reconcile_errors_total'));
    expect(lines).toEqual([
      'moor_reconcile_errors_total{phase="dns"} 1',
      'moor_reconcile_errors_total{phase="route"} 2',
    ]);
  });

  it('escapes label values', () => {
    const text = renderMetrics({
      ...status,
      connections: [{ ...status.connections[0]!, clusterId: 'a"b\\c' }],
    });
    expect(text).toContain('cluster_id="a\\"b\\\\c"');
  });
});

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9476', { host: '127.0.0.1', port: 9476 }],
    ['[::1]:80', { host: '::1', port: 80 }],
  ])('%s', (text, want) => expect(parseListenAddress(text)).toEqual(want));
  it.each(['9476', '127.0.0.1:99999', 'x:y'])('rejects %s', (text) =>
    expect(() => parseListenAddress(text)).toThrow(/HOST:PORT/),
  );
});
