// The one reader of what the clusterset imports: aggregated ServiceImports and Lighthouse
// EndpointSlices (plain JSON as the API server returns them), narrowed to the fields consumers
// need. DNS (src/dns/records.ts) and `moor show services` (src/exports/services.ts) both read
// through here, so they can never disagree about what a broker object means. Nothing here throws:
// a field of the wrong type makes only the smallest enclosing element (port, address, endpoint,
// object) be skipped, and the reason is recorded. Lighthouse itself dereferences port
// name/protocol/port without checks (spec §4.3), so a broken object from one cluster could take
// its resolver down; we do not inherit that.
import { isDns1123Label } from './lighthouseInput.ts';
import {
  ANNOTATION_PUBLISH_NOT_READY,
  LABEL_IS_HEADLESS,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SOURCE_CLUSTER,
  LABEL_SOURCE_NAMESPACE,
  MANAGED_BY_LIGHTHOUSE,
} from './lighthouseKeys.ts';
import { isJson, type Json, ownField, readPortEntry } from './lighthouseRead.ts';

export interface Problem {
  readonly kind: 'ServiceImport' | 'EndpointSlice';
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
}

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  readonly name: string;
  readonly protocol: PortProtocol;
  readonly port: number;
  /** '' when absent; part of the identity Lighthouse intersects ports by. */
  readonly appProtocol: string;
}

export interface ImportedService {
  readonly objectName: string;
  readonly service: string;
  readonly namespace: string;
  readonly headless: boolean;
  /** spec.ips (the clusterset IP); validated by the index builder. */
  readonly ips: readonly string[];
  readonly ports: readonly ServicePort[];
  /** status.clusters, the exporting clusters in the order they joined; entries that are not
   * `{cluster: string}` are skipped. */
  readonly clusters: readonly string[];
}

export interface SliceEndpoint {
  readonly addresses: readonly string[];
  /** conditions.ready; null when unset, which Kubernetes says to treat as ready. */
  readonly ready: boolean | null;
  /** endpoint.hostname, else targetRef.name for a Pod; '' when neither is a usable DNS label. */
  readonly hostname: string;
}

export interface LighthouseSlice {
  readonly objectName: string;
  readonly objectNamespace: string;
  readonly service: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly publishNotReady: boolean;
  readonly ports: readonly ServicePort[];
  readonly endpoints: readonly SliceEndpoint[];
}

function stringField(obj: Json, key: string): string | undefined {
  const value = ownField(obj, key);
  return typeof value === 'string' ? value : undefined;
}

function objectField(obj: Json, key: string): Json | undefined {
  const value = ownField(obj, key);
  return isJson(value) ? value : undefined;
}

/** A short, never-throwing rendering of an untrusted value for problem messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Kubernetes DNS-1123 label: what namespaces, cluster IDs and endpoint host names must be. */
export function isDnsLabel(value: string): boolean {
  return isDns1123Label(value);
}

interface ObjectIdentity {
  readonly metadata: Json;
  readonly name: string;
  readonly namespace: string;
}

function identify(obj: unknown): ObjectIdentity | null {
  if (!isJson(obj)) return null;
  const metadata = objectField(obj, 'metadata');
  if (!metadata) return null;
  return {
    metadata,
    name: stringField(metadata, 'name') ?? '',
    namespace: stringField(metadata, 'namespace') ?? '',
  };
}

/**
 * Reads an aggregated broker ServiceImport (§4.2). Returns null, with a problem, for anything
 * else, including legacy per-cluster imports that lack the service-name annotation.
 */
export function readServiceImport(obj: unknown, problems: Problem[]): ImportedService | null {
  const id = identify(obj);
  const report = (reason: string): null => {
    problems.push({ kind: 'ServiceImport', namespace: id?.namespace ?? '', name: id?.name ?? '', reason });
    return null;
  };
  if (!id) return report('not an object with metadata');
  const annotations = objectField(id.metadata, 'annotations') ?? {};
  const service = stringField(annotations, LABEL_SERVICE_NAME);
  const namespace = stringField(annotations, LABEL_SOURCE_NAMESPACE);
  if (service === undefined || namespace === undefined) {
    return report(
      `not an aggregated ServiceImport: needs annotations ${LABEL_SERVICE_NAME} and ${LABEL_SOURCE_NAMESPACE}`,
    );
  }
  if (!isDnsLabel(service) || !isDnsLabel(namespace))
    return report(`invalid service/namespace ${show(service)}/${show(namespace)}`);
  const spec = objectField(obj as Json, 'spec');
  if (!spec) return report('missing spec');
  const type = ownField(spec, 'type');
  if (type !== 'Headless' && type !== 'ClusterSetIP') return report(`unsupported spec.type ${show(type)}`);
  const rawIps = ownField(spec, 'ips') ?? [];
  const ips = Array.isArray(rawIps) ? rawIps.filter((ip): ip is string => typeof ip === 'string') : [];
  if (!Array.isArray(rawIps) || ips.length !== rawIps.length) report('spec.ips is not a list of strings');
  const ports = readPorts(ownField(spec, 'ports'), 'spec.ports', report);
  const status = objectField(obj as Json, 'status') ?? {};
  const rawClusters = ownField(status, 'clusters') ?? [];
  const clusters = Array.isArray(rawClusters)
    ? rawClusters.map((c) => (isJson(c) ? ownField(c, 'cluster') : undefined))
    : [];
  const listed = clusters.filter((c): c is string => typeof c === 'string');
  if (!Array.isArray(rawClusters) || listed.length !== clusters.length) {
    report('status.clusters is not a list of {cluster}');
  }
  return {
    objectName: id.name,
    service,
    namespace,
    headless: type === 'Headless',
    ips,
    ports,
    clusters: listed,
  };
}

