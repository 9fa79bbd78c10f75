// The host's (and a gateway's) whole desired cable state as plain data: which WireGuard peers,
// the tunnel link (up, MTU), its addresses, the routes to members and the health-check targets.
// Pure: a snapshot of broker objects and a few observed facts in, data out; no clock, no I/O.
// The appliers diff this against freshly read kernel state (src/cables/appliers.ts).
import { isDeepStrictEqual } from 'node:util';
import { parseCluster, parseEndpoint } from '../broker/objectReader.ts';
import type { ClusterObject, EndpointObject } from '../broker/types.ts';
import { MIN_TUNNEL_MTU, WIREGUARD_OVERHEAD } from '../dataplane/netlink/mtu.ts';
import type { RouteSpec } from '../dataplane/netlink/types.ts';
import { compareText } from '../dataplane/text.ts';
import type { WireGuardPeerDesired } from '../dataplane/wireguard/plan.ts';
import { type Member, planMembers, type RejectedEndpoint, type SelfDescription } from './members.ts';

/** A planner rejection, or an object so broken it could not even be parsed. */
export type Rejection = Omit<RejectedEndpoint, 'code'> & { code: RejectedEndpoint['code'] | 'malformed' };

/** Broker objects as listed (or as persisted for an outage); parsed here, so a broken one becomes
 * a rejection instead of an exception. */
export interface MemberSnapshot {
  clusters: readonly unknown[];
  endpoints: readonly unknown[];
}

export interface TunnelSettings {
  interfaceName: string;
  /** The WireGuard preshared key every peer gets. */
  presharedKey: string;
  keepaliveSeconds: number;
  /** Addresses on the tunnel link (the host's clusterset IPs; none on a gateway). */
  interfaceAddresses: readonly string[];
  /** Preferred source of routes to members: an address inside our subnets, so replies and health
   * checks come back through the tunnel and pass the remote AllowedIPs. */
  routeSource: string;
}

export interface HostPlanInput {
  /** Everything the member planner needs about us; passed through untouched. */
  self: SelfDescription;
  snapshot: MemberSnapshot;
  tunnel: TunnelSettings;
  /** Observed underlay path MTU towards member endpoint addresses; absent ones are unknown. */
  pathMtus: ReadonlyMap<string, number>;
}

export interface LinkPlan {
  up: true;
  /** Absent: leave the MTU as it is (no members, or no path known). */
  mtu?: number;
}

export interface HostPlan {
  members: Member[];
  rejected: Rejection[];
  /** Sorted by public key. */
  peers: WireGuardPeerDesired[];
  link: LinkPlan;
  /** CIDRs, sorted. */
  addresses: string[];
  /** Sorted by destination. */
  routes: RouteSpec[];
  /** Health-check IPs to ping, sorted. */
  healthTargets: string[];
  /** Endpoint addresses whose path MTU is needed and not known yet. */
  unknownPaths: string[];
  /** Things the plan could not decide, in words (they do not block the rest). */
  problems: string[];
}

export function planHost(input: HostPlanInput): HostPlan {
  const { clusters, endpoints, malformed } = parseSnapshot(input.snapshot);
  const planned = planMembers({ self: input.self, clusters, endpoints });
  const t = input.tunnel;
  const members = planned.members;
  const peers = members
    .map(
      (m): WireGuardPeerDesired => ({
        publicKey: m.publicKey,
        presharedKey: t.presharedKey,
        endpoint: `${m.endpoint.host}:${m.endpoint.port}`,
        allowedIPs: [...m.allowedIPs],
        persistentKeepalive: t.keepaliveSeconds,
      }),
    )
    .sort((a, b) => compareText(a.publicKey, b.publicKey));
  const routes = members
    .flatMap((m) =>
      m.allowedIPs.map(
        (dst): RouteSpec => ({
          dst,
          dev: t.interfaceName,
          ...(t.routeSource ? { src: t.routeSource } : {}),
          scope: 'link',
        }),
      ),
    )
    .sort((a, b) => compareText(a.dst, b.dst));
  const problems: string[] = [];
  const { mtu, unknown } = chooseMtu(
    members.map((m) => m.endpoint.host),
    input.pathMtus,
    problems,
  );
  return {
    members,
    rejected: [...planned.rejected, ...malformed],
    peers,
    link: mtu === undefined ? { up: true } : { up: true, mtu },
    addresses: [...new Set(t.interfaceAddresses.map((a) => (a.includes('/') ? a : `${a}/32`)))].sort(),
    routes,
    healthTargets: [...new Set(members.flatMap((m) => (m.healthCheckIP ? [m.healthCheckIP] : [])))].sort(),
    unknownPaths: unknown,
    problems,
  };
}

