// Which remote clusters become WireGuard peers, computed from broker objects as plain data.
// This is where route hijacking is stopped (architecture principle 7, spec §0 Aug-2026 rules): an
// Endpoint may only claim subnets its own Cluster declares, never ours, and never a subnet another
// member already holds. Seniority decides overlaps, so a newcomer can never displace a member.
// Addresses the cables themselves travel to are protected too: no subnet may contain a member's
// tunnel endpoint, the broker API server, the host's default gateway or a nameserver (a route
// there would pull that traffic into a tunnel and cut the cable), and special-purpose blocks
// (loopback, link-local, multicast, ...) are never routes nor endpoints.
import { CLUSTER_ID_LABEL, clusterObjectName } from '../broker/names.ts';
import { clusterCidrsOf } from '../broker/objects.ts';
import { isWireguardKey } from '../broker/psk.ts';
import {
  BACKEND_CONFIG_PUBLIC_KEY,
  BACKEND_CONFIG_UDP_PORT,
  type ClusterObject,
  DEFAULT_TUNNEL_PORT,
  type EndpointObject,
  WIREGUARD_BACKEND,
} from '../broker/types.ts';
import { MoorError } from '../errors.ts';
import {
  cidrContains,
  contains,
  formatCidr,
  formatIpv4,
  type Ipv4Cidr,
  overlaps,
  sortCidrs,
  specialPurposeAddressReason,
  specialPurposeCidrReason,
  tryParseAddressOrCidr,
  tryParseCidr,
  tryParseIpv4,
} from '../net/ipv4.ts';

/** Where a member's WireGuard peer is reached. */
export interface PeerEndpoint {
  host: string;
  port: number;
}

export interface SelfDescription {
  clusterId: string;
  /** Our own static IPs ("100.70.0.10" or "100.70.0.10/32"). */
  addresses: readonly string[];
  /** Networks of the host's own underlay/local routes; a peer may never claim them. */
  localRoutes: readonly string[];
  /** Subnets we advertise ourselves, if known; protected like addresses. */
  subnets?: readonly string[];
  /** Addresses the host's own traffic depends on; no member subnet may contain one. */
  protected?: readonly ProtectedAddress[];
}

/** An address outside the clusterset that must never be routed into a tunnel. */
export interface ProtectedAddress {
  /** IPv4 address ("10.99.0.2"). */
  address: string;
  /** What it is, for the rejection reason: "the broker API server", "a nameserver". */
  why: string;
}

export interface PlanMembersInput {
  self: SelfDescription;
  clusters: readonly ClusterObject[];
  endpoints: readonly EndpointObject[];
}

export interface Member {
  clusterId: string;
  endpointName: string;
  cableName: string;
  publicKey: string;
  endpoint: PeerEndpoint;
  /** The Endpoint's IPv4 subnets, normalised, sorted numerically, de-duplicated. */
  allowedIPs: string[];
  /** Present only when it lies inside allowedIPs, so pings can travel through the tunnel. */
  healthCheckIP?: string;
  backend: string;
}

/** `superseded` is informational (an older Endpoint of a member); every other code is an error. */
export type RejectionCode =
  | 'superseded'
  | 'label-mismatch'
  | 'unsupported-backend'
  | 'invalid-public-key'
  | 'invalid-port'
  | 'no-usable-address'
  | 'special-purpose-address'
  | 'special-purpose-subnet'
  | 'overlaps-protected'
  | 'covers-member-endpoint'
  | 'endpoint-inside-member'
  | 'no-subnets'
  | 'no-cluster'
  | 'subnet-outside-cluster'
  | 'overlaps-local'
  | 'endpoint-inside-subnets'
  | 'overlaps-member'
  | 'duplicate-public-key';

export interface RejectedEndpoint {
  clusterId: string;
  endpointName: string;
  reason: string;
  code: RejectionCode;
}

export interface MemberPlan {
  members: Member[];
  rejected: RejectedEndpoint[];
}

interface Candidate {
  member: Member;
  subnets: Ipv4Cidr[];
  /** The underlay address our cable to it travels to (private_ip, or public_ip behind NAT):
   * protected once it is accepted. */
  connectTo: { field: string; address: number };
  createdMs: number | undefined;
}

