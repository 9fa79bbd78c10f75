// `/v1/egress-map` as plain request → response logic, with no socket: authentication, the query,
// the document with its strong ETag, If-None-Match → 304, and the long-poll (`?wait=SECONDS`)
// that answers as soon as the document for that query changes. The server adapter
// (egress-map-server.ts) only moves bytes; unit tests drive this with fakes and a FakeClock.
//
// Waiters do not leak: one subscription to the mapping for all of them, each removed when it
// answers, times out or its client goes away (the signal), and at most `maxWaiters` at once
// (beyond that 503 + Retry-After, so a flood of followers cannot pin the process's memory).
import type { MapRow } from '../plan/egress-mapping.ts';
import type { Clock, TimerHandle } from '../reconcile/clock.ts';
import type { Authenticator } from './egress-map-auth.ts';
import {
  EGRESS_MAP_PATH,
  type EgressMapQuery,
  egressMapDocument,
  matchesIfNoneMatch,
  parseEgressMapQuery,
  queryKey,
  type RenderedDocument,
  renderDocument,
} from './egress-map-document.ts';
import type { Problem } from './store.ts';

export interface EgressMapRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  authorization?: string | undefined;
  ifNoneMatch?: string | undefined;
}

export interface EgressMapResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What the endpoint reads: the MappingView plus the names a filter may refer to. */
export interface EgressMapSource {
  /** undefined until everything was listed once. */
  read(): { rows: readonly MapRow[]; problems: readonly Problem[]; generation: number } | undefined;
  onChange(listener: () => void): () => void;
  policyExists(name: string): boolean;
  namespaceExists(name: string): boolean;
  /** True while the watch is failing and the last list is served (never torn down). */
  stale?(): boolean;
}

export interface EgressMapHandlerOptions {
  source: EgressMapSource;
  auth: Authenticator;
  clock: Clock;
  maxWaiters?: number;
  /** One line per problem worth an operator's attention (never a token). */
  log?: (line: string) => void;
}

const REALM = 'Bearer realm="moor-egress-map"';
const RENDER_CACHE = 64;

interface Waiter {
  /** The answer for the waiter's query now (304 while unchanged). */
  now: () => EgressMapResponse;
  finish: (r: EgressMapResponse) => void;
}

export class EgressMapHandler {
  readonly #o: EgressMapHandlerOptions;
  readonly #maxWaiters: number;
  readonly #waiters = new Set<Waiter>();
  /** Rendered bodies of the current generation, by query. */
  #rendered = new Map<string, RenderedDocument>();
  #renderedGeneration = -1;
  #unsubscribe: (() => void) | undefined;
  #wakeScheduled = false;
  #lastAuthOutage = '';

  constructor(o: EgressMapHandlerOptions) {
    this.#o = o;
    this.#maxWaiters = o.maxWaiters ?? 1000;
  }

  get waiters(): number {
    return this.#waiters.size;
  }

