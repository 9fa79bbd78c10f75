// The host's egress names: every member's EgressMapSummary objects on the broker, read through the
// one clusterset reader (src/acl/clusterset-view.ts: only objects whose name, label and content
// agree on one cluster ID count, one egress IP belongs to one cluster), turned into forward and
// PTR records (buildEgressRecords) for the host's DNS server:
//   checkout.payments.cluster-a.egress.clusterset.local  ⇄  203.0.113.20
// Watches only mark dirty; one debounced rebuild on the shared ReconcileLoop. A broker outage
// keeps the last copy (the reflector is stale, not empty), and the objects of every rebuild are
// saved, so a restart with the broker down answers the same names until it is listed again.
import type { SummaryProblem } from '../acl/clusterset-objects.ts';
import { summaryAccessError, summaryPaths } from '../acl/clusterset-objects.ts';
import { readClustersetView } from '../acl/clusterset-view.ts';
import { MoorError } from '../errors.ts';
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
}

const isSaved = isObjectLists('summaries');

export class ClustersetEgressFeed {
  readonly #o: EgressFeedOptions;
  readonly #reflector: Reflector;
  readonly #loop: ReconcileLoop;
  readonly #outage: OutageReporter;
  #snapshot: { savedAt: string; objects: unknown[] } | undefined;
  #stats: EgressFeedStats = {
    ready: false,
    fromSnapshot: null,
    clusters: 0,
    forwardNames: 0,
    reverseNames: 0,
    problems: [],
  };
  #logged = new Set<string>();

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
    this.#outage = new OutageReporter({ what: 'egress names: broker', clock, log: o.log });
    this.#reflector = new Reflector({
      client: o.client,
      path: summaryPaths.collection(o.namespace),
      clock,
      onChange: () => {
        this.#outage.recovered();
        this.#loop.markDirty('broker');
      },
      onError: (err) => {
        // A broker without the API or the members' Role is said with its fix, not as an outage only.
        const e = summaryAccessError(err, o.namespace);
        this.#outage.failed(e instanceof MoorError && e.hint ? `${e.message} (${e.hint})` : err.message);
      },
    });
  }

  start(): void {
    const saved = this.#o.snapshots?.load('egress', isSaved);
    if (saved) {
      this.#snapshot = { savedAt: saved.savedAt, objects: saved.data.summaries };
      this.#rebuild();
    }
    this.#reflector.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#reflector.stop();
  }

  stats(): EgressFeedStats {
    return this.#stats;
  }

  /** Resolves once the index was built from the broker (tests). */
  waitForSync(timeoutMs: number): Promise<void> {
    return this.#reflector.waitForSync(timeoutMs);
  }

  #rebuild(): void {
    const live = this.#reflector.synced;
    if (!live && !this.#snapshot) return;
    const objects = live ? this.#reflector.list() : (this.#snapshot?.objects ?? []);
    const view = readClustersetView(objects);
    const index = buildEgressRecords(view.clusters);
    this.#o.onIndex(index);
    if (live) {
      if (this.#snapshot) this.#o.log('egress names: the broker is listed again; answering from it');
      this.#snapshot = undefined;
      try {
        this.#o.snapshots?.save('egress', { summaries: objects }, new Date());
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
