// The one call the egress controller makes per reconcile for the ACL mapping and its history:
// snapshot in (its pod resolution, the policies, the pods' owners, the mapping and history
// objects as last read), plain data out (slices and histories to write or delete, the summary
// for each policy's status). Identical input writes nothing.
import { advanceHistory, type HistoryPlan, type IpHistory } from './egress-history.ts';
import { flattenSlices, type MappingPlan, type MapSlice, planMapping } from './egress-mapping.ts';
import {
  type OwnerObject,
  type OwnerRef,
  ownerIndex,
  ownerKnown,
  resolveWorkload,
  type Workload,
} from './egress-mapping-owner.ts';
import type { PodResolution } from './egress-pods.ts';
import type { PolicyInput } from './egress-types.ts';
import { podKey } from './egress-types.ts';

export interface AclPlanInput {
  /** resolvePods' result, with the IPs the allocation gave. */
  resolution: PodResolution;
  policies: readonly Pick<PolicyInput, 'name' | 'gateway' | 'destinations'>[];
  /** Every pod's controller references (readOwned on the Pod objects). */
  podOwners: readonly OwnerObject[];
  replicaSets: readonly OwnerObject[];
  jobs: readonly OwnerObject[];
  previousSlices: readonly MapSlice[];
  previousHistories: readonly IpHistory[];
  now: string;
  /** From parseRetention (validated at start-up: 0 or junk never gets here). */
  retentionMs: number;
}

export interface AclPlan {
  mapping: MappingPlan;
  history: HistoryPlan;
}

export function planAcl(input: AclPlanInput): AclPlan {
  const index = ownerIndex({ replicaSets: input.replicaSets, jobs: input.jobs });
  const previousWorkload = new Map<string, Workload>();
  for (const s of input.previousSlices)
    for (const e of s.entries)
      previousWorkload.set(podKey({ namespace: e.namespace, name: e.pod }), e.workload);
  const workloads = new Map<string, Workload>();
  // A pod whose ReplicaSet or Job is not known yet keeps the workload it was mapped with; a new
  // one waits for its owner (one watch event later) rather than opening a false history record.
  const deferred = new Set<string>();
  for (const p of input.podOwners) {
    const key = podKey(p);
    const known = ownerKnown(p, index);
    const kept = known ? undefined : previousWorkload.get(key);
    if (!known && !kept) deferred.add(key);
    else
      workloads.set(
        key,
        kept ?? resolveWorkload({ namespace: p.namespace, name: p.name, owners: p.owners }, index),
      );
  }
  const mapping = planMapping({
    policies: input.policies,
    assignments:
      deferred.size === 0
        ? input.resolution.assignments
        : input.resolution.assignments.filter((a) => !deferred.has(podKey(a))),
    workloads,
    previous: input.previousSlices,
    now: input.now,
  });
  const history = advanceHistory({
    previous: input.previousHistories,
    rows: flattenSlices(mapping.slices),
    now: input.now,
    retentionMs: input.retentionMs,
  });
  return { mapping, history };
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Pod, ReplicaSet or Job object's namespace, name and ownerReferences; undefined if unusable. */
export function readOwned(o: unknown): OwnerObject | undefined {
  if (!isObj(o) || !isObj(o.metadata)) return undefined;
  const { name, namespace, ownerReferences } = o.metadata;
  if (typeof name !== 'string' || typeof namespace !== 'string') return undefined;
  const owners: OwnerRef[] = [];
  for (const r of Array.isArray(ownerReferences) ? ownerReferences : []) {
    if (!isObj(r) || typeof r.kind !== 'string' || typeof r.name !== 'string') continue;
    owners.push({ kind: r.kind, name: r.name, ...(r.controller === true ? { controller: true } : {}) });
  }
  return { namespace, name, owners };
}
