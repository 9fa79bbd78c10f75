// The store side of planAcl: reads the mapping and history objects with their resourceVersions,
// and applies a plan (create, replace, delete) so the state lives in the API and survives a
// controller restart or failover. Only objects the plan names are touched; identical input
// writes nothing. Failures are values (ApplyError), one per object, never thrown.
import { MoorError } from '../errors.ts';
import { isConflict, isNotFound, type KubeRestClient } from '../k8s/rest.ts';
import type { AclPlan } from '../plan/egress-acl.ts';
import { historyName, type IpHistory } from '../plan/egress-history.ts';
import { historyObject, readHistory } from '../plan/egress-history-wire.ts';
import type { MapSlice } from '../plan/egress-mapping.ts';
import { mapSliceObject, readMapSlice } from '../plan/egress-mapping-wire.ts';
import type { ApplyError } from '../reconcile/outcome.ts';
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

/** One object the plan wrote: the API's answer (with its new resourceVersion), or deleted. */
export interface AclWritten {
  kind: 'EgressMapSlice' | 'EgressIPHistory';
  name: string;
  /** The resourceVersion the write started from (undefined for a create). */
  base: string | undefined;
  /** The object as the API returned it; undefined when deleted. */
  object: Listed | undefined;
}

/** Applies the plan; returns what was written ("EgressMapSlice/x"), the objects, the errors. */
export async function applyAclPlan(
  client: Pick<KubeRestClient, 'get' | 'create' | 'replace' | 'delete'>,
  plan: AclPlan,
  state: Pick<AclState, 'versions'>,
): Promise<{ applied: string[]; written: AclWritten[]; errors: ApplyError[] }> {
  const applied: string[] = [];
  const written: AclWritten[] = [];
  const errors: ApplyError[] = [];
  const slices = new Map(plan.mapping.slices.map((s) => [s.name, s]));
  const histories = new Map(plan.history.histories.map((h) => [h.ip, h]));
  const jobs: {
    kind: AclWritten['kind'];
    base: string;
    name: string;
    body?: Record<string, unknown>;
    rv?: string | undefined;
  }[] = [
    ...plan.mapping.write.map((n) => ({
      kind: 'EgressMapSlice' as const,
      base: aclPaths.mapSlices,
      name: n,
      body: mapSliceObject(slices.get(n) as MapSlice),
      rv: state.versions.slices.get(n),
    })),
    ...plan.history.write.map((ip) => ({
      kind: 'EgressIPHistory' as const,
      base: aclPaths.histories,
      name: historyName(ip),
      body: historyObject(histories.get(ip) as IpHistory),
      rv: state.versions.histories.get(historyName(ip)),
    })),
    ...plan.mapping.remove.map((n) => ({
      kind: 'EgressMapSlice' as const,
      base: aclPaths.mapSlices,
      name: n,
      rv: state.versions.slices.get(n),
    })),
    ...plan.history.remove.map((ip) => ({
      kind: 'EgressIPHistory' as const,
      base: aclPaths.histories,
      name: historyName(ip),
      rv: state.versions.histories.get(historyName(ip)),
    })),
  ];
  for (const job of jobs) {
    const path = `${job.base}/${encodeURIComponent(job.name)}`;
    try {
      let object: Listed | undefined;
      if (!job.body) {
        await client.delete(path).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      } else if (job.rv !== undefined) {
        const body = { ...job.body, metadata: { ...(job.body.metadata as object), resourceVersion: job.rv } };
        object = await client.replace<Listed>(path, body);
      } else {
        try {
          object = await client.create<Listed>(job.base, job.body);
        } catch (err) {
          if (!isConflict(err)) throw err;
          // Someone (a previous leader) created it after our read: replace on its version.
          const current = await client.get<Listed>(path);
          const rv = current.metadata?.resourceVersion;
          object = await client.replace<Listed>(path, {
            ...job.body,
            metadata: { ...(job.body.metadata as object), resourceVersion: rv },
          });
        }
      }
      applied.push(`${job.kind}/${job.name}`);
      written.push({ kind: job.kind, name: job.name, base: job.rv, object });
    } catch (err) {
      errors.push({
        code: err instanceof MoorError ? err.code : 'system',
        phase: 'acl-mapping',
        object: `${job.kind}/${job.name}`,
        message: err instanceof Error ? err.message : String(err),
        hint: 'the next reconcile retries from a fresh read',
      });
    }
  }
  return { applied, written, errors };
}