/**
 * Reads a Lighthouse EndpointSlice (§4.3). Slices not managed by Lighthouse are skipped silently
 * (they are simply not ours); Lighthouse slices that cannot be used are skipped with a problem,
 * including legacy pre-0.15 ones without the is-headless label, which CoreDNS only uses to flip
 * the health of a cluster it already learned from a newer slice.
 */
export function readEndpointSlice(obj: unknown, problems: Problem[]): LighthouseSlice | null {
  const id = identify(obj);
  const report = (reason: string): null => {
    problems.push({ kind: 'EndpointSlice', namespace: id?.namespace ?? '', name: id?.name ?? '', reason });
    return null;
  };
  if (!id) return report('not an object with metadata');
  const labels = objectField(id.metadata, 'labels');
  if (!labels || stringField(labels, LABEL_MANAGED_BY) !== MANAGED_BY_LIGHTHOUSE) return null;
  const service = stringField(labels, LABEL_SERVICE_NAME);
  const namespace = stringField(labels, LABEL_SOURCE_NAMESPACE);
  const cluster = stringField(labels, LABEL_SOURCE_CLUSTER);
  if (service === undefined || namespace === undefined || cluster === undefined) {
    return report(
      `missing one of the labels ${LABEL_SERVICE_NAME}, ${LABEL_SOURCE_NAMESPACE}, ${LABEL_SOURCE_CLUSTER}`,
    );
  }
  if (!isDnsLabel(cluster)) return report(`invalid source cluster ${show(cluster)}`);
  if (stringField(labels, LABEL_IS_HEADLESS) === undefined) {
    return report(`legacy pre-0.15 slice without ${LABEL_IS_HEADLESS}; ignored`);
  }
  const slice = obj as Json;
  const addressType = ownField(slice, 'addressType');
  if (addressType !== undefined && addressType !== 'IPv4') {
    return report(`addressType ${show(addressType)} not served (Lighthouse answers A records only)`);
  }
  const annotations = objectField(id.metadata, 'annotations') ?? {};
  const rawEndpoints = ownField(slice, 'endpoints') ?? [];
  if (!Array.isArray(rawEndpoints)) return report('endpoints is not a list');
  const endpoints: SliceEndpoint[] = [];
  rawEndpoints.forEach((raw, i) => {
    const endpoint = readEndpoint(raw, `endpoints[${i}]`, report);
    if (endpoint) endpoints.push(endpoint);
  });
  return {
    objectName: id.name,
    objectNamespace: id.namespace,
    service,
    namespace,
    cluster,
    publishNotReady: stringField(annotations, ANNOTATION_PUBLISH_NOT_READY) === 'true',
    ports: readPorts(ownField(slice, 'ports'), 'ports', report),
    endpoints,
  };
}

function readEndpoint(raw: unknown, where: string, report: (reason: string) => null): SliceEndpoint | null {
  if (!isJson(raw)) return report(`${where} is not an object`);
  const rawAddresses = ownField(raw, 'addresses');
  if (!Array.isArray(rawAddresses) || !rawAddresses.every((a) => typeof a === 'string')) {
    return report(`${where}.addresses is not a list of strings`);
  }
  const conditions = ownField(raw, 'conditions') ?? {};
  if (!isJson(conditions)) return report(`${where}.conditions is not an object`);
  const ready = ownField(conditions, 'ready') ?? null;
  if (ready !== null && typeof ready !== 'boolean')
    return report(`${where}.conditions.ready is not a boolean`);

  let hostname = stringField(raw, 'hostname') ?? '';
  const targetRef = objectField(raw, 'targetRef');
  if (hostname === '' && targetRef && stringField(targetRef, 'kind')?.toLowerCase() === 'pod') {
    hostname = stringField(targetRef, 'name') ?? '';
  }
  if (hostname !== '' && !isDnsLabel(hostname)) {
    report(`${where} host name ${show(hostname)} is not a DNS label; its addresses get no per-host name`);
    hostname = '';
  }
  return { addresses: rawAddresses as string[], ready, hostname };
}

const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

function readPorts(raw: unknown, where: string, report: (reason: string) => null): ServicePort[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report(`${where} is not a list`);
    return [];
  }
  const ports: ServicePort[] = [];
  raw.forEach((entry: unknown, i) => {
    const port = readPort(entry, `${where}[${i}]`, report);
    if (port) ports.push(port);
  });
  return ports;
}

/**
 * One port, read as Lighthouse reads it (LH `toServicePorts` / `mcsServicePortsFrom`): a missing
 * name is "", which is valid for a Service with one unnamed port: real lighthouse-agents and
 * `moor export` write `{port: 7777, protocol: TCP}`. Such a port is answered by a plain SRV query
 * (no `_port._proto.` prefix) and by no filtered one, as upstream. Protocol and port must be
 * usable; appProtocol defaults to "".
 */
function readPort(entry: unknown, at: string, report: (reason: string) => null): ServicePort | null {
  const read = readPortEntry(entry);
  if (typeof read === 'string') return report(`${at} ${read}`);
  const { name = '', protocol, port, appProtocol = '' } = read;
  if (protocol === undefined || !PROTOCOLS.includes(protocol)) {
    return report(`${at} has unknown protocol ${show(protocol ?? '')}`);
  }
  if (port < 1 || port > 65535) return report(`${at} has invalid port ${show(port)}`);
  return { name, protocol: protocol as PortProtocol, port, appProtocol };
}
