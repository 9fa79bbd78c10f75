// Builders for our own Cluster/Endpoint (spec §2.6). They throw on bad local input, because it is
// our configuration; the tolerant readers for everybody else's objects are in objectReader.ts.
import { MoorError } from '../errors.ts';
import {
  cidrContains,
  contains,
  formatCidr,
  type Ipv4Cidr,
  parseIpv4,
  tryParseCidr,
  tryParseIpv4,
} from '../net/ipv4.ts';
import {
  assertValidClusterId,
  CLUSTER_ID_LABEL,
  cableName,
  clusterObjectName,
  endpointName,
} from './names.ts';
import { isWireguardKey } from './psk.ts';
import {
  BACKEND_CONFIG_PUBLIC_KEY,
  BACKEND_CONFIG_UDP_PORT,
  type ClusterObject,
  type ClusterSpec,
  DEFAULT_COLOR_CODES,
  type EndpointObject,
  type EndpointSpec,
  SUBMARINER_API_VERSION,
  WIREGUARD_BACKEND,
} from './types.ts';

export interface ClusterObjectInput {
  clusterId: string;
  namespace: string;
  serviceCidrs: readonly string[];
  clusterCidrs: readonly string[];
  globalCidrs?: readonly string[];
}

export function buildClusterObject(input: ClusterObjectInput): ClusterObject {
  assertValidClusterId(input.clusterId);
  const spec: ClusterSpec = {
    cluster_id: input.clusterId,
    color_codes: [...DEFAULT_COLOR_CODES],
    service_cidr: input.serviceCidrs.map((c) => localCidr(c, 'service CIDR')),
    cluster_cidr: input.clusterCidrs.map((c) => localCidr(c, 'cluster CIDR')),
    global_cidr: (input.globalCidrs ?? []).map((c) => localCidr(c, 'global CIDR')),
  };
  if (clusterCidrsOf(spec).length === 0) {
    invalid(
      'the Cluster has no CIDRs',
      'give at least one cluster CIDR that contains the addresses you advertise',
    );
  }
  return {
    apiVersion: SUBMARINER_API_VERSION,
    kind: 'Cluster',
    metadata: {
      name: clusterObjectName(input.clusterId),
      namespace: input.namespace,
      labels: { [CLUSTER_ID_LABEL]: input.clusterId },
    },
    spec,
  };
}

export interface EndpointObjectInput {
  /** Our own Cluster spec: every subnet must lie inside its CIDRs, or remote gateways drop us. */
  cluster: ClusterSpec;
  namespace: string;
  hostname: string;
  privateIp: string;
  publicIp?: string;
  natEnabled: boolean;
  subnets: readonly string[];
  publicKey: string;
  udpPort: number;
  healthCheckIp?: string;
  /** Also write `healthCheckIPs`; only when the broker's Endpoint CRD has it (spec §0). */
  pluralFields?: boolean;
}

