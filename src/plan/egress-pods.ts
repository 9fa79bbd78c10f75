// Every pod resolves to at most one policy, deterministically:
//   1. the highest spec.priority among the policies that select it wins;
//   2. among equal priorities, the policy whose name sorts first (code-unit order) wins, and
//      every policy in the tie gets a Conflict condition naming the others.
// Policy names are unique in the cluster (EgressPolicy is cluster-scoped), so this is a total
// order: no randomness, no dependence on creation time or on the order objects arrive in.
// Within a policy with several IPs a pod gets one by rendezvous hashing of namespace/name, so
// adding or removing an IP moves only the pods of that IP.
import { tryParseIpv4 } from '../net/ipv4.ts';
import { matchesSelector } from './egress-selector.ts';
import {
  compareNames,
  type NamespaceInput,
  type PlannedCondition,
  type PodInput,
  type PolicyInput,
  podKey,
  sortedByKey,
} from './egress-types.ts';

export type PolicyForPods = Pick<PolicyInput, 'name' | 'priority' | 'namespaceSelector' | 'podSelector'> & {
  /** The allocated IPs (the controller's status.ips). */
  ips: readonly string[];
};

export interface PodAssignment {
  namespace: string;
  name: string;
  node: string | undefined;
  /** Absent while the pod has no address yet. */
  podIP: string | undefined;
  policy: string;
  /** Absent when the policy has no IP yet: its traffic is then dropped or sent normally (failurePolicy). */
  egressIP: string | undefined;
}

export interface PodResolution {
  /** Sorted by namespace/name. */
  assignments: PodAssignment[];
  policies: Record<string, { selectedPods: number; conditions: PlannedCondition[] }>;
}

export function isCandidatePod(p: PodInput): boolean {
  if (p.hostNetwork) return false; // a host-network pod's packets carry the node address
  return p.phase !== 'Succeeded' && p.phase !== 'Failed';
}

export function resolvePods(input: {
  policies: readonly PolicyForPods[];
  namespaces: readonly NamespaceInput[];
  pods: readonly PodInput[];
}): PodResolution {
  const order = [...input.policies].sort((a, b) => b.priority - a.priority || compareNames(a.name, b.name));
  const nsLabels = new Map(input.namespaces.map((n) => [n.name, n.labels]));
  const pods = sortedByKey(input.pods.filter(isCandidatePod), podKey);

  const selected = new Map<string, number>(order.map((p) => [p.name, 0]));
  const matchedAny = new Map<string, number>(order.map((p) => [p.name, 0]));
  const ties = new Map<string, Set<string>>();
  const assignments: PodAssignment[] = [];
  for (const pod of pods) {
    const labels = nsLabels.get(pod.namespace);
    if (labels === undefined) continue; // namespace not seen (yet): no selector can be judged
    const matching = order.filter(
      (p) => matchesSelector(p.namespaceSelector, labels) && matchesSelector(p.podSelector, pod.labels),
    );
    const winner = matching[0];
    if (!winner) continue;
    for (const m of matching) matchedAny.set(m.name, (matchedAny.get(m.name) ?? 0) + 1);
    const tied = matching.filter((m) => m.priority === winner.priority);
    if (tied.length > 1)
      for (const t of tied) {
        const set = ties.get(t.name) ?? new Set<string>();
        for (const o of tied) if (o.name !== t.name) set.add(o.name);
        ties.set(t.name, set);
      }
    selected.set(winner.name, (selected.get(winner.name) ?? 0) + 1);
    assignments.push({
      namespace: pod.namespace,
      name: pod.name,
      node: pod.node,
      podIP: pod.ip !== undefined && tryParseIpv4(pod.ip).ok ? pod.ip : undefined,
      policy: winner.name,
      egressIP: pickIp(podKey(pod), winner.ips),
    });
  }

  const policies: PodResolution['policies'] = {};
  for (const p of [...input.policies].sort((a, b) => compareNames(a.name, b.name))) {
    const n = selected.get(p.name) ?? 0;
    const matched = matchedAny.get(p.name) ?? 0;
    const conditions: PlannedCondition[] = [];
    conditions.push(
      n > 0
        ? {
            type: 'PodsSelected',
            status: 'True',
            reason: 'PodsSelected',
            message: `${n} pod(s) leave through this policy`,
          }
        : matched > 0
          ? {
              type: 'PodsSelected',
              status: 'False',
              reason: 'ShadowedByOtherPolicies',
              message: `${matched} pod(s) match, but a policy of higher priority (or an earlier name at equal priority) wins for each`,
            }
          : {
              type: 'PodsSelected',
              status: 'False',
              reason: 'NoMatchingPods',
              message: 'namespaceSelector and podSelector match no running pod',
            },
    );
    const tiedWith = [...(ties.get(p.name) ?? [])].sort(compareNames);
    if (tiedWith.length > 0) {
      const winner = [p.name, ...tiedWith].sort(compareNames)[0];
      conditions.push({
        type: 'Conflict',
        status: 'True',
        reason: 'EqualPriority',
        message: `selects pods also selected by ${tiedWith.join(', ')} at the same priority ${p.priority}; ${winner} wins because its name sorts first. Give the policies different priorities`,
      });
    } else {
      conditions.push({
        type: 'Conflict',
        status: 'False',
        reason: 'NoConflict',
        message: 'no tie with another policy',
      });
    }
    policies[p.name] = { selectedPods: n, conditions };
  }
  return { assignments, policies };
}

/** Rendezvous (highest random weight) hashing: stable per pod, order-independent. */
export function pickIp(key: string, ips: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const ip of ips) {
    const score = fnv1a(`${key}|${ip}`);
    if (score > bestScore || (score === bestScore && best !== undefined && compareNames(ip, best) < 0)) {
      best = ip;
      bestScore = score;
    }
  }
  return best;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
