// `moor acl withdraw --clusterset`: the leave step of a member for the clusterset view. Deletes
// this cluster's own EgressMapSummary objects from the broker, and only those: an object is ours
// when its name carries our cluster ID as prefix AND its label submariner-io/clusterID is our ID
// (the publisher's own rule), so another cluster's object is never touched, whatever it claims.
// Each delete is conditional on the resourceVersion listed, so an object changed in between (by
// someone else) is not deleted on a stale look. Idempotent: a second run finds nothing.
import { CLUSTER_ID_LABEL } from '../broker/names.ts';
import { isNotFound } from '../k8s/rest.ts';
import { objectRef, summaryAccessError, summaryPaths } from './clusterset-objects.ts';
import type { WriteClient } from './object-writes.ts';

export interface WithdrawResult {
  /** `EgressMapSummary/<ns>/<name>`, sorted. */
  deleted: string[];
  /** Labelled with our ID but named for another cluster: not ours to delete. */
  leftAlone: string[];
  /** Deletes that failed: object and why. */
  failed: { object: string; error: unknown }[];
}

type Listed = { metadata?: { name?: string; labels?: Record<string, string>; resourceVersion?: string } };

export async function withdrawSummaries(
  client: Pick<WriteClient, 'get' | 'delete'>,
  namespace: string,
  clusterID: string,
): Promise<WithdrawResult> {
  const collection = summaryPaths.collection(namespace);
  let items: Listed[];
  try {
    const selector = encodeURIComponent(`${CLUSTER_ID_LABEL}=${clusterID}`);
    const list = await client.get<{ items?: Listed[] }>(`${collection}?labelSelector=${selector}`);
    items = Array.isArray(list.items) ? list.items : [];
  } catch (err) {
    throw summaryAccessError(err, namespace);
  }
  const result: WithdrawResult = { deleted: [], leftAlone: [], failed: [] };
  const sorted = items
    .map((o) => ({
      name: o.metadata?.name ?? '',
      label: o.metadata?.labels?.[CLUSTER_ID_LABEL],
      rv: o.metadata?.resourceVersion,
    }))
    .filter((o) => o.name !== '')
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const o of sorted) {
    const ref = objectRef(namespace, o.name);
    // The selector already asked for our label; a server (or proxy) that ignored it must not widen the delete.
    if (o.label !== clusterID) continue;
    if (!o.name.startsWith(`${clusterID}-`)) {
      result.leftAlone.push(ref);
      continue;
    }
    const preconditions = o.rv ? { preconditions: { resourceVersion: o.rv } } : {};
    try {
      await client.delete(`${collection}/${encodeURIComponent(o.name)}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        ...preconditions,
      });
      result.deleted.push(ref);
    } catch (err) {
      if (isNotFound(err)) continue; // gone meanwhile: nothing left to withdraw
      result.failed.push({ object: ref, error: summaryAccessError(err, namespace) });
    }
  }
  return result;
}
