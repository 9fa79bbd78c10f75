// The record index: what Lighthouse's CoreDNS resolver knows (LH coredns/resolver), computed as a
// pure function of a snapshot of broker objects plus connectivity. Being a function of the
// snapshot rather than of an event history makes the result independent of arrival order; the
// only carried state is the round-robin position, taken over from the previous index.
import { isIPv4 } from 'node:net';
import {
  type ImportedService,
  type LighthouseSlice,
  type Problem,
  readEndpointSlice,
  readServiceImport,
  type ServicePort,
  show,
} from '../broker/lighthouseImports.ts';

export interface EndpointRecord {
  readonly clusterId: string;
  readonly ip: string;
  /** '' when the endpoint has no usable host name. */
  readonly hostname: string;
  /** Ports of the slice the address came from. */
  readonly ports: readonly ServicePort[];
}

export interface ClusterRecords {
  readonly clusterId: string;
  /** ClusterSetIP: exactly one record (the service IP). Headless: every published address. */
  readonly endpoints: readonly EndpointRecord[];
  /** Headless only: records per host name (the last endpoint with that name wins, as in Lighthouse). */
  readonly byHost: ReadonlyMap<string, readonly EndpointRecord[]>;
  /** ClusterSetIP `endpointsHealthy`: endpoints[0].conditions.ready != false. Always true for headless. */
  readonly healthy: boolean;
}

/** Mutable round-robin position of one service; shared by every precomputed answer for it. */
export interface Rotation {
  next: number;
}

export interface ServiceRecords {
  /** "<namespace>/<service>" */
  readonly key: string;
  readonly service: string;
  readonly namespace: string;
  readonly headless: boolean;
  /** spec.ips[0] of the aggregated ServiceImport, when it is an IPv4 address. */
  readonly clustersetIp: string | null;
  /** Aggregated spec.ports (used for SRV answers when a clusterset IP answers). */
  readonly specPorts: readonly ServicePort[];
  /** ClusterSetIP: ports every exporting cluster has (Lighthouse `mergePorts`). */
  readonly mergedPorts: readonly ServicePort[];
  /** Exporting clusters, ordered by cluster ID. */
  readonly clusters: ReadonlyMap<string, ClusterRecords>;
  readonly rotation: Rotation;
}

export interface RecordIndex {
  readonly localClusterId: string;
  /** Clusters reachable now; 'all' when connectivity is not tracked (no Submariner gateway). */
  readonly connected: ReadonlySet<string> | 'all';
  readonly services: ReadonlyMap<string, ServiceRecords>;
}

export interface RecordIndexInput {
  readonly serviceImports: readonly unknown[];
  readonly endpointSlices: readonly unknown[];
  readonly localClusterId: string;
  readonly connectedClusters: Iterable<string> | 'all';
}

export interface RecordIndexResult {
  readonly index: RecordIndex;
  readonly problems: readonly Problem[];
}

/** The local cluster is always connected (Lighthouse gateway controller adds it explicitly). */
export function isConnected(index: RecordIndex, clusterId: string): boolean {
  return index.connected === 'all' || clusterId === index.localClusterId || index.connected.has(clusterId);
}

export function serviceKey(namespace: string, service: string): string {
  return `${namespace}/${service}`;
}

