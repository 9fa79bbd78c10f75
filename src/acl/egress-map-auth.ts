// Who may read `/v1/egress-map`: the Kubernetes API decides. A bearer token is checked with a
// TokenReview (authentication.k8s.io/v1), its user with a SubjectAccessReview
// (authorization.k8s.io/v1) for `list` on egressmapslices.egress.moor.io: the permission the
// read-only ClusterRole `moor-egress-map-reader` grants (k8s/egress/egress-map-reader.yaml). The
// endpoint serves exactly what listing those slices shows, so the role gives nothing beyond it.
//
// Decisions are cached briefly (bounded, keyed by a SHA-256 of the token: the token itself is
// never stored, logged or put in an error), so a long-polling follower or a burst does not turn
// into two API calls per request. Concurrent requests with one token share one review. While the
// API server is down, a token's last decision holds for a grace period (5 min by default).
import { createHash } from 'node:crypto';
import { KubeApiError } from '../k8s/rest.ts';
import type { Clock } from '../reconcile/clock.ts';

export const READER_ATTRIBUTES = {
  group: 'egress.moor.io',
  resource: 'egressmapslices',
  verb: 'list',
} as const;

export type AuthDecision =
  | { kind: 'allowed'; user: string }
  | { kind: 'unauthenticated'; reason: string }
  | { kind: 'forbidden'; user: string; reason: string }
  /** The API server could not be asked: not the client's fault, never cached. */
  | { kind: 'unavailable'; reason: string };

export interface Authenticator {
  check(token: string): Promise<AuthDecision>;
}

/** The one API call the reviews need (KubeRestClient satisfies it). */
export interface ReviewClient {
  create<T = Record<string, unknown>>(path: string, body: unknown): Promise<T>;
}

export interface KubeReviewOptions {
  client: ReviewClient;
  clock: Clock;
  /** How long a decision is reused; a revoked binding takes effect after at most this. */
  ttlMs?: number;
  /**
   * While the API server cannot be asked, an older decision for the same token is used up to
   * this age, so an API outage does not lock followers out of the last mapping.
   */
  outageGraceMs?: number;
  maxEntries?: number;
}

/** Longer than any service-account JWT; a larger header is junk, refused without an API call. */
const MAX_TOKEN_BYTES = 8192;

interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
}

export class KubeReviewAuthenticator implements Authenticator {
  readonly #client: ReviewClient;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  /** Insertion order = age: the first key is evicted first. */
  readonly #cache = new Map<string, { decision: AuthDecision; decidedAt: number }>();
  readonly #outageGraceMs: number;
  readonly #inFlight = new Map<string, Promise<AuthDecision>>();
  /** Reviews sent to the API server (for tests and the bench). */
  reviews = 0;

  constructor(o: KubeReviewOptions) {
    this.#client = o.client;
    this.#clock = o.clock;
    this.#ttlMs = o.ttlMs ?? 10_000;
    this.#maxEntries = o.maxEntries ?? 1024;
    this.#outageGraceMs = o.outageGraceMs ?? 300_000;
  }

  check(token: string): Promise<AuthDecision> {
    if (token === '' || Buffer.byteLength(token) > MAX_TOKEN_BYTES || /\s/.test(token))
      return Promise.resolve({ kind: 'unauthenticated', reason: 'the bearer token is malformed' });
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.#cache.get(key);
    const age = hit ? this.#clock.now() - hit.decidedAt : Number.POSITIVE_INFINITY;
    if (hit && age < this.#ttlMs) return Promise.resolve(hit.decision);
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const review = this.#review(token).then((decision) => {
      this.#inFlight.delete(key);
      if (decision.kind !== 'unavailable') {
        this.#remember(key, decision);
        return decision;
      }
      const last = this.#cache.get(key);
      if (last && this.#clock.now() - last.decidedAt < this.#outageGraceMs) return last.decision;
      return decision;
    });
    this.#inFlight.set(key, review);
    return review;
  }

  #remember(key: string, decision: AuthDecision): void {
    this.#cache.delete(key); // re-inserted last: eviction goes by age
    this.#cache.set(key, { decision, decidedAt: this.#clock.now() });
    while (this.#cache.size > this.#maxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  async #review(token: string): Promise<AuthDecision> {
    let status: TokenReviewStatus;
    try {
      this.reviews++;
      const tr = await this.#client.create<{ status?: TokenReviewStatus }>(
        '/apis/authentication.k8s.io/v1/tokenreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      );
      status = tr.status ?? {};
    } catch (err) {
      return { kind: 'unavailable', reason: `TokenReview failed: ${describe(err)}` };
    }
    const user = status.user;
    if (status.authenticated !== true || !user?.username)
      return { kind: 'unauthenticated', reason: 'the bearer token is not valid for this cluster' };
    let allowed: boolean;
    let why: string | undefined;
    try {
      const sar = await this.#client.create<{ status?: { allowed?: boolean; reason?: string } }>(
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            ...(user.uid ? { uid: user.uid } : {}),
            ...(user.groups ? { groups: user.groups } : {}),
            ...(user.extra ? { extra: user.extra } : {}),
            resourceAttributes: { ...READER_ATTRIBUTES },
          },
        },
      );
      allowed = sar.status?.allowed === true;
      why = sar.status?.reason;
    } catch (err) {
      return { kind: 'unavailable', reason: `SubjectAccessReview failed: ${describe(err)}` };
    }
    if (allowed) return { kind: 'allowed', user: user.username };
    return {
      kind: 'forbidden',
      user: user.username,
      reason: `${user.username} may not list egressmapslices.egress.moor.io${why ? ` (${why})` : ''}: bind it to the ClusterRole moor-egress-map-reader`,
    };
  }
}

function describe(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return err instanceof KubeApiError && err.status === 403
    ? `${text} (the controller's ServiceAccount needs create on tokenreviews and subjectaccessreviews: k8s/egress/controller.yaml)`
    : text;
}
