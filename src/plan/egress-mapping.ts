// The ACL mapping: which pod (and which workload) leaves from which egress IP, to which
// destinations, since when. Written by the controller as EgressMapSlice objects, sliced like
// EndpointSlices so 10,000 pods never make one huge object:
//   - one policy per slice, at most MAX_ENTRIES entries each;
//   - a pod stays in the slice that already holds it, so one pod change rewrites one slice;
//   - new pods fill existing slices with room (name order), then new slices;
//   - a slice left empty is deleted; slices are never repacked (repacking rewrites many).
// The result depends only on the sets given (previous slices, assignments), never on their order.

import type { Workload } from './egress-mapping-owner.ts';
import type { PodAssignment } from './egress-pods.ts';
import { compareNames, type Destination, podKey, sortedByKey } from './egress-types.ts';

export const MAX_ENTRIES = 100;
/** Label that names the policy of a slice, so readers and admission policies select by it. */
export const POLICY_LABEL = 'egress.moor.io/policy';

export interface MapEntry {
  namespace: string;
  pod: string;
  node?: string;
  podIP?: string;
  workload: Workload;
  /** Absent while the policy has no IP yet. */
  egressIP?: string;
  /** RFC 3339: when the pod got this egress IP (or was first mapped without one). */
  since: string;
}

export interface MapSlice {
  name: string;
  policy: string;
  gateway: string;
  destinations: Destination[];
  /** Sorted by namespace/pod. */
  entries: MapEntry[];
}

export interface MapPolicy {
  name: string;
  gateway: string;
  destinations: readonly Destination[];
}

export interface PolicyMapSummary {
  mappedPods: number;
  /** Pods that have an egress IP (the others are waiting for an allocation). */
  podsWithIP: number;
  slices: number;
  /** `Kind/namespace/name` of every workload, sorted; at most SUMMARY_WORKLOADS listed. */
  workloads: string[];
  workloadCount: number;
  /** Egress IP → pods leaving from it. */
  pods: Record<string, number>;
}

export const SUMMARY_WORKLOADS = 20;

export interface MappingPlan {
  /** Every slice that should exist, sorted by name. */
  slices: MapSlice[];
  /** Names of slices to create or replace (new or different from the previous ones). */
  write: string[];
  /** Names of previous slices to delete. */
  remove: string[];
  summaries: Record<string, PolicyMapSummary>;
}

export interface MappingInput {
  policies: readonly MapPolicy[];
  assignments: readonly PodAssignment[];
  /** Workload of each pod, by namespace/name; a pod missing here is its own workload. */
  workloads: ReadonlyMap<string, Workload>;
  previous: readonly MapSlice[];
  /** RFC 3339 time of this pass, the `since` of new entries. */
  now: string;
  maxEntries?: number;
}

export function planMapping(input: MappingInput): MappingPlan {
  const max = input.maxEntries ?? MAX_ENTRIES;
  const policies = new Map(input.policies.map((p) => [p.name, p]));
  const previous = [...input.previous].sort((a, b) => compareNames(a.name, b.name));
  const byPolicy = new Map<string, PodAssignment[]>();
  for (const a of sortedByKey(input.assignments, podKey)) {
    if (!policies.has(a.policy)) continue;
    const list = byPolicy.get(a.policy) ?? [];
    list.push(a);
    byPolicy.set(a.policy, list);
  }

  const slices: MapSlice[] = [];
  const summaries: Record<string, PolicyMapSummary> = {};
  for (const policy of [...policies.values()].sort((a, b) => compareNames(a.name, b.name))) {
    const wanted = new Map((byPolicy.get(policy.name) ?? []).map((a) => [podKey(a), a]));
    const placed = new Set<string>();
    const own = previous.filter((s) => s.policy === policy.name);
    const kept: MapSlice[] = own.map((s) => {
      const entries: MapEntry[] = [];
      for (const e of s.entries) {
        const key = podKey({ namespace: e.namespace, name: e.pod });
        const a = wanted.get(key);
        if (!a || placed.has(key) || entries.length >= max) continue; // gone, duplicate, or overfull
        placed.add(key);
        entries.push(entryFor(a, input, e));
      }
      return { ...sliceShell(s.name, policy), entries };
    });
    const fresh = [...wanted.values()].filter((a) => !placed.has(podKey(a)));
    let next = 0;
    for (const a of fresh) {
      let slice = kept.find((s) => s.entries.length < max);
      if (!slice) {
        const used = new Set(kept.map((s) => s.name));
        while (used.has(sliceName(policy.name, next))) next++;
        slice = { ...sliceShell(sliceName(policy.name, next), policy), entries: [] };
        kept.push(slice);
      }
      slice.entries.push(entryFor(a, input, undefined));
    }
    const live = kept.filter((s) => s.entries.length > 0);
    for (const s of live) s.entries = sortedByKey(s.entries, entryKey);
    slices.push(...live);
    summaries[policy.name] = summarize(live);
  }
  slices.sort((a, b) => compareNames(a.name, b.name));

  const before = new Map(previous.map((s) => [s.name, canonical(s)]));
  const names = new Set(slices.map((s) => s.name));
  return {
    slices,
    write: slices.filter((s) => before.get(s.name) !== canonical(s)).map((s) => s.name),
    remove: [...new Set(previous.map((s) => s.name))].filter((n) => !names.has(n)),
    summaries,
  };
}

