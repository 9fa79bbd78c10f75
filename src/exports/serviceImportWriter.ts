// Read-modify-write of the aggregated ServiceImport `<svc>-<ns>` on the broker, the way a
// Lighthouse agent does it (spec §4.2, §4.4): every exporting member edits this one object, so
// each write carries the resourceVersion it read and is redone from a fresh GET on 409. status is
// a subresource: the object PUT ignores it, so status.clusters goes in a separate PUT /status.
import {
  mergeServiceImport,
  type ServiceImportInput,
  serviceImportName,
  withdrawFromServiceImport,
} from '../broker/lighthouse.ts';
import { aggregatePorts } from '../broker/lighthousePorts.ts';
import { type Json, readServiceImport } from '../broker/lighthouseRead.ts';
import { MoorError } from '../errors.ts';
import { deepEqual } from '../k8s/objects.ts';
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import { isNotFound } from '../k8s/rest.ts';
import {
  type BrokerApi,
  getIfExists,
  listItems,
  resourceVersionOf,
  retryOnConflict,
  serviceSliceLabels,
  withLabelSelector,
} from './brokerApi.ts';

export type ServiceImportOutcome = 'created' | 'updated' | 'unchanged';
export type ServiceImportWithdrawOutcome = 'absent' | 'unchanged' | 'updated' | 'deleted';
export type PortsOutcome = 'updated' | 'unchanged' | 'absent';

/** Set as soon as a write reached the broker, so the caller knows whether to roll back. */
export interface WriteProgress {
  serviceImportWritten: boolean;
}

export function serviceImportPath(brokerNamespace: string, serviceName: string, namespace: string): string {
  return itemPath(brokerPaths.serviceImports(brokerNamespace), serviceImportName(serviceName, namespace));
}

/** Whether `existing` lists `clusterId` in status.clusters (unreadable objects list nobody). */
export function listsCluster(existing: unknown, clusterId: string): boolean {
  if (existing === undefined) return false;
  const read = readServiceImport(existing);
  return typeof read !== 'string' && read.status.clusters.some((c) => c.cluster === clusterId);
}

/**
 * Creates the aggregated import or merges our export into it. `firstRead` is the object the caller
 * already fetched (undefined: absent); later attempts read afresh. Refusals (type conflict, name
 * collision, malformed object) throw before anything is written.
 */
export async function mergeOurExport(
  api: BrokerApi,
  brokerNamespace: string,
  input: ServiceImportInput,
  firstRead: Json | undefined,
  progress: WriteProgress,
): Promise<ServiceImportOutcome> {
  const collection = brokerPaths.serviceImports(brokerNamespace);
  const path = serviceImportPath(brokerNamespace, input.serviceName, input.serviceNamespace);
  let pending: { existing: Json | undefined } | undefined = { existing: firstRead };
  let created = false;
  const outcome = await retryOnConflict(`ServiceImport ${path}`, async () => {
    const existing = pending === undefined ? await getIfExists(api, path) : pending.existing;
    pending = undefined;
    const merge = mergeServiceImport(existing, { ...input, brokerNamespace });
    if (!merge.ok) throw refusal(merge, input, existing);
    let resourceVersion = resourceVersionOf(existing);
    let changed = false;
    if (merge.created) {
      const { status: _ignoredByServer, ...object } = merge.object;
      const response = await api.create(collection, object);
      progress.serviceImportWritten = true;
      created = true;
      resourceVersion = resourceVersionOf(response);
      changed = true;
    } else {
      const current = readServiceImport(existing);
      const sameObject =
        typeof current !== 'string' &&
        deepEqual(current.metadata.annotations, merge.object.metadata.annotations) &&
        deepEqual(current.spec, merge.object.spec);
      if (!sameObject) {
        const response = await api.replace(path, merge.object);
        progress.serviceImportWritten = true;
        resourceVersion = resourceVersionOf(response);
        changed = true;
      }
      if (typeof current !== 'string' && deepEqual(current.status.clusters, merge.statusClusters)) {
        return changed ? 'updated' : 'unchanged';
      }
    }
    await api.replace(`${path}/status`, {
      ...merge.object,
      metadata: { ...merge.object.metadata, resourceVersion },
      status: { ...merge.object.status, clusters: merge.statusClusters },
    });
    progress.serviceImportWritten = true;
    return 'updated';
  });
  return created ? 'created' : outcome;
}

