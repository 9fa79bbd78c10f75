// What the controller's in-cluster DNS server publishes for this cluster's egress IPs: pure, the
// mapping rows and the egress objects in, a record index and the problems out. A mapping entry
// becomes a name only when the API objects the leader writes agree on it: its policy exists,
// leaves through the slice's gateway, and holds the IP (status.ips, the allocation), and the IP is
// in that gateway's pool. A slice that claims anything else (a stale, garbled or forged object)
// yields no record and is reported, so a PTR can never name a workload for an address this
// cluster did not give it. The pools also say which reverse names we are the authority for:
// an unused pool address is NXDOMAIN, an address outside every pool is not ours (REFUSED).

import { aclRules } from '../acl/rules.ts';
import type { Problem } from '../acl/store.ts';
import { tryParseIpv4 } from '../net/ipv4.ts';
import { type Interval, includes, normalise } from '../plan/egress-intervals.ts';
import type { MapRow } from '../plan/egress-mapping.ts';
import { parsePool } from '../plan/egress-pool.ts';
import type { GatewayInput, PolicyInput } from '../plan/egress-types.ts';
import { buildEgressRecords, type EgressRecordIndex, egressName } from './egress-records.ts';

export interface ClusterEgressInput {
  /** This cluster's ID: the `<cluster>` label of every name. */
  cluster: string;
  rows: readonly MapRow[];
  policies: readonly Pick<PolicyInput, 'name' | 'gateway' | 'statusIPs'>[];
  gateways: readonly GatewayInput[];
}

export interface ClusterEgressRecords {
  index: EgressRecordIndex;
  /** Entries that got no record, one line per (policy, IP) or name; sorted. */
  problems: Problem[];
}

export function buildClusterEgressRecords(input: ClusterEgressInput): ClusterEgressRecords {
  const pools = new Map<string, Interval[]>();
  for (const g of input.gateways) pools.set(g.name, parsePool(g).usable);
  const policies = new Map(input.policies.map((p) => [p.name, p] as const));
  const problems = new Map<string, Problem>();
  const report = (object: string, problem: string) =>
    problems.set(`${object}\u0000${problem}`, { object, problem });

  const trusted = input.rows.filter((r) => {
    if (r.egressIP === undefined) return false; // waiting for an allocation: nothing to name yet
    const object = `EgressMapSlice entries of policy ${r.policy}`;
    const why = distrust(r, r.egressIP, policies.get(r.policy), pools.get(r.gateway));
    if (why) report(object, why);
    return why === undefined;
  });
  const rules = aclRules(trusted, {});
  for (const rule of rules)
    if (!egressName(rule, input.cluster))
      report(
        `${rule.workload.kind}/${rule.namespace}/${rule.workload.name}`,
        'no DNS name: the workload or namespace is not a DNS label',
      );
  const records = buildEgressRecords([{ cluster: input.cluster, rules }]);
  const index: EgressRecordIndex = { ...records, reverseAuthority: normalise([...pools.values()].flat()) };
  const sorted = [...problems.values()].sort((a, b) =>
    a.object === b.object ? (a.problem < b.problem ? -1 : 1) : a.object < b.object ? -1 : 1,
  );
  return { index, problems: sorted };
}

function distrust(
  row: MapRow,
  ip: string,
  policy: Pick<PolicyInput, 'gateway' | 'statusIPs'> | undefined,
  pool: readonly Interval[] | undefined,
): string | undefined {
  if (!policy) return `there is no EgressPolicy ${row.policy}`;
  if (policy.gateway !== row.gateway)
    return `the slice says gateway ${row.gateway}, the policy leaves through ${policy.gateway}`;
  if (!policy.statusIPs.includes(ip)) return `egress IP ${ip} is not allocated to the policy (status.ips)`;
  const address = tryParseIpv4(ip);
  if (!pool || !address.ok || !includes(pool, address.value))
    return `egress IP ${ip} is not in the pool of EgressGateway ${row.gateway}`;
  return undefined;
}
