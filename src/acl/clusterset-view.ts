// The clusterset view: every member's ACL rules from the EgressMapSummary objects on the broker,
// trusted only where trust is earned. Pure: objects and members in, rules per cluster and problems out.
//   - only members count (clusterset-members.ts: a cluster with a Cluster object on the broker):
//     the objects of a cluster that left (or never joined) are ignored and reported once per
//     cluster (`not-a-member`), and claim no egress IP, so the IP's next owner gets it;
//   - an object whose name, label and content do not agree on one cluster ID, or that is
//     garbled, is ignored and reported (clusterset-objects.ts);
//   - one rule in two objects of the same cluster: the first (oldest object, then name) counts,
//     the other is reported;
//   - one egress IP claimed by two clusters: the cluster whose object claimed it first keeps it
//     (like Submariner's "subnets already accepted from another cluster" rule, so a newcomer
//     cannot take over a name in firewall logs); the other cluster's rules for it are reported.
// Result and problems depend only on the sets of objects and members, never on their order.
import { type ClustersetMembers, notMemberReason } from './clusterset-members.ts';
import {
  type MapSummary,
  objectRef,
  readSummary,
  type SummaryProblem,
  summaryRuleKey,
} from './clusterset-objects.ts';
import { type AclRule, compareRules, copyDestinations } from './rules.ts';

export interface ClustersetRules {
  cluster: string;
  /** Each rule carries `cluster`. */
  rules: AclRule[];
}

export interface ClustersetView {
  /** Sorted by cluster ID. */
  clusters: ClustersetRules[];
  /** Sorted by object, then reason. */
  problems: SummaryProblem[];
  /** Objects trusted (possibly with some rules left out). */
  trustedObjects: number;
}

export function readClustersetView(objects: readonly unknown[], members: ClustersetMembers): ClustersetView {
  const problems: SummaryProblem[] = [];
  const read: { summary: MapSummary; createdAt: string; namespace: string | undefined }[] = [];
  /** Non-members: cluster ID → their objects' namespaces (one entry per object). */
  const outsiders = new Map<string, (string | undefined)[]>();
  for (const o of objects) {
    const r = readSummary(o);
    if (!r.ok) {
      problems.push(r.problem);
      continue;
    }
    const namespace = (o as { metadata?: { namespace?: unknown } }).metadata?.namespace;
    const ns = typeof namespace === 'string' ? namespace : undefined;
    if (!members.ids.has(r.summary.clusterID)) {
      const seen = outsiders.get(r.summary.clusterID);
      if (seen) seen.push(ns);
      else outsiders.set(r.summary.clusterID, [ns]);
      continue;
    }
    if (r.skippedRules > 0)
      problems.push({
        code: 'invalid-object',
        object: objectRef(ns, r.summary.name),
        problem: `${r.skippedRules} unreadable rule(s) skipped`,
      });
    read.push({ summary: r.summary, createdAt: r.createdAt, namespace: ns });
  }
  // First come first served, decided by data the API server sets: creation time, then name.
  read.sort(
    (a, b) =>
      cmp(a.createdAt || '\uffff', b.createdAt || '\uffff') ||
      cmp(a.summary.name, b.summary.name) ||
      cmp(a.namespace ?? '', b.namespace ?? ''),
  );
  const ipOwner = new Map<string, string>();
  const byCluster = new Map<string, Map<string, AclRule>>();
  for (const { summary: s, namespace } of read) {
    const ref = objectRef(namespace, s.name);
    const rules = byCluster.get(s.clusterID) ?? new Map<string, AclRule>();
    byCluster.set(s.clusterID, rules);
    const refused = new Map<string, string>();
    for (const r of s.rules) {
      const owner = ipOwner.get(r.egressIP);
      if (owner !== undefined && owner !== s.clusterID) {
        refused.set(r.egressIP, `egress IP ${r.egressIP} is already claimed by cluster "${owner}"`);
        continue;
      }
      const key = `${s.policy} ${summaryRuleKey(r)}`;
      if (rules.has(key)) {
        problems.push({
          code: 'conflict',
          object: ref,
          problem: `rule ${summaryRuleKey(r)} policy ${s.policy} is already in another object of cluster "${s.clusterID}"`,
        });
        continue;
      }
      ipOwner.set(r.egressIP, s.clusterID);
      rules.set(key, {
        cluster: s.clusterID,
        egressIP: r.egressIP,
        namespace: r.namespace,
        workload: { ...r.workload },
        policy: s.policy,
        destinations: copyDestinations(s.destinations),
        pods: r.pods,
      });
    }
    for (const why of refused.values()) problems.push({ code: 'conflict', object: ref, problem: why });
  }
  for (const [id, namespaces] of outsiders) problems.push(notMemberProblem(members, id, namespaces));
  const clusters = [...byCluster]
    .filter(([, rules]) => rules.size > 0)
    .map(([cluster, rules]) => ({ cluster, rules: [...rules.values()].sort(compareRules) }))
    .sort((a, b) => cmp(a.cluster, b.cluster));
  problems.sort((a, b) => cmp(a.object, b.object) || cmp(a.problem, b.problem));
  return { clusters, problems, trustedObjects: read.length };
}

/** One problem per cluster, named by the objects' common prefix (`<clusterID>-*`). */
function notMemberProblem(
  members: ClustersetMembers,
  clusterID: string,
  namespaces: readonly (string | undefined)[],
): SummaryProblem {
  const ns = [...new Set(namespaces)].sort()[0];
  const n = namespaces.length;
  return {
    code: 'not-a-member',
    object: objectRef(ns, `${clusterID}-*`),
    problem: `${notMemberReason(members, clusterID)}; its ${n} EgressMapSummary object${n === 1 ? ' is' : 's are'} ignored; the member removes them with \`moor acl withdraw --clusterset\` (docs/egress-acl.md, "Leaving the clusterset"), else the broker admin: kubectl${ns ? ` -n ${ns}` : ''} delete egressmapsummaries -l submariner-io/clusterID=${clusterID}`,
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