  /** Answers every waiter with 304 at once (shutdown), and drops the subscription. */
  close(): void {
    for (const w of [...this.#waiters]) w.finish(w.now());
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  async handle(req: EgressMapRequest, signal?: AbortSignal): Promise<EgressMapResponse> {
    let url: URL;
    try {
      url = new URL(req.url, 'http://egress-map.invalid');
    } catch {
      return errorJson(400, 'BadRequest', 'the request target is not a path');
    }
    if (url.pathname === '/healthz')
      return this.#o.source.read()
        ? text(200, 'ok\n')
        : text(503, 'the mapping has not been listed yet\n', { 'retry-after': '1' });
    if (url.pathname !== EGRESS_MAP_PATH)
      return errorJson(404, 'NotFound', `no such path ${url.pathname}: try ${EGRESS_MAP_PATH}`);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return withHeaders(errorJson(405, 'MethodNotAllowed', `${EGRESS_MAP_PATH} is read-only: use GET`), {
        allow: 'GET, HEAD',
      });
    const head = req.method === 'HEAD';
    const denied = await this.#authenticate(req.authorization);
    if (denied) return strip(denied, head);
    const parsed = parseEgressMapQuery(url.searchParams);
    if (!parsed.ok) return strip(errorJson(400, 'BadRequest', parsed.message), head);
    const query = parsed.query;
    const now = this.#evaluate(query, req.ifNoneMatch);
    if (now.status !== 304 || query.waitSeconds === 0) return strip(now, head);
    if (this.#waiters.size >= this.#maxWaiters)
      return withHeaders(
        errorJson(503, 'TooManyWaiters', `${this.#maxWaiters} long-polls are waiting already: retry shortly`),
        { 'retry-after': '5' },
      );
    return strip(await this.#wait(query, req.ifNoneMatch, signal), head);
  }

  async #authenticate(header: string | undefined): Promise<EgressMapResponse | undefined> {
    const m = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (!m)
      return withHeaders(
        errorJson(
          401,
          'Unauthorized',
          'send Authorization: Bearer TOKEN (a token bound to moor-egress-map-reader)',
        ),
        { 'www-authenticate': REALM },
      );
    const d = await this.#o.auth.check(m[1] as string);
    if (d.kind !== 'unavailable') this.#lastAuthOutage = ''; // the next outage is logged again
    if (d.kind === 'allowed') return undefined;
    if (d.kind === 'unauthenticated')
      return withHeaders(errorJson(401, 'Unauthorized', d.reason), {
        'www-authenticate': `${REALM}, error="invalid_token"`,
      });
    if (d.kind === 'forbidden') return errorJson(403, 'Forbidden', d.reason);
    if (d.reason !== this.#lastAuthOutage) this.#o.log?.(`egress-map: cannot check a token: ${d.reason}`);
    this.#lastAuthOutage = d.reason;
    return withHeaders(errorJson(503, 'AuthUnavailable', 'the API server cannot check tokens right now'), {
      'retry-after': '5',
    });
  }

  /** The answer for this query now: 200, 304, or an error. */
  #evaluate(q: EgressMapQuery, ifNoneMatch: string | undefined): EgressMapResponse {
    const source = this.#o.source;
    const snap = source.read();
    if (!snap)
      return withHeaders(errorJson(503, 'NotReady', 'the mapping has not been listed yet: retry shortly'), {
        'retry-after': '1',
      });
    if (q.filter.policy !== undefined && !source.policyExists(q.filter.policy))
      return errorJson(404, 'NotFound', `there is no EgressPolicy named "${q.filter.policy}"`);
    if (q.filter.namespace !== undefined && !source.namespaceExists(q.filter.namespace))
      return errorJson(404, 'NotFound', `there is no namespace "${q.filter.namespace}"`);
    if (snap.generation !== this.#renderedGeneration) {
      this.#rendered = new Map();
      this.#renderedGeneration = snap.generation;
    }
    const key = queryKey(q);
    let doc = this.#rendered.get(key);
    if (!doc) {
      doc = renderDocument(egressMapDocument(snap.rows, snap.problems, q));
      if (this.#rendered.size >= RENDER_CACHE) this.#rendered.clear();
      this.#rendered.set(key, doc);
    }
    const headers: Record<string, string> = {
      etag: doc.etag,
      'cache-control': 'private, no-cache',
      'content-type': 'application/json',
    };
    // Outside the body, so the ETag stays a function of the mapping alone.
    if (source.stale?.()) headers['moor-mapping-stale'] = '1';
    if (matchesIfNoneMatch(ifNoneMatch, doc.etag)) return { status: 304, headers, body: Buffer.alloc(0) };
    return { status: 200, headers, body: doc.body };
  }

  #wait(
    q: EgressMapQuery,
    ifNoneMatch: string | undefined,
    signal?: AbortSignal,
  ): Promise<EgressMapResponse> {
    const clock = this.#o.clock;
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const waiter: Waiter = {
        now: () => this.#evaluate(q, ifNoneMatch),
        finish: (r) => {
          if (!this.#waiters.delete(waiter)) return;
          if (timer !== undefined) clock.clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (this.#waiters.size === 0) {
            this.#unsubscribe?.();
            this.#unsubscribe = undefined;
          }
          resolve(r);
        },
      };
      const onAbort = () => waiter.finish(errorJson(499, 'ClientClosed', 'the client went away'));
      if (signal?.aborted) return resolve(errorJson(499, 'ClientClosed', 'the client went away'));
      this.#waiters.add(waiter);
      this.#unsubscribe ??= this.#o.source.onChange(() => this.#scheduleWake());
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = clock.setTimeout(() => waiter.finish(waiter.now()), q.waitSeconds * 1000);
    });
  }

  /** Watch events come in bursts: evaluate the waiters once per burst, not once per event. */
  #scheduleWake(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    this.#o.clock.setTimeout(() => {
      this.#wakeScheduled = false;
      for (const w of [...this.#waiters]) {
        const r = w.now();
        if (r.status !== 304) w.finish(r);
      }
    }, 0);
  }
}

function text(status: number, body: string, headers: Record<string, string> = {}): EgressMapResponse {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
    body: Buffer.from(body),
  };
}

function errorJson(status: number, reason: string, message: string): EgressMapResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: Buffer.from(`${JSON.stringify({ kind: 'Status', status, reason, message })}\n`),
  };
}

function withHeaders(r: EgressMapResponse, headers: Record<string, string>): EgressMapResponse {
  return { ...r, headers: { ...r.headers, ...headers } };
}

function strip(r: EgressMapResponse, head: boolean): EgressMapResponse {
  return head ? { ...r, body: Buffer.alloc(0) } : r;
}
