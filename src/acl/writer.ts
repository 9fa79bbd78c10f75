// The store side of planAcl: reads the mapping and history objects with their resourceVersions,
// and applies a plan (create, replace, delete) so the state lives in the API and survives a
// controller restart or failover. Only objects the plan names are touched; identical input
// writes nothing. Failures are values (ApplyError), one per object, never thrown.
import type { KubeRestClient } from '../k8s/rest.ts';
import type { AclPlan } from '../plan/egress-acl.ts';
import { historyName, type IpHistory } from '../plan/egress-history.ts';
import { historyObject, readHistory } from '../plan/egress-history-wire.ts';
import type { MapSlice } from '../plan/egress-mapping.ts';
import { mapSliceObject, readMapSlice } from '../plan/egress-mapping-wire.ts';
import type { ApplyError } from '../reconcile/outcome.ts';
import {
  applyObjectWrites,
  type ObjectWrite,
  type ObjectWritten,
  type WriteClient,
} from './object-writes.ts';
import { aclPaths, type Problem } from './store.ts';

export interface AclState {
  slices: MapSlice[];
  histories: IpHistory[];
  /** Object name → resourceVersion, for every object listed (also ones the readers refused). */
  versions: { slices: Map<string, string>; histories: Map<string, string> };
  problems: Problem[];
}

type Listed = { metadata?: { name?: string; resourceVersion?: string } };

async function list(client: KubeRestClient, path: string): Promise<Listed[]> {
  const r = await client.get<{ items?: Listed[] }>(path);
  return Array.isArray(r.items) ? r.items : [];
}

export async function readAclState(client: KubeRestClient): Promise<AclState> {
  const state: AclState = {
    slices: [],
    histories: [],
    versions: { slices: new Map(), histories: new Map() },
    problems: [],
  };
  for (const item of await list(client, aclPaths.mapSlices)) {
    const name = item.metadata?.name;
    if (name && item.metadata?.resourceVersion)
      state.versions.slices.set(name, item.metadata.resourceVersion);
    const r = readMapSlice(item);
    if (r.ok) state.slices.push(r.slice);
    else state.problems.push({ object: `EgressMapSlice/${r.name}`, problem: r.problem });
  }
  for (const item of await list(client, aclPaths.histories)) {
    const name = item.metadata?.name;
    if (name && item.metadata?.resourceVersion)
      state.versions.histories.set(name, item.metadata.resourceVersion);
    const r = readHistory(item);
    if (r.ok) state.histories.push(r.history);
    else state.problems.push({ object: `EgressIPHistory/${r.name}`, problem: r.problem });
  }
  return state;
}

/** Applies the plan; returns what was written ("EgressMapSlice/x"), the API's answers, the errors. */
export async function applyAclPlan(
  client: WriteClient,
  plan: AclPlan,
  state: Pick<AclState, 'versions'>,
): Promise<{ applied: string[]; written: ObjectWritten[]; errors: ApplyError[] }> {
  const slices = new Map(plan.mapping.slices.map((s) => [s.name, s]));
  const histories = new Map(plan.history.histories.map((h) => [h.ip, h]));
  const jobs: ObjectWrite[] = [
    ...plan.mapping.write.map((n) => ({
      kind: 'EgressMapSlice',
      collection: aclPaths.mapSlices,
      name: n,
      body: mapSliceObject(slices.get(n) as MapSlice),
      resourceVersion: state.versions.slices.get(n),
    })),
    ...plan.history.write.map((ip) => ({
      kind: 'EgressIPHistory',
      collection: aclPaths.histories,
      name: historyName(ip),
      body: historyObject(histories.get(ip) as IpHistory),
      resourceVersion: state.versions.histories.get(historyName(ip)),
    })),
    ...plan.mapping.remove.map((n) => ({
      kind: 'EgressMapSlice',
      collection: aclPaths.mapSlices,
      name: n,
      resourceVersion: state.versions.slices.get(n),
    })),
    ...plan.history.remove.map((ip) => ({
      kind: 'EgressIPHistory',
      collection: aclPaths.histories,
      name: historyName(ip),
      resourceVersion: state.versions.histories.get(historyName(ip)),
    })),
  ];
  return applyObjectWrites(client, jobs, 'acl-mapping');
}
