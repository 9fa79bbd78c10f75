// A live, read-only copy of this cluster's ACL mapping (the EgressMapSlices), for every consumer
// that follows it inside a process: the HTTP endpoint, the in-cluster DNS answer and the
// clusterset publisher. They all read the API objects (the source of truth the leader writes), so
// any replica, also a standby, serves the same data, and a controller failover changes nothing
// for them. One Reflector; `read()` parses on demand and is cached per change.
import type { MoorError } from '../errors.ts';
import { Reflector, type ReflectorClient } from '../k8s/reflector.ts';
import { flattenSlices, type MapRow, type MapSlice } from '../plan/egress-mapping.ts';
import { readMapSlice, type SliceRead } from '../plan/egress-mapping-wire.ts';
import { type Clock, systemClock } from '../reconcile/clock.ts';
import { aclPaths, type Problem } from './store.ts';

export interface MappingSnapshot {
  slices: MapSlice[];
  rows: MapRow[];
  /** Slices (or entries) the reader refused: never trusted, reported by the consumer. */
  problems: Problem[];
  /** Increases on every change seen (not an API resourceVersion; local to this process). */
  generation: number;
}

export class MappingView {
  readonly #reflector: Reflector;
  readonly #listeners = new Set<() => void>();
  #generation = 0;
  #cached: MappingSnapshot | undefined;
  /** Parsed slices by name and resourceVersion: a change re-parses only the slices it touched. */
  #parsed = new Map<string, { resourceVersion: string; read: SliceRead }>();

  constructor(o: { client: ReflectorClient; onError?: (err: MoorError) => void; clock?: Clock }) {
    this.#reflector = new Reflector({
      client: o.client,
      path: aclPaths.mapSlices,
      clock: o.clock ?? systemClock,
      onChange: () => {
        this.#generation++;
        this.#cached = undefined;
        for (const l of this.#listeners) l();
      },
      ...(o.onError ? { onError: o.onError } : {}),
    });
  }

  /** Called after every change (coalesce in the consumer). Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get synced(): boolean {
    return this.#reflector.synced;
  }

  get lastError(): MoorError | undefined {
    return this.#reflector.lastError;
  }

  start(): void {
    this.#reflector.start();
  }

  async stop(): Promise<void> {
    await this.#reflector.stop();
  }

  waitForSync(timeoutMs: number): Promise<void> {
    return this.#reflector.waitForSync(timeoutMs);
  }

  /**
   * undefined until the first list succeeded (then possibly stale during an outage). Snapshots
   * share the parsed slices of unchanged objects: read-only for every consumer.
   */
  read(): MappingSnapshot | undefined {
    if (!this.#reflector.synced) return undefined;
    if (this.#cached && this.#cached.generation === this.#generation) return this.#cached;
    const slices: MapSlice[] = [];
    const problems: Problem[] = [];
    const parsed = new Map<string, { resourceVersion: string; read: SliceRead }>();
    for (const item of this.#reflector.list()) {
      const name = item.metadata?.name;
      const rv = item.metadata?.resourceVersion;
      const known = name !== undefined ? this.#parsed.get(name) : undefined;
      const r = known && rv !== undefined && known.resourceVersion === rv ? known.read : readMapSlice(item);
      if (name !== undefined && rv !== undefined) parsed.set(name, { resourceVersion: rv, read: r });
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
    this.#parsed = parsed;
    slices.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#cached = { slices, rows: flattenSlices(slices), problems, generation: this.#generation };
    return this.#cached;
  }
}
