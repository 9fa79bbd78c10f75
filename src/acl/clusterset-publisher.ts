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
import { CLUSTER_ID_LABEL } from '../broker/names.ts';
import type { KubeObject } from '../k8s/reflector.ts';
import { type Clock, systemClock } from '../reconcile/clock.ts';
import { ReconcileLoop } from '../reconcile/loop.ts';
import { OutcomeBuilder, type ReconcileOutcome, waiting } from '../reconcile/outcome.ts';
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

export class ClustersetPublisher {
  readonly loop: ReconcileLoop;
  readonly #o: ClustersetPublisherOptions;
  #unsubscribe: (() => void) | undefined;
  /** Problems with our own objects already logged (each once while it lasts). */
  #logged = new Set<string>();

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

  #logProblems(problems: Set<string>): void {
    for (const p of problems) if (!this.#logged.has(p)) this.#o.log(`clusterset-publisher: ${p}`);
    this.#logged = problems;
  }
}
