// The last broker state the agent accepted, persisted in the state directory, so a restart with
// the broker down still knows its members (tunnels are kept and re-created) and its DNS names.
// One file per part, written atomically with mode 0600 and only when the content changed. A
// broken or foreign file is ignored with a reason: the snapshot is a cache, never the truth.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from '../dataplane/secret-file.ts';

export type SnapshotPart = 'members' | 'dns' | 'egress';

export interface Snapshot<T> {
  savedAt: string;
  data: T;
}

/** The port; FileSnapshotStore in production, an in-memory map in tests. */
export interface SnapshotStore {
  load<T>(part: SnapshotPart, check: (data: unknown) => data is T): Snapshot<T> | undefined;
  save(part: SnapshotPart, data: unknown, savedAt: Date): void;
}

const FORMAT = 1;

export class FileSnapshotStore implements SnapshotStore {
  readonly #dir: string;
  readonly #log: (line: string) => void;
  readonly #written = new Map<SnapshotPart, string>();

  constructor(stateDir: string, log: (line: string) => void) {
    this.#dir = stateDir;
    this.#log = log;
  }

  path(part: SnapshotPart): string {
    return join(this.#dir, `snapshot-${part}.json`);
  }

  load<T>(part: SnapshotPart, check: (data: unknown) => data is T): Snapshot<T> | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(part), 'utf8');
    } catch {
      return undefined; // none yet
    }
    try {
      const doc = JSON.parse(text) as { format?: unknown; savedAt?: unknown; data?: unknown };
      if (doc.format !== FORMAT || typeof doc.savedAt !== 'string' || !check(doc.data)) {
        throw new Error('unexpected content');
      }
      this.#written.set(part, JSON.stringify(doc.data));
      return { savedAt: doc.savedAt, data: doc.data };
    } catch (err) {
      this.#log(
        `ignoring the saved broker snapshot ${this.path(part)}: ${err instanceof Error ? err.message : String(err)}; it is rewritten after the next broker list`,
      );
      return undefined;
    }
  }

  save(part: SnapshotPart, data: unknown, savedAt: Date): void {
    const body = JSON.stringify(data);
    if (this.#written.get(part) === body) return;
    writeSecretFile(
      this.path(part),
      `{"format":${FORMAT},"savedAt":${JSON.stringify(savedAt.toISOString())},"data":${body}}\n`,
    );
    this.#written.set(part, body);
  }
}

export class MemorySnapshotStore implements SnapshotStore {
  readonly parts = new Map<SnapshotPart, Snapshot<unknown>>();
  saves = 0;

  load<T>(part: SnapshotPart, check: (data: unknown) => data is T): Snapshot<T> | undefined {
    const s = this.parts.get(part);
    return s && check(s.data) ? (structuredClone(s) as Snapshot<T>) : undefined;
  }

  save(part: SnapshotPart, data: unknown, savedAt: Date): void {
    const prev = this.parts.get(part);
    if (prev && JSON.stringify(prev.data) === JSON.stringify(data)) return;
    this.saves += 1;
    this.parts.set(part, { savedAt: savedAt.toISOString(), data: structuredClone(data) });
  }
}

/** Snapshot data of two raw object lists, e.g. Clusters and Endpoints. */
export function isObjectLists<K extends string>(...keys: K[]) {
  return (data: unknown): data is Record<K, unknown[]> =>
    typeof data === 'object' &&
    data !== null &&
    keys.every((k) => Array.isArray((data as Record<string, unknown>)[k]));
}
