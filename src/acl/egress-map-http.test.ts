import { describe, expect, it } from 'vitest';
import type { MapRow } from '../plan/egress-mapping.ts';
import { FakeClock, settle } from '../reconcile/fake-clock.ts';
import type { AuthDecision, Authenticator } from './egress-map-auth.ts';
import { parseEgressMapQuery } from './egress-map-document.ts';
import { EgressMapHandler, type EgressMapRequest, type EgressMapSource } from './egress-map-http.ts';
import type { Problem } from './store.ts';

const row = (pod: string, ip: string | undefined, policy = 'checkout', workload = 'checkout'): MapRow => ({
  namespace: 'payments',
  pod,
  node: 'w1',
  podIP: '10.1.1.5',
  workload: { kind: 'Deployment', name: workload },
  ...(ip ? { egressIP: ip } : {}),
  since: '2026-12-01T10:00:00Z',
  policy,
  gateway: 'east',
  destinations: [{ cidr: '10.50.0.0/24', except: ['10.50.0.9/32'] }],
});

function fakeSource(rows: MapRow[], problems: Problem[] = []) {
  const listeners = new Set<() => void>();
  const state = { rows, problems, generation: 1, synced: true, policies: new Set(['checkout', 'batch']) };
  const source: EgressMapSource = {
    read: () => (state.synced ? state : undefined),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    policyExists: (n) => state.policies.has(n),
    namespaceExists: (n) => n === 'payments' || n === 'empty',
  };
  return {
    source,
    state,
    listeners,
    change(next: MapRow[]) {
      state.rows = next;
      state.generation++;
      for (const l of [...listeners]) l();
    },
  };
}

const TOKENS: Record<string, AuthDecision> = {
  good: { kind: 'allowed', user: 'system:serviceaccount:fw:reader' },
  other: { kind: 'forbidden', user: 'system:serviceaccount:fw:nobody', reason: 'nobody may not list' },
  down: { kind: 'unavailable', reason: 'TokenReview failed: connect ECONNREFUSED' },
};
const auth: Authenticator = {
  check: async (t) => TOKENS[t] ?? { kind: 'unauthenticated', reason: 'the bearer token is not valid' },
};

function setup(
  rows = [row('a', '203.0.113.20'), row('b', '203.0.113.20'), row('c', '203.0.113.21', 'batch', 'nightly')],
  maxWaiters = 3,
) {
  const clock = new FakeClock();
  const src = fakeSource(rows, [{ object: 'EgressMapSlice/forged', problem: 'label says other' }]);
  const lines: string[] = [];
  const handler = new EgressMapHandler({
    source: src.source,
    auth,
    clock,
    maxWaiters,
    log: (l) => lines.push(l),
  });
  const get = (url: string, extra: Partial<EgressMapRequest> = {}, signal?: AbortSignal) =>
    handler.handle({ method: 'GET', url, authorization: 'Bearer good', ...extra }, signal);
  return { clock, src, handler, get, lines };
}

const json = (b: Buffer) => JSON.parse(b.toString('utf8'));

