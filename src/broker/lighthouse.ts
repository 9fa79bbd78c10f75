// The aggregated ServiceImport `<svc>-<ns>` on the broker (spec §4.2, §4.4), as pure functions
// over plain JSON: a pseudo-cluster must edit it exactly as a real Lighthouse agent does
// (LH service_import.go `Distribute`, service_import_aggregator.go), because every agent in the
// clusterset edits the same object. Existing objects are written by other members, so they are
// read without trust, and every field we do not own is carried over untouched for the PUT.
import { MoorError } from '../errors.ts';
import {
  assertBrokerNamespace,
  assertExportTimestamp,
  assertServiceIdentity,
  type ExportPort,
  validatedPorts,
} from './lighthouseInput.ts';
import {
  ANNOTATION_USE_CLUSTERSET_IP,
  LABEL_SERVICE_NAME,
  LABEL_SOURCE_NAMESPACE,
  MCS_API_VERSION,
  TIMESTAMP_ANNOTATION_PREFIX,
} from './lighthouseKeys.ts';
import { clustersByExportTime, toServiceImportPort, unionByName } from './lighthousePorts.ts';
import { ownField, readServiceImport } from './lighthouseRead.ts';
import type {
  ClusterStatus,
  ServiceImportObject,
  ServiceImportPort,
  ServiceImportType,
  SessionAffinity,
  SessionAffinityConfig,
} from './lighthouseTypes.ts';
import { assertValidClusterId, ensureValidName } from './names.ts';

export interface ServiceImportInput {
  clusterId: string;
  serviceName: string;
  serviceNamespace: string;
  /** Sets metadata.namespace when given; the REST path names it anyway. */
  brokerNamespace?: string;
  type: ServiceImportType;
  /** The service's ports; they go into spec.ports only for ClusterSetIP. */
  ports: readonly ExportPort[];
  /** When we first exported, Unix ns (see `unixNanos`). Keep it stable: the oldest exporter wins. */
  exportTimestampNs: string;
  /** Defaults to "None", what Kubernetes defaults a Service to, so real agents see no conflict. */
  sessionAffinity?: SessionAffinity;
  /** ClientIP only; defaults to 10800 s like a Kubernetes Service. */
  sessionAffinityConfig?: SessionAffinityConfig;
}

export type ServiceImportMerge =
  | {
      ok: true;
      /** True when there was no object: POST it; otherwise PUT it. Then PUT /status with statusClusters. */
      created: boolean;
      object: ServiceImportObject;
      /** The status subresource ignores status in POST/PUT of the object; send it separately. */
      statusClusters: ClusterStatus[];
    }
  | { ok: false; reason: 'conflicting-type'; existingType: string; message: string }
  | { ok: false; reason: 'name-collision' | 'malformed'; message: string };

export type ServiceImportWithdrawal =
  | {
      ok: true;
      object: ServiceImportObject;
      statusClusters: ClusterStatus[];
      /** No exporter is left: delete the object, with its resourceVersion as precondition. */
      empty: boolean;
      /** False when we were not listed and had no timestamp: nothing to write. */
      changed: boolean;
    }
  | { ok: false; reason: 'malformed'; message: string };

const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;

/** `<svc>-<ns>`, LH `brokerAggregatedServiceImportName`. */
export function serviceImportName(serviceName: string, serviceNamespace: string): string {
  return `${serviceName}-${serviceNamespace}`;
}

/** `timestamp.submariner.io/` + the sanitised cluster ID (LH `makeTimestampAnnotationKey`). */
export function timestampAnnotationKey(clusterId: string): string {
  return TIMESTAMP_ANNOTATION_PREFIX + sanitisedClusterId(clusterId);
}

/** LH `sanitizeClusterID`: cut to 63 characters, then admiral's EnsureValidName. */
export function sanitisedClusterId(clusterId: string): string {
  return ensureValidName(clusterId.slice(0, 63));
}