interface ProtectedNetwork {
  cidr: Ipv4Cidr;
  description: string;
}

class Rejected {
  readonly code: RejectionCode;
  readonly reason: string;
  constructor(code: RejectionCode, reason: string) {
    this.code = code;
    this.reason = reason;
  }
}

export function planMembers(input: PlanMembersInput): MemberPlan {
  const local = protectedNetworks(input.self);
  const hostProtected = protectedAddresses(input.self);
  const clusters = indexClusters(input.clusters);
  const rejected: RejectedEndpoint[] = [];
  const reject = (e: EndpointObject, why: Rejected) =>
    rejected.push({
      clusterId: e.spec.cluster_id,
      endpointName: e.metadata.name,
      reason: why.reason,
      code: why.code,
    });

  const byCluster = new Map<string, Candidate[]>();
  for (const endpoint of input.endpoints) {
    if (endpoint.spec.cluster_id === input.self.clusterId) continue;
    const checked = checkEndpoint(endpoint, clusters.get(endpoint.spec.cluster_id), local, hostProtected);
    if (checked instanceof Rejected) {
      reject(endpoint, checked);
      continue;
    }
    const list = byCluster.get(checked.member.clusterId) ?? [];
    list.push(checked);
    byCluster.set(checked.member.clusterId, list);
  }

  // One peer per cluster, like Submariner: the newest valid Endpoint; the others are reported.
  const chosen: Candidate[] = [];
  for (const list of byCluster.values()) {
    list.sort(newestFirst);
    const [winner, ...older] = list as [Candidate, ...Candidate[]];
    chosen.push(winner);
    for (const old of older) {
      rejected.push({
        clusterId: old.member.clusterId,
        endpointName: old.member.endpointName,
        reason: `superseded by the newer Endpoint ${winner.member.endpointName}`,
        code: 'superseded',
      });
    }
  }

  // Seniority is the Cluster object's age: it survives gateway fail-overs (which replace the
  // Endpoint), so a member keeps its place and a later claimant always loses an overlap.
  const seniority = (c: Candidate) => timestampMs(clusters.get(c.member.clusterId));
  chosen.sort(
    (a, b) =>
      compareOldestFirst(seniority(a), seniority(b)) || compareText(a.member.clusterId, b.member.clusterId),
  );
  const accepted: Candidate[] = [];
  for (const candidate of chosen) {
    const conflict = conflictWithAccepted(candidate, accepted);
    if (conflict !== undefined) {
      rejected.push({
        clusterId: candidate.member.clusterId,
        endpointName: candidate.member.endpointName,
        ...conflict,
      });
    } else {
      accepted.push(candidate);
    }
  }

  return {
    members: accepted.map((c) => c.member).sort((a, b) => compareText(a.clusterId, b.clusterId)),
    rejected: rejected.sort(
      (a, b) =>
        compareText(a.clusterId, b.clusterId) ||
        compareText(a.endpointName, b.endpointName) ||
        compareText(a.code, b.code),
    ),
  };
}

