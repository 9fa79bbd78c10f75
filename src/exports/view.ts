// The data behind `moor show exports` and `moor show services`, read from the store, the broker
// and the agent's status file. Rendering stays in the CLI.
import { LABEL_MANAGED_BY, MANAGED_BY_LIGHTHOUSE } from '../broker/lighthouseKeys.ts';
import { brokerPaths } from '../k8s/paths.ts';
import {
  type BrokerApi,
  type ExportsMember,
  getIfExists,
  listItems,
  withLabelSelector,
} from './brokerApi.ts';
import { ourSliceReady } from './endpointSliceWriter.ts';
import { listsCluster, serviceImportPath } from './serviceImportWriter.ts';
import { type ClustersetService, type ConnectionSummary, clustersetServices } from './services.ts';
import { healthPort, type StoredExport } from './store.ts';

/** A status file older than this is not a running agent's: reachability is then unknown. */
export const STATUS_STALE_MS = 10_000;

export interface ExportReport {
  name: string;
  namespace: string;
  type: 'ClusterSetIP' | 'Headless';
  ports: string;
  health: string;
  exportedAt: string;
  /** What the broker holds; null when it could not be asked. */
  broker: { listed: boolean; ready: boolean | null } | null;
}

/** "5432/TCP", "pg:5432/TCP,metrics:9187/TCP". */
export function formatPorts(
  ports: ReadonlyArray<{ name?: string; protocol?: string; port: number }>,
): string {
  return ports.map((p) => `${p.name ? `${p.name}:` : ''}${p.port}/${p.protocol ?? 'TCP'}`).join(',');
}

export function describeHealth(exp: Pick<StoredExport, 'health' | 'ports'>): string {
  const port = healthPort(exp);
  return port === undefined ? 'none' : `tcp:${port}`;
}

export async function exportsReport(
  api: BrokerApi,
  state: ExportsMember,
  exports: readonly StoredExport[],
): Promise<{ reports: ExportReport[]; brokerError: string | null }> {
  const reports: ExportReport[] = exports.map((exp) => ({
    name: exp.name,
    namespace: exp.namespace,
    type: exp.perHostNames ? 'Headless' : 'ClusterSetIP',
    ports: formatPorts(exp.ports),
    health: describeHealth(exp),
    exportedAt: exp.exportedAt,
    broker: null,
  }));
  try {
    for (const report of reports) {
      const si = await getIfExists(
        api,
        serviceImportPath(state.broker.namespace, report.name, report.namespace),
      );
      const ready = await ourSliceReady(api, state.broker.namespace, state.clusterId, report);
      report.broker = { listed: listsCluster(si, state.clusterId), ready: ready ?? null };
    }
    return { reports, brokerError: null };
  } catch (err) {
    for (const report of reports) report.broker = null;
    return { reports, brokerError: err instanceof Error ? err.message : String(err) };
  }
}

/** Every exported service of the clusterset, with reachability from the agent's status. */
export async function servicesReport(
  api: BrokerApi,
  state: ExportsMember,
  status: AgentReport | undefined,
  nowMs: number,
): Promise<ClustersetService[]> {
  const ns = state.broker.namespace;
  const [imports, slices] = await Promise.all([
    listItems(api, brokerPaths.serviceImports(ns)),
    listItems(
      api,
      withLabelSelector(brokerPaths.endpointSlices(ns), { [LABEL_MANAGED_BY]: MANAGED_BY_LIGHTHOUSE }),
    ),
  ]);
  return clustersetServices(imports, slices, state.clusterId, connectionsOf(status, nowMs));
}

/** The part of the agent's status document (src/cables/status.ts) reachability comes from. */
export interface AgentReport {
  readonly updatedAt: string;
  readonly connections: readonly ConnectionSummary[];
}

/** The agent's connections, or undefined when it has not reported recently. */
export function connectionsOf(
  status: AgentReport | undefined,
  nowMs: number,
): ConnectionSummary[] | undefined {
  if (status === undefined || !(nowMs - Date.parse(status.updatedAt) < STATUS_STALE_MS)) return undefined;
  return status.connections.map((c) => ({ clusterId: c.clusterId, status: c.status }));
}
