// The controller's whole decision as one pure function: API objects in, status writes, Events
// and the ACL mapping out. Allocation (egress-allocate), pod resolution (egress-pods) and the
// ACL mapping with its history (egress-acl, fed with that resolution and allocation) are
// combined here; the controller daemon only lists, calls this, and writes what it returns.
import { type AclPlan, planAcl, readOwned } from './egress-acl.ts';
import { planAllocations } from './egress-allocate.ts';
import type { IpHistory } from './egress-history.ts';
import { readHistory } from './egress-history-wire.ts';
import { planIngress } from './egress-ingress.ts';
import type { MapSlice, PolicyMapSummary } from './egress-mapping.ts';
import type { OwnerObject } from './egress-mapping-owner.ts';
import { readMapSlice } from './egress-mapping-wire.ts';
import { type PodResolution, resolvePods } from './egress-pods.ts';
import {
  type GatewayStatus,
  type PolicyMappingStatus,
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
  /** For the ACL mapping (read only when `acl` is given to planController). */
  replicaSets?: readonly unknown[];
  jobs?: readonly unknown[];
  mapSlices?: readonly unknown[];
  histories?: readonly unknown[];
}

export interface ControllerOptions {
  /** Plan the ACL mapping and history too; retention from parseRetention (checked at start). */
  acl?: { retentionMs: number };
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
  /** The pod resolution with the allocated IPs (what the mapping is derived from). */
  resolution: PodResolution;
  /** Present when options.acl was given: slices and histories to write or delete. */
  acl?: AclPlan;
}

export function planController(
  snapshot: ControllerSnapshot,
  now: string,
  options: ControllerOptions = {},
): ControllerPlan {
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

  const acl = options.acl
    ? planAcl({
        resolution,
        policies: policies.map((p) => p.input),
        podOwners: owned(snapshot.pods),
        replicaSets: owned(snapshot.replicaSets ?? []),
        jobs: owned(snapshot.jobs ?? []),
        previousSlices: readSlices(snapshot.mapSlices ?? [], unreadable),
        previousHistories: readHistories(snapshot.histories ?? [], unreadable),
        now,
        retentionMs: options.acl.retentionMs,
      })
    : undefined;

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
    const summary = acl?.mapping.summaries[p.input.name];
    const next = policyStatus(
      previous,
      {
        ips: a.ips,
        selectedPods: r.selectedPods,
        activeNode: activeNodeOf.get(p.input.gateway),
        conditions,
        ...(summary ? { mapping: mappingStatus(summary) } : {}),
      },
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
  return { writes, events, unreadable, resolution, ...(acl ? { acl } : {}) };
}

function owned(objects: readonly unknown[]): OwnerObject[] {
  return objects.map(readOwned).filter((o): o is OwnerObject => o !== undefined);
}

/** Slices the reader refuses are reported and left out: never trusted as previous state. */
function readSlices(objects: readonly unknown[], unreadable: string[]): MapSlice[] {
  const out: MapSlice[] = [];
  for (const o of objects) {
    const r = readMapSlice(o);
    if (!r.ok) unreadable.push(`EgressMapSlice ${r.name}: ${r.problem}`);
    else {
      out.push(r.slice);
      if (r.skippedEntries > 0)
        unreadable.push(`EgressMapSlice ${r.slice.name}: ${r.skippedEntries} unreadable entries skipped`);
    }
  }
  return out;
}

function readHistories(objects: readonly unknown[], unreadable: string[]): IpHistory[] {
  const out: IpHistory[] = [];
  for (const o of objects) {
    const r = readHistory(o);
    if (!r.ok) unreadable.push(`EgressIPHistory ${r.name}: ${r.problem}`);
    else {
      out.push(r.history);
      if (r.skippedRecords > 0)
        unreadable.push(`EgressIPHistory ${r.history.ip}: ${r.skippedRecords} unreadable records skipped`);
    }
  }
  return out;
}

/** status.mapping: pods per IP as a sorted list (a merge patch replaces lists, not map keys). */
export function mappingStatus(s: PolicyMapSummary): PolicyMappingStatus {
  return {
    mappedPods: s.mappedPods,
    podsWithIP: s.podsWithIP,
    slices: s.slices,
    workloadCount: s.workloadCount,
    workloads: s.workloads,
    ips: Object.keys(s.pods)
      .sort()
      .map((ip) => ({ ip, pods: s.pods[ip] as number })),
  };
}

/** Times only change together with a status, so comparing without them is exact and stable. */
function stripTimes<T extends { conditions?: { lastTransitionTime: string }[] }>(s: T): T {
  return { ...s, conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: '' })) };
}