function sliceShell(name: string, policy: MapPolicy): Omit<MapSlice, 'entries'> {
  return {
    name,
    policy: policy.name,
    gateway: policy.gateway,
    destinations: policy.destinations.map((d) => ({
      cidr: d.cidr,
      ...(d.except ? { except: [...d.except] } : {}),
    })),
  };
}

/** `<policy>-<n>`, kept within a DNS subdomain name's 253 characters. */
export function sliceName(policy: string, n: number): string {
  const suffix = `-${n}`;
  return `${policy.slice(0, 253 - suffix.length)}${suffix}`;
}

function entryFor(a: PodAssignment, input: MappingInput, before: MapEntry | undefined): MapEntry {
  const workload = input.workloads.get(podKey(a)) ?? { kind: 'Pod', name: a.name };
  const sameIP = before !== undefined && before.egressIP === a.egressIP;
  const e: MapEntry = {
    namespace: a.namespace,
    pod: a.name,
    workload: { kind: workload.kind, name: workload.name },
    since: sameIP ? before.since : input.now,
  };
  if (a.node !== undefined) e.node = a.node;
  if (a.podIP !== undefined) e.podIP = a.podIP;
  if (a.egressIP !== undefined) e.egressIP = a.egressIP;
  return e;
}

const entryKey = (e: MapEntry) => `${e.namespace}/${e.pod}`;

function summarize(slices: readonly MapSlice[]): PolicyMapSummary {
  const workloads = new Set<string>();
  const pods: Record<string, number> = {};
  let mapped = 0;
  let withIP = 0;
  for (const s of slices)
    for (const e of s.entries) {
      mapped++;
      workloads.add(`${e.workload.kind}/${e.namespace}/${e.workload.name}`);
      if (e.egressIP !== undefined) {
        withIP++;
        pods[e.egressIP] = (pods[e.egressIP] ?? 0) + 1;
      }
    }
  const sorted = [...workloads].sort(compareNames);
  const byIP: Record<string, number> = {};
  for (const ip of Object.keys(pods).sort(compareNames)) byIP[ip] = pods[ip] as number;
  return {
    mappedPods: mapped,
    podsWithIP: withIP,
    slices: slices.length,
    workloads: sorted.slice(0, SUMMARY_WORKLOADS),
    workloadCount: sorted.length,
    pods: byIP,
  };
}

/** Key order fixed by construction above; entries sorted: equal data gives equal text. */
function canonical(s: MapSlice): string {
  return JSON.stringify({
    name: s.name,
    policy: s.policy,
    gateway: s.gateway,
    destinations: s.destinations.map((d) => ({ cidr: d.cidr, except: d.except ?? [] })),
    entries: sortedByKey(s.entries, entryKey).map((e) => [
      e.namespace,
      e.pod,
      e.node,
      e.podIP,
      e.workload.kind,
      e.workload.name,
      e.egressIP,
      e.since,
    ]),
  });
}

/** One row per pod, the shape every ACL renderer and query reads. */
export interface MapRow extends MapEntry {
  policy: string;
  gateway: string;
  destinations: Destination[];
}

export function flattenSlices(slices: readonly MapSlice[]): MapRow[] {
  const rows: MapRow[] = [];
  const seen = new Set<string>();
  for (const s of [...slices].sort((a, b) => compareNames(a.name, b.name)))
    for (const e of s.entries) {
      const key = entryKey(e);
      if (seen.has(key)) continue; // a pod in two slices: the first by name counts
      seen.add(key);
      rows.push({ ...e, policy: s.policy, gateway: s.gateway, destinations: s.destinations });
    }
  return sortedByKey(rows, entryKey);
}
