// A strict in-memory API server for the controller's unit tests: cluster-wide lists with watches
// (events delivered asynchronously, as over the wire, and holdable per collection so a test can
// make the watch lag behind a write), create/replace with AlreadyExists and resourceVersion
// conflicts (409), delete, and merge patches of status. Every request is recorded; any path it
// does not know throws, so a new call is a visible change.
import { KubeApiError, type KubeRestClient, type WatchEvent } from '../k8s/rest.ts';

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

export type FakeClient = Pick<
  KubeRestClient,
  'get' | 'watch' | 'create' | 'replace' | 'delete' | 'mergePatch'
>;

export class FakeKubeApi implements FakeClient {
  /** Every request but watches, as "METHOD path". */
  readonly calls: string[] = [];
  readonly #store = new Map<string, Map<string, Json>>();
  readonly #watchers = new Map<string, Set<(e: WatchEvent) => void>>();
  readonly #held = new Map<string, WatchEvent[]>();
  readonly #faults: { method: string; prefix: string; status: number }[] = [];
  #rv = 100;
  #inFlight = 0;

  constructor(collections: readonly string[]) {
    for (const c of collections) this.#store.set(c, new Map());
  }

  /** Writes only (POST, PUT, PATCH, DELETE), for "wrote nothing" assertions. */
  get writes(): string[] {
    return this.calls.filter((c) => !c.startsWith('GET '));
  }

  /** Watch events on their way (not counting held ones). */
  get pending(): number {
    return this.#inFlight;
  }

