// Which workload a pod belongs to, through its ownerReferences as the built-in controllers set
// them: ReplicaSet → Deployment, Job → CronJob, StatefulSet and DaemonSet directly. A pod with
// no controller reference is its own workload ("Pod/NAME"), so the mapping never hides one.

export interface OwnerRef {
  kind: string;
  name: string;
  /** Only the controller reference decides; other owners (garbage collection) do not. */
  controller?: boolean;
}

/** The parts of a ReplicaSet or Job the owner walk reads: its own controller reference. */
export interface OwnerObject {
  namespace: string;
  name: string;
  owners: readonly OwnerRef[];
}

export interface Workload {
  kind: string;
  name: string;
}

export interface OwnerIndex {
  replicaSets: ReadonlyMap<string, OwnerObject>;
  jobs: ReadonlyMap<string, OwnerObject>;
}

export function ownerIndex(input: {
  replicaSets?: readonly OwnerObject[];
  jobs?: readonly OwnerObject[];
}): OwnerIndex {
  const byKey = (list: readonly OwnerObject[] | undefined) =>
    new Map((list ?? []).map((o) => [`${o.namespace}/${o.name}`, o]));
  return { replicaSets: byKey(input.replicaSets), jobs: byKey(input.jobs) };
}

/** The reference that names the controller; with none marked, a single owner counts as it. */
export function controllerOf(owners: readonly OwnerRef[]): OwnerRef | undefined {
  return owners.find((o) => o.controller === true) ?? (owners.length === 1 ? owners[0] : undefined);
}

/**
 * The workload of a pod. A ReplicaSet or Job not in the index (not listed yet, or deleted while
 * its pods drain) stays the workload itself: honest, and corrected on the next pass.
 */
export function resolveWorkload(
  pod: { namespace: string; name: string; owners: readonly OwnerRef[] },
  index: OwnerIndex,
): Workload {
  const ref = controllerOf(pod.owners);
  if (!ref) return { kind: 'Pod', name: pod.name };
  const parentIn = (map: ReadonlyMap<string, OwnerObject>, kind: string): Workload => {
    const obj = map.get(`${pod.namespace}/${ref.name}`);
    const up = obj ? controllerOf(obj.owners) : undefined;
    return up && up.kind === kind ? { kind, name: up.name } : { kind: ref.kind, name: ref.name };
  };
  if (ref.kind === 'ReplicaSet') return parentIn(index.replicaSets, 'Deployment');
  if (ref.kind === 'Job') return parentIn(index.jobs, 'CronJob');
  return { kind: ref.kind, name: ref.name };
}
