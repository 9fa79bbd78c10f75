// Prometheus families of `moor controller --metrics-address` (docs/egress-acl.md, "Certificate
// reload and metrics"). A pure function of what the replica's parts report, so a unit test checks
// the values; every replica exposes them, a standby too (its leader gauge is 0, its leader-only
// loops have not run).
import type { HaStatus } from '../ha/member.ts';
import { renderHaMetrics } from '../ha/metrics.ts';
import { type Family, renderFamilies, type Sample } from '../observability/metrics.ts';
import type { ReconcileCounters } from '../reconcile/loop.ts';
import type { EgressMapEndpointStats } from './egress-map-endpoint.ts';

export interface ControllerMetricsSource {
  /** Every reconcile loop of the replica, by its name (controller, egress-dns, clusterset-publisher). */
  loops: ReadonlyArray<{ name: string; counters: ReconcileCounters }>;
  /** `/v1/egress-map`, when it is served. */
  egressMap: EgressMapEndpointStats | undefined;
  ha: HaStatus;
}

export function renderControllerMetrics(s: ControllerMetricsSource): string {
  const loops = [...s.loops].sort((a, b) => a.name.localeCompare(b.name));
  const families: Family[] = [
    {
      name: 'moor_reconciles_total',
      help: 'Reconcile passes since start, by loop.',
      type: 'counter',
      samples: loops.map((l): Sample => [{ loop: l.name }, l.counters.runs]),
    },
    {
      name: 'moor_reconcile_errors_total',
      help: 'Reconcile errors since start, by loop and phase.',
      type: 'counter',
      samples: loops.flatMap((l) =>
        Object.entries(l.counters.errorsByPhase)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([phase, n]): Sample => [{ loop: l.name, phase }, n]),
      ),
    },
  ];
  const m = s.egressMap;
  if (m) {
    families.push(
      {
        name: 'moor_egress_map_requests_total',
        help: 'Answers of /v1/egress-map since start, by HTTP status (readiness probes not counted).',
        type: 'counter',
        samples: [...m.requestsByCode]
          .sort(([a], [b]) => a - b)
          .map(([code, n]): Sample => [{ code: String(code) }, n]),
      },
      {
        name: 'moor_egress_map_long_polls',
        help: 'Long-polls of /v1/egress-map waiting now.',
        type: 'gauge',
        samples: [[{}, m.waiters]],
      },
      {
        name: 'moor_egress_map_stale',
        help: '1 while the watch of the API server fails and /v1/egress-map serves the last list (Moor-Mapping-Stale: 1).',
        type: 'gauge',
        samples: [[{}, m.stale ? 1 : 0]],
      },
    );
    const cert = m.certificate;
    if (cert)
      families.push(
        {
          name: 'moor_egress_map_certificate_not_after_timestamp_seconds',
          help: 'notAfter of the certificate /v1/egress-map serves, in seconds since the epoch (alert before it passes).',
          type: 'gauge',
          samples: [[{}, Math.floor(cert.current.notAfterMs / 1000)]],
        },
        {
          name: 'moor_egress_map_certificate_reloads_total',
          help: 'Rotated certificates put into service since start.',
          type: 'counter',
          samples: [[{}, cert.reloads]],
        },
        {
          name: 'moor_egress_map_certificate_reload_failures_total',
          help: 'Polls that found certificate files it could not use (bad, mismatched or missing; the old certificate kept serving).',
          type: 'counter',
          samples: [[{}, cert.failures]],
        },
      );
  }
  return renderFamilies(families) + renderHaMetrics(s.ha);
}
