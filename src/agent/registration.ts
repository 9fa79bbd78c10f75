// The host's own broker objects (spec §2.6): one Cluster whose CIDRs are the host's addresses,
// and exactly one Endpoint. Published by `moor join` and re-asserted by the agent on every
// resync, so an object deleted by hand comes back and a changed address updates it.
import { CLUSTER_ID_LABEL, clusterObjectName } from '../broker/names.ts';
import { buildClusterObject, buildEndpointObject } from '../broker/objects.ts';
import type { ClusterObject, EndpointObject } from '../broker/types.ts';
import { deleteIfExists, ensureObject, type NamedObject, type WriteOutcome } from '../k8s/objects.ts';
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import type { HostState } from './state.ts';

export function registrationObjects(
  state: HostState,
  publicKey: string,
): { cluster: ClusterObject; endpoint: EndpointObject } {
  const subnets = state.addresses.map((a) => `${a}/32`);
  const cluster = buildClusterObject({
    clusterId: state.clusterId,
    namespace: state.broker.namespace,
    serviceCidrs: [],
    clusterCidrs: subnets,
  });
  const endpoint = buildEndpointObject({
    cluster: cluster.spec,
    namespace: state.broker.namespace,
    hostname: state.hostname,
    privateIp: state.privateIp,
    publicIp: state.publicIp,
    natEnabled: state.natEnabled,
    subnets,
    publicKey,
    udpPort: state.port,
    healthCheckIp: state.addresses[0],
  });
  return { cluster, endpoint };
}

export interface PublishOutcome {
  cluster: WriteOutcome;
  endpoint: WriteOutcome;
  endpointName: string;
  /** Our older Endpoints (another cable name) that were deleted: exactly one may exist. */
  removedEndpoints: string[];
}

export async function publishRegistration(
  client: KubeRestClient,
  state: HostState,
  publicKey: string,
): Promise<PublishOutcome> {
  const { cluster, endpoint } = registrationObjects(state, publicKey);
  const ns = state.broker.namespace;
  // Cluster first: remote gateways reject an Endpoint whose Cluster they have not seen.
  const clusterOutcome = await ensureObject(
    client,
    brokerPaths.clusters(ns),
    cluster as unknown as NamedObject,
  );
  const endpointOutcome = await ensureObject(
    client,
    brokerPaths.endpoints(ns),
    endpoint as unknown as NamedObject,
  );
  const removedEndpoints: string[] = [];
  for (const name of await ourEndpointNames(client, state)) {
    if (name === endpoint.metadata.name) continue;
    if (await deleteIfExists(client, itemPath(brokerPaths.endpoints(ns), name))) removedEndpoints.push(name);
  }
  return {
    cluster: clusterOutcome,
    endpoint: endpointOutcome,
    endpointName: endpoint.metadata.name,
    removedEndpoints,
  };
}

export async function ourEndpointNames(client: KubeRestClient, state: HostState): Promise<string[]> {
  const selector = encodeURIComponent(`${CLUSTER_ID_LABEL}=${state.clusterId}`);
  const list = await client.get<{ items?: Array<{ metadata?: { name?: string } }> }>(
    `${brokerPaths.endpoints(state.broker.namespace)}?labelSelector=${selector}`,
  );
  return (list.items ?? []).map((i) => i.metadata?.name ?? '').filter(Boolean);
}

/** Delete our Endpoint(s) and Cluster; returns what was deleted. Missing objects are fine. */
export async function withdrawRegistration(client: KubeRestClient, state: HostState): Promise<string[]> {
  const ns = state.broker.namespace;
  const deleted: string[] = [];
  for (const name of await ourEndpointNames(client, state)) {
    if (await deleteIfExists(client, itemPath(brokerPaths.endpoints(ns), name)))
      deleted.push(`Endpoint ${name}`);
  }
  const clusterName = clusterObjectName(state.clusterId);
  if (await deleteIfExists(client, itemPath(brokerPaths.clusters(ns), clusterName)))
    deleted.push(`Cluster ${clusterName}`);
  return deleted;
}
