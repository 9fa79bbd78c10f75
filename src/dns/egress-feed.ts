// The host's egress names: every member's EgressMapSummary objects on the broker, read through the
// one clusterset reader (src/acl/clusterset-view.ts: only objects of a member — a cluster with a
// Submariner Cluster object on the broker — whose name, label and content agree on one cluster ID
// count, one egress IP belongs to one cluster), turned into forward and PTR records
// (buildEgressRecords) for the host's DNS server:
//   checkout.payments.cluster-a.egress.clusterset.local  ⇄  203.0.113.20
// Two watches (summaries, Cluster objects) only mark dirty; one debounced rebuild on the shared
// ReconcileLoop, from the broker once both are listed. A broker outage keeps the last copy (the
// reflectors are stale, not empty), and the objects of every rebuild are saved, so a restart with
// the broker down answers the same names until it is listed again. A credential that may not
// list Cluster objects (403) answers nothing new: the log names the permission and the fix.
import { clusterAccessError, readMembers } from '../acl/clusterset-members.ts';
import type { SummaryProblem } from '../acl/clusterset-objects.ts';
import { summaryAccessError, summaryPaths } from '../acl/clusterset-objects.ts';
import { readClustersetView } from '../acl/clusterset-view.ts';
import { MoorError } from '../errors.ts';
import { brokerPaths } from '../k8s/paths.ts';
import { Reflector, type ReflectorClient } from '../k8s/reflector.ts';
import { type Clock, systemClock } from '../reconcile/clock.ts';
import { ReconcileLoop } from '../reconcile/loop.ts';
import { OutageReporter } from '../reconcile/outage.ts';
import { NO_CHANGE } from '../reconcile/outcome.ts';
import { isObjectLists, type SnapshotStore } from '../reconcile/snapshot.ts';
import { buildEgressRecords, type EgressRecordIndex } from './egress-records.ts';

export interface EgressFeedOptions {
  client: ReflectorClient;
  /** The broker namespace. */
  namespace: string;
  /** Receives every rebuilt index. */
  onIndex: (index: EgressRecordIndex) => void;
  log: (line: string) => void;
  snapshots?: SnapshotStore;
  debounceMs?: number;
  clock?: Clock;
}

export interface EgressFeedStats {
  /** The broker was listed once, or a snapshot is served. */
  ready: boolean;
  fromSnapshot: string | null;
  clusters: number;
  forwardNames: number;
  reverseNames: number;
  /** Objects (or parts) not trusted. */
  problems: readonly SummaryProblem[];
  /** A broker that refuses a list (403, no API), with the fix; null otherwise (an outage is not one). */
  accessError: string | null;
}

// A snapshot of an older moor has no Cluster objects: it cannot say who is a member, so it is not used.
const isSaved = isObjectLists('summaries', 'clusters');

export class ClustersetEgressFeed {
  readonly #o: EgressFeedOptions;
  readonly #reflector: Reflector;
  readonly #clusters: Reflector;
  readonly #loop: ReconcileLoop;
  #snapshot: { savedAt: string; objects: unknown[]; clusters: unknown[] } | undefined;
  #stats: EgressFeedStats = {
    ready: false,
    fromSnapshot: null,
    clusters: 0,
    forwardNames: 0,
    reverseNames: 0,
    problems: [],
    accessError: null,
  };
  #logged = new Set<string>();
  /** Per collection path: the access error it last failed with, until it lists again. */
  readonly #accessErrors = new Map<string, string>();

  constructor(o: EgressFeedOptions) {
    this.#o = o;
    const clock = o.clock ?? systemClock;
    this.#loop = new ReconcileLoop({
      name: 'egress-dns',
      clock,
      log: o.log,
      debounceMs: o.debounceMs ?? 50,
      reconcile: async () => {
        this.#rebuild();
        return NO_CHANGE;
      },
    });
    this.#reflector = this.#watch(
      summaryPaths.collection(o.namespace),
      'egress names: broker',
      summaryAccessError,
    );
    this.#clusters = this.#watch(
      brokerPaths.clusters(o.namespace),
      'egress names: broker Cluster objects',
      clusterAccessError,
    );
  }

  #watch(path: string, what: string, explain: (err: unknown, namespace: string) => unknown): Reflector {
    const o = this.#o;
    const clock = o.clock ?? systemClock;
    const outage = new OutageReporter({ what, clock, log: o.log });
    return new Reflector({
      client: o.client,
      path,
      clock,
      onChange: () => {
        outage.recovered();
        this.#accessErrors.delete(path);
        this.#loop.markDirty('broker');
      },
      onError: (err) => {
        // A broker without the API or a credential without the Role is said with its fix, not as an outage only.
        const e = explain(err, o.namespace);
        const text = e instanceof MoorError && e.hint ? `${e.message} (fix: ${e.hint})` : err.message;
        if (e !== err) this.#accessErrors.set(path, text);
        else this.#accessErrors.delete(path);
        outage.failed(text);
      },
    });
  }

  start(): void {
    const saved = this.#o.snapshots?.load('egress', isSaved);
    if (saved) {
      this.#snapshot = {
        savedAt: saved.savedAt,
        objects: saved.data.summaries,
        clusters: saved.data.clusters,
      };
      this.#rebuild();
    }
    this.#reflector.start();
    this.#clusters.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#reflector.stop();
    await this.#clusters.stop();
  }

  stats(): EgressFeedStats {
    return { ...this.#stats, accessError: [...this.#accessErrors.values()].join('; ') || null };
  }

  /** Resolves once both collections were listed from the broker (tests). */
  async waitForSync(timeoutMs: number): Promise<void> {
    await Promise.all([this.#reflector.waitForSync(timeoutMs), this.#clusters.waitForSync(timeoutMs)]);
  }

  #rebuild(): void {
    const live = this.#reflector.synced && this.#clusters.synced;
    if (!live && !this.#snapshot) return;
    const objects = live ? this.#reflector.list() : (this.#snapshot?.objects ?? []);
    const clusters = live ? this.#clusters.list() : (this.#snapshot?.clusters ?? []);
    const view = readClustersetView(objects, readMembers(clusters));
    const index = buildEgressRecords(view.clusters);
    this.#o.onIndex(index);
    if (live) {
      if (this.#snapshot) this.#o.log('egress names: the broker is listed again; answering from it');
      this.#snapshot = undefined;
      try {
        this.#o.snapshots?.save('egress', { summaries: objects, clusters }, new Date());
      } catch (err) {
        this.#o.log(
          `egress names: cannot save the snapshot: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    const first = !this.#stats.ready;
    this.#stats = {
      ready: true,
      fromSnapshot: this.#snapshot?.savedAt ?? null,
      clusters: view.clusters.length,
      forwardNames: index.forward.size,
      reverseNames: index.reverse.size,
      problems: view.problems,
      accessError: null,
    };
    if (first)
      this.#o.log(
        `egress names: answering from the ${live ? 'broker' : `snapshot of ${this.#snapshot?.savedAt}`}: ${view.clusters.length} cluster(s), ${index.reverse.size} egress IP(s)`,
      );
    const now = new Set<string>();
    for (const p of view.problems) {
      const line = `${p.object} (${p.code}): ${p.problem}`;
      now.add(line);
      if (!this.#logged.has(line)) this.#o.log(`egress names: ignoring ${line}`);
    }
    this.#logged = now;
  }
}
