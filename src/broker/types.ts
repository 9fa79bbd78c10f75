// Submariner broker object shapes (spec §2.1, §2.2, §2.6; CRDs in shared/reference/crds/).
// Spec keys are the wire keys, snake_case included, so these types serialise unchanged.

export const SUBMARINER_API_VERSION = 'submariner.io/v1';
export const WIREGUARD_BACKEND = 'wireguard';
/** Tunnel port when an Endpoint has no `udp-port` (port.ExternalTunnel, spec §2.3). */
export const DEFAULT_TUNNEL_PORT = 4500;
/** Gateways always write this placeholder colour (spec §2.1). */
export const DEFAULT_COLOR_CODES: readonly string[] = ['blue'];

/** `backend_config` keys we read or write (spec §2.3). */
export const BACKEND_CONFIG_PUBLIC_KEY = 'publicKey';
export const BACKEND_CONFIG_UDP_PORT = 'udp-port';
export const BACKEND_CONFIG_NATT_DISCOVERY_PORT = 'natt-discovery-port';

export interface ClusterSpec {
  cluster_id: string;
  color_codes?: string[];
  service_cidr: string[];
  cluster_cidr: string[];
  /** `[]`, never null, when globalnet is off: the CRD requires the field. */
  global_cidr: string[];
}

export interface EndpointSpec {
  cluster_id: string;
  cable_name: string;
  /** Deprecated singular field; still written by every version (spec §0). */
  healthCheckIP?: string;
  /** 0.20+ plural field (max 2 items); read before the singular one. */
  healthCheckIPs?: string[];
  hostname: string;
  subnets: string[];
  private_ip: string;
  /** May be "". */
  public_ip: string;
  nat_enabled: boolean;
  backend: string;
  backend_config?: Record<string, string>;
}

/** The part of Kubernetes ObjectMeta that broker objects carry and we use. */
export interface BrokerObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  /** RFC 3339, set by the API server. */
  creationTimestamp?: string;
  resourceVersion?: string;
  uid?: string;
}

export interface ClusterObject {
  apiVersion: typeof SUBMARINER_API_VERSION;
  kind: 'Cluster';
  metadata: BrokerObjectMeta;
  spec: ClusterSpec;
}

export interface EndpointObject {
  apiVersion: typeof SUBMARINER_API_VERSION;
  kind: 'Endpoint';
  metadata: BrokerObjectMeta;
  spec: EndpointSpec;
}

/**
 * Result of reading untrusted broker JSON. `warnings` lists what was tolerated and dropped (for
 * example IPv6 subnets); `reason` names the field that made the object unusable.
 */
export type ParseResult<T> = { ok: true; value: T; warnings: string[] } | { ok: false; reason: string };