function checkEndpoint(
  endpoint: EndpointObject,
  cluster: ClusterObject | undefined,
  local: readonly ProtectedNetwork[],
  hostProtected: readonly ParsedProtected[],
): Candidate | Rejected {
  const spec = endpoint.spec;
  const label = endpoint.metadata.labels?.[CLUSTER_ID_LABEL];
  if (label === undefined) return new Rejected('label-mismatch', `label ${CLUSTER_ID_LABEL} is missing`);
  if (label !== spec.cluster_id) {
    return new Rejected(
      'label-mismatch',
      `label ${CLUSTER_ID_LABEL} is "${label}" but spec.cluster_id is "${spec.cluster_id}"`,
    );
  }
  if (spec.backend !== WIREGUARD_BACKEND) {
    return new Rejected(
      'unsupported-backend',
      `uses cable driver ${spec.backend}; moor speaks wireguard only`,
    );
  }
  const config = spec.backend_config ?? {};
  const publicKey = ownValue(config, BACKEND_CONFIG_PUBLIC_KEY);
  if (!isWireguardKey(publicKey)) {
    return new Rejected(
      'invalid-public-key',
      `backend_config.publicKey is ${publicKey === undefined ? 'missing' : 'not a WireGuard key'}`,
    );
  }
  const port = tunnelPort(ownValue(config, BACKEND_CONFIG_UDP_PORT));
  if (port === undefined)
    return new Rejected('invalid-port', 'backend_config.udp-port is not a port number 1-65535');
  // Legacy NAT rule (spec §3.4): without NAT discovery, public_ip if NAT is on, else private_ip.
  const host = spec.nat_enabled && spec.public_ip !== '' ? spec.public_ip : spec.private_ip;
  const hostAddress = tryParseIpv4(host);
  const hostField = spec.nat_enabled && spec.public_ip !== '' ? 'public_ip' : 'private_ip';
  if (!hostAddress.ok) {
    return new Rejected(
      'no-usable-address',
      `${hostField} ${JSON.stringify(host)} is not an IPv4 address to connect to`,
    );
  }
  const special = specialPurposeAddressReason(hostAddress.value);
  if (special !== undefined) return new Rejected('special-purpose-address', `${hostField} ${special}`);
  const subnets = sortCidrs(spec.subnets.flatMap((s) => parsedCidr(s)));
  if (subnets.length === 0) return new Rejected('no-subnets', 'advertises no IPv4 subnets');
  if (cluster === undefined)
    return new Rejected('no-cluster', `no Cluster object yet for cluster "${spec.cluster_id}"`);
  const declared = clusterCidrsOf(cluster.spec);
  for (const subnet of subnets) {
    const specialSubnet = specialPurposeCidrReason(subnet);
    if (specialSubnet !== undefined) return new Rejected('special-purpose-subnet', `subnet ${specialSubnet}`);
    if (!declared.some((outer) => cidrContains(outer, subnet))) {
      return new Rejected(
        'subnet-outside-cluster',
        `subnet ${formatCidr(subnet)} is not declared in its Cluster's CIDRs`,
      );
    }
    const needed = hostProtected.find((p) => contains(subnet, p.address));
    if (needed !== undefined) {
      return new Rejected(
        'overlaps-protected',
        `subnet ${formatCidr(subnet)} contains ${needed.text}, ${needed.why}: a route there would pull that traffic into the tunnel`,
      );
    }
    const clash = local.find((own) => overlaps(own.cidr, subnet));
    if (clash !== undefined) {
      return new Rejected('overlaps-local', `subnet ${formatCidr(subnet)} overlaps ${clash.description}`);
    }
    if (contains(subnet, hostAddress.value)) {
      return new Rejected(
        'endpoint-inside-subnets',
        `tunnel address ${host} is inside its own subnet ${formatCidr(subnet)}`,
      );
    }
  }
  const member: Member = {
    clusterId: spec.cluster_id,
    endpointName: endpoint.metadata.name,
    cableName: spec.cable_name,
    publicKey,
    endpoint: { host, port },
    allowedIPs: subnets.map(formatCidr),
    backend: spec.backend,
  };
  const healthCheckIP = healthCheckInside(endpoint, subnets);
  if (healthCheckIP !== undefined) member.healthCheckIP = healthCheckIP;
  return {
    member,
    subnets,
    connectTo: { field: hostField, address: hostAddress.value },
    createdMs: timestampMs(endpoint),
  };
}

function conflictWithAccepted(
  candidate: Candidate,
  accepted: readonly Candidate[],
): { code: RejectionCode; reason: string } | undefined {
  for (const other of accepted) {
    if (other.member.publicKey === candidate.member.publicKey) {
      return {
        code: 'duplicate-public-key',
        reason: `uses the same public key as member ${other.member.clusterId}`,
      };
    }
    const via = other.subnets.find((s) => contains(s, candidate.connectTo.address));
    if (via !== undefined) {
      return {
        code: 'endpoint-inside-member',
        reason: `tunnel address ${candidate.member.endpoint.host} is inside subnet ${formatCidr(via)} of member ${other.member.clusterId}, which joined first: the cable would run through that member's tunnel`,
      };
    }
    for (const subnet of candidate.subnets) {
      // Only the address our cable travels to matters here: a route covers this host's traffic
      // alone, and the other one (a NATed member's private_ip) is often in a common pod range.
      const cut = other.connectTo;
      if (contains(subnet, cut.address)) {
        return {
          code: 'covers-member-endpoint',
          reason: `subnet ${formatCidr(subnet)} contains ${formatIpv4(cut.address)}, the ${cut.field} of member ${other.member.clusterId}'s tunnel endpoint: a route there would cut that cable`,
        };
      }
      const clash = other.subnets.find((s) => overlaps(s, subnet));
      if (clash !== undefined) {
        return {
          code: 'overlaps-member',
          reason: `subnet ${formatCidr(subnet)} overlaps ${formatCidr(clash)} of member ${other.member.clusterId}, which joined first`,
        };
      }
    }
  }
  return undefined;
}

