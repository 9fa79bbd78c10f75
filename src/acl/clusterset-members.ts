// Who is a member of the clusterset: a cluster with a Submariner `Cluster` object on the broker
// (spec §2.1). Real Submariner and moor's gateway and host agent publish it on join and delete it
// on leave, so the clusterset view (clusterset-view.ts) trusts EgressMapSummary objects only of
// these cluster IDs: a cluster that left keeps no name for its old egress IPs. Pure: objects in,
// IDs out. Cluster objects are read by the one Cluster reader (parseCluster) and indexed as the
// cable planner does (indexClusters: the object named EnsureValidName(id) declaring that id);
// garbled objects are skipped and remembered by name, so a report can say why.
import { clusterIdProblem, clusterObjectName } from '../broker/names.ts';
import { parseCluster } from '../broker/objectReader.ts';
import type { ClusterObject } from '../broker/types.ts';
import { MoorError } from '../errors.ts';
import { KubeApiError } from '../k8s/rest.ts';
import { indexClusters } from '../plan/members.ts';

export interface ClustersetMembers {
  /** Cluster IDs with a readable Cluster object. */
  ids: ReadonlySet<string>;
  /** Cluster objects the reader refused: object name → why. */
  unreadable: ReadonlyMap<string, string>;
}

export function readMembers(clusterObjects: readonly unknown[]): ClustersetMembers {
  const parsed: ClusterObject[] = [];
  const unreadable = new Map<string, string>();
  for (const o of clusterObjects) {
    const r = parseCluster(o);
    if (r.ok) parsed.push(r.value);
    else {
      const name = (o as { metadata?: { name?: unknown } } | null)?.metadata?.name;
      if (typeof name === 'string' && name !== '') unreadable.set(name, r.reason);
    }
  }
  const ids = new Set([...indexClusters(parsed).keys()].filter((id) => clusterIdProblem(id) === undefined));
  return { ids, unreadable };
}

/** Why `clusterID` is not a member, said for a report. */
export function notMemberReason(members: ClustersetMembers, clusterID: string): string {
  const why = members.unreadable.get(clusterObjectName(clusterID));
  return why === undefined
    ? `cluster "${clusterID}" has no Cluster object on the broker (it left the clusterset or never joined)`
    : `cluster "${clusterID}" has no readable Cluster object on the broker (Cluster ${clusterObjectName(clusterID)}: ${why})`;
}

/** A credential that may not list Cluster objects, said with the missing permission and the fix. */
export function clusterAccessError(err: unknown, namespace: string): unknown {
  if (!(err instanceof KubeApiError) || (err.status !== 403 && err.status !== 404)) return err;
  return err.status === 404
    ? new MoorError('not-found', `the broker has no Submariner Cluster API (namespace ${namespace})`, {
        hint: 'is this a Submariner broker? subctl deploy-broker installs the clusters.submariner.io CRD',
      })
    : new MoorError(
        'broker-forbidden',
        `the broker credential may not list Cluster objects (clusters.submariner.io) in ${namespace}, which tell who is a member: ${err.message}`,
        {
          hint: `bind the credential's ServiceAccount to the Role submariner-k8s-broker-cluster (get/list/watch on clusters.submariner.io; subctl join and moor join do this), or grant get, list and watch on clusters.submariner.io in ${namespace}`,
        },
      );
}
