// Our Lighthouse EndpointSlices on the broker (spec §4.3, §4.4 step 2): one per exported service,
// under a name we can compute, written only when it differs, and found again by our labels.
import {
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SOURCE_NAMESPACE,
  MANAGED_BY_LIGHTHOUSE,
} from '../broker/lighthouseKeys.ts';
import { isJson, type Json } from '../broker/lighthouseRead.ts';
import { type ExportEndpointSlice, exportEndpointSliceName } from '../broker/lighthouseSlices.ts';
import { CLUSTER_ID_LABEL } from '../broker/names.ts';
import { deepEqual } from '../k8s/objects.ts';
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import {
  type BrokerApi,
  getIfExists,
  listItems,
  retryOnConflict,
  serviceSliceLabels,
  withLabelSelector,
} from './brokerApi.ts';
import { listsCluster } from './serviceImportWriter.ts';
import { exportKey } from './store.ts';

export type SliceOutcome = 'created' | 'updated' | 'unchanged';

export interface ServiceRef {
  name: string;
  namespace: string;
}

export function slicePath(brokerNamespace: string, sliceName: string): string {
  return itemPath(brokerPaths.endpointSlices(brokerNamespace), sliceName);
}

export async function ensureSlice(
  api: BrokerApi,
  brokerNamespace: string,
  desired: ExportEndpointSlice,
): Promise<SliceOutcome> {
  const path = slicePath(brokerNamespace, desired.metadata.name);
  return retryOnConflict(`EndpointSlice ${path}`, async () => {
    const current = await getIfExists(api, path);
    if (current === undefined) {
      await api.create(brokerPaths.endpointSlices(brokerNamespace), desired);
      return 'created';
    }
    if (sliceMatches(current, desired)) return 'unchanged';
    const metadata = isJson(current.metadata) ? current.metadata : {};
    // Keeps resourceVersion from the read: a concurrent write makes this a 409 and we redo it.
    await api.replace(path, {
      ...current,
      ...desired,
      metadata: { ...metadata, labels: desired.metadata.labels, annotations: desired.metadata.annotations },
    });
    return 'updated';
  });
}

/** The ready flag of our slice of the service, or undefined when there is none. */
export async function ourSliceReady(
  api: BrokerApi,
  brokerNamespace: string,
  clusterId: string,
  service: ServiceRef,
): Promise<boolean | undefined> {
  const name = exportEndpointSliceName(clusterId, service.name, service.namespace);
  const current = await getIfExists(api, slicePath(brokerNamespace, name));
  const endpoints = current?.endpoints;
  if (!Array.isArray(endpoints) || endpoints.length === 0) return undefined;
  return endpoints.every((e) => isJson(e) && isJson(e.conditions) && e.conditions.ready === true);
}

/** Our slices of one service: all carrying our cluster label and the service's labels. */
export async function ourSliceNames(
  api: BrokerApi,
  brokerNamespace: string,
  clusterId: string,
  service: ServiceRef,
): Promise<string[]> {
  const labels = { ...serviceSliceLabels(service.name, service.namespace), [CLUSTER_ID_LABEL]: clusterId };
  const listed = await listItems(api, withLabelSelector(brokerPaths.endpointSlices(brokerNamespace), labels));
  return listed.flatMap((item) => {
    const name = isJson(item.metadata) ? item.metadata.name : undefined;
    return typeof name === 'string' ? [name] : [];
  });
}

/** The services the broker says we export: our slices, and imports that list us. */
export async function servicesExportedOnBroker(
  api: BrokerApi,
  brokerNamespace: string,
  clusterId: string,
): Promise<ServiceRef[]> {
  const found = new Map<string, ServiceRef>();
  const add = (keys: unknown) => {
    if (!isJson(keys)) return;
    const name = keys[LABEL_SERVICE_NAME];
    const namespace = keys[LABEL_SOURCE_NAMESPACE];
    if (typeof name === 'string' && typeof namespace === 'string')
      found.set(exportKey(name, namespace), { name, namespace });
  };
  const slices = await listItems(
    api,
    withLabelSelector(brokerPaths.endpointSlices(brokerNamespace), {
      [LABEL_MANAGED_BY]: MANAGED_BY_LIGHTHOUSE,
      [CLUSTER_ID_LABEL]: clusterId,
    }),
  );
  for (const slice of slices) add(isJson(slice.metadata) ? slice.metadata.labels : undefined);
  for (const si of await listItems(api, brokerPaths.serviceImports(brokerNamespace))) {
    if (listsCluster(si, clusterId)) add(isJson(si.metadata) ? si.metadata.annotations : undefined);
  }
  return [...found.values()];
}

/** Labels and annotations exactly; body fields as far as we set them (the server may add defaults). */
export function sliceMatches(current: Json, desired: ExportEndpointSlice): boolean {
  const metadata = isJson(current.metadata) ? current.metadata : {};
  return (
    deepEqual(metadata.labels ?? {}, desired.metadata.labels) &&
    deepEqual(metadata.annotations ?? {}, desired.metadata.annotations) &&
    current.addressType === desired.addressType &&
    covers(current.endpoints, desired.endpoints) &&
    covers(current.ports ?? [], desired.ports)
  );
}

/** `actual` has every field of `wanted` with the same value; lists must have the same length. */
function covers(actual: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(actual) && actual.length === wanted.length && wanted.every((w, i) => covers(actual[i], w))
    );
  }
  if (isJson(wanted)) return isJson(actual) && Object.entries(wanted).every(([k, v]) => covers(actual[k], v));
  return actual === wanted;
}
