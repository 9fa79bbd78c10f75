// What the clusterset exports, as this host sees it: the aggregated ServiceImports on the broker
// with every exporting cluster's EndpointSlice data, read the way Lighthouse's CoreDNS reads them
// (spec §4.5): per cluster the first address (all addresses for headless), ready unless a
// condition says false, and whether this host can reach that cluster (its cable is connected).
import {
  type LighthouseSlice,
  type Problem,
  readEndpointSlice,
  readServiceImport,
  type ServicePort,
} from '../broker/lighthouseImports.ts';
import type { ServiceImportPort } from '../broker/lighthouseTypes.ts';

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
  /** As the ServiceImport carries them: an empty name or appProtocol is left out. */
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
 * have a slice. `connections` undefined means "unknown" (agent not reporting). Objects are read
 * by the Lighthouse reader DNS uses, so what this shows and what DNS answers never disagree.
 */
export function clustersetServices(
  serviceImports: readonly unknown[],
  slices: readonly unknown[],
  ownClusterId: string,
  connections: readonly ConnectionSummary[] | undefined,
): ClustersetService[] {
  // Unreadable parts are left out here; DNS reports them (`moor status`: dns problems).
  const problems: Problem[] = [];
  const readSlices = slices.flatMap((raw) => readEndpointSlice(raw, problems) ?? []);
  const services: ClustersetService[] = [];
  for (const raw of serviceImports) {
    const si = readServiceImport(raw, problems);
    if (si === null) continue;
    const perCluster = slicesOf(readSlices, si.namespace, si.service, si.headless);
    const clusterIds = [...new Set([...si.clusters, ...perCluster.keys()])];
    services.push({
      name: si.service,
      namespace: si.namespace,
      type: si.headless ? 'Headless' : 'ClusterSetIP',
      ports: si.ports.map(wirePort),
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

function wirePort(port: ServicePort): ServiceImportPort {
  const out: ServiceImportPort = { protocol: port.protocol, port: port.port };
  if (port.name !== '') out.name = port.name;
  if (port.appProtocol !== '') out.appProtocol = port.appProtocol;
  return out;
}

/** One service's slices by source cluster; a cluster's slices are merged. */
function slicesOf(
  slices: readonly LighthouseSlice[],
  namespace: string,
  service: string,
  headless: boolean,
): Map<string, SliceData> {
  const byCluster = new Map<string, SliceData>();
  for (const slice of slices) {
    if (slice.namespace !== namespace || slice.service !== service) continue;
    const seen = byCluster.get(slice.cluster) ?? { addresses: [], ready: false };
    // CoreDNS: ClusterSetIP uses endpoints[0] only; an endpoint is healthy unless ready is false.
    const used = headless ? slice.endpoints : slice.endpoints.slice(0, 1);
    for (const endpoint of used) {
      const first = headless ? endpoint.addresses : endpoint.addresses.slice(0, 1);
      for (const a of first) if (!seen.addresses.includes(a)) seen.addresses.push(a);
      if (endpoint.ready !== false) seen.ready = true;
    }
    byCluster.set(slice.cluster, seen);
  }
  return byCluster;
}
