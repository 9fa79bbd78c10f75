// Builders of Cluster and Endpoint objects for the planner's tests.
import type { ClusterObject, EndpointObject } from '../broker/types.ts';

export const key = (n: number) => Buffer.alloc(32, n).toString('base64');
export const T1 = '2026-01-01T00:00:00Z';
export const T2 = '2026-02-01T00:00:00Z';
export const T3 = '2026-03-01T00:00:00Z';

export function cluster(id: string, cidrs: readonly string[], created = T1): ClusterObject {
  return {
    apiVersion: 'submariner.io/v1',
    kind: 'Cluster',
    metadata: { name: id, labels: { 'submariner-io/clusterID': id }, creationTimestamp: created },
    spec: { cluster_id: id, service_cidr: [], cluster_cidr: [...cidrs], global_cidr: [] },
  };
}

export interface EndpointOptions {
  name?: string;
  created?: string;
  subnets?: string[];
  privateIp?: string;
  publicIp?: string;
  nat?: boolean;
  backend?: string;
  config?: Record<string, string>;
  label?: string | null;
  healthCheckIP?: string;
  healthCheckIPs?: string[];
  key?: string;
}

export function endpoint(id: string, o: EndpointOptions = {}): EndpointObject {
  const result: EndpointObject = {
    apiVersion: 'submariner.io/v1',
    kind: 'Endpoint',
    metadata: {
      name: o.name ?? `${id}-submariner-cable-${id}-172-16-0-1`,
      labels: o.label === null ? {} : { 'submariner-io/clusterID': o.label ?? id },
      creationTimestamp: o.created ?? T1,
    },
    spec: {
      cluster_id: id,
      cable_name: `submariner-cable-${id}-172-16-0-1`,
      hostname: `${id}-gw`,
      subnets: o.subnets ?? ['10.1.0.0/16'],
      private_ip: o.privateIp ?? '172.16.0.1',
      public_ip: o.publicIp ?? '',
      nat_enabled: o.nat ?? false,
      backend: o.backend ?? 'wireguard',
      backend_config: o.config ?? { publicKey: o.key ?? key(1), 'udp-port': '4500' },
    },
  };
  if (o.healthCheckIP !== undefined) result.spec.healthCheckIP = o.healthCheckIP;
  if (o.healthCheckIPs !== undefined) result.spec.healthCheckIPs = o.healthCheckIPs;
  return result;
}
