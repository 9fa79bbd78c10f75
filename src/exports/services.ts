// What the clusterset exports, as this host sees it: the aggregated ServiceImports on the broker
// with every exporting cluster's EndpointSlice data, read the way Lighthouse's CoreDNS reads them
// (spec §4.5): per cluster the first address (all addresses for headless), ready unless a
// condition says false, and whether this host can reach that cluster (its cable is connected).
import {
  LABEL_IS_HEADLESS,
  LABEL_SERVICE_NAME,
  LABEL_SOURCE_CLUSTER,
  LABEL_SOURCE_NAMESPACE,
} from '../broker/lighthouseKeys.ts';
import type { ServiceImportPort } from '../broker/lighthousePorts.ts';
import { isJson, type Json, ownField, readServiceImport, stringMap } from '../broker/lighthouseRead.ts';

export interface ExportingCluster {
  clusterId: string;
  /** ClusterSetIP: the one service address; Headless: every endpoint address. */
  addresses: string[];
  /** undefined when the cluster has no EndpointSlice on the broker (yet). */
  ready: boolean | undefined;
  /** undefined when this host's agent has not reported its connections. */
  reachable: boolean | undefined;
  /** This host's own cluster. */
  self: boolean;
}

export interface ClustersetService {
  name: string;
  namespace: string;
  type: string;
  ports: ServiceImportPort[];
  clusters: ExportingCluster[];
}

export interface ConnectionSummary {
  clusterId: string;
  status: string;
}

interface SliceData {
  addresses: string[];
  ready: boolean;
}

/**
 * One entry per aggregated ServiceImport (those carrying the service-name annotation; legacy
 * per-cluster imports are skipped), clusters in status.clusters order, then clusters that only
 * have a slice. `connections` undefined means "unknown" (agent not reporting).
 */
export function clustersetServices(
  serviceImports: readonly Json[],
  slices: readonly Json[],
  ownClusterId: string,
  connections: readonly ConnectionSummary[] | undefined,
): ClustersetService[] {
  const sliceData = slicesByService(slices);
  const services: ClustersetService[] = [];
  for (const raw of serviceImports) {
    const si = readServiceImport(raw);
    if (typeof si === 'string') continue;
    const name = ownField(si.metadata.annotations, LABEL_SERVICE_NAME);
    const namespace = ownField(si.metadata.annotations, LABEL_SOURCE_NAMESPACE);
    if (name === undefined || namespace === undefined) continue;
    const perCluster = sliceData.get(`${namespace}/${name}`) ?? new Map<string, SliceData>();
    const clusterIds = [...new Set([...si.status.clusters.map((c) => c.cluster), ...perCluster.keys()])];
    services.push({
      name,
      namespace,
      type: si.spec.type,
      ports: si.spec.ports,
      clusters: clusterIds.map((clusterId) => {
        const data = perCluster.get(clusterId);
        const self = clusterId === ownClusterId;
        const connected = connections?.some((c) => c.clusterId === clusterId && c.status === 'connected');
        return {
          clusterId,
          addresses: data?.addresses ?? [],
          ready: data?.ready,
          reachable: self ? true : connected,
          self,
        };
      }),
    });
  }
  return services.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** Broker slices grouped by `<ns>/<svc>`, then source cluster; a cluster's slices are merged. */
function slicesByService(slices: readonly Json[]): Map<string, Map<string, SliceData>> {
  const result = new Map<string, Map<string, SliceData>>();
  for (const slice of slices) {
    const labels = isJson(slice.metadata) ? stringMap(slice.metadata.labels) : undefined;
    if (labels === undefined) continue;
    const name = ownField(labels, LABEL_SERVICE_NAME);
    const namespace = ownField(labels, LABEL_SOURCE_NAMESPACE);
    const cluster = ownField(labels, LABEL_SOURCE_CLUSTER);
    if (name === undefined || namespace === undefined || cluster === undefined) continue;
    const key = `${namespace}/${name}`;
    const byCluster = result.get(key) ?? new Map<string, SliceData>();
    result.set(key, byCluster);
    const endpoints = Array.isArray(slice.endpoints) ? slice.endpoints.filter(isJson) : [];
    const headless = ownField(labels, LABEL_IS_HEADLESS) === 'true';
    const seen = byCluster.get(cluster) ?? { addresses: [], ready: false };
    // CoreDNS: ClusterSetIP uses endpoints[0] only; an endpoint is healthy unless ready is false.
    const used = headless ? endpoints : endpoints.slice(0, 1);
    for (const endpoint of used) {
      const addresses = Array.isArray(endpoint.addresses) ? endpoint.addresses : [];
      const first = headless ? addresses : addresses.slice(0, 1);
      for (const a of first) if (typeof a === 'string' && !seen.addresses.includes(a)) seen.addresses.push(a);
      const conditions = isJson(endpoint.conditions) ? endpoint.conditions : {};
      if (conditions.ready !== false) seen.ready = true;
    }
    byCluster.set(cluster, seen);
  }
  return result;
}
