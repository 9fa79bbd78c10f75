// Reading the Lighthouse fields other members wrote on the broker. Nothing here throws: a value
// of the wrong shape reads as `undefined` and the caller decides what that costs. The API server
// has already checked types against the schema, so these guards matter for callers passing
// objects from elsewhere, and they keep "__proto__" keys plain data.
import {
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SOURCE_CLUSTER,
  LABEL_SOURCE_NAMESPACE,
  MANAGED_BY_LIGHTHOUSE,
  MCS_API_VERSION,
} from './lighthouseKeys.ts';
import type { ClusterStatus, ServiceImportObject, ServiceImportPort } from './lighthouseTypes.ts';

export type Json = Record<string, unknown>;

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own property only, so "constructor" or "__proto__" never come from a prototype. */
export function ownField<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A fresh map of string values, or undefined when `value` is not one. */
export function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isJson(value)) return undefined;
  const map: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') return undefined;
    // defineProperty, not assignment: a "__proto__" key must stay plain data.
    Object.defineProperty(map, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return map;
}

/**
 * One port entry read like Lighthouse's `toServicePorts`: a missing name or protocol is "", a
 * missing port is 0; empty name and protocol are then omitted, as Go's `omitempty` writes them.
 * A field of the wrong type gives the reason instead.
 */
export function readPortEntry(item: unknown): ServiceImportPort | string {
  if (!isJson(item)) return 'is not an object';
  const name = ownField(item, 'name') ?? '';
  const protocol = ownField(item, 'protocol') ?? '';
  const port = ownField(item, 'port') ?? 0;
  const appProtocol = ownField(item, 'appProtocol') ?? undefined;
  if (typeof name !== 'string') return 'has a name that is not a string';
  if (typeof protocol !== 'string') return 'has a protocol that is not a string';
  if (typeof port !== 'number' || !Number.isInteger(port)) return `has invalid port ${JSON.stringify(port)}`;
  if (appProtocol !== undefined && typeof appProtocol !== 'string') return 'has a non-string appProtocol';
  const read: ServiceImportPort = { port };
  if (name !== '') read.name = name;
  if (protocol !== '') read.protocol = protocol;
  if (appProtocol !== undefined) read.appProtocol = appProtocol;
  return read;
}

/** A port list of `readPortEntry` ports. `null` or no list is []; any entry of the wrong type
 * makes the whole list unreadable (a read-modify-write must not drop another member's port). */
export function readPortList(value: unknown): ServiceImportPort[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return undefined;
  const ports: ServiceImportPort[] = [];
  for (const item of value) {
    const read = readPortEntry(item);
    if (typeof read === 'string') return undefined;
    ports.push(read);
  }
  return ports;
}

/** status.clusters: absent is []; entries must be `{cluster: string}` (extra fields are dropped). */
export function readClusters(value: unknown): ClusterStatus[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return undefined;
  const clusters: ClusterStatus[] = [];
  for (const item of value) {
    const cluster = isJson(item) ? ownField(item, 'cluster') : undefined;
    if (typeof cluster !== 'string') return undefined;
    clusters.push({ cluster });
  }
  return clusters;
}

/**
 * The ports of each source cluster's Lighthouse EndpointSlice of one service, from a list of broker
 * EndpointSlices: only slices carrying the three labels Lighthouse selects by count, and a later
 * slice of the same cluster replaces an earlier one, as in LH `setServicePorts`.
 */
export function portsBySourceCluster(
  slices: readonly unknown[],
  serviceName: string,
  serviceNamespace: string,
): Map<string, ServiceImportPort[]> {
  const byCluster = new Map<string, ServiceImportPort[]>();
  for (const slice of slices) {
    if (!isJson(slice)) continue;
    const metadata = ownField(slice, 'metadata');
    const labels = isJson(metadata) ? stringMap(ownField(metadata, 'labels')) : undefined;
    if (labels === undefined) continue;
    if (ownField(labels, LABEL_MANAGED_BY) !== MANAGED_BY_LIGHTHOUSE) continue;
    if (ownField(labels, LABEL_SOURCE_NAMESPACE) !== serviceNamespace) continue;
    if (ownField(labels, LABEL_SERVICE_NAME) !== serviceName) continue;
    const ports = readPortList(ownField(slice, 'ports'));
    if (ports !== undefined) byCluster.set(ownField(labels, LABEL_SOURCE_CLUSTER) ?? '', ports);
  }
  return byCluster;
}

/** A private, plain-data copy of an existing import with the fields we edit checked, or why not. */
export function readServiceImport(existing: unknown): ServiceImportObject | string {
  let root: Json;
  try {
    const copy: unknown = JSON.parse(JSON.stringify(existing));
    if (!isJson(copy)) return 'the existing ServiceImport is not an object';
    root = copy;
  } catch {
    return 'the existing ServiceImport cannot be read as JSON';
  }
  const apiVersion = ownField(root, 'apiVersion');
  if (apiVersion !== undefined && apiVersion !== MCS_API_VERSION)
    return `apiVersion is ${JSON.stringify(apiVersion)}`;
  const kind = ownField(root, 'kind');
  if (kind !== undefined && kind !== 'ServiceImport') return `kind is ${JSON.stringify(kind)}`;
  const metadata = ownField(root, 'metadata');
  const spec = ownField(root, 'spec');
  const status = ownField(root, 'status') ?? {};
  const name = isJson(metadata) ? ownField(metadata, 'name') : undefined;
  const type = isJson(spec) ? ownField(spec, 'type') : undefined;
  if (!isJson(metadata) || typeof name !== 'string') return 'metadata.name is missing';
  if (!isJson(spec)) return 'spec is missing';
  if (type !== 'ClusterSetIP' && type !== 'Headless')
    return `spec.type ${JSON.stringify(type)} is not ClusterSetIP or Headless`;
  if (!isJson(status)) return 'status is not an object';
  const annotations = stringMap(ownField(metadata, 'annotations') ?? {});
  if (annotations === undefined) return 'metadata.annotations is not a map of strings';
  const ports = readPortList(ownField(spec, 'ports'));
  if (ports === undefined) return 'spec.ports is not a list of ports';
  const clusters = readClusters(ownField(status, 'clusters'));
  if (clusters === undefined) return 'status.clusters is not a list of {cluster}';
  const object: ServiceImportObject = {
    ...root,
    apiVersion: MCS_API_VERSION,
    kind: 'ServiceImport',
    metadata: { ...metadata, name, annotations },
    spec: { ...spec, type, ports },
    status: { ...status, clusters },
  };
  return object;
}
