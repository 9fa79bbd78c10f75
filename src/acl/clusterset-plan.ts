// What a member publishes on the broker: its ACL rules as EgressMapSummary objects, one policy
// per object and at most MAX_SUMMARY_RULES rules each, so 10,000 pods (even 10,000 bare pods,
// each its own workload) make bounded objects. Pure, and sticky like the EgressMapSlices: a rule
// stays in the object that holds it (a pod count change rewrites one object); new rules fill
// objects of their policy with room (name order), then a new object `<cluster>-<policy>-<n>`
// (lowest free n); an emptied object is deleted; objects are never repacked. Identical input
// plans no write.
import {
  canonicalSummary,
  compareSummaryRules,
  MAX_SUMMARY_RULES,
  type MapSummary,
  type SummaryRule,
  summaryName,
  summaryRuleKey,
} from './clusterset-objects.ts';
import { type AclRule, copyDestinations } from './rules.ts';

export interface SummaryPlanInput {
  clusterID: string;
  /** This cluster's rules (aclRules of its mapping, no filter). */
  rules: readonly AclRule[];
  /** Our objects now on the broker, as read back (readable ones). */
  previous: readonly MapSummary[];
  /** Names of our objects that could not be read: replaced if reused, else deleted. */
  unreadable?: readonly string[];
  maxRules?: number;
}

export interface SummaryPlan {
  /** Every object that should exist, sorted by name. */
  summaries: MapSummary[];
  /** Objects to create or replace. */
  write: string[];
  /** Objects to delete. */
  remove: string[];
}

export function planSummaries(input: SummaryPlanInput): SummaryPlan {
  const max = input.maxRules ?? MAX_SUMMARY_RULES;
  const byPolicy = new Map<
    string,
    { destinations: AclRule['destinations']; rules: Map<string, SummaryRule> }
  >();
  for (const r of input.rules) {
    const p = byPolicy.get(r.policy) ?? { destinations: r.destinations, rules: new Map() };
    byPolicy.set(r.policy, p);
    const rule: SummaryRule = {
      egressIP: r.egressIP,
      namespace: r.namespace,
      workload: { kind: r.workload.kind, name: r.workload.name },
      pods: r.pods,
    };
    const key = summaryRuleKey(rule);
    const same = p.rules.get(key);
    if (same) same.pods += r.pods;
    else p.rules.set(key, rule);
  }
  const previous = [...input.previous]
    .filter((s) => s.clusterID === input.clusterID)
    .sort((a, b) => cmp(a.name, b.name));
  const used = new Set<string>(previous.map((s) => s.name));
  const out: MapSummary[] = [];
  for (const policy of [...byPolicy.keys()].sort(cmp)) {
    const { destinations, rules } = byPolicy.get(policy) as NonNullable<ReturnType<typeof byPolicy.get>>;
    const shell = (name: string): MapSummary => ({
      name,
      clusterID: input.clusterID,
      policy,
      destinations: copyDestinations(destinations),
      rules: [],
    });
    const placed = new Set<string>();
    const kept = previous
      .filter((s) => s.policy === policy)
      .map((s) => {
        const next = shell(s.name);
        for (const r of s.rules) {
          const key = summaryRuleKey(r);
          const want = rules.get(key);
          if (!want || placed.has(key) || next.rules.length >= max) continue;
          placed.add(key);
          next.rules.push({ ...want, workload: { ...want.workload } });
        }
        return next;
      });
    let n = 0;
    for (const [key, r] of [...rules].sort(([a], [b]) => cmp(a, b))) {
      if (placed.has(key)) continue;
      let target = kept.find((s) => s.rules.length < max);
      if (!target) {
        while (used.has(summaryName(input.clusterID, policy, n))) n++;
        target = shell(summaryName(input.clusterID, policy, n));
        used.add(target.name);
        kept.push(target);
      }
      target.rules.push({ ...r, workload: { ...r.workload } });
    }
    for (const s of kept)
      if (s.rules.length > 0) out.push({ ...s, rules: s.rules.sort(compareSummaryRules) });
  }
  out.sort((a, b) => cmp(a.name, b.name));
  const before = new Map(previous.map((s) => [s.name, canonicalSummary(s)]));
  const names = new Set(out.map((s) => s.name));
  return {
    summaries: out,
    write: out.filter((s) => before.get(s.name) !== canonicalSummary(s)).map((s) => s.name),
    remove: [...new Set([...previous.map((s) => s.name), ...(input.unreadable ?? [])])]
      .filter((n) => !names.has(n))
      .sort(cmp),
  };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
