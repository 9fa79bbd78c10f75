// The allow-list a firewall team imports: one rule per (egress IP, workload, policy), each with
// the destinations that workload's traffic leaves for. Pure: mapping rows in, rules out.
// "allow 203.0.113.20 = payments/checkout (Deployment) in cluster-a to 10.50.0.0/24".
import type { MapRow } from '../plan/egress-mapping.ts';
import { compareNames, type Destination } from '../plan/egress-types.ts';

export interface AclRule {
  /** Set in a clusterset export (every member's rules in one list); absent for one cluster. */
  cluster?: string;
  egressIP: string;
  namespace: string;
  workload: { kind: string; name: string };
  policy: string;
  destinations: Destination[];
  /** Pods of the workload leaving from this IP now. */
  pods: number;
}

export interface AclFilter {
  namespace?: string;
  policy?: string;
  /** `Kind/name`, e.g. `Deployment/checkout`; the kind is matched case-insensitively. */
  workload?: string;
}

export interface AclExport {
  /** Who made it and when, so a change request can cite it. */
  generatedAt: string;
  cluster?: string;
  filter: AclFilter;
  rules: AclRule[];
}

export function parseWorkloadFilter(text: string): { kind: string; name: string } | undefined {
  const m = /^([A-Za-z]+)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text);
  return m ? { kind: m[1] as string, name: m[2] as string } : undefined;
}

/** Whether a row or rule passes the filter. */
export function matchesFilter(
  r: Pick<AclRule, 'namespace' | 'policy' | 'workload'>,
  filter: AclFilter,
): boolean {
  const wl = filter.workload !== undefined ? parseWorkloadFilter(filter.workload) : undefined;
  if (filter.namespace !== undefined && r.namespace !== filter.namespace) return false;
  if (filter.policy !== undefined && r.policy !== filter.policy) return false;
  return !wl || (r.workload.kind.toLowerCase() === wl.kind.toLowerCase() && r.workload.name === wl.name);
}

export function aclRules(rows: readonly MapRow[], filter: AclFilter): AclRule[] {
  const rules = new Map<string, AclRule>();
  for (const r of rows) {
    if (r.egressIP === undefined) continue; // no IP yet: nothing a firewall could allow
    if (!matchesFilter(r, filter)) continue;
    const key = [r.egressIP, r.namespace, r.workload.kind, r.workload.name, r.policy].join('\u0000');
    const rule = rules.get(key);
    if (rule) rule.pods++;
    else
      rules.set(key, {
        egressIP: r.egressIP,
        namespace: r.namespace,
        workload: { ...r.workload },
        policy: r.policy,
        destinations: copyDestinations(r.destinations),
        pods: 1,
      });
  }
  return [...rules.values()].sort(compareRules);
}

/** A deep copy; an empty exception list is left out. */
export function copyDestinations(ds: readonly Destination[]): Destination[] {
  return ds.map((d) => ({ cidr: d.cidr, ...(d.except?.length ? { except: [...d.except] } : {}) }));
}

export function ruleKey(r: AclRule): string {
  const key = `${r.egressIP} ${r.namespace}/${r.workload.kind}/${r.workload.name} ${r.policy}`;
  return r.cluster === undefined ? key : `${key} ${r.cluster}`;
}

export function compareRules(a: AclRule, b: AclRule): number {
  return compareIp(a.egressIP, b.egressIP) || compareNames(ruleKey(a), ruleKey(b));
}

export function compareIp(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}

/** `payments/checkout (Deployment) policy checkout`: what a rule stands for, in one line. */
export function describeRule(r: AclRule, defaultCluster?: string): string {
  const cluster = r.cluster ?? defaultCluster;
  return `${r.namespace}/${r.workload.name} (${r.workload.kind})${cluster ? ` in ${cluster}` : ''} policy ${r.policy}`;
}
