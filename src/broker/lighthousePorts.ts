// spec.ports of the aggregated ServiceImport (spec §4.2 "Ports"). Every exporting agent recomputes
// them from the broker EndpointSlices, so ours must come out exactly as LH `setServicePorts` does;
// otherwise agents would keep rewriting each other's result.
import type { ExportPort } from './lighthouseInput.ts';
import { LABEL_SERVICE_NAME, LABEL_SOURCE_NAMESPACE, TIMESTAMP_ANNOTATION_PREFIX } from './lighthouseKeys.ts';
import { ownField, portsBySourceCluster } from './lighthouseRead.ts';
import type { ServiceImportPort } from './lighthouseTypes.ts';

/**
 * spec.ports of an aggregated ClusterSetIP import, computed like LH `setServicePorts`: the broker
 * EndpointSlices of the service named by the import's annotations, one port list per source
 * cluster, united by port name from the oldest exporter (timestamp annotation) to the newest.
 * Clusters without a valid timestamp annotation do not contribute. Headless imports keep `[]`.
 */
export function aggregatePorts(
  slices: readonly unknown[],
  serviceImportAnnotations: Readonly<Record<string, string>>,
): ServiceImportPort[] {
  const serviceName = ownField(serviceImportAnnotations, LABEL_SERVICE_NAME);
  const namespace = ownField(serviceImportAnnotations, LABEL_SOURCE_NAMESPACE);
  if (serviceName === undefined || namespace === undefined) return [];
  const byCluster = portsBySourceCluster(slices, serviceName, namespace);
  return unionByName(clustersByExportTime(serviceImportAnnotations).map((c) => byCluster.get(c) ?? []));
}

/** Exporting clusters, oldest first (ties by name); unparsable timestamps are skipped, as upstream. */
export function clustersByExportTime(annotations: Readonly<Record<string, string>>): string[] {
  const found: Array<{ cluster: string; at: bigint }> = [];
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(TIMESTAMP_ANNOTATION_PREFIX)) continue;
    const at = parseInt64(value);
    if (at !== undefined) found.push({ cluster: key.slice(TIMESTAMP_ANNOTATION_PREFIX.length), at });
  }
  found.sort((a, b) => (a.at === b.at ? compareText(a.cluster, b.cluster) : a.at < b.at ? -1 : 1));
  return found.map((f) => f.cluster);
}

/** admiral `slices.Union` keyed by name, folded over the lists in order. */
export function unionByName(lists: readonly (readonly ServiceImportPort[])[]): ServiceImportPort[] {
  const result: ServiceImportPort[] = [];
  for (const list of lists) {
    const present = new Set(result.map((p) => p.name ?? ''));
    for (const port of list) if (!present.has(port.name ?? '')) result.push(port);
  }
  return result;
}

export function toServiceImportPort(port: ExportPort): ServiceImportPort {
  const out: ServiceImportPort = { protocol: port.protocol, port: port.port };
  if (port.name !== '') out.name = port.name;
  if (port.appProtocol !== undefined) out.appProtocol = port.appProtocol;
  return out;
}

function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]{1,19}$/.test(text)) return undefined;
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
