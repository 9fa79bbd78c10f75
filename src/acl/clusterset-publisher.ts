// Publishes this cluster's ACL mapping summary to the broker (EgressMapSummary objects), so every
// member and every joined host can list the whole clusterset's egress IPs. Runs in the
// `moor controller` leader only (one writer per object), and is idempotent: a new leader reads
// the broker back and writes nothing that is already right. It follows the MappingView (the
// EgressMapSlices), so it publishes what the API holds, whoever wrote it.
// Reconciler shape: a mapping change or a resync marks dirty; one run reads the broker fresh
// (only objects labelled with our cluster ID), plans (clusterset-plan.ts, pure) and writes the
// difference with the member's broker credential. It writes, replaces and deletes only objects
// that carry our cluster ID in name and label. A broker outage fails the run (retried with
// backoff) and deletes nothing; identical input writes nothing.
// Membership: readers trust only clusters with a Cluster object on the broker. Each run reads
// ours; while it is missing a warning is logged once (publishing goes on: the gateway may join
// after the controller starts), and once more when it appears.
import { CLUSTER_ID_LABEL, clusterObjectName } from '../broker/names.ts';
import { MoorError } from '../errors.ts';
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import type { KubeObject } from '../k8s/reflector.ts';
import { isNotFound } from '../k8s/rest.ts';
import { type Clock, systemClock } from '../reconcile/clock.ts';
import { ReconcileLoop } from '../reconcile/loop.ts';
import { OutcomeBuilder, type ReconcileOutcome, waiting } from '../reconcile/outcome.ts';
import { clusterAccessError, readMembers } from './clusterset-members.ts';
import {
  type MapSummary,
  readSummary,
  SUMMARY_KIND,
  summaryAccessError,
  summaryObject,
  summaryPaths,
} from './clusterset-objects.ts';
import { planSummaries } from './clusterset-plan.ts';
import type { MappingSnapshot } from './mapping-view.ts';
import { applyObjectWrites, type ObjectWrite, type WriteClient } from './object-writes.ts';
import { aclRules } from './rules.ts';

export interface ClustersetPublisherOptions {
  /** The mapping of this cluster (MappingView). */
  mapping: { read(): MappingSnapshot | undefined; onChange(cb: () => void): () => void };
  /** The member's broker credential. */
  broker: WriteClient;
  namespace: string;
  clusterID: string;
  log: (line: string) => void;
  clock?: Clock;
  resyncMs?: number;
  debounceMs?: number;
  /** First retry after a failed run, doubling up to resyncMs. */
  retryMs?: number;
}

/** `unknown`: the credential may not read Cluster objects. */
export type Membership = 'member' | 'not-a-member' | 'unknown';

export class ClustersetPublisher {
  readonly loop: ReconcileLoop;
  readonly #o: ClustersetPublisherOptions;
  #unsubscribe: (() => void) | undefined;
  /** Problems with our own objects already logged (each once while it lasts). */
  #logged = new Set<string>();
  /** Our membership as last read: the warning is logged when it changes. */
  #membership: Membership | undefined;

  constructor(o: ClustersetPublisherOptions) {
    this.#o = o;
    this.loop = new ReconcileLoop({
      name: 'clusterset-publisher',
      reconcile: () => this.#reconcile(),
      debounceMs: o.debounceMs ?? 200,
      resyncMs: o.resyncMs ?? 30_000,
      retryMs: o.retryMs ?? 1_000,
      clock: o.clock ?? systemClock,
      log: o.log,
    });
  }

  start(): void {
    this.#unsubscribe ??= this.#o.mapping.onChange(() => this.loop.markDirty('mapping'));
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.loop.stop();
  }