/**
 * Creates the aggregated ServiceImport, or merges our export into the existing one the way
 * `Distribute` does: refuse a type conflict, add our timestamp, default use-clusterset-ip to
 * "false" on ClusterSetIP imports, take session affinity only if we are now the oldest exporter, and list our cluster once.
 * On update our ports are added to spec.ports by name; recompute the exact list with
 * `aggregatePorts` once our EndpointSlice is on the broker (spec §4.4 step 3).
 */
export function mergeServiceImport(existing: unknown, input: ServiceImportInput): ServiceImportMerge {
  const ours = checkedInput(input);
  if (existing === undefined) return { ok: true, created: true, ...withStatus(newServiceImport(ours)) };
  const object = readServiceImport(existing);
  if (typeof object === 'string') return { ok: false, reason: 'malformed', message: object };
  const annotations = object.metadata.annotations;
  const exported = `${ownField(annotations, LABEL_SOURCE_NAMESPACE)}/${ownField(annotations, LABEL_SERVICE_NAME)}`;
  if (exported !== `${input.serviceNamespace}/${input.serviceName}`) {
    return {
      ok: false,
      reason: 'name-collision',
      message:
        `ServiceImport ${object.metadata.name} exists but aggregates ${exported}, not ` +
        `${input.serviceNamespace}/${input.serviceName}; Lighthouse names both the same, so only one can be exported`,
    };
  }
  if (object.spec.type !== input.type) {
    return {
      ok: false,
      reason: 'conflicting-type',
      existingType: object.spec.type,
      message:
        `the local service type (${JSON.stringify(input.type)}) does not match the type ` +
        `(${JSON.stringify(object.spec.type)}) of the existing exported service`,
    };
  }
  const spec = { ...object.spec };
  annotations[timestampAnnotationKey(input.clusterId)] = input.exportTimestampNs;
  // The flag belongs to ClusterSetIP imports only (LH MutateOnCreate writes it for them alone);
  // an older ClusterSetIP import without it gets the "false" default, as LH does on migration.
  // LH's update path would add it to a Headless import too, where nothing reads it; we leave
  // Headless imports without it, so they look exactly as their creator wrote them.
  if (
    object.spec.type === 'ClusterSetIP' &&
    ownField(annotations, ANNOTATION_USE_CLUSTERSET_IP) === undefined
  ) {
    annotations[ANNOTATION_USE_CLUSTERSET_IP] = 'false';
  }
  if (clustersByExportTime(annotations)[0] === sanitisedClusterId(input.clusterId)) {
    spec.sessionAffinity = ours.sessionAffinity;
    if (ours.sessionAffinityConfig === undefined) delete spec.sessionAffinityConfig;
    else spec.sessionAffinityConfig = ours.sessionAffinityConfig;
  }
  if (input.type === 'ClusterSetIP') spec.ports = unionByName([spec.ports, ours.ports]);
  const clusters = object.status.clusters.some((c) => c.cluster === input.clusterId)
    ? object.status.clusters
    : [...object.status.clusters, { cluster: input.clusterId }];
  return {
    ok: true,
    created: false,
    ...withStatus({ ...object, spec, status: { ...object.status, clusters } }),
  };
}

/**
 * Our part of unexporting (LH `updateOnDelete`): drop our status entry and timestamp annotation.
 * Recompute spec.ports with `aggregatePorts` after deleting our EndpointSlices.
 */
export function withdrawFromServiceImport(existing: unknown, clusterId: string): ServiceImportWithdrawal {
  const object = readServiceImport(existing);
  if (typeof object === 'string') return { ok: false, reason: 'malformed', message: object };
  const key = timestampAnnotationKey(clusterId);
  const hadTimestamp = ownField(object.metadata.annotations, key) !== undefined;
  if (hadTimestamp) delete object.metadata.annotations[key];
  // Like admiral's slices.Remove: the first entry with our name goes.
  const index = object.status.clusters.findIndex((c) => c.cluster === clusterId);
  const clusters = object.status.clusters.filter((_, i) => i !== index);
  const result = { ...object, status: { ...object.status, clusters } };
  return {
    ok: true,
    object: result,
    statusClusters: clusters,
    empty: clusters.length === 0,
    changed: hadTimestamp || index !== -1,
  };
}

