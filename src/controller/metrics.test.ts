// The controller's exposition, read back sample by sample: values per loop and phase, the
// endpoint's answers by status, long-polls, the certificate's expiry and reload counts, leadership.
import { describe, expect, it } from 'vitest';
import { readSamples } from '../observability/metrics.ts';
import { renderControllerMetrics } from './metrics.ts';

const ha = {
  role: 'standby' as const,
  holder: 'other',
  validForMs: 0,
  leaderHeartbeatAgeMs: undefined,
  transitions: 0,
};

describe('renderControllerMetrics', () => {
  it('exposes reconcile errors per loop and phase, the endpoint and its certificate', () => {
    const text = renderControllerMetrics({
      loops: [
        { name: 'controller', counters: { runs: 5, changes: 2, errorsByPhase: { write: 3, reconcile: 1 } } },
        { name: 'egress-dns', counters: { runs: 2, changes: 0, errorsByPhase: {} } },
      ],
      egressMap: {
        requestsByCode: new Map([
          [200, 7],
          [401, 2],
        ]),
        waiters: 3,
        stale: true,
        certificate: {
          current: { serial: '01', fingerprint256: 'AA', notAfterMs: Date.UTC(2027, 0, 1) },
          reloads: 1,
          failures: 4,
          problem: 'bad',
        },
      },
      ha,
    });
    const s = readSamples(text);
    expect(Object.fromEntries(s)).toMatchObject({
      'moor_reconciles_total{loop="controller"}': 5,
      'moor_reconciles_total{loop="egress-dns"}': 2,
      'moor_reconcile_errors_total{loop="controller",phase="reconcile"}': 1,
      'moor_reconcile_errors_total{loop="controller",phase="write"}': 3,
      'moor_egress_map_requests_total{code="200"}': 7,
      'moor_egress_map_requests_total{code="401"}': 2,
      moor_egress_map_long_polls: 3,
      moor_egress_map_stale: 1,
      moor_egress_map_certificate_not_after_timestamp_seconds: Date.UTC(2027, 0, 1) / 1000,
      moor_egress_map_certificate_reloads_total: 1,
      moor_egress_map_certificate_reload_failures_total: 4,
      moor_ha_leader: 0,
    });
    // Every sample line belongs to a family with HELP and TYPE.
    const families = new Set([...text.matchAll(/^# TYPE (\S+) (counter|gauge)$/gm)].map((m) => m[1]));
    for (const key of s.keys()) expect(families).toContain(key.replace(/\{.*$/, ''));
  });

  it('without the endpoint or TLS: no endpoint families; a leader says so', () => {
    const plain = readSamples(
      renderControllerMetrics({
        loops: [{ name: 'controller', counters: { runs: 1, changes: 1, errorsByPhase: {} } }],
        egressMap: { requestsByCode: new Map(), waiters: 0, stale: false, certificate: undefined },
        ha: { ...ha, role: 'leader', holder: 'me', validForMs: 5000 },
      }),
    );
    expect(plain.get('moor_egress_map_long_polls')).toBe(0);
    expect(plain.get('moor_egress_map_stale')).toBe(0);
    expect([...plain.keys()].some((k) => k.includes('certificate'))).toBe(false);
    expect(plain.get('moor_ha_leader')).toBe(1);
    const none = readSamples(renderControllerMetrics({ loops: [], egressMap: undefined, ha }));
    expect([...none.keys()].some((k) => k.startsWith('moor_egress_map'))).toBe(false);
  });
});