  async #reconcile(): Promise<ReconcileOutcome> {
    const o = this.#o;
    const snapshot = o.mapping.read();
    if (!snapshot) return waiting('the EgressMapSlices are not listed yet');
    const collection = summaryPaths.collection(o.namespace);
    let items: KubeObject[];
    try {
      const selector = encodeURIComponent(`${CLUSTER_ID_LABEL}=${o.clusterID}`);
      const list = await o.broker.get<{ items?: KubeObject[] }>(`${collection}?labelSelector=${selector}`);
      items = Array.isArray(list.items) ? list.items : [];
    } catch (err) {
      // Nothing is written or deleted on a guess: what is on the broker stays until we can read it.
      return new OutcomeBuilder()
        .fail('broker-read', summaryAccessError(err, o.namespace), collection)
        .build();
    }
    await this.#checkMembership();
    const versions = new Map<string, string>();
    const previous: MapSummary[] = [];
    const unreadable: string[] = [];
    const problems = new Set<string>();
    for (const item of items) {
      const name = item.metadata?.name;
      if (!name) continue;
      if (item.metadata?.resourceVersion) versions.set(name, item.metadata.resourceVersion);
      const r = readSummary(item);
      if (r.ok && r.summary.clusterID === o.clusterID) previous.push(r.summary);
      else if (name.startsWith(`${o.clusterID}-`)) {
        // Ours by name and label but unreadable (edited by hand, an older moor): rewritten or removed.
        unreadable.push(name);
        problems.add(
          `${SUMMARY_KIND}/${name} is unreadable (${r.ok ? 'another cluster ID' : r.problem.problem}); it is replaced`,
        );
      } else
        problems.add(
          `${SUMMARY_KIND}/${name} carries our label but not our name prefix "${o.clusterID}-": left alone`,
        );
    }
    this.#logProblems(problems);
    const plan = planSummaries({
      clusterID: o.clusterID,
      rules: aclRules(snapshot.rows, {}),
      previous,
      unreadable,
    });
    const byName = new Map(plan.summaries.map((s) => [s.name, s]));
    const jobs: ObjectWrite[] = [
      ...plan.write.map((name) => ({
        kind: SUMMARY_KIND,
        collection,
        name,
        body: summaryObject(byName.get(name) as NonNullable<ReturnType<typeof byName.get>>, o.namespace),
        resourceVersion: versions.get(name),
      })),
      ...plan.remove.map((name) => ({ kind: SUMMARY_KIND, collection, name })),
    ];
    if (jobs.length === 0) return new OutcomeBuilder().build();
    const { applied, errors } = await applyObjectWrites(o.broker, jobs, 'broker-write');
    const out = new OutcomeBuilder();
    const removed = new Set(plan.remove.map((n) => `${SUMMARY_KIND}/${n}`));
    for (const a of applied) out.applied1(`${removed.has(a) ? 'delete' : 'write'} ${a}`);
    out.errors.push(...errors);
    return out.build();
  }

  /** Reads our Cluster object; never fails the run (publishing does not depend on it). */
  async #checkMembership(): Promise<void> {
    const o = this.#o;
    const path = itemPath(brokerPaths.clusters(o.namespace), clusterObjectName(o.clusterID));
    let now: Membership;
    let why = '';
    let missing = 'no Cluster object';
    try {
      const cluster = await o.broker.get(path);
      now = readMembers([cluster]).ids.has(o.clusterID) ? 'member' : 'not-a-member';
      missing = 'no readable Cluster object';
    } catch (err) {
      if (isNotFound(err)) now = 'not-a-member';
      else {
        const e = clusterAccessError(err, o.namespace);
        if (e === err) return; // an outage: the summary list fails too, and says so
        now = 'unknown';
        why = e instanceof MoorError ? `${e.message} (${e.hint ?? ''})` : String(e);
      }
    }
    if (now === this.#membership) return;
    const first = this.#membership === undefined;
    this.#membership = now;
    if (now === 'member') {
      if (!first)
        o.log(
          `clusterset-publisher: cluster "${o.clusterID}" is a member of the clusterset now (Cluster ${clusterObjectName(o.clusterID)} is on the broker): readers trust its EgressMapSummary objects`,
        );
    } else if (now === 'not-a-member')
      o.log(
        `clusterset-publisher: warning: cluster "${o.clusterID}" has ${missing} in broker namespace ${o.namespace}, so it is not a member of the clusterset and every reader ignores its EgressMapSummary objects. Publishing goes on: they count once its gateway joins. If the cluster left, stop publishing (drop --broker-kubeconfig or stop this controller), then remove them with: moor acl withdraw --clusterset`,
      );
    else o.log(`clusterset-publisher: warning: cannot tell whether this cluster is a member: ${why}`);
  }

  get membership(): Membership | undefined {
    return this.#membership;
  }

  #logProblems(problems: Set<string>): void {
    for (const p of problems) if (!this.#logged.has(p)) this.#o.log(`clusterset-publisher: ${p}`);
    this.#logged = problems;
  }
}