/**
 * Our part of unexporting: drop our status entry and timestamp annotation; when no exporter is
 * left, delete the import with its resourceVersion as precondition, so an export that another
 * member merged in meanwhile makes the DELETE fail (409) and we look again.
 */
export async function withdrawOurEntry(
  api: BrokerApi,
  brokerNamespace: string,
  serviceName: string,
  namespace: string,
  clusterId: string,
): Promise<ServiceImportWithdrawOutcome> {
  const path = serviceImportPath(brokerNamespace, serviceName, namespace);
  return retryOnConflict(`ServiceImport ${path}`, async () => {
    const existing = await getIfExists(api, path);
    if (existing === undefined) return 'absent';
    const withdrawal = withdrawFromServiceImport(existing, clusterId);
    if (!withdrawal.ok) throw malformed(path, withdrawal.message);
    if (!withdrawal.changed) return 'unchanged';
    const resourceVersion = resourceVersionOf(existing);
    if (withdrawal.empty) {
      try {
        await api.delete(path, { preconditions: { resourceVersion } });
      } catch (err) {
        // Gone already: someone else deleted it, which is what we wanted.
        if (isNotFound(err)) return 'absent';
        throw err;
      }
      return 'deleted';
    }
    const response = await api.replace(path, withdrawal.object);
    await api.replace(`${path}/status`, {
      ...withdrawal.object,
      metadata: { ...withdrawal.object.metadata, resourceVersion: resourceVersionOf(response) },
      status: { ...withdrawal.object.status, clusters: withdrawal.statusClusters },
    });
    return 'updated';
  });
}

/**
 * spec.ports recomputed from every member's broker EndpointSlices of the service, as LH
 * `setServicePorts` does after each change (spec §4.2 "Ports"). Headless imports keep theirs.
 */
export async function recomputePorts(
  api: BrokerApi,
  brokerNamespace: string,
  serviceName: string,
  namespace: string,
): Promise<PortsOutcome> {
  const path = serviceImportPath(brokerNamespace, serviceName, namespace);
  const slicesPath = withLabelSelector(
    brokerPaths.endpointSlices(brokerNamespace),
    serviceSliceLabels(serviceName, namespace),
  );
  return retryOnConflict(`ServiceImport ${path} ports`, async () => {
    const existing = await getIfExists(api, path);
    if (existing === undefined) return 'absent';
    const current = readServiceImport(existing);
    if (typeof current === 'string') throw malformed(path, current);
    if (current.spec.type !== 'ClusterSetIP') return 'unchanged';
    const ports = aggregatePorts(await listItems(api, slicesPath), current.metadata.annotations);
    if (deepEqual(current.spec.ports, ports)) return 'unchanged';
    await api.replace(path, { ...current, spec: { ...current.spec, ports } });
    return 'updated';
  });
}

function refusal(
  merge: Exclude<ReturnType<typeof mergeServiceImport>, { ok: true }>,
  input: ServiceImportInput,
  existing: unknown,
): MoorError {
  const what = `cannot export ${input.serviceNamespace}/${input.serviceName}`;
  if (merge.reason !== 'conflicting-type') {
    if (merge.reason === 'malformed')
      return malformed(serviceImportName(input.serviceName, input.serviceNamespace), merge.message);
    return new MoorError('broker-conflict', `${what}: ${merge.message}`, {
      hint: 'export it under another name or namespace',
    });
  }
  const onlyUs = listsCluster(existing, input.clusterId) && !hasOtherExporters(existing, input.clusterId);
  const asExisting = merge.existingType === 'Headless' ? 'with --per-host-names' : 'without --per-host-names';
  return new MoorError('broker-conflict', `${what}: ${merge.message}`, {
    hint: onlyUs
      ? `this host exported it as ${merge.existingType} before: run \`moor unexport service ${input.serviceName} --namespace ${input.serviceNamespace}\` first`
      : `other clusters export it as ${merge.existingType}: export it ${asExisting}, or have them unexport it first`,
  });
}

function hasOtherExporters(existing: unknown, clusterId: string): boolean {
  const read = readServiceImport(existing);
  return typeof read !== 'string' && read.status.clusters.some((c) => c.cluster !== clusterId);
}

function malformed(path: string, why: string): MoorError {
  return new MoorError('invalid-input', `the broker's ServiceImport ${path} cannot be read: ${why}`, {
    hint: 'another member wrote it in a format Lighthouse does not use; ask the broker admin to fix or delete it',
  });
}
