// A hostile member of a clusterset: its own ServiceAccount with Submariner's member Role, as
// `subctl join` makes for any cluster, so it can write whatever Cluster and Endpoint objects a
// real member could. Its Cluster declares 0.0.0.0/0, so only moor's other checks can stop it.
import { randomBytes } from 'node:crypto';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Clusterset } from './clusterset.ts';
import { serviceAccountWithRole } from './kube.ts';

export interface HostileEndpointSpec {
  subnets: string[];
  private_ip?: string;
}

export interface HostileMember {
  readonly id: string;
  /** Publish an Endpoint named `name` (a fresh public key each time). */
  publish(name: string, spec: HostileEndpointSpec): Promise<void>;
  remove(name: string): Promise<void>;
}

const GROUP = { group: 'submariner.io', version: 'v1' } as const;

export async function hostileMember(cs: Clusterset, id = 'evil'): Promise<HostileMember> {
  const namespace = cs.broker.namespace;
  const token = await serviceAccountWithRole(
    cs.api.kubeConfig(),
    namespace,
    `cluster-${id}`,
    'submariner-k8s-broker-cluster',
  );
  const api = cs.api.kubeConfig(token).makeApiClient(CustomObjectsApi);
  const labels = { 'submariner-io/clusterID': id };
  await api.createNamespacedCustomObject({
    ...GROUP,
    namespace,
    plural: 'clusters',
    body: {
      apiVersion: 'submariner.io/v1',
      kind: 'Cluster',
      metadata: { name: id, labels },
      spec: {
        cluster_id: id,
        color_codes: ['blue'],
        cluster_cidr: ['0.0.0.0/0'],
        service_cidr: [],
        global_cidr: [],
      },
    },
  });
  return {
    id,
    publish: async (name, spec) => {
      await api.createNamespacedCustomObject({
        ...GROUP,
        namespace,
        plural: 'endpoints',
        body: {
          apiVersion: 'submariner.io/v1',
          kind: 'Endpoint',
          metadata: { name, labels },
          spec: {
            cluster_id: id,
            cable_name: `submariner-cable-${name}`,
            hostname: `${id}-gw`,
            subnets: spec.subnets,
            private_ip: spec.private_ip ?? '10.99.66.6',
            public_ip: '',
            nat_enabled: false,
            backend: 'wireguard',
            backend_config: { publicKey: randomBytes(32).toString('base64'), 'udp-port': '4500' },
          },
        },
      });
    },
    remove: async (name) => {
      await api.deleteNamespacedCustomObject({ ...GROUP, namespace, plural: 'endpoints', name });
    },
  };
}
