import { describe, expect, it } from 'vitest';
import { FakeClock } from '../reconcile/fake-clock.ts';
import { KubeReviewAuthenticator, type ReviewClient } from './egress-map-auth.ts';

/** A fake API server: tokens → users, and which users RBAC allows. */
function fakeApi(o: { users: Record<string, string>; allowed: string[]; down?: boolean }) {
  const calls: { path: string; body: Record<string, unknown> }[] = [];
  const client: ReviewClient = {
    create: (async (path: string, body: unknown) => {
      const b = body as Record<string, { token?: string; user?: string; resourceAttributes?: unknown }>;
      calls.push({ path, body: b });
      if (o.down) throw new Error('broker API POST: connect ECONNREFUSED');
      if (path.endsWith('/tokenreviews')) {
        const user = o.users[b.spec?.token ?? ''];
        return {
          status: user
            ? { authenticated: true, user: { username: user, uid: 'u1', groups: ['system:serviceaccounts'] } }
            : { authenticated: false, error: 'invalid bearer token' },
        };
      }
      return { status: { allowed: o.allowed.includes(b.spec?.user ?? '') } };
    }) as ReviewClient['create'],
  };
  return { client, calls };
}

describe('KubeReviewAuthenticator', () => {
  it('TokenReview then SubjectAccessReview for list on egressmapslices.egress.moor.io', async () => {
    const api = fakeApi({
      users: { t1: 'system:serviceaccount:fw:reader' },
      allowed: ['system:serviceaccount:fw:reader'],
    });
    const a = new KubeReviewAuthenticator({ client: api.client, clock: new FakeClock() });
    expect(await a.check('t1')).toEqual({ kind: 'allowed', user: 'system:serviceaccount:fw:reader' });
    expect(api.calls.map((c) => c.path)).toEqual([
      '/apis/authentication.k8s.io/v1/tokenreviews',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    ]);
    expect(api.calls[1]?.body).toMatchObject({
      kind: 'SubjectAccessReview',
      spec: {
        user: 'system:serviceaccount:fw:reader',
        uid: 'u1',
        groups: ['system:serviceaccounts'],
        resourceAttributes: { group: 'egress.moor.io', resource: 'egressmapslices', verb: 'list' },
      },
    });
  });

  it('wrong token → unauthenticated, a user without the role → forbidden naming the role', async () => {
    const api = fakeApi({ users: { t2: 'system:serviceaccount:fw:nobody' }, allowed: [] });
    const a = new KubeReviewAuthenticator({ client: api.client, clock: new FakeClock() });
    expect((await a.check('nope')).kind).toBe('unauthenticated');
    const f = await a.check('t2');
    expect(f.kind).toBe('forbidden');
    expect(f.kind === 'forbidden' && f.reason).toContain('moor-egress-map-reader');
    // Junk is refused without asking the API server.
    const before = a.reviews;
    expect((await a.check('x'.repeat(9000))).kind).toBe('unauthenticated');
    expect((await a.check('a b')).kind).toBe('unauthenticated');
    expect(a.reviews).toBe(before);
  });

  it('caches decisions briefly by a hash of the token, bounded; shares one review between concurrent requests', async () => {
    const clock = new FakeClock();
    const api = fakeApi({ users: { t1: 'u' }, allowed: ['u'] });
    const a = new KubeReviewAuthenticator({ client: api.client, clock, ttlMs: 10_000, maxEntries: 3 });
    await Promise.all([a.check('t1'), a.check('t1'), a.check('t1')]);
    expect(a.reviews).toBe(1);
    await a.check('t1');
    expect(a.reviews).toBe(1);
    await clock.advance(10_001);
    await a.check('t1');
    expect(a.reviews).toBe(2);
    for (const t of ['w1', 'w2', 'w3', 'w4', 'w5']) await a.check(t);
    expect(a.cacheSize).toBe(3);
  });

  it('an API outage is "unavailable", never cached, and the error carries no token', async () => {
    const api = fakeApi({ users: {}, allowed: [], down: true });
    const a = new KubeReviewAuthenticator({ client: api.client, clock: new FakeClock() });
    const d = await a.check('secret-token-value');
    expect(d.kind).toBe('unavailable');
    expect(JSON.stringify(d)).not.toContain('secret-token-value');
    await a.check('secret-token-value');
    expect(a.reviews).toBe(2);
    expect(a.cacheSize).toBe(0);
  });

  it('an outage keeps a recent decision for the same token for the grace period, then says unavailable', async () => {
    const clock = new FakeClock();
    const api = fakeApi({ users: { t1: 'u', t2: 'v' }, allowed: ['u'] });
    const a = new KubeReviewAuthenticator({
      client: api.client,
      clock,
      ttlMs: 10_000,
      outageGraceMs: 60_000,
    });
    expect((await a.check('t1')).kind).toBe('allowed');
    expect((await a.check('t2')).kind).toBe('forbidden');
    const down = fakeApi({ users: {}, allowed: [], down: true });
    api.client.create = down.client.create;
    await clock.advance(30_000);
    expect((await a.check('t1')).kind).toBe('allowed');
    expect((await a.check('t2')).kind).toBe('forbidden');
    expect((await a.check('t3')).kind).toBe('unavailable');
    await clock.advance(31_000);
    expect((await a.check('t1')).kind).toBe('unavailable');
  });
});