export function buildRecordIndex(input: RecordIndexInput, previous?: RecordIndex): RecordIndexResult {
  const problems: Problem[] = [];
  const imports = pickServiceImports(safeList(input.serviceImports), problems);
  const slicesByCluster = groupSlices(safeList(input.endpointSlices), imports, problems);

  const services = new Map<string, ServiceRecords>();
  for (const [key, imported] of [...imports].sort(([a], [b]) => compare(a, b))) {
    const groups = slicesByCluster.get(key) ?? new Map<string, LighthouseSlice[]>();
    const clusters = new Map<string, ClusterRecords>();
    for (const clusterId of [...groups.keys()].sort(compare)) {
      const slices = currentSlices(groups.get(clusterId) ?? [], clusterId);
      const records = imported.headless
        ? headlessRecords(clusterId, slices, problems)
        : clusterSetIpRecords(clusterId, slices, problems);
      if (records) clusters.set(clusterId, records);
    }
    services.set(key, {
      key,
      service: imported.service,
      namespace: imported.namespace,
      headless: imported.headless,
      clustersetIp: clustersetIpOf(imported, problems),
      specPorts: imported.ports,
      mergedPorts: imported.headless ? [] : intersectPorts([...clusters.values()]),
      clusters,
      rotation: previous?.services.get(key)?.rotation ?? { next: 0 },
    });
  }

  const connected =
    input.connectedClusters === 'all' ? 'all' : new Set(safeIterable(input.connectedClusters));
  return {
    index: {
      localClusterId: typeof input.localClusterId === 'string' ? input.localClusterId : '',
      connected,
      services,
    },
    problems,
  };
}