/** Plans are plain data: equal plans mean the appliers have nothing new to do. */
export function equalHostPlan(a: HostPlan, b: HostPlan): boolean {
  return isDeepStrictEqual(a, b);
}

/** Endpoint addresses of a plan's members whose path MTU the caller should look up. */
export function memberEndpointHosts(plan: Pick<HostPlan, 'members'>): string[] {
  return [...new Set(plan.members.map((m) => m.endpoint.host))].sort();
}

/**
 * The tunnel MTU: the smallest known path MTU towards any member, minus WireGuard's worst-case
 * overhead. Without members nothing is decided; an unreachable endpoint does not block the rest.
 */
function chooseMtu(
  hosts: readonly string[],
  pathMtus: ReadonlyMap<string, number>,
  problems: string[],
): { mtu: number | undefined; unknown: string[] } {
  const unique = [...new Set(hosts)].sort();
  const unknown = unique.filter((h) => !pathMtus.has(h));
  const known = unique.flatMap((h) => {
    const v = pathMtus.get(h);
    return v === undefined ? [] : [v];
  });
  if (unique.length === 0) return { mtu: undefined, unknown };
  if (known.length === 0) {
    problems.push('MTU: no route to any member endpoint');
    return { mtu: undefined, unknown };
  }
  const underlay = Math.min(...known);
  const mtu = underlay - WIREGUARD_OVERHEAD;
  if (mtu < MIN_TUNNEL_MTU) {
    problems.push(
      `MTU: underlay MTU ${underlay} leaves ${mtu} for the tunnel, below ${MIN_TUNNEL_MTU} (raise the underlay MTU to at least ${MIN_TUNNEL_MTU + WIREGUARD_OVERHEAD})`,
    );
    return { mtu: undefined, unknown };
  }
  return { mtu, unknown };
}

function parseSnapshot(snapshot: MemberSnapshot): {
  clusters: ClusterObject[];
  endpoints: EndpointObject[];
  malformed: Rejection[];
} {
  const clusters: ClusterObject[] = [];
  for (const raw of snapshot.clusters) {
    const r = parseCluster(raw);
    if (r.ok) clusters.push(r.value);
  }
  const endpoints: EndpointObject[] = [];
  const malformed: Rejection[] = [];
  for (const raw of snapshot.endpoints) {
    const r = parseEndpoint(raw);
    if (r.ok) {
      endpoints.push(r.value);
      continue;
    }
    const meta = ((raw as { metadata?: unknown })?.metadata ?? {}) as {
      name?: unknown;
      labels?: Record<string, unknown>;
    };
    const clusterId = meta.labels?.['submariner-io/clusterID'];
    malformed.push({
      clusterId: typeof clusterId === 'string' ? clusterId : '',
      endpointName: typeof meta.name === 'string' ? meta.name : '',
      reason: `malformed Endpoint: ${r.reason}`,
      code: 'malformed',
    });
  }
  malformed.sort((a, b) => compareText(a.endpointName, b.endpointName) || compareText(a.reason, b.reason));
  return { clusters, endpoints, malformed };
}
