// What the controller wrote to its mapping/history objects, until its own Reflector has seen it.
// The watch event for a write arrives a moment after the write returns; a reconcile in between
// would plan from the old copy and replace it again on a stale resourceVersion (a 409, a retry,
// and a double write for every change). The overlay answers with the API's reply instead until
// the Reflector's copy has moved off the version the write started from (our write or a later
// one), or after `ttlMs` (a write someone undid while we were not watching is then seen again).
import type { AclWritten } from '../acl/writer.ts';
import type { KubeObject } from '../k8s/reflector.ts';

interface Entry {
  base: string | undefined;
  object: KubeObject | undefined;
  at: number;
}

export class WrittenOverlay {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;

  constructor(ttlMs = 30_000) {
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  record(w: Pick<AclWritten, 'name' | 'base' | 'object'>, now: number): void {
    this.#entries.set(w.name, { base: w.base, object: w.object as KubeObject | undefined, at: now });
  }

  /** The Reflector's objects with our newer writes in their place (and our deletes left out). */
  merge(listed: readonly KubeObject[], now: number): KubeObject[] {
    if (this.#entries.size === 0) return [...listed];
    const byName = new Map<string, KubeObject>();
    for (const o of listed) byName.set(o.metadata?.name ?? '', o);
    for (const [name, e] of this.#entries) {
      const seen = byName.get(name)?.metadata?.resourceVersion;
      if (now - e.at > this.#ttlMs || seen !== e.base) {
        this.#entries.delete(name); // the Reflector has caught up (or we stop guessing)
        continue;
      }
      if (e.object) byName.set(name, e.object);
      else byName.delete(name);
    }
    return [...byName.values()];
  }
}

/** Object name → resourceVersion, for the store's replace preconditions. */
export function versionsOf(objects: readonly KubeObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of objects) {
    const name = o.metadata?.name;
    const rv = o.metadata?.resourceVersion;
    if (name && rv) out.set(name, rv);
  }
  return out;
}