  /** Writes an object as another component would (no checks): a new resourceVersion and an event. */
  seed(collection: string, object: Json): Json {
    const items = this.#collection(collection);
    const meta = isJson(object.metadata) ? object.metadata : {};
    const key = keyOf(meta);
    const type = items.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = clone({ ...object, metadata: { ...meta, resourceVersion: this.#next() } });
    items.set(key, stored);
    this.#emit(collection, type, stored);
    return clone(stored);
  }

  unseed(collection: string, namespace: string | undefined, name: string): void {
    const items = this.#collection(collection);
    const key = `${namespace ?? ''}/${name}`;
    const found = items.get(key);
    if (!found) return;
    items.delete(key);
    this.#emit(collection, 'DELETED', found);
  }

  list(collection: string): Json[] {
    return [...this.#collection(collection).values()].map(clone);
  }

  /** Holds the collection's watch events until release (a lagging watch). */
  hold(collection: string): void {
    if (!this.#held.has(collection)) this.#held.set(collection, []);
  }

  release(collection: string): void {
    const queue = this.#held.get(collection) ?? [];
    this.#held.delete(collection);
    for (const e of queue) this.#deliver(collection, e);
  }

  /** The next request of that method under the path prefix fails with `status`. */
  failNext(method: string, prefix: string, status: number): void {
    this.#faults.push({ method, prefix, status });
  }

  async get<T>(path: string): Promise<T> {
    this.#record('GET', path);
    const [base] = path.split('?') as [string];
    const items = this.#store.get(base);
    if (items)
      return { metadata: { resourceVersion: String(this.#rv) }, items: [...items.values()].map(clone) } as T;
    const { items: coll, key } = this.#item('GET', base);
    return clone(existing('GET', base, coll, key)) as T;
  }

  watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    const [base] = path.split('?') as [string];
    if (!this.#store.has(base)) throw new Error(`FakeKubeApi: watch of unknown ${base}`);
    const set = this.#watchers.get(base) ?? new Set();
    this.#watchers.set(base, set);
    set.add(onEvent);
    return new Promise((resolve) => {
      const done = () => {
        set.delete(onEvent);
        resolve();
      };
      if (signal.aborted) done();
      else signal.addEventListener('abort', done, { once: true });
    });
  }

  async create<T>(path: string, body: unknown): Promise<T> {
    this.#record('POST', path);
    const items = this.#store.get(path);
    if (!items || !isJson(body) || !isJson(body.metadata)) throw unexpected('POST', path);
    const meta = { ...body.metadata };
    if (typeof meta.name !== 'string' && typeof meta.generateName === 'string')
      meta.name = `${meta.generateName}${this.#rv + 1}`;
    if (typeof meta.name !== 'string') throw unexpected('POST without a name', path);
    const key = keyOf(meta);
    if (items.has(key)) throw new KubeApiError('POST', path, 409, { reason: 'AlreadyExists', code: 409 });
    const stored = clone({ ...body, metadata: { ...meta, resourceVersion: this.#next() } });
    items.set(key, stored);
    this.#emit(path, 'ADDED', stored);
    return clone(stored) as T;
  }

  async replace<T>(path: string, body: unknown): Promise<T> {
    this.#record('PUT', path);
    const { collection, items, key } = this.#item('PUT', path);
    const current = existing('PUT', path, items, key);
    if (!isJson(body) || !isJson(body.metadata)) throw unexpected('PUT', path);
    if (body.metadata.resourceVersion !== (current.metadata as Json).resourceVersion)
      throw new KubeApiError('PUT', path, 409, {
        reason: 'Conflict',
        message: 'the object has been modified',
      });
    const stored = clone({ ...body, metadata: { ...body.metadata, resourceVersion: this.#next() } });
    items.set(key, stored);
    this.#emit(collection, 'MODIFIED', stored);
    return clone(stored) as T;
  }

  async delete(path: string): Promise<void> {
    this.#record('DELETE', path);
    const { collection, items, key } = this.#item('DELETE', path);
    const current = existing('DELETE', path, items, key);
    items.delete(key);
    this.#emit(collection, 'DELETED', current);
  }

  async mergePatch<T>(path: string, body: unknown): Promise<T> {
    this.#record('PATCH', path);
    if (!path.endsWith('/status')) throw unexpected('PATCH', path);
    const { collection, items, key } = this.#item('PATCH', path.slice(0, -'/status'.length));
    const current = existing('PATCH', path, items, key);
    const patched = mergePatch(current, body) as Json;
    // Like the API server: a patch that changes nothing is not a write (same resourceVersion).
    if (JSON.stringify(patched) === JSON.stringify(current)) return clone(current) as T;
    patched.metadata = { ...(patched.metadata as Json), resourceVersion: this.#next() };
    items.set(key, patched);
    this.#emit(collection, 'MODIFIED', patched);
    return clone(patched) as T;
  }

  #collection(c: string): Map<string, Json> {
    const items = this.#store.get(c);
    if (!items) throw new Error(`FakeKubeApi: unknown collection ${c}`);
    return items;
  }

  /** Cluster-scoped items only: `<collection>/<name>`. */
  #item(method: string, path: string): { collection: string; items: Map<string, Json>; key: string } {
    const slash = path.lastIndexOf('/');
    const collection = path.slice(0, slash);
    const items = this.#store.get(collection);
    if (!items) throw unexpected(method, path);
    return { collection, items, key: `/${decodeURIComponent(path.slice(slash + 1))}` };
  }

  #record(method: string, path: string): void {
    this.calls.push(`${method} ${path}`);
    const i = this.#faults.findIndex((f) => f.method === method && path.startsWith(f.prefix));
    if (i === -1) return;
    const [fault] = this.#faults.splice(i, 1);
    throw new KubeApiError(method, path, fault?.status ?? 500, {
      reason: 'InternalError',
      message: 'injected',
    });
  }

  #next(): string {
    this.#rv += 1;
    return String(this.#rv);
  }

  #emit(collection: string, type: WatchEvent['type'], object: Json): void {
    const event = { type, object: clone(object) };
    const held = this.#held.get(collection);
    if (held) held.push(event);
    else this.#deliver(collection, event);
  }

  #deliver(collection: string, event: WatchEvent): void {
    this.#inFlight++;
    setTimeout(() => {
      this.#inFlight--;
      for (const w of this.#watchers.get(collection) ?? []) w(clone(event));
    }, 1);
  }
}

function keyOf(meta: Json): string {
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${String(meta.name)}`;
}

function existing(method: string, path: string, items: Map<string, Json>, key: string): Json {
  const found = items.get(key);
  if (!found) throw new KubeApiError(method, path, 404, { reason: 'NotFound', code: 404 });
  return found;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJson(patch)) return clone(patch);
  const out: Json = isJson(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unexpected(what: string, path: string): Error {
  return new Error(`FakeKubeApi: unexpected ${what} ${path}`);
}
