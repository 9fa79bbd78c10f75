// Lighthouse resolution semantics (LH coredns/resolver/resolver.go GetDNSRecords plus
// coredns/plugin/handler.go and record.go) as one pure function of the record index. The answer
// store precomputes its results; the slow path calls it directly, so both agree by construction.

import type { ServicePort } from '../broker/lighthouseImports.ts';
import { TYPE_A, TYPE_AAAA, TYPE_SRV } from './constants.ts';
import type { ServiceQuery } from './names.ts';
import {
  type ClusterRecords,
  type EndpointRecord,
  isConnected,
  type RecordIndex,
  type Rotation,
  type ServiceRecords,
  serviceKey,
} from './records.ts';
import type { SrvRecordData } from './wire-write.ts';

export type ResolvedAnswer =
  | { readonly kind: 'a'; readonly ips: readonly string[] }
  /** ClusterSetIP round robin: each query gets one of `choices`, advancing `rotation`. */
  | { readonly kind: 'a-rotating'; readonly choices: readonly string[]; readonly rotation: Rotation }
  | { readonly kind: 'srv'; readonly records: readonly SrvRecordData[] };

export type Resolution =
  | { readonly rcode: 'NXDOMAIN' }
  /** `answer: null` is NODATA: the name exists but has nothing of this type to give. */
  | { readonly rcode: 'NOERROR'; readonly answer: ResolvedAnswer | null };

export const NXDOMAIN: Resolution = { rcode: 'NXDOMAIN' };
export const NODATA: Resolution = { rcode: 'NOERROR', answer: null };

/** What GetDNSRecords returns for a ClusterSetIP service: candidate IPs and the ports to offer. */
interface ClusterIpSelection {
  readonly ips: readonly string[];
  readonly ports: readonly ServicePort[];
}

export function resolveServiceQuery(index: RecordIndex, query: ServiceQuery, qtype: number): Resolution {
  const service = index.services.get(serviceKey(query.namespace, query.service));
  if (!service) return NXDOMAIN;
  const base = `${query.service}.${query.namespace}.svc.${query.zone}`;

  if (!service.headless) {
    const selection = selectClusterIp(index, query, service);
    if (selection === null) return NXDOMAIN;
    if (selection.ips.length === 0 || qtype === TYPE_AAAA) return NODATA;
    if (qtype === TYPE_A) {
      const [only] = selection.ips;
      if (selection.ips.length === 1 && only !== undefined) return found({ kind: 'a', ips: [only] });
      return found({ kind: 'a-rotating', choices: selection.ips, rotation: service.rotation });
    }
    // The SRV target names the service (or the queried cluster), never the chosen cluster, so
    // which cluster round robin would pick does not change the answer.
    const target = query.cluster === '' ? base : `${query.cluster}.${base}`;
    const ports = filterPorts(selection.ports, query);
    if (ports.length === 0) return NODATA;
    return found({ kind: 'srv', records: dedupeSrv(ports.map((p) => ({ port: p.port, target }))) });
  }

  const records = headlessRecords(index, query, service.clusters);
  if (records === null) return NXDOMAIN;
  if (records.length === 0 || qtype === TYPE_AAAA) return NODATA;
  if (qtype === TYPE_A) return found({ kind: 'a', ips: [...new Set(records.map((r) => r.ip))] });
  if (qtype !== TYPE_SRV) return NODATA;
  const srv: SrvRecordData[] = [];
  for (const record of records) {
    const ports = filterPorts(record.ports, query);
    // Lighthouse createSRVRecords: one record without a matching port empties the whole answer.
    if (ports.length === 0) return NODATA;
    // Lighthouse would emit ".<cluster>.<svc>..." for an endpoint without a host name, which
    // fails to pack and turns into SERVFAIL; such endpoints are left out of SRV answers instead.
    if (record.hostname === '') continue;
    const target = `${record.hostname}.${record.clusterId}.${base}`;
    for (const p of ports) srv.push({ port: p.port, target });
  }
  return srv.length === 0 ? NODATA : found({ kind: 'srv', records: dedupeSrv(srv) });
}

function found(answer: ResolvedAnswer): Resolution {
  return { rcode: 'NOERROR', answer };
}

/** LH getClusterIPRecord; null means "not found" (an unknown cluster prefix). */
function selectClusterIp(
  index: RecordIndex,
  query: ServiceQuery,
  service: ServiceRecords,
): ClusterIpSelection | null {
  // 1. A cluster prefix answers with that cluster's IP even when unhealthy or disconnected.
  if (query.cluster !== '') {
    const record = service.clusters.get(query.cluster)?.endpoints[0];
    return record ? { ips: [record.ip], ports: record.ports } : null;
  }
  // 2. A clusterset IP allocated for the service.
  if (service.clustersetIp !== null) return { ips: [service.clustersetIp], ports: service.specPorts };
  // 3. The local cluster when it exports the service and is healthy.
  const local = index.localClusterId === '' ? undefined : service.clusters.get(index.localClusterId);
  const localRecord = local?.endpoints[0];
  if (local?.healthy && localRecord) return { ips: [localRecord.ip], ports: service.mergedPorts };
  // 4. Round robin over connected, healthy clusters (all weights are 1, so plain round robin).
  const ips: string[] = [];
  for (const cluster of service.clusters.values()) {
    const record = cluster.endpoints[0];
    if (record && cluster.healthy && isConnected(index, cluster.clusterId)) ips.push(record.ip);
  }
  return { ips, ports: service.mergedPorts };
}

/** LH getHeadlessRecords; null means "not found" (unknown cluster or host). */
function headlessRecords(
  index: RecordIndex,
  query: ServiceQuery,
  clusters: ReadonlyMap<string, ClusterRecords>,
): readonly EndpointRecord[] | null {
  if (query.cluster === '') {
    const all: EndpointRecord[] = [];
    for (const cluster of clusters.values()) {
      if (isConnected(index, cluster.clusterId)) all.push(...cluster.endpoints);
    }
    return all;
  }
  const cluster = clusters.get(query.cluster);
  if (!cluster) return null;
  if (query.hostname === '') return cluster.endpoints;
  return cluster.byHost.get(query.hostname) ?? null;
}

/** Port filter of an SRV query: lower-cased name and protocol must both match; no name, no filter. */
function filterPorts(ports: readonly ServicePort[], query: ServiceQuery): readonly ServicePort[] {
  if (query.port === '') return ports;
  return ports.filter(
    (p) => p.name.toLowerCase() === query.port && p.protocol.toLowerCase() === query.protocol,
  );
}

function dedupeSrv(records: readonly SrvRecordData[]): SrvRecordData[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = `${r.port} ${r.target}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
