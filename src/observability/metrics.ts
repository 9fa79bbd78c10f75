// Prometheus text exposition of the agent's and gateway's status. Rendering is a pure function
// of the status document, so what `moor status` shows and what is scraped never disagree.
// renderFamilies is the one writer of the text format; other daemons (the controller) build
// their families and render them through it.

const esc = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const labels = (l: Record<string, string>) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

export type Sample = [Record<string, string>, number];

export interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Sample[];
}

/** The text format: HELP and TYPE per family, then its samples (non-finite values as 0). */
export function renderFamilies(families: readonly Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const [l, v] of f.samples) out.push(`${f.name}${labels(l)} ${Number.isFinite(v) ? v : 0}`);
  }
  return `${out.join('\n')}\n`;
}

/** What the metrics are rendered from: the fields of the agent's and the gateway's status document
 * (src/cables/status.ts AgentStatus) that they expose. Declared here, so observability depends on
 * nothing above it. */
export interface MetricsSource {
  readonly connections: ReadonlyArray<{
    readonly clusterId: string;
    readonly status: string;
    readonly rtt?: { readonly lastMs: number } | null;
    readonly rxBytes: number;
    readonly txBytes: number;
  }>;
  readonly rejected: ReadonlyArray<{ readonly code: string }>;
  readonly counters: {
    readonly reconciles: number;
    readonly applyErrors: number;
    readonly rejectedEndpoints: number;
    readonly errorsByPhase?: Readonly<Record<string, number>>;
  };
  readonly broker: { readonly synced: boolean; readonly lastError: string | null };
  readonly registration: { readonly published: boolean };
}

export function renderMetrics(status: MetricsSource): string {
  const states = ['connected', 'connecting', 'error'] as const;
  const rejectedByCode = new Map<string, number>();
  for (const r of status.rejected) rejectedByCode.set(r.code, (rejectedByCode.get(r.code) ?? 0) + 1);
  const families: Family[] = [
    {
      name: 'moor_connection_status',
      help: 'Connection to a clusterset member: 1 for its current status.',
      type: 'gauge',
      samples: status.connections.flatMap((c) =>
        states.map((s): [Record<string, string>, number] => [
          { cluster_id: c.clusterId, status: s },
          c.status === s ? 1 : 0,
        ]),
      ),
    },
    {
      name: 'moor_connection_rtt_seconds',
      help: 'Last health-check round-trip time to a member.',
      type: 'gauge',
      samples: status.connections
        .filter((c) => c.rtt)
        .map((c) => [{ cluster_id: c.clusterId }, (c.rtt?.lastMs ?? 0) / 1000]),
    },
    {
      name: 'moor_connection_rx_bytes',
      help: 'Bytes received from a member over its WireGuard peer.',
      type: 'gauge',
      samples: status.connections.map((c) => [{ cluster_id: c.clusterId }, c.rxBytes]),
    },
    {
      name: 'moor_connection_tx_bytes',
      help: 'Bytes sent to a member over its WireGuard peer.',
      type: 'gauge',
      samples: status.connections.map((c) => [{ cluster_id: c.clusterId }, c.txBytes]),
    },
    {
      name: 'moor_rejected_endpoints',
      help: 'Broker Endpoints currently rejected, by reason.',
      type: 'gauge',
      samples: [...rejectedByCode].map(([code, n]) => [{ reason: code }, n]),
    },
    {
      name: 'moor_rejected_endpoints_total',
      help: 'Distinct Endpoint rejections seen since start.',
      type: 'counter',
      samples: [[{}, status.counters.rejectedEndpoints]],
    },
    {
      name: 'moor_reconciles_total',
      help: 'Reconcile passes since start.',
      type: 'counter',
      samples: [[{}, status.counters.reconciles]],
    },
    {
      name: 'moor_apply_errors_total',
      help: 'Failed changes (WireGuard, links, addresses, routes, registration) since start.',
      type: 'counter',
      samples: [[{}, status.counters.applyErrors]],
    },
    {
      name: 'moor_reconcile_errors_total',
      help: 'Reconcile errors since start, by phase (wireguard, link, address, route, publish, dns, ...).',
      type: 'counter',
      samples: Object.entries(status.counters.errorsByPhase ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([phase, n]) => [{ phase }, n]),
    },
    {
      name: 'moor_broker_synced',
      help: '1 when the broker watch is listed and without error.',
      type: 'gauge',
      samples: [[{}, status.broker.synced && status.broker.lastError === null ? 1 : 0]],
    },
    {
      name: 'moor_registration_published',
      help: "1 when this member's Cluster and Endpoint are on the broker.",
      type: 'gauge',
      samples: [[{}, status.registration.published ? 1 : 0]],
    },
  ];
  return renderFamilies(families);
}

/** The samples of an exposition, keyed `name{label="value",...}` as rendered (tests and probes
 * read scrapes through this, the one reader of the format). */
export function readSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}
