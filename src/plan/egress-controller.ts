// The controller's whole decision as one pure function: API objects in, status writes and
// Events out. Allocation (egress-allocate) and pod resolution (egress-pods) are combined here;
// the controller daemon only lists, calls this, and writes what it returns.
import { planAllocations } from './egress-allocate.ts';
import { planIngress } from './egress-ingress.ts';
import { resolvePods } from './egress-pods.ts';
import {
  type GatewayStatus,
  type PolicyStatus,
  readGateway,
  readGatewayStatus,
  readMeta,
  readNamespace,
  readNode,
  readPod,
  readPolicy,
  readPolicyStatus,
} from './egress-read.ts';
import { conditionEvents, type EventSpec, gatewayStatus, policyStatus, sameStatus } from './egress-status.ts';
import type { GatewayInput, NamespaceInput, NodeInput, PodInput, PolicyInput } from './egress-types.ts';

export interface ControllerSnapshot {
  gateways: readonly unknown[];
  policies: readonly unknown[];
  nodes: readonly unknown[];
  namespaces: readonly unknown[];
  pods: readonly unknown[];
}

export interface StatusWrite {
  kind: 'EgressPolicy' | 'EgressGateway';
  name: string;
  resourceVersion: string | undefined;
  status: PolicyStatus | GatewayStatus;
}

export interface ControllerPlan {
  writes: StatusWrite[];
  events: EventSpec[];
  /** Objects that could not be read at all (bad shape), for the log. */
  unreadable: string[];
}

export function planController(snapshot: ControllerSnapshot, now: string): ControllerPlan {
  const unreadable: string[] = [];
  const gateways: { input: GatewayInput; raw: unknown }[] = [];
  for (const raw of snapshot.gateways) {
    const r = readGateway(raw);
    if (r.ok) gateways.push({ input: r.value, raw });
    else unreadable.push(`EgressGateway ${r.name}: ${r.problem}`);
  }
  const policies: { input: PolicyInput; raw: unknown }[] = [];
  for (const raw of snapshot.policies) {
    const r = readPolicy(raw);
    if (r.ok) policies.push({ input: r.value, raw });
    else unreadable.push(`EgressPolicy ${r.name}: ${r.problem}`);
  }
  const nodes = snapshot.nodes.map(readNode).filter((n): n is NodeInput => n !== undefined);
  const namespaces = snapshot.namespaces
    .map(readNamespace)
    .filter((n): n is NamespaceInput => n !== undefined);
  const pods = snapshot.pods.map(readPod).filter((p): p is PodInput => p !== undefined);

  const alloc = planAllocations({
    gateways: gateways.map((g) => g.input),
    policies: policies.map((p) => p.input),
    nodes,
  });
  const resolution = resolvePods({
    policies: policies.map((p) => ({ ...p.input, ips: alloc.policies[p.input.name]?.ips ?? [] })),
    namespaces,
    pods,
  });

  const ingress = planIngress({
    policies: policies.map((p) => ({ ...p.input, ips: alloc.policies[p.input.name]?.ips ?? [] })),
    gateways: gateways.map((g) => g.input),
    assignments: resolution.assignments,
    pods,
    nodes,
  });

  const writes: StatusWrite[] = [];
  const events: EventSpec[] = [];
  const activeNodeOf = new Map<string, string | undefined>();
  for (const g of gateways) {
    const previous = readGatewayStatus(g.raw);
    activeNodeOf.set(g.input.name, previous.activeNode);
    const planned = alloc.gateways[g.input.name];
    if (!planned) continue;
    const next = gatewayStatus(previous, planned, now, g.input.generation);
    events.push(
      ...conditionEvents('EgressGateway', g.input.name, previous.conditions ?? [], planned.conditions),
    );
    if (!sameStatus(stripTimes(previous), stripTimes(next)))
      writes.push({
        kind: 'EgressGateway',
        name: g.input.name,
        resourceVersion: readMeta(g.raw)?.resourceVersion,
        status: next,
      });
  }
  for (const p of policies) {
    const previous = readPolicyStatus(p.raw);
    const a = alloc.policies[p.input.name];
    const r = resolution.policies[p.input.name];
    if (!a || !r) continue;
    const inbound = ingress.conditions[p.input.name];
    const conditions = [...a.conditions, ...r.conditions, ...(inbound ? [inbound] : [])];
    const next = policyStatus(
      previous,
      { ips: a.ips, selectedPods: r.selectedPods, activeNode: activeNodeOf.get(p.input.gateway), conditions },
      now,
      p.input.generation,
    );
    events.push(...conditionEvents('EgressPolicy', p.input.name, previous.conditions ?? [], conditions));
    if (!sameStatus(previous.ips ?? [], a.ips) && a.ips.length > 0)
      events.push({
        kind: 'EgressPolicy',
        name: p.input.name,
        type: 'Normal',
        reason: 'Allocated',
        message: `egress IPs ${a.ips.join(', ')}`,
      });
    if (!sameStatus(stripTimes(previous), stripTimes(next)))
      writes.push({
        kind: 'EgressPolicy',
        name: p.input.name,
        resourceVersion: readMeta(p.raw)?.resourceVersion,
        status: next,
      });
  }
  return { writes, events, unreadable };
}

/** Times only change together with a status, so comparing without them is exact and stable. */
function stripTimes<T extends { conditions?: { lastTransitionTime: string }[] }>(s: T): T {
  return { ...s, conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: '' })) };
}