function safeList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function safeIterable(value: unknown): string[] {
  try {
    if (value === null || typeof value !== 'object' || !(Symbol.iterator in value)) return [];
    return [...(value as Iterable<unknown>)].filter((v): v is string => typeof v === 'string');
  } catch {
    return [];
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One aggregated ServiceImport per service. Should two carry the same annotations, the one named
 * `<svc>-<ns>` (the name Lighthouse gives it) wins, then the first by name.
 */
function pickServiceImports(raw: readonly unknown[], problems: Problem[]): Map<string, ImportedService> {
  const candidates: ImportedService[] = [];
  for (const obj of raw) {
    const imported = guarded(() => readServiceImport(obj, problems), 'ServiceImport', problems);
    if (imported) candidates.push(imported);
  }
  const rank = (si: ImportedService) => (si.objectName === `${si.service}-${si.namespace}` ? 0 : 1);
  candidates.sort((a, b) => rank(a) - rank(b) || compare(a.objectName, b.objectName));
  const chosen = new Map<string, ImportedService>();
  for (const si of candidates) {
    const key = serviceKey(si.namespace, si.service);
    const winner = chosen.get(key);
    if (!winner) chosen.set(key, si);
    else
      problems.push(
        problem('ServiceImport', si.objectName, `duplicate import of ${key}; using ${winner.objectName}`),
      );
  }
  return chosen;
}

/** Slices of imported services grouped by service key, then by source cluster. */
function groupSlices(
  raw: readonly unknown[],
  imports: ReadonlyMap<string, ImportedService>,
  problems: Problem[],
): Map<string, Map<string, LighthouseSlice[]>> {
  const groups = new Map<string, Map<string, LighthouseSlice[]>>();
  for (const obj of raw) {
    const slice = guarded(() => readEndpointSlice(obj, problems), 'EndpointSlice', problems);
    // Slices of services without a ServiceImport are not an error: Lighthouse re-queues them
    // until the import appears, so they simply do not count yet.
    if (!slice) continue;
    const key = serviceKey(slice.namespace, slice.service);
    if (!imports.has(key)) continue;
    const byCluster = groups.get(key) ?? new Map<string, LighthouseSlice[]>();
    groups.set(key, byCluster);
    const list = byCluster.get(slice.cluster);
    if (list) list.push(slice);
    else byCluster.set(slice.cluster, [slice]);
  }
  return groups;
}

/** A last line of defence: a throwing getter or proxy in the input skips only that object. */
function guarded<T>(read: () => T | null, kind: Problem['kind'], problems: Problem[]): T | null {
  try {
    return read();
  } catch (err) {
    problems.push({ kind, namespace: '', name: '', reason: `unreadable object: ${show(String(err))}` });
    return null;
  }
}

function problem(kind: Problem['kind'], slice: string | LighthouseSlice, reason: string): Problem {
  if (typeof slice === 'string') return { kind, namespace: '', name: slice, reason };
  return { kind, namespace: slice.objectNamespace, name: slice.objectName, reason };
}

/**
 * Pre-0.16 slices were named `<...>-<clusterID>`; Lighthouse ignores them as soon as a newer slice
 * for the same service and cluster exists (LH coredns/resolver/controller.go isLegacyEndpointSlice).
 */
function currentSlices(slices: readonly LighthouseSlice[], clusterId: string): LighthouseSlice[] {
  const isLegacy = (s: LighthouseSlice) => s.objectName.endsWith(`-${clusterId}`);
  const current = slices.filter((s) => !isLegacy(s));
  return (current.length > 0 ? current : [...slices]).sort(
    (a, b) => compare(a.objectName, b.objectName) || compare(a.objectNamespace, b.objectNamespace),
  );
}

/** One record per cluster: endpoints[0].addresses[0] of its slice, health from endpoints[0]. */
function clusterSetIpRecords(
  clusterId: string,
  slices: LighthouseSlice[],
  problems: Problem[],
): ClusterRecords | null {
  let chosen: ClusterRecords | null = null;
  for (const slice of slices) {
    const first = slice.endpoints[0];
    const ip = first?.addresses[0];
    if (!first || ip === undefined || !isIPv4(ip)) {
      problems.push(
        problem('EndpointSlice', slice, `no IPv4 service address in endpoints[0].addresses[0] (${show(ip)})`),
      );
    } else if (chosen) {
      problems.push(
        problem('EndpointSlice', slice, `another slice already gives cluster ${clusterId}'s service IP`),
      );
    } else {
      const record = { clusterId, ip, hostname: '', ports: slice.ports };
      chosen = { clusterId, endpoints: [record], byHost: new Map(), healthy: first.ready !== false };
    }
  }
  return chosen;
}

/** LH putHeadlessEndpointSlices: every ready (or published not-ready) address, de-duplicated per cluster. */
function headlessRecords(clusterId: string, slices: LighthouseSlice[], problems: Problem[]): ClusterRecords {
  const endpoints: EndpointRecord[] = [];
  const byHost = new Map<string, EndpointRecord[]>();
  const seen = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints) {
      if (endpoint.ready === false && !slice.publishNotReady) continue;
      const records: EndpointRecord[] = [];
      for (const ip of endpoint.addresses) {
        if (!isIPv4(ip)) {
          problems.push(problem('EndpointSlice', slice, `address ${show(ip)} is not IPv4; skipped`));
        } else if (!seen.has(ip)) {
          seen.add(ip);
          records.push({ clusterId, ip, hostname: endpoint.hostname, ports: slice.ports });
        }
      }
      if (endpoint.hostname !== '') byHost.set(endpoint.hostname, records);
      endpoints.push(...records);
    }
  }
  return { clusterId, endpoints, byHost, healthy: true };
}

function clustersetIpOf(imported: ImportedService, problems: Problem[]): string | null {
  const ip = imported.ips[0];
  if (ip === undefined) return null;
  if (isIPv4(ip)) return ip;
  problems.push(
    problem('ServiceImport', imported.objectName, `spec.ips[0] ${show(ip)} is not IPv4; ignored`),
  );
  return null;
}

function portIdentity(p: ServicePort): string {
  return `${p.name}:${p.protocol}:${p.port}:${p.appProtocol}`;
}

/** Ports present in every cluster's slice, keyed as Lighthouse does (name, protocol, port, appProtocol). */
function intersectPorts(clusters: readonly ClusterRecords[]): ServicePort[] {
  const [first, ...rest] = clusters;
  if (!first) return [];
  let ports = [...(first.endpoints[0]?.ports ?? [])];
  for (const cluster of rest) {
    const present = new Set((cluster.endpoints[0]?.ports ?? []).map(portIdentity));
    ports = ports.filter((p) => present.has(portIdentity(p)));
  }
  return ports;
}
