// A cluster for `/v1/egress-map`: a real API server with the egress CRDs, the controller's
// ServiceAccount bound to the roles in k8s/egress/controller.yaml (so the test proves that RBAC),
// the reader ClusterRole, a serving certificate from a test CA, and `moor controller` replicas
// (the shipped bundle) in a namespace, each reachable from the test runner through a bridge.
// Used by test/e2e/egress-map-http.test.ts and bench/sections/acl-http.ts.
import { writeFileSync } from 'node:fs';
import { type Agent as HttpAgent, request as httpRequest } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { aclPaths } from '../../src/acl/store.ts';
import { KubeRestClient } from '../../src/k8s/rest.ts';
import type { MapSlice } from '../../src/plan/egress-mapping.ts';
import { mapSliceObject } from '../../src/plan/egress-mapping-wire.ts';
import { type ApiServer, startApiServer, startEtcd } from './apiserver.ts';
import { createNamespace, deployEgressCrds, HAND_WRITTEN_SLICE_CRDS } from './egress-cluster.ts';
import { createObjects, mintToken, readYamlDocuments } from './kube.ts';
import { startMoor } from './moor.ts';
import { makeApiServerPki } from './pki.ts';
import type { RunningProcess } from './process.ts';
import { waitFor } from './process.ts';
import type { TestRun } from './run.ts';
import { buildTopology, type Topology } from './topology.ts';
import { bridgeToNamespace } from './unix-bridge.ts';

const EGRESS_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'egress');
export const CTL_ADDRESS = '10.99.0.3';
export const LEASES = '/apis/coordination.k8s.io/v1/namespaces/moor-egress/leases';

export interface EgressMapCluster {
  topo: Topology;
  api: ApiServer;
  kc: KubeConfig;
  /** Admin client of the test runner. */
  client: KubeRestClient;
  /** The CA that signed the endpoint's serving certificate (SANs: CTL_ADDRESS, 127.0.0.1). */
  caPem: string;
  tlsCert: string;
  tlsKey: string;
  /** Create or replace an EgressMapSlice as the leader would write it. */
  writeSlice(slice: MapSlice): Promise<void>;
  /** Hold the controller Lease for someone else for an hour: every replica stays a standby. */
  holdLeaseElsewhere(holder?: string): Promise<void>;
  /** The Lease's holder now. */
  leaseHolder(): Promise<string | undefined>;
  /** Start a replica listening on HOST:PORT inside the controller's namespace (TLS unless plain;
   * `tls`: other certificate files than tlsCert/tlsKey; `extra`: more `moor controller` options). */
  startController(
    identity: string,
    listen: string,
    o?: { plain?: boolean; tls?: { cert: string; key: string }; extra?: string[] },
  ): Promise<Replica>;
}

export interface Replica {
  process: RunningProcess;
  /** 127.0.0.1 port in the test runner's namespace that reaches the replica's endpoint. */
  port: number;
  tls: boolean;
}

