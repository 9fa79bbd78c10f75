// Status objects and Events from planner results, as pure functions of the previous status and
// the new plan. A condition keeps its lastTransitionTime while its status stays the same, so an
// unchanged world writes nothing; an Event is emitted only when a problem appears or changes its
// reason, never once per reconcile.
import type { GatewayStatus, PolicyMappingStatus, PolicyStatus, StoredCondition } from './egress-read.ts';
import type { PlannedCondition } from './egress-types.ts';

export interface EventSpec {
  kind: 'EgressPolicy' | 'EgressGateway';
  name: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export function mergeConditions(
  previous: readonly StoredCondition[],
  planned: readonly PlannedCondition[],
  now: string,
  generation: number | undefined,
): StoredCondition[] {
  return planned.map((c) => {
    const before = previous.find((p) => p.type === c.type);
    const out: StoredCondition = {
      ...c,
      lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now,
    };
    if (generation !== undefined) out.observedGeneration = generation;
    return out;
  });
}

/** Conditions whose (status) means something is wrong with the user's objects or the cluster. */
export function isProblem(c: PlannedCondition): boolean {
  switch (c.type) {
    case 'IPsAllocated':
      return c.status !== 'True' || c.reason !== 'Allocated';
    case 'Conflict':
    case 'PoolOverlap':
      return c.status === 'True';
    case 'Ready':
    case 'PodsSelected':
    case 'ConfigValid':
    case 'Ingress':
      return c.status !== 'True';
    default:
      return false;
  }
}

export function conditionEvents(
  kind: EventSpec['kind'],
  name: string,
  previous: readonly StoredCondition[],
  planned: readonly PlannedCondition[],
): EventSpec[] {
  const events: EventSpec[] = [];
  for (const c of planned) {
    if (!isProblem(c)) continue;
    const before = previous.find((p) => p.type === c.type);
    if (before && before.status === c.status && before.reason === c.reason) continue;
    events.push({ kind, name, type: 'Warning', reason: c.reason, message: `${c.type}: ${c.message}` });
  }
  return events;
}

export function policyStatus(
  previous: PolicyStatus,
  next: {
    ips: string[];
    selectedPods: number;
    activeNode: string | undefined;
    conditions: PlannedCondition[];
    mapping?: PolicyMappingStatus;
  },
  now: string,
  generation: number | undefined,
): PolicyStatus {
  const s: PolicyStatus = {
    ips: next.ips,
    selectedPods: next.selectedPods,
    conditions: mergeConditions(previous.conditions ?? [], next.conditions, now, generation),
  };
  if (generation !== undefined) s.observedGeneration = generation;
  if (next.activeNode) s.activeNode = next.activeNode;
  if (next.mapping) s.mapping = next.mapping;
  return s;
}

/** The controller's part of a gateway's status; activeNode belongs to the gateway role and is kept. */
export function gatewayStatus(
  previous: GatewayStatus,
  next: { readyNodes: string[]; allocatedCount: number; freeCount: number; conditions: PlannedCondition[] },
  now: string,
  generation: number | undefined,
): GatewayStatus {
  const s: GatewayStatus = {
    readyNodes: next.readyNodes,
    readyNodeCount: next.readyNodes.length,
    allocatedCount: next.allocatedCount,
    freeCount: next.freeCount,
    conditions: mergeConditions(previous.conditions ?? [], next.conditions, now, generation),
  };
  if (generation !== undefined) s.observedGeneration = generation;
  if (previous.activeNode) s.activeNode = previous.activeNode;
  return s;
}

/** Equality of two statuses as written (key order and absent-vs-empty ignored). */
export function sameStatus(a: object, b: object): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined && !(Array.isArray(x) && x.length === 0))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
