// A cluster gateway's broker objects, as a real Submariner gateway publishes them (spec §2.1,
// §2.2, §2.6): Cluster with the service and pod CIDRs; one Endpoint whose cable name comes from
// the node's private IP and whose subnets are those CIDRs. The active gateway deletes every other
// Endpoint of its cluster (a previous active node's), so exactly one remains.
import { CLUSTER_ID_LABEL } from '../broker/names.ts';
import { buildClusterObject, buildEndpointObject } from '../broker/objects.ts';
import { deleteIfExists, ensureObject, type NamedObject } from '../k8s/objects.ts';
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import type { KubeRestClient } from '../k8s/rest.ts';

export interface GatewayIdentity {
  clusterId: string;
  namespace: string;
  serviceCidrs: string[];
  clusterCidrs: string[];
  hostname: string;
  privateIp: string;
  publicIp: string;
  port: number;
  healthCheckIp: string | undefined;
}

export function gatewayObjects(id: GatewayIdentity, publicKey: string) {
  const cluster = buildClusterObject({
    clusterId: id.clusterId,
    namespace: id.namespace,
    serviceCidrs: id.serviceCidrs,
    clusterCidrs: id.clusterCidrs,
  });
  const endpoint = buildEndpointObject({
    cluster: cluster.spec,
    namespace: id.namespace,
    hostname: id.hostname,
    privateIp: id.privateIp,
    publicIp: id.publicIp,
    natEnabled: id.publicIp !== '' && id.publicIp !== id.privateIp,
    subnets: [...id.serviceCidrs, ...id.clusterCidrs],
    publicKey,
    udpPort: id.port,
    ...(id.healthCheckIp ? { healthCheckIp: id.healthCheckIp } : {}),
  });
  return { cluster, endpoint };
}

/** Publish our Cluster and Endpoint and remove other Endpoints of our cluster; returns our Endpoint's name. */
export async function publishGateway(
  client: KubeRestClient,
  id: GatewayIdentity,
  publicKey: string,
): Promise<string> {
  const { cluster, endpoint } = gatewayObjects(id, publicKey);
  // In parallel: after a failover the Endpoint (the new key) is what every member waits for,
  // and the Cluster normally exists already.
  await Promise.all([
    ensureObject(client, brokerPaths.clusters(id.namespace), cluster as unknown as NamedObject),
    ensureObject(client, brokerPaths.endpoints(id.namespace), endpoint as unknown as NamedObject),
  ]);
  const selector = encodeURIComponent(`${CLUSTER_ID_LABEL}=${id.clusterId}`);
  const ours = await client.get<{ items?: Array<{ metadata: { name: string } }> }>(
    `${brokerPaths.endpoints(id.namespace)}?labelSelector=${selector}`,
  );
  for (const e of ours.items ?? []) {
    if (e.metadata.name !== endpoint.metadata.name) {
      await deleteIfExists(client, itemPath(brokerPaths.endpoints(id.namespace), e.metadata.name));
    }
  }
  return endpoint.metadata.name;
}