interface CheckedInput {
  name: string;
  namespace: string | undefined;
  annotations: Record<string, string>;
  type: ServiceImportType;
  ports: ServiceImportPort[];
  sessionAffinity: SessionAffinity;
  sessionAffinityConfig: SessionAffinityConfig | undefined;
  clusterId: string;
}

function checkedInput(input: ServiceImportInput): CheckedInput {
  assertValidClusterId(input.clusterId);
  assertServiceIdentity(input.serviceName, input.serviceNamespace);
  if (input.brokerNamespace !== undefined) assertBrokerNamespace(input.brokerNamespace);
  if (input.type !== 'ClusterSetIP' && input.type !== 'Headless') {
    invalid(
      `service type ${JSON.stringify(input.type)} is not ClusterSetIP or Headless`,
      'pick one of the two',
    );
  }
  const ports = validatedPorts(input.ports, { allowNone: input.type === 'Headless' });
  assertExportTimestamp(input.exportTimestampNs);
  const sessionAffinity = input.sessionAffinity ?? 'None';
  if (sessionAffinity !== 'None' && sessionAffinity !== 'ClientIP') {
    invalid(
      `session affinity ${JSON.stringify(sessionAffinity)} is not None or ClientIP`,
      'pick one of the two',
    );
  }
  let sessionAffinityConfig = input.sessionAffinityConfig;
  if (sessionAffinity === 'None' && sessionAffinityConfig !== undefined) {
    invalid('a session affinity config needs session affinity ClientIP', 'drop the config or set ClientIP');
  }
  if (sessionAffinity === 'ClientIP') {
    const seconds = sessionAffinityConfig?.clientIP.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86400) {
      invalid(
        `ClientIP timeout ${seconds} is out of range`,
        'use 1 to 86400 seconds, as Kubernetes requires',
      );
    }
    sessionAffinityConfig = { clientIP: { timeoutSeconds: seconds } };
  }
  return {
    name: serviceImportName(input.serviceName, input.serviceNamespace),
    namespace: input.brokerNamespace,
    annotations: {
      [LABEL_SERVICE_NAME]: input.serviceName,
      [LABEL_SOURCE_NAMESPACE]: input.serviceNamespace,
      [timestampAnnotationKey(input.clusterId)]: input.exportTimestampNs,
    },
    type: input.type,
    ports: ports.map(toServiceImportPort),
    sessionAffinity,
    sessionAffinityConfig,
    clusterId: input.clusterId,
  };
}

function newServiceImport(ours: CheckedInput): ServiceImportObject {
  const annotations = { ...ours.annotations };
  // MutateOnCreate writes the flag for ClusterSetIP only; we never allocate a clusterset IP.
  if (ours.type === 'ClusterSetIP') annotations[ANNOTATION_USE_CLUSTERSET_IP] = 'false';
  const object: ServiceImportObject = {
    apiVersion: MCS_API_VERSION,
    kind: 'ServiceImport',
    metadata: { name: ours.name, annotations },
    spec: {
      type: ours.type,
      ports: ours.type === 'ClusterSetIP' ? ours.ports : [],
      sessionAffinity: ours.sessionAffinity,
    },
    status: { clusters: [{ cluster: ours.clusterId }] },
  };
  if (ours.namespace !== undefined) object.metadata.namespace = ours.namespace;
  if (ours.sessionAffinityConfig !== undefined)
    object.spec.sessionAffinityConfig = ours.sessionAffinityConfig;
  return object;
}

function withStatus(object: ServiceImportObject): {
  object: ServiceImportObject;
  statusClusters: ClusterStatus[];
} {
  return { object, statusClusters: object.status.clusters.map((c) => ({ cluster: c.cluster })) };
}

function invalid(message: string, hint: string): never {
  throw new MoorError('invalid-argument', message, { hint });
}
