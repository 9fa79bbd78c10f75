// Names for egress IPs, so firewall logs show workloads instead of addresses:
//   <workload>.<namespace>.<cluster>.egress.<zone>   A   → the egress IP(s) the workload leaves from
//   D.C.B.A.in-addr.arpa                              PTR → the workload name(s) holding A.B.C.D
// e.g. checkout.payments.cluster-a.egress.clusterset.local ⇄ 203.0.113.20. Pure: ACL rules of one
// or more clusters in, an index out. Only names that are valid DNS labels are published; an IP
// several workloads share (two policies' pods spread over one pool address cannot happen, but
// one policy's several workloads can) gets one PTR per workload, sorted.
import type { AclRule } from '../acl/rules.ts';
import { DEFAULT_ZONE, TYPE_A, TYPE_PTR } from './constants.ts';

export const EGRESS_LABEL = 'egress';

export interface EgressRecordIndex {
  /** Forward name (lower case, no trailing dot) → egress IPs, sorted. */
  readonly forward: ReadonlyMap<string, readonly string[]>;
  /** Reverse name `d.c.b.a.in-addr.arpa` → forward names, sorted. */
  readonly reverse: ReadonlyMap<string, readonly string[]>;
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
  for (const c of clusters)
    for (const r of c.rules) {
      const name = egressName(r, c.cluster, zone);
      if (!name) continue;
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
  return { forward: sorted(forward), reverse: sorted(reverse) };
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
    if (!names) return null; // other reverse zones are not ours to deny
    return { rcode: 'NOERROR', answer: qtype === TYPE_PTR ? { kind: 'ptr', names } : null };
  }
  if (!name.endsWith(`.${EGRESS_LABEL}.${zone}`)) return null;
  const ips = index.forward.get(name);
  if (!ips) return { rcode: 'NXDOMAIN' };
  return { rcode: 'NOERROR', answer: qtype === TYPE_A ? { kind: 'a', ips } : null };
}
