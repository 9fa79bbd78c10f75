// Reads the ACL mapping (EgressMapSlices), the history (EgressIPHistory) and the names an export
// filter may refer to from the cluster API. Objects the readers refuse are returned as problems,
// never trusted and never fatal.
import { MoorError } from '../errors.ts';
import { isNotFound, type KubeRestClient } from '../k8s/rest.ts';
import { historyName, type IpHistory } from '../plan/egress-history.ts';
import { readHistory } from '../plan/egress-history-wire.ts';
import { flattenSlices, type MapRow, type MapSlice } from '../plan/egress-mapping.ts';
import { readMapSlice } from '../plan/egress-mapping-wire.ts';

const BASE = '/apis/egress.moor.io/v1alpha1';
export const aclPaths = {
  mapSlices: `${BASE}/egressmapslices`,
  histories: `${BASE}/egressiphistories`,
  policies: `${BASE}/egresspolicies`,
  namespace: (name: string) => `/api/v1/namespaces/${encodeURIComponent(name)}`,
};

export interface Problem {
  object: string;
  problem: string;
}

async function listItems(client: KubeRestClient, path: string, kind: string): Promise<unknown[]> {
  try {
    const list = await client.get<{ items?: unknown[] }>(path);
    return Array.isArray(list.items) ? list.items : [];
  } catch (err) {
    if (isNotFound(err))
      throw new MoorError('not-found', `the cluster has no ${kind} API`, {
        hint: 'install the egress CRDs: kubectl apply -f k8s/egress/crds/',
      });
    throw err;
  }
}

export async function readMapping(
  client: KubeRestClient,
): Promise<{ slices: MapSlice[]; rows: MapRow[]; problems: Problem[] }> {
  const slices: MapSlice[] = [];
  const problems: Problem[] = [];
  for (const item of await listItems(client, aclPaths.mapSlices, 'EgressMapSlice')) {
    const r = readMapSlice(item);
    if (!r.ok) problems.push({ object: `EgressMapSlice/${r.name}`, problem: r.problem });
    else {
      slices.push(r.slice);
      if (r.skippedEntries > 0)
        problems.push({
          object: `EgressMapSlice/${r.slice.name}`,
          problem: `${r.skippedEntries} unreadable entries skipped`,
        });
    }
  }
  return { slices, rows: flattenSlices(slices), problems };
}

export async function readHistories(
  client: KubeRestClient,
): Promise<{ histories: IpHistory[]; problems: Problem[] }> {
  const histories: IpHistory[] = [];
  const problems: Problem[] = [];
  for (const item of await listItems(client, aclPaths.histories, 'EgressIPHistory')) {
    const r = readHistory(item);
    if (!r.ok) problems.push({ object: `EgressIPHistory/${r.name}`, problem: r.problem });
    else {
      histories.push(r.history);
      if (r.skippedRecords > 0)
        problems.push({
          object: `EgressIPHistory/${historyName(r.history.ip)}`,
          problem: `${r.skippedRecords} unreadable records skipped`,
        });
    }
  }
  return { histories, problems };
}

/** Whether an EgressPolicy of that name exists (an export filter naming none is an error). */
export async function policyExists(client: KubeRestClient, name: string): Promise<boolean> {
  return exists(client, `${aclPaths.policies}/${encodeURIComponent(name)}`);
}

export async function namespaceExists(client: KubeRestClient, name: string): Promise<boolean> {
  return exists(client, aclPaths.namespace(name));
}

async function exists(client: KubeRestClient, path: string): Promise<boolean> {
  try {
    await client.get(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
