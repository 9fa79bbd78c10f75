// A strict in-memory broker for unit tests: only the REST calls exports make (ServiceImports with
// their status subresource, EndpointSlices, label-selected lists), with the API server rules they
// depend on — resourceVersion checks on PUT and DELETE preconditions (409), AlreadyExists on POST,
// status ignored by the object endpoints. Any other call throws, so a new call is a visible change.
import { isJson, type Json } from '../broker/lighthouseRead.ts';
import { KubeApiError } from '../k8s/rest.ts';
import type { BrokerApi } from './brokerApi.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Hook {
  method: Method;
  path: string;
  run: () => void;
}

const KINDS = {
  serviceimports: { prefix: '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/', statusSubresource: true },
  endpointslices: { prefix: '/apis/discovery.k8s.io/v1/namespaces/', statusSubresource: false },
} as const;

export class FakeBroker implements BrokerApi {
  /** Every request, as "METHOD path". */
  readonly calls: string[] = [];
  private readonly objects = new Map<string, Json>();
  private resourceVersion = 1000;
  private readonly hooks: Hook[] = [];

  /** Writes only (POST, PUT, DELETE), for "wrote nothing" assertions. */
  get writes(): string[] {
    return this.calls.filter((c) => !c.startsWith('GET '));
  }

  /** Before the next matching request (path prefix), run `run` once: a concurrent writer or a fault. */
  before(method: Method, path: string, run: () => void): void {
    this.hooks.push({ method, path, run });
  }

  /** The next matching request fails with `status`. */
  failNext(method: Method, path: string, status: number, reason = 'InternalError'): void {
    this.before(method, path, () => {
      throw new KubeApiError(method, path, status, { reason, message: 'injected failure', code: status });
    });
  }

  /** Writes an object as another member would (admin side door): no checks, new resourceVersion. */
  seed(collection: string, object: Json): Json {
    const metadata = isJson(object.metadata) ? object.metadata : {};
    const stored = clone({ ...object, metadata: { ...metadata, resourceVersion: this.nextVersion() } });
    this.objects.set(`${collection}/${String(metadata.name)}`, stored);
    return clone(stored);
  }

  /** A stored object (copy), or undefined. */
  object(path: string): Json | undefined {
    const found = this.objects.get(path);
    return found === undefined ? undefined : clone(found);
  }

  paths(): string[] {
    return [...this.objects.keys()].sort();
  }

  async get(path: string): Promise<unknown> {
    this.record('GET', path);
    const [base, query] = splitQuery(path);
    const target = parse(base);
    if (target.name === undefined) {
      const selector = new URLSearchParams(query).get('labelSelector');
      const wanted = (selector ?? '').split(',').filter(Boolean);
      const items = [...this.objects.entries()]
        .filter(([key]) => key.startsWith(`${base}/`))
        .map(([, object]) => object)
        .filter((object) => wanted.every((term) => hasLabel(object, term)));
      return {
        kind: 'List',
        metadata: { resourceVersion: String(this.resourceVersion) },
        items: clone(items),
      };
    }
    if (query !== '' || target.status) throw unexpected('GET', path);
    return clone(this.existing('GET', base));
  }

  async create(path: string, body: unknown): Promise<unknown> {
    this.record('POST', path);
    const target = parse(path);
    if (target.name !== undefined || !isJson(body) || !isJson(body.metadata)) throw unexpected('POST', path);
    const name = body.metadata.name;
    if (typeof name !== 'string') throw unexpected('POST without metadata.name', path);
    const key = `${path}/${name}`;
    if (this.objects.has(key))
      throw new KubeApiError('POST', path, 409, { reason: 'AlreadyExists', code: 409 });
    const stored = clone(body);
    if (KINDS[target.kind].statusSubresource) delete stored.status;
    stored.metadata = { ...body.metadata, resourceVersion: this.nextVersion(), uid: `uid-${name}` };
    this.objects.set(key, stored);
    return clone(stored);
  }

  async replace(path: string, body: unknown): Promise<unknown> {
    this.record('PUT', path);
    const target = parse(path);
    if (target.name === undefined || !isJson(body) || !isJson(body.metadata)) throw unexpected('PUT', path);
    if (target.status && !KINDS[target.kind].statusSubresource) throw unexpected('PUT', path);
    const key = target.status ? path.slice(0, -'/status'.length) : path;
    const current = this.existing('PUT', key);
    const currentMeta = isJson(current.metadata) ? current.metadata : {};
    // Custom resources refuse unconditional updates; we require a resourceVersion for all.
    if (body.metadata.resourceVersion !== currentMeta.resourceVersion) {
      throw new KubeApiError('PUT', path, 409, {
        reason: 'Conflict',
        message: 'the object has been modified',
      });
    }
    let next: Json;
    if (target.status) next = { ...current, status: clone(body.status) };
    else {
      next = clone(body);
      if (KINDS[target.kind].statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = current.status;
      }
    }
    next.metadata = { ...(isJson(next.metadata) ? next.metadata : {}), resourceVersion: this.nextVersion() };
    this.objects.set(key, next);
    return clone(next);
  }

  async delete(path: string, body?: unknown): Promise<void> {
    this.record('DELETE', path);
    const target = parse(path);
    if (target.name === undefined || target.status) throw unexpected('DELETE', path);
    const current = this.existing('DELETE', path);
    const preconditions = isJson(body) && isJson(body.preconditions) ? body.preconditions : undefined;
    if (body !== undefined && preconditions === undefined) throw unexpected('DELETE with a body', path);
    const wanted = preconditions?.resourceVersion;
    if (wanted !== undefined && isJson(current.metadata) && wanted !== current.metadata.resourceVersion) {
      throw new KubeApiError('DELETE', path, 409, { reason: 'Conflict', message: 'precondition failed' });
    }
    this.objects.delete(path);
  }

  private record(method: Method, path: string): void {
    this.calls.push(`${method} ${path}`);
    const index = this.hooks.findIndex((h) => h.method === method && path.startsWith(h.path));
    if (index === -1) return;
    const [hook] = this.hooks.splice(index, 1);
    hook?.run();
  }

  private existing(method: string, key: string): Json {
    const found = this.objects.get(key);
    if (found === undefined) throw new KubeApiError(method, key, 404, { reason: 'NotFound', code: 404 });
    return found;
  }

  private nextVersion(): string {
    this.resourceVersion += 1;
    return String(this.resourceVersion);
  }
}

function parse(path: string): { kind: keyof typeof KINDS; name: string | undefined; status: boolean } {
  for (const [kind, spec] of Object.entries(KINDS) as Array<
    [keyof typeof KINDS, (typeof KINDS)[keyof typeof KINDS]]
  >) {
    if (!path.startsWith(spec.prefix)) continue;
    const parts = path.slice(spec.prefix.length).split('/');
    if (parts[1] !== kind || parts.length > 4 || (parts.length === 4 && parts[3] !== 'status')) break;
    return { kind, name: parts[2], status: parts[3] === 'status' };
  }
  throw unexpected('request', path);
}

function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q === -1 ? [path, ''] : [path.slice(0, q), path.slice(q + 1)];
}

function hasLabel(object: Json, term: string): boolean {
  const [key, value] = term.split('=');
  const labels = isJson(object.metadata) && isJson(object.metadata.labels) ? object.metadata.labels : {};
  return key !== undefined && labels[key] === value;
}

function unexpected(what: string, path: string): Error {
  return new Error(`FakeBroker: unexpected ${what} ${path}`);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}
