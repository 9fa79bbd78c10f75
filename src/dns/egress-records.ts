// Names for egress IPs, so firewall logs show workloads instead of addresses:
//   <workload>.<namespace>.<cluster>.egress.<zone>   A   → the egress IP(s) the workload leaves from
//   D.C.B.A.in-addr.arpa                              PTR → the workload name(s) holding A.B.C.D
// e.g. checkout.payments.cluster-a.egress.clusterset.local ⇄ 203.0.113.20. Pure: ACL rules of one
// or more clusters in, an index out. Only names that are valid DNS labels are published; an IP
// several workloads share (two policies' pods spread over one pool address cannot happen, but
// one policy's several workloads can) gets one PTR per workload, sorted.
import type { AclRule } from '../acl/rules.ts';
import { tryParseIpv4 } from '../net/ipv4.ts';
import { type Interval, includes } from '../plan/egress-intervals.ts';
import { DEFAULT_ZONE, TYPE_A, TYPE_PTR } from './constants.ts';

export const EGRESS_LABEL = 'egress';

export interface EgressRecordIndex {
  /** Forward name (lower case, no trailing dot) → egress IPs, sorted. */
  readonly forward: ReadonlyMap<string, readonly string[]>;
  /** Reverse name `d.c.b.a.in-addr.arpa` → forward names, sorted. */
  readonly reverse: ReadonlyMap<string, readonly string[]>;
  /** Names between a forward name and the egress zone (`payments.cluster-a.egress.<zone>`): they
   * exist without records (NODATA), so a resolver never infers from an NXDOMAIN there that the
   * names below do not exist (RFC 8020). */
  readonly nonTerminals?: ReadonlySet<string>;
  /** Addresses whose reverse names this index is the authority for (the egress pools): one of
   * them without a record is NXDOMAIN; any other reverse name is not ours (null, REFUSED). */
  readonly reverseAuthority?: readonly Interval[];
}

export interface ClusterRules {
  readonly cluster: string;
  readonly rules: readonly AclRule[];
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function egressName(
  rule: Pick<AclRule, 'namespace' | 'workload'>,
  cluster: string,
  zone = DEFAULT_ZONE,
): string | undefined {
  const labels = [rule.workload.name.toLowerCase(), rule.namespace.toLowerCase(), cluster.toLowerCase()];
  return labels.every((l) => LABEL.test(l)) ? `${labels.join('.')}.${EGRESS_LABEL}.${zone}` : undefined;
}

export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

export function buildEgressRecords(
  clusters: readonly ClusterRules[],
  zone = DEFAULT_ZONE,
): EgressRecordIndex {
  const forward = new Map<string, Set<string>>();
  const reverse = new Map<string, Set<string>>();
  const nonTerminals = new Set<string>();
  const apex = `${EGRESS_LABEL}.${zone}`;
  for (const c of clusters)
    for (const r of c.rules) {
      const name = egressName(r, c.cluster, zone);
      if (!name) continue;
      for (let p = name.slice(name.indexOf('.') + 1); p !== apex; p = p.slice(p.indexOf('.') + 1))
        nonTerminals.add(p);
      const ips = forward.get(name) ?? new Set<string>();
      ips.add(r.egressIP);
      forward.set(name, ips);
      const rev = reverseName(r.egressIP);
      const names = reverse.get(rev) ?? new Set<string>();
      names.add(name);
      reverse.set(rev, names);
    }
  const sorted = (m: Map<string, Set<string>>) =>
    new Map(
      [...m].map(([k, v]) => [k, [...v].sort()] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  return { forward: sorted(forward), reverse: sorted(reverse), nonTerminals };
}

export type EgressResolution =
  | { readonly rcode: 'NXDOMAIN' }
  | {
      readonly rcode: 'NOERROR';
      readonly answer:
        | { kind: 'a'; ips: readonly string[] }
        | { kind: 'ptr'; names: readonly string[] }
        | null;
    };

/** `null` when the name is none of ours (the caller goes on with its other zones or forwards). */
export function resolveEgressQuery(
  index: EgressRecordIndex,
  qname: string,
  qtype: number,
  zone = DEFAULT_ZONE,
): EgressResolution | null {
  const name = qname.toLowerCase().replace(/\.$/, '');
  if (name.endsWith('.in-addr.arpa')) {
    const names = index.reverse.get(name);
    if (names) return { rcode: 'NOERROR', answer: qtype === TYPE_PTR ? { kind: 'ptr', names } : null };
    const address = reverseAddress(name);
    const ours =
      address !== undefined &&
      index.reverseAuthority !== undefined &&
      includes(index.reverseAuthority, address);
    return ours ? NXDOMAIN : null; // other reverse names are not ours to deny
  }
  const apex = `${EGRESS_LABEL}.${zone}`;
  if (name !== apex && !name.endsWith(`.${apex}`)) return null;
  const ips = index.forward.get(name);
  if (ips) return { rcode: 'NOERROR', answer: qtype === TYPE_A ? { kind: 'a', ips } : null };
  return name === apex || index.nonTerminals?.has(name) ? NODATA : NXDOMAIN;
}

const NXDOMAIN: EgressResolution = { rcode: 'NXDOMAIN' };
const NODATA: EgressResolution = { rcode: 'NOERROR', answer: null };

/** `d.c.b.a.in-addr.arpa` → a.b.c.d as a number; undefined for any other shape. */
function reverseAddress(name: string): number | undefined {
  const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
  if (labels.length !== 4 || !labels.every((l) => /^(0|[1-9][0-9]{0,2})$/.test(l))) return undefined;
  const parsed = tryParseIpv4(labels.reverse().join('.'));
  return parsed.ok ? parsed.value : undefined;
}