export async function egressMapCluster(run: TestRun, name: string): Promise<EgressMapCluster> {
  const topo = await buildTopology(run, {
    hosts: { api: {}, ctl: {} },
    links: [
      { a: { host: 'api', address: '10.99.0.2/24' }, b: { host: 'ctl', address: `${CTL_ADDRESS}/24` } },
    ],
  });
  const etcd = await startEtcd(run, topo.host('api'));
  // No kube-controller-manager: TokenRequest and TokenReview are the API server's own.
  const api = await startApiServer(run, {
    name,
    host: topo.host('api'),
    etcd,
    address: '10.99.0.2',
    controllerManager: false,
  });
  const kc = api.kubeConfig();
  // Slices written by hand: without the history CRD no controller here syncs and rewrites them.
  await deployEgressCrds(api, HAND_WRITTEN_SLICE_CRDS);
  await createNamespace(kc, 'moor-egress');
  // The controller's RBAC exactly as shipped (the Deployment itself is not run here).
  const rbac = readYamlDocuments(join(EGRESS_DIR, 'controller.yaml')).filter(
    (o: KubernetesObject) => o.kind !== 'Deployment',
  );
  await createObjects(kc, [...rbac, ...readYamlDocuments(join(EGRESS_DIR, 'egress-map-reader.yaml'))]);
  const token = await mintToken(kc, 'moor-egress', 'moor-egress-controller', 24 * 3600);
  const kubeconfig = join(run.dir, 'controller.kubeconfig');
  writeFileSync(kubeconfig, api.kubeConfigYaml(token), { mode: 0o600 });
  const pki = await makeApiServerPki(run.dir, [CTL_ADDRESS, '127.0.0.1'], ['localhost']);
  const client = new KubeRestClient({ server: api.localUrl, caPem: api.caPem, token: api.adminToken });
  run.defer(async () => client.close());
  return {
    topo,
    api,
    kc,
    client,
    caPem: pki.caPem,
    tlsCert: pki.servingCert,
    tlsKey: pki.servingKey,
    async writeSlice(sl) {
      const path = `${aclPaths.mapSlices}/${sl.name}`;
      const current = await client
        .get<{ metadata: { resourceVersion: string } }>(path)
        .catch(() => undefined);
      const body = mapSliceObject(sl);
      if (!current) await client.create(aclPaths.mapSlices, body);
      else
        await client.replace(path, {
          ...body,
          metadata: { ...(body.metadata as object), resourceVersion: current.metadata.resourceVersion },
        });
    },
    async holdLeaseElsewhere(holder = 'leader-elsewhere') {
      const micro = new Date().toISOString().replace(/\.\d+Z$/, '.000000Z');
      await client.create(LEASES, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'moor-egress-controller' },
        spec: { holderIdentity: holder, leaseDurationSeconds: 3600, acquireTime: micro, renewTime: micro },
      });
    },
    async leaseHolder() {
      const l = await client
        .get<{ spec?: { holderIdentity?: string } }>(`${LEASES}/moor-egress-controller`)
        .catch(() => undefined);
      return l?.spec?.holderIdentity;
    },
    async startController(identity, listen, o = {}) {
      const proc = startMoor(topo.host('ctl'), `controller-${identity}`, [
        'controller',
        '--kubeconfig',
        kubeconfig,
        '--identity',
        identity,
        '--egress-map-listen',
        listen,
        ...(o.plain
          ? []
          : [
              '--egress-map-tls-cert',
              o.tls?.cert ?? pki.servingCert,
              '--egress-map-tls-key',
              o.tls?.key ?? pki.servingKey,
            ]),
        ...(o.extra ?? []),
      ]);
      const [host, port] = [
        listen.slice(0, listen.lastIndexOf(':')),
        Number(listen.slice(listen.lastIndexOf(':') + 1)),
      ];
      const bridge = await bridgeToNamespace(run, topo.host('ctl'), host, port);
      const replica: Replica = { process: proc, port: bridge.port, tls: !o.plain };
      // Listening (any answer at all, also 503 before the first list) means the replica is up.
      await waitFor(
        `egress map of ${identity} answering`,
        async () =>
          (await egressMapGet(replica, '/healthz', { ca: pki.caPem }).catch(() => undefined))
            ? true
            : undefined,
        { process: proc, timeoutMs: 30_000, intervalMs: 200 },
      );
      return replica;
    },
  };
}

export interface EgressMapAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Wall time from sending to the last byte. */
  ms: number;
}

/** One GET against a replica's endpoint through its bridge. */
export function egressMapGet(
  replica: { port: number; tls: boolean },
  path: string,
  o: { token?: string; etag?: string; ca?: string; timeoutMs?: number; agent?: HttpAgent | HttpsAgent } = {},
): Promise<EgressMapAnswer> {
  const started = performance.now();
  const headers: Record<string, string> = {
    ...(o.token !== undefined ? { authorization: `Bearer ${o.token}` } : {}),
    ...(o.etag !== undefined ? { 'if-none-match': o.etag } : {}),
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        }),
      );
    };
    const url = `${replica.tls ? 'https' : 'http'}://127.0.0.1:${replica.port}${path}`;
    const req = replica.tls
      ? httpsRequest(
          url,
          {
            headers,
            agent: (o.agent as HttpsAgent | undefined) ?? false,
            ...(o.ca !== undefined ? { ca: o.ca } : {}),
          },
          onResponse,
        )
      : httpRequest(url, { headers, agent: o.agent ?? false }, onResponse);
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', reject);
    req.end();
  });
}
