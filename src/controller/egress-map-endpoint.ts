// Wiring of `/v1/egress-map` in `moor controller` (docs/egress-acl.md, "HTTP endpoint"). Every
// replica serves, the standby too: the data are the API objects the leader writes, read through
// the shared MappingView, plus live lists of policies and namespaces so an unknown filter is a
// 404 without an API call per request. Tokens are checked by the API server (TokenReview +
// SubjectAccessReview).
import { KubeReviewAuthenticator } from '../acl/egress-map-auth.ts';
import { EgressMapHandler, type EgressMapSource } from '../acl/egress-map-http.ts';
import { checkListenSecurity, startEgressMapServer } from '../acl/egress-map-server.ts';
import { CertificateReloader, type CertificateStats } from '../acl/egress-map-tls.ts';
import type { MappingView } from '../acl/mapping-view.ts';
import { aclPaths } from '../acl/store.ts';
import type { MoorError } from '../errors.ts';
import { Reflector } from '../k8s/reflector.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { parseListenAddress } from '../observability/metricsServer.ts';
import { systemClock } from '../reconcile/clock.ts';

export interface EgressMapEndpointOptions {
  /** HOST:PORT, or undefined / "off" for no endpoint. */
  listen: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  /** How often the certificate files are read for a rotation (default 10 s). */
  tlsReloadMs?: number | undefined;
  client: KubeRestClient;
  mapping: MappingView;
  log: (line: string) => void;
}

export interface EgressMapEndpoint {
  port: number;
  /** What `--metrics-address` exposes about the endpoint. */
  stats(): EgressMapEndpointStats;
  stop(): Promise<void>;
}

export interface EgressMapEndpointStats {
  requestsByCode: ReadonlyMap<number, number>;
  /** Long-polls parked now. */
  waiters: number;
  /** The API watch fails: the last list is served (`Moor-Mapping-Stale: 1`). */
  stale: boolean;
  /** HTTPS only. */
  certificate: CertificateStats | undefined;
}

/** Names of a collection's objects, kept current by a Reflector. */
class NameSet {
  readonly reflector: Reflector;
  #names: Set<string> | undefined;

  constructor(client: KubeRestClient, path: string, onChange: () => void, onError: (e: MoorError) => void) {
    this.reflector = new Reflector({
      client,
      path,
      clock: systemClock,
      onChange: () => {
        this.#names = undefined;
        onChange();
      },
      onError,
    });
  }

  has(name: string): boolean {
    this.#names ??= new Set(this.reflector.list().map((o) => o.metadata?.name ?? ''));
    return this.#names.has(name);
  }
}

export async function startEgressMapEndpoint(
  o: EgressMapEndpointOptions,
): Promise<EgressMapEndpoint | undefined> {
  if (o.listen === undefined || o.listen === 'off') return undefined;
  const address = parseListenAddress(o.listen, 'egress-map-listen');
  checkListenSecurity(address.host, { cert: o.tlsCert, key: o.tlsKey });
  let server: Awaited<ReturnType<typeof startEgressMapServer>> | undefined;
  const certificates =
    o.tlsCert !== undefined && o.tlsKey !== undefined
      ? new CertificateReloader({
          certPath: o.tlsCert,
          keyPath: o.tlsKey,
          apply: (pair) => server?.setTls(pair),
          log: o.log,
          clock: systemClock,
          ...(o.tlsReloadMs !== undefined ? { intervalMs: o.tlsReloadMs } : {}),
        })
      : undefined;
  const tls = certificates?.initial();

  const listeners = new Set<() => void>();
  const changed = () => {
    for (const l of listeners) l();
  };
  let lastError = '';
  const onError = (e: MoorError) => {
    if (e.message === lastError) return;
    lastError = e.message;
    o.log(`egress-map: ${e.message}${e.hint ? ` (${e.hint})` : ''}`);
  };
  const policies = new NameSet(o.client, aclPaths.policies, changed, onError);
  const namespaces = new NameSet(o.client, '/api/v1/namespaces', changed, onError);
  const unsubscribe = o.mapping.onChange(changed);
  const source: EgressMapSource = {
    read: () => (policies.reflector.synced && namespaces.reflector.synced ? o.mapping.read() : undefined),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    policyExists: (n) => policies.has(n),
    namespaceExists: (n) => namespaces.has(n),
    stale: () => o.mapping.lastError !== undefined,
  };
  const handler = new EgressMapHandler({
    source,
    auth: new KubeReviewAuthenticator({ client: o.client, clock: systemClock }),
    clock: systemClock,
    log: o.log,
  });
  try {
    server = await startEgressMapServer({ address, ...(tls ? { tls } : {}), handler, log: o.log });
  } catch (err) {
    unsubscribe();
    throw err;
  }
  const serving = server;
  certificates?.start();
  // Only once the socket is ours: a refused start leaves nothing running (503 until listed).
  o.mapping.start();
  policies.reflector.start();
  namespaces.reflector.start();
  o.log(`egress-map: serving ${tls ? 'https' : 'http'}://${o.listen}/v1/egress-map`);
  return {
    port: serving.port,
    stats: () => ({
      requestsByCode: serving.requestsByCode,
      waiters: handler.waiters,
      stale: source.stale?.() ?? false,
      certificate: certificates?.stats(),
    }),
    stop: async () => {
      certificates?.stop();
      await serving.close();
      unsubscribe();
      await Promise.all([policies.reflector.stop(), namespaces.reflector.stop()]);
    },
  };
}