describe('EgressMapHandler', () => {
  it('serves the rules, the refused slices and a strong ETag; the same mapping gives the same bytes', async () => {
    const { get, src } = setup();
    const r = await get('/v1/egress-map');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const doc = json(r.body);
    expect(doc).toEqual({
      kind: 'MoorEgressMap',
      version: 1,
      filter: {},
      rules: [
        {
          egressIP: '203.0.113.20',
          namespace: 'payments',
          workload: { kind: 'Deployment', name: 'checkout' },
          policy: 'checkout',
          destinations: [{ cidr: '10.50.0.0/24', except: ['10.50.0.9/32'] }],
          pods: 2,
        },
        {
          egressIP: '203.0.113.21',
          namespace: 'payments',
          workload: { kind: 'Deployment', name: 'nightly' },
          policy: 'batch',
          destinations: [{ cidr: '10.50.0.0/24', except: ['10.50.0.9/32'] }],
          pods: 1,
        },
      ],
      problems: [{ object: 'EgressMapSlice/forged', problem: 'label says other' }],
    });
    // Same content in another order, another generation: byte for byte the same.
    src.change([...src.state.rows].reverse());
    const again = await get('/v1/egress-map');
    expect(again.body.equals(r.body)).toBe(true);
    expect(again.headers.etag).toBe(r.headers.etag);
  });

  it('filters like moor acl export and lists pods on ?view=pods', async () => {
    const { get } = setup();
    const r = json((await get('/v1/egress-map?policy=batch&view=pods')).body);
    expect(r.filter).toEqual({ policy: 'batch' });
    expect(r.rules.map((x: { egressIP: string }) => x.egressIP)).toEqual(['203.0.113.21']);
    expect(r.pods).toEqual([
      {
        namespace: 'payments',
        pod: 'c',
        node: 'w1',
        podIP: '10.1.1.5',
        workload: { kind: 'Deployment', name: 'nightly' },
        policy: 'batch',
        gateway: 'east',
        egressIP: '203.0.113.21',
        since: '2026-12-01T10:00:00Z',
      },
    ]);
    const wl = json((await get('/v1/egress-map?workload=deployment/checkout&namespace=payments')).body);
    expect(wl.rules).toHaveLength(1);
    expect(wl.rules[0].pods).toBe(2);
    // An existing namespace without mapped pods: an empty list, not an error (it may fill later).
    expect(json((await get('/v1/egress-map?namespace=empty')).body).rules).toEqual([]);
  });

  it('answers bad input with a clear JSON error and no internals', async () => {
    const { get, handler } = setup();
    const cases: [string, number, RegExp][] = [
      ['/v1/egress-map?policy=nope', 404, /no EgressPolicy named "nope"/],
      ['/v1/egress-map?namespace=gone', 404, /no namespace "gone"/],
      ['/v1/egress-map?workload=checkout', 400, /not KIND\/NAME/],
      ['/v1/egress-map?wait=301', 400, /0 to 300/],
      ['/v1/egress-map?wait=-1', 400, /0 to 300/],
      ['/v1/egress-map?wait=1.5', 400, /whole seconds/],
      ['/v1/egress-map?view=all', 400, /"rules" or "pods"/],
      ['/v1/egress-map?polcy=checkout', 400, /unknown parameter "polcy"/],
      ['/v1/egress-map?policy=a&policy=b', 400, /more than once/],
      ['/v1/egress-map?policy=Bad_Name', 400, /not a Kubernetes object name/],
      ['/v2/other', 404, /try \/v1\/egress-map/],
    ];
    for (const [url, status, message] of cases) {
      const r = await get(url);
      expect([url, r.status]).toEqual([url, status]);
      const body = json(r.body);
      expect(body).toMatchObject({ kind: 'Status', status });
      expect(body.message).toMatch(message);
      expect(r.body.toString()).not.toMatch(/at .*\.ts:\d+/);
    }
    const junk = await handler.handle({ method: 'GET', url: 'http://[broken', authorization: 'Bearer good' });
    expect(junk.status).toBe(400);
    const post = await handler.handle({
      method: 'POST',
      url: '/v1/egress-map',
      authorization: 'Bearer good',
    });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('401 with WWW-Authenticate without or with a wrong token, 403 for a user without the role, 503 when the API cannot tell', async () => {
    const { get, lines } = setup();
    const none = await get('/v1/egress-map', { authorization: undefined });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="moor-egress-map"');
    const basic = await get('/v1/egress-map', { authorization: 'Basic Zm9vOmJhcg==' });
    expect(basic.status).toBe(401);
    const wrong = await get('/v1/egress-map', { authorization: 'Bearer wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    // Authentication comes first: an unauthenticated client learns nothing, not even a 404.
    expect((await get('/v1/egress-map?policy=nope', { authorization: 'Bearer wrong' })).status).toBe(401);
    const forbidden = await get('/v1/egress-map', { authorization: 'Bearer other' });
    expect(forbidden.status).toBe(403);
    expect(json(forbidden.body).message).toContain('nobody may not list');
    const down = await get('/v1/egress-map', { authorization: 'Bearer down' });
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    await get('/v1/egress-map', { authorization: 'Bearer down' });
    expect(lines).toEqual(['egress-map: cannot check a token: TokenReview failed: connect ECONNREFUSED']);
  });

  it('an API outage after the first list: the last mapping is served, marked stale, same ETag', async () => {
    const { get, src } = setup();
    const before = await get('/v1/egress-map');
    expect(before.headers['moor-mapping-stale']).toBeUndefined();
    let failing = true;
    src.source.stale = () => failing;
    const during = await get('/v1/egress-map');
    expect(during.status).toBe(200);
    expect(during.headers['moor-mapping-stale']).toBe('1');
    expect(during.headers.etag).toBe(before.headers.etag);
    failing = false;
    expect((await get('/v1/egress-map')).headers['moor-mapping-stale']).toBeUndefined();
  });

  it('503 until the mapping was listed once; /healthz says the same without a token', async () => {
    const { get, src, handler } = setup();
    src.state.synced = false;
    const r = await get('/v1/egress-map');
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect((await handler.handle({ method: 'GET', url: '/healthz' })).status).toBe(503);
    src.state.synced = true;
    expect((await handler.handle({ method: 'GET', url: '/healthz' })).status).toBe(200);
  });

  it('If-None-Match with the current ETag: 304 with the ETag and no body; HEAD has no body', async () => {
    const { get, handler } = setup();
    const first = await get('/v1/egress-map');
    const etag = first.headers.etag as string;
    const r = await get('/v1/egress-map', { ifNoneMatch: etag });
    expect(r.status).toBe(304);
    expect(r.headers.etag).toBe(etag);
    expect(r.body.length).toBe(0);
    expect((await get('/v1/egress-map', { ifNoneMatch: `"other", W/${etag}` })).status).toBe(304);
    expect((await get('/v1/egress-map', { ifNoneMatch: '"other"' })).status).toBe(200);
    // Another query is another document with another ETag.
    expect((await get('/v1/egress-map?policy=batch', { ifNoneMatch: etag })).status).toBe(200);
    const head = await handler.handle({
      method: 'HEAD',
      url: '/v1/egress-map',
      authorization: 'Bearer good',
    });
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(etag);
    expect(head.body.length).toBe(0);
  });

  it('long-poll: answers at once when the ETag is stale, on the change that alters the document, else 304 at the timeout', async () => {
    const { get, src, clock, handler } = setup();
    const etag = (await get('/v1/egress-map?policy=checkout')).headers.etag as string;
    expect((await get('/v1/egress-map?policy=checkout&wait=30', { ifNoneMatch: '"stale"' })).status).toBe(
      200,
    );

    let answer: Awaited<ReturnType<typeof get>> | undefined;
    void get('/v1/egress-map?policy=checkout&wait=30', { ifNoneMatch: etag }).then((r) => {
      answer = r;
    });
    await settle();
    expect(handler.waiters).toBe(1);
    // A change that leaves this query's document alone (another policy's pod) does not answer.
    src.change([...src.state.rows, row('d', '203.0.113.21', 'batch', 'nightly')]);
    await clock.advance(1000);
    expect(answer).toBeUndefined();
    // A change to it answers with the new content, before the wait is over.
    src.change([...src.state.rows, row('e', '203.0.113.22')]);
    await clock.advance(0);
    expect(answer?.status).toBe(200);
    expect(answer?.headers.etag).not.toBe(etag);
    expect(json(answer?.body ?? Buffer.alloc(0)).rules.map((r: { egressIP: string }) => r.egressIP)).toEqual([
      '203.0.113.20',
      '203.0.113.22',
    ]);
    expect(handler.waiters).toBe(0);
    expect(src.listeners.size).toBe(0);

    const now = answer?.headers.etag as string;
    let timedOut: Awaited<ReturnType<typeof get>> | undefined;
    void get('/v1/egress-map?policy=checkout&wait=30', { ifNoneMatch: now }).then((r) => {
      timedOut = r;
    });
    await clock.advance(29_000);
    expect(timedOut).toBeUndefined();
    await clock.advance(1000);
    expect(timedOut?.status).toBe(304);
    expect(timedOut?.headers.etag).toBe(now);
    expect(clock.pending).toBe(0);
  });

  it('a policy deleted during a long-poll answers 404 then', async () => {
    const { get, src, clock } = setup();
    const etag = (await get('/v1/egress-map?policy=batch')).headers.etag as string;
    const p = get('/v1/egress-map?policy=batch&wait=60', { ifNoneMatch: etag });
    await settle();
    src.state.policies.delete('batch');
    src.change(src.state.rows.filter((r) => r.policy !== 'batch'));
    await clock.advance(0);
    expect((await p).status).toBe(404);
  });

  it('waiters do not leak: a client that goes away is dropped; beyond the cap 503 + Retry-After; close answers all', async () => {
    const { get, clock, handler, src } = setup(undefined, 2);
    const etag = (await get('/v1/egress-map')).headers.etag as string;
    const gone = new AbortController();
    const a = get('/v1/egress-map?wait=300', { ifNoneMatch: etag }, gone.signal);
    const b = get('/v1/egress-map?wait=300', { ifNoneMatch: etag });
    await settle();
    expect(handler.waiters).toBe(2);
    const c = await get('/v1/egress-map?wait=300', { ifNoneMatch: etag });
    expect(c.status).toBe(503);
    expect(c.headers['retry-after']).toBe('5');
    // Without wait, a 304 is still served at the cap.
    expect((await get('/v1/egress-map', { ifNoneMatch: etag })).status).toBe(304);
    gone.abort();
    expect((await a).status).toBe(499);
    expect(handler.waiters).toBe(1);
    expect(clock.pending).toBe(1); // the aborted waiter's timer is gone
    handler.close();
    expect((await b).status).toBe(304);
    expect(handler.waiters).toBe(0);
    expect(src.listeners.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('many waiters on one query wake on one burst of changes and render once', async () => {
    const { get, src, clock, handler } = setup(undefined, 500);
    const etag = (await get('/v1/egress-map')).headers.etag as string;
    const all = Array.from({ length: 200 }, () => get('/v1/egress-map?wait=60', { ifNoneMatch: etag }));
    await settle();
    expect(src.listeners.size).toBe(1);
    for (let i = 0; i < 5; i++) src.change([...src.state.rows, row(`n${i}`, '203.0.113.30')]);
    await clock.advance(0);
    const answers = await Promise.all(all);
    expect(new Set(answers.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(answers.map((r) => r.body))).toHaveProperty('size', 1); // one shared Buffer
    expect(handler.waiters).toBe(0);
  });
});

describe('parseEgressMapQuery', () => {
  it('accepts the documented parameters', () => {
    const r = parseEgressMapQuery(
      new URLSearchParams(
        'namespace=payments&policy=checkout&workload=Deployment/checkout&view=pods&wait=300',
      ),
    );
    expect(r).toEqual({
      ok: true,
      query: {
        filter: { namespace: 'payments', policy: 'checkout', workload: 'Deployment/checkout' },
        view: 'pods',
        waitSeconds: 300,
      },
    });
  });
});