/**
 * The Cluster object of each cluster ID: the one named EnsureValidName(id) that declares that id
 * (names are unique in a namespace, so another object cannot pose as a member's Cluster).
 * Also the clusterset membership the egress ACL readers follow (src/acl/clusterset-members.ts).
 */
export function indexClusters(clusters: readonly ClusterObject[]): Map<string, ClusterObject> {
  const byId = new Map<string, ClusterObject>();
  for (const cluster of clusters) {
    const id = cluster.spec.cluster_id;
    if (cluster.metadata.name !== clusterObjectName(id)) continue;
    const known = byId.get(id);
    if (known === undefined || compareOldestFirst(timestampMs(cluster), timestampMs(known)) < 0)
      byId.set(id, cluster);
  }
  return byId;
}

function protectedNetworks(self: SelfDescription): ProtectedNetwork[] {
  const read = (texts: readonly string[] | undefined, what: string) =>
    (texts ?? []).map((text) => {
      const parsed = tryParseAddressOrCidr(text);
      if (!parsed.ok) {
        throw new MoorError('invalid-argument', `${what} ${parsed.error}`, {
          hint: 'fix the host configuration',
        });
      }
      return { cidr: parsed.value, description: `${what} ${formatCidr(parsed.value)}` };
    });
  return [
    ...read(self.addresses, 'own address'),
    ...read(self.subnets, 'own subnet'),
    ...read(self.localRoutes, 'local route'),
  ];
}

interface ParsedProtected {
  address: number;
  text: string;
  why: string;
}

function protectedAddresses(self: SelfDescription): ParsedProtected[] {
  return (self.protected ?? []).map((p) => {
    const parsed = tryParseIpv4(p.address);
    if (!parsed.ok) {
      throw new MoorError('invalid-argument', `protected address (${p.why}) ${parsed.error}`, {
        hint: 'fix the host configuration',
      });
    }
    return { address: parsed.value, text: formatIpv4(parsed.value), why: p.why };
  });
}

function healthCheckInside(endpoint: EndpointObject, subnets: readonly Ipv4Cidr[]): string | undefined {
  const candidates = [...(endpoint.spec.healthCheckIPs ?? []), endpoint.spec.healthCheckIP ?? ''];
  return candidates.find((ip) => {
    const parsed = tryParseIpv4(ip);
    return parsed.ok && subnets.some((s) => contains(s, parsed.value));
  });
}

function parsedCidr(text: string): Ipv4Cidr[] {
  const parsed = tryParseCidr(text, { allowHostBits: true });
  return parsed.ok ? [parsed.value] : [];
}

function tunnelPort(text: string | undefined): number | undefined {
  if (text === undefined) return DEFAULT_TUNNEL_PORT;
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function ownValue(record: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function timestampMs(object: { metadata: { creationTimestamp?: string } } | undefined): number | undefined {
  const text = object?.metadata.creationTimestamp;
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Newest creationTimestamp first (a missing one counts as oldest), then name. */
function newestFirst(a: Candidate, b: Candidate): number {
  return (
    compareOldestFirst(b.createdMs ?? -Infinity, a.createdMs ?? -Infinity) ||
    compareText(a.member.endpointName, b.member.endpointName)
  );
}

/** Oldest first; a missing timestamp counts as newest, so it can never win seniority. */
function compareOldestFirst(a: number | undefined, b: number | undefined): number {
  const x = a ?? Infinity;
  const y = b ?? Infinity;
  return x === y ? 0 : x < y ? -1 : 1;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