export function buildEndpointObject(input: EndpointObjectInput): EndpointObject {
  const clusterId = input.cluster.cluster_id;
  assertValidClusterId(clusterId);
  if (input.hostname === '') invalid('the Endpoint hostname is empty', 'set the host name moor publishes');
  const privateIp = localAddress(input.privateIp, 'private IP');
  const publicIp =
    input.publicIp === undefined || input.publicIp === '' ? '' : localAddress(input.publicIp, 'public IP');
  if (!isWireguardKey(input.publicKey))
    invalid('the WireGuard public key is not 32 bytes of base64', 'use `wg pubkey` output');
  if (!Number.isInteger(input.udpPort) || input.udpPort < 1 || input.udpPort > 65535) {
    invalid(
      `UDP port ${input.udpPort} is not a port number`,
      'use a port between 1 and 65535 (Submariner uses 4500)',
    );
  }
  const clusterCidrs = clusterCidrsOf(input.cluster);
  if (input.subnets.length === 0)
    invalid('the Endpoint has no subnets', 'advertise at least your static IP as a /32');
  const subnets = input.subnets.map((text) => {
    const subnet = parseLocalCidr(text, 'subnet');
    if (!clusterCidrs.some((outer) => cidrContains(outer, subnet))) {
      invalid(
        `subnet ${text} is not inside the Cluster's CIDRs`,
        'add a cluster CIDR that contains it; remote gateways reject undeclared subnets',
      );
    }
    for (const [label, address] of [
      ['private IP', privateIp],
      ['public IP', publicIp],
    ] as const) {
      if (address !== '' && contains(subnet, parseIpv4(address))) {
        invalid(
          `the ${label} ${address} is inside the advertised subnet ${text}`,
          'the tunnel endpoint address must not be routed through the tunnel; advertise a different address',
        );
      }
    }
    return formatCidr(subnet);
  });
  const spec: EndpointSpec = {
    cluster_id: clusterId,
    cable_name: cableName(clusterId, privateIp),
    hostname: input.hostname,
    private_ip: privateIp,
    public_ip: publicIp,
    nat_enabled: input.natEnabled,
    subnets,
    backend: WIREGUARD_BACKEND,
    // No natt-discovery-port: we do not answer NAT discovery, so remotes use the legacy rule.
    backend_config: {
      [BACKEND_CONFIG_PUBLIC_KEY]: input.publicKey,
      [BACKEND_CONFIG_UDP_PORT]: String(input.udpPort),
    },
  };
  if (input.healthCheckIp !== undefined && input.healthCheckIp !== '') {
    const ip = localAddress(input.healthCheckIp, 'health-check IP');
    if (!subnets.some((s) => contains(parseLocalCidr(s, 'subnet'), parseIpv4(ip)))) {
      invalid(
        `the health-check IP ${ip} is not inside the advertised subnets`,
        'remote gateways ping it through the tunnel; pick an address inside your subnets',
      );
    }
    spec.healthCheckIP = ip;
    if (input.pluralFields === true) spec.healthCheckIPs = [ip];
  }
  return {
    apiVersion: SUBMARINER_API_VERSION,
    kind: 'Endpoint',
    metadata: {
      name: endpointName(clusterId, spec.cable_name),
      namespace: input.namespace,
      labels: { [CLUSTER_ID_LABEL]: clusterId },
    },
    spec,
  };
}

/** All IPv4 CIDRs a Cluster declares (service ∪ cluster ∪ global); unparsable entries skipped. */
export function clusterCidrsOf(spec: ClusterSpec): Ipv4Cidr[] {
  const all = [...spec.service_cidr, ...spec.cluster_cidr, ...spec.global_cidr];
  return all.flatMap((text) => {
    const parsed = tryParseCidr(text, { allowHostBits: true });
    return parsed.ok ? [parsed.value] : [];
  });
}

/** The health-check address to ping: plural field first, then the singular one (spec §0). */
export function endpointHealthCheckIpv4(spec: EndpointSpec): string | undefined {
  const candidates = [...(spec.healthCheckIPs ?? []), spec.healthCheckIP ?? ''];
  return candidates.find((ip) => tryParseIpv4(ip).ok);
}

function invalid(message: string, hint: string): never {
  throw new MoorError('invalid-argument', message, { hint });
}

function parseLocalCidr(text: string, label: string): Ipv4Cidr {
  const parsed = tryParseCidr(text);
  if (!parsed.ok)
    invalid(
      `${label}: ${parsed.error}`,
      'write networks as address/prefix with the host bits cleared, like 10.0.0.0/16',
    );
  return parsed.value;
}

function localCidr(text: string, label: string): string {
  return formatCidr(parseLocalCidr(text, label));
}

function localAddress(text: string, label: string): string {
  const parsed = tryParseIpv4(text);
  if (!parsed.ok)
    invalid(`${label}: ${parsed.error}`, 'write IPv4 addresses as four decimal numbers, like 10.0.0.1');
  return text;
}
