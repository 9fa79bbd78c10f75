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
 * Whether the pod's workload can be told now: false when its controller is a ReplicaSet or Job
 * the index does not hold. The owner's watch event can arrive after the pod's (separate watch
 * streams), and guessing "ReplicaSet/x" would open a short, false history record.
 */
export function ownerKnown(
  pod: { namespace: string; owners: readonly OwnerRef[] },
  index: OwnerIndex,
): boolean {
  const ref = controllerOf(pod.owners);
  if (ref?.kind === 'ReplicaSet') return index.replicaSets.has(`${pod.namespace}/${ref.name}`);
  if (ref?.kind === 'Job') return index.jobs.has(`${pod.namespace}/${ref.name}`);
  return true;
}

/**
 * The workload of a pod. A ReplicaSet or Job not in the index stays the workload itself (planAcl
 * first keeps the pod's previous workload, or waits a pass for a new pod: see ownerKnown).
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
