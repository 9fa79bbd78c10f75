// `/v1/egress-map` on `moor controller` (the shipped bundle) against the real API server. Slices
// are written directly (as the leader would write them); both replicas start as standbys (the
// Lease is held elsewhere) and serve; tokens come from the TokenRequest API and are checked by the
// API server through the controller's own RBAC (k8s/egress/controller.yaml). Over HTTPS with a
// test CA, and plain HTTP on loopback; plain HTTP off loopback is refused; an API outage keeps
// the last mapping served. The TLS replica scrapes as `--metrics-address` (answers counted by
// status) and polls its certificate files every second: garbage keeps the old certificate, a
// rotated pair serves the next connection.
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aclPaths } from '../../src/acl/store.ts';
import { readSamples } from '../../src/observability/metrics.ts';
import type { MapSlice } from '../../src/plan/egress-mapping.ts';
import { mapSliceObject } from '../../src/plan/egress-mapping-wire.ts';
import { createNamespace, egressObjects } from '../harness/egress-cluster.ts';
import {
  CTL_ADDRESS,
  type EgressMapCluster,
  egressMapCluster,
  egressMapGet,
  LEASES,
  type Replica,
} from '../harness/egress-map.ts';
import { mintToken } from '../harness/kube.ts';
import { moor } from '../harness/moor.ts';
import { makeApiServerPki } from '../harness/pki.ts';
import { waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import { bridgeToNamespace } from '../harness/unix-bridge.ts';

let run: TestRun;
let c: EgressMapCluster;
let tlsReplica: Replica;
let plainReplica: Replica;
let reader: string;
let nobody: string;
/** The TLS replica's certificate files (copies, rotated by the last test) and its /metrics. */
let tlsFiles: { cert: string; key: string };
let metricsPort: number;

const slice = (name: string, pods: [string, string][]): MapSlice => ({
  name,
  policy: 'checkout',
  gateway: 'east',
  destinations: [{ cidr: '10.50.0.0/24' }],
  entries: pods.map(([pod, ip]) => ({
    namespace: 'payments',
    pod,
    node: 'w1',
    workload: { kind: 'Deployment', name: 'checkout' },
    egressIP: ip,
    since: '2026-12-01T10:00:00Z',
  })),
});

const ruleIPs = (body: string) =>
  (JSON.parse(body) as { rules: { egressIP: string; pods: number }[] }).rules.map(
    (r) => `${r.egressIP}×${r.pods}`,
  );

beforeAll(async () => {
  run = TestRun.start();
  c = await egressMapCluster(run, 'egressmap');
  await createNamespace(c.kc, 'payments');
  await createNamespace(c.kc, 'fw');
  await egressObjects(c.kc).createPolicy('checkout', {
    podSelector: { matchLabels: { app: 'checkout' } },
    destinations: [{ cidr: '10.50.0.0/24' }],
    gateway: 'east',
  });
  await c.writeSlice(slice('checkout-0', [['checkout-a', '203.0.113.20']]));
  // Both replicas stay standbys: the Lease is held by someone else for an hour.
  await c.holdLeaseElsewhere();
  // A follower bound to the reader role, and one without it.
  const core = c.kc.makeApiClient(CoreV1Api);
  const rbac = c.kc.makeApiClient(RbacAuthorizationV1Api);
  for (const sa of ['follower', 'nobody'])
    await core.createNamespacedServiceAccount({ namespace: 'fw', body: { metadata: { name: sa } } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: 'fw-follower-egress-map' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'moor-egress-map-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'follower', namespace: 'fw' }],
    },
  });
  reader = await mintToken(c.kc, 'fw', 'follower');
  nobody = await mintToken(c.kc, 'fw', 'nobody');
  const tlsDir = join(run.dir, 'tls');
  mkdirSync(tlsDir);
  tlsFiles = { cert: join(tlsDir, 'tls.crt'), key: join(tlsDir, 'tls.key') };
  copyFileSync(c.tlsCert, tlsFiles.cert);
  copyFileSync(c.tlsKey, tlsFiles.key);
  tlsReplica = await c.startController('one', `${CTL_ADDRESS}:8443`, {
    tls: tlsFiles,
    extra: ['--egress-map-tls-reload', '1', '--metrics-address', '127.0.0.1:9478'],
  });
  metricsPort = (await bridgeToNamespace(run, c.topo.host('ctl'), '127.0.0.1', 9478)).port;
  plainReplica = await c.startController('two', '127.0.0.1:8480', { plain: true });
}, 240_000);

afterAll(async () => {
  await run?.cleanup();
});

const get = (r: Replica, path: string, o: { token?: string; etag?: string; timeoutMs?: number } = {}) =>
  egressMapGet(r, path, { ca: c.caPem, ...o });

async function scrape(): Promise<Map<string, number>> {
  const r = await egressMapGet({ port: metricsPort, tls: false }, '/metrics');
  expect(r.status).toBe(200);
  return readSamples(r.body);
}

/** SHA-256 fingerprint of the certificate a new TLS connection to the replica is given. */
function servedFingerprint(r: Replica): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: r.port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

describe('/v1/egress-map', () => {
  it('a standby replica serves the rules over HTTPS with a strong ETag; 304 for If-None-Match', async () => {
    const r = await waitFor('the mapping served', async () => {
      const a = await get(tlsReplica, '/v1/egress-map', { token: reader });
      return a.status === 200 ? a : undefined;
    });
    expect(await c.leaseHolder()).toBe('leader-elsewhere'); // neither replica leads
    expect(r.headers['content-type']).toBe('application/json');
    const doc = JSON.parse(r.body);
    expect(doc).toMatchObject({ kind: 'MoorEgressMap', version: 1, filter: {}, problems: [] });
    expect(doc.rules).toEqual([
      {
        egressIP: '203.0.113.20',
        namespace: 'payments',
        workload: { kind: 'Deployment', name: 'checkout' },
        policy: 'checkout',
        destinations: [{ cidr: '10.50.0.0/24' }],
        pods: 1,
      },
    ]);
    const etag = r.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get(tlsReplica, '/v1/egress-map', { token: reader, etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    // The other standby serves the same bytes (plain HTTP on its loopback).
    const other = await get(plainReplica, '/v1/egress-map', { token: reader });
    expect(other.status).toBe(200);
    expect(other.headers.etag).toBe(etag);
    expect(other.body).toBe(r.body);
    const pods = JSON.parse(
      (await get(plainReplica, '/v1/egress-map?view=pods&policy=checkout', { token: reader })).body,
    );
    expect(pods.pods.map((p: { pod: string; egressIP: string }) => `${p.pod} ${p.egressIP}`)).toEqual([
      'checkout-a 203.0.113.20',
    ]);
  });

  it('a long-poll returns within its wait after a slice change, with the new content', async () => {
    const first = await get(tlsReplica, '/v1/egress-map?policy=checkout', { token: reader });
    const etag = first.headers.etag as string;
    const poll = get(tlsReplica, '/v1/egress-map?policy=checkout&wait=120', {
      token: reader,
      etag,
      timeoutMs: 130_000,
    });
    // Let the request reach the server and park before the change.
    await new Promise((r) => setTimeout(r, 1000));
    await c.writeSlice(
      slice('checkout-0', [
        ['checkout-a', '203.0.113.20'],
        ['checkout-b', '203.0.113.21'],
      ]),
    );
    const answer = await poll;
    // 200 (not the 304 of a timeout) with the slice's new content.
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(120_000);
    expect(answer.headers.etag).not.toBe(etag);
    expect(ruleIPs(answer.body)).toEqual(['203.0.113.20×1', '203.0.113.21×1']);
  });

  it('a long-poll with nothing changing ends with 304 at its wait', async () => {
    const now = await get(plainReplica, '/v1/egress-map', { token: reader });
    const r = await get(plainReplica, '/v1/egress-map?wait=2', {
      token: reader,
      etag: now.headers.etag as string,
    });
    expect(r.status).toBe(304);
    expect(r.ms).toBeGreaterThanOrEqual(1900);
  });

  it('401 without a token or with a wrong one, 403 for a ServiceAccount without the reader role', async () => {
    const none = await get(tlsReplica, '/v1/egress-map');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="moor-egress-map"');
    const wrong = await get(tlsReplica, '/v1/egress-map', { token: `${reader.slice(0, -4)}AAAA` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('invalid_token');
    expect(JSON.parse(wrong.body)).toMatchObject({ kind: 'Status', status: 401, reason: 'Unauthorized' });
    // Junk that is not even a JWT: also 401.
    expect((await get(tlsReplica, '/v1/egress-map', { token: 'not-a-token' })).status).toBe(401);
    const forbidden = await get(tlsReplica, '/v1/egress-map', { token: nobody });
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.body).message).toContain('system:serviceaccount:fw:nobody');
    expect(JSON.parse(forbidden.body).message).toContain('moor-egress-map-reader');
    // No token appears in the replica's log.
    for (const t of [reader, nobody]) expect(tlsReplica.process.log()).not.toContain(t.slice(-20));
  });

  it('/metrics counts the answers by status; the certificate expiry and a standby are exposed', async () => {
    const before = await scrape();
    const count = (m: Map<string, number>, code: number) =>
      m.get(`moor_egress_map_requests_total{code="${code}"}`) ?? 0;
    expect((await get(tlsReplica, '/v1/egress-map')).status).toBe(401);
    expect((await get(tlsReplica, '/v1/egress-map', { token: reader })).status).toBe(200);
    const after = await scrape();
    expect(count(after, 401) - count(before, 401)).toBe(1);
    expect(count(after, 200) - count(before, 200)).toBe(1);
    expect(after.get('moor_egress_map_long_polls')).toBe(0);
    expect(after.get('moor_egress_map_stale')).toBe(0);
    expect(after.get('moor_egress_map_certificate_not_after_timestamp_seconds')).toBe(
      Math.floor(Date.parse(new X509Certificate(readFileSync(c.tlsCert)).validTo) / 1000),
    );
    expect(after.get('moor_egress_map_certificate_reload_failures_total')).toBe(0);
    expect(after.get('moor_ha_leader')).toBe(0); // a standby: the Lease is held elsewhere
  });

  it('bad parameters: 400; an unknown policy or namespace: 404, each with a message', async () => {
    const cases: [string, number, string][] = [
      ['/v1/egress-map?policy=nope', 404, 'no EgressPolicy named "nope"'],
      ['/v1/egress-map?namespace=nope', 404, 'no namespace "nope"'],
      ['/v1/egress-map?wait=9999', 400, '0 to 300'],
      ['/v1/egress-map?workload=checkout', 400, 'KIND/NAME'],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(tlsReplica, path, { token: reader });
      expect([path, r.status]).toEqual([path, status]);
      expect(JSON.parse(r.body).message).toContain(message);
    }
  });

  it('TLS is real: a client that does not trust the test CA is refused', async () => {
    await expect(egressMapGet(tlsReplica, '/v1/egress-map', { token: reader })).rejects.toThrow(
      /self-signed|unable to (get|verify)|certificate/i,
    );
  });

  it('plain HTTP off loopback, half a TLS configuration or a junk certificate is refused at start', async () => {
    const r = await moor(c.topo.host('ctl'), [
      'controller',
      '--kubeconfig',
      `${run.dir}/controller.kubeconfig`,
      '--egress-map-listen',
      `${CTL_ADDRESS}:8481`,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not loopback and no TLS is configured');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const half = await moor(c.topo.host('ctl'), [
      'controller',
      '--kubeconfig',
      `${run.dir}/controller.kubeconfig`,
      '--egress-map-listen',
      `${CTL_ADDRESS}:8481`,
      '--egress-map-tls-cert',
      c.tlsCert,
    ]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('go together');
    // A certificate file that is not PEM: a clear error, and the process exits (nothing left running).
    const junk = join(run.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const bad = await moor(c.topo.host('ctl'), [
      'controller',
      '--kubeconfig',
      `${run.dir}/controller.kubeconfig`,
      '--egress-map-listen',
      `${CTL_ADDRESS}:8481`,
      '--egress-map-tls-cert',
      junk,
      '--egress-map-tls-key',
      junk,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not a usable PEM certificate and key');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    // --metrics-address on a port in use (replica one's): refused, naming the option.
    const base = ['controller', '--kubeconfig', `${run.dir}/controller.kubeconfig`];
    const metricsInUse = await moor(c.topo.host('ctl'), [...base, '--metrics-address', '127.0.0.1:9478']);
    expect(metricsInUse.code).toBe(1);
    expect(metricsInUse.stderr).toContain('cannot serve metrics on --metrics-address 127.0.0.1:9478');
    // Metrics listening, then the endpoint refused (port in use): the process still exits, in time.
    const endpointInUse = await moor(
      c.topo.host('ctl'),
      [...base, '--metrics-address', '127.0.0.1:9479', '--egress-map-listen', '127.0.0.1:8480'],
      { timeoutMs: 20_000 },
    );
    expect(endpointInUse.code).toBe(1);
    expect(endpointInUse.stderr).toContain(
      'cannot serve the egress map on --egress-map-listen 127.0.0.1:8480',
    );
  });

  it('a slice the reader refuses is listed under problems and never trusted', async () => {
    const forged = mapSliceObject(slice('forged-0', [['intruder', '198.51.100.66']]));
    // Its label names another policy than its content: readers refuse it.
    await c.client.create(aclPaths.mapSlices, {
      ...forged,
      metadata: { name: 'forged-0', labels: { 'egress.moor.io/policy': 'other' } },
    });
    const doc = await waitFor('the refused slice reported', async () => {
      const r = await get(plainReplica, '/v1/egress-map?view=pods', { token: reader });
      const d = JSON.parse(r.body) as {
        problems: { object: string }[];
        rules: { egressIP: string }[];
        pods: { pod: string }[];
      };
      return d.problems.some((p) => p.object === 'EgressMapSlice/forged-0') ? d : undefined;
    });
    expect(doc.rules.map((r) => r.egressIP)).not.toContain('198.51.100.66');
    expect(doc.pods.map((p) => p.pod)).not.toContain('intruder');
  });

  it('after a replica takes the lease both still serve the same document', async () => {
    await c.client.delete(`${LEASES}/moor-egress-controller`);
    const leader = await waitFor(
      'a replica leading',
      async () => {
        const h = await c.leaseHolder();
        return h === 'one' || h === 'two' ? h : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(['one', 'two']).toContain(leader);
    await waitFor('both replicas with one ETag', async () => {
      const [a, b] = await Promise.all([
        get(tlsReplica, '/v1/egress-map', { token: reader }),
        get(plainReplica, '/v1/egress-map', { token: reader }),
      ]);
      return a.status === 200 && b.status === 200 && a.headers.etag === b.headers.etag ? true : undefined;
    });
  });

  it('an API server outage: the replicas keep serving the last mapping, marked stale, same ETag', async () => {
    const before = await get(plainReplica, '/v1/egress-map', { token: reader });
    expect(before.status).toBe(200);
    expect(before.headers['moor-mapping-stale']).toBeUndefined();
    await c.api.stopApiServer();
    const during = await waitFor('the mapping marked stale', async () => {
      const r = await get(plainReplica, '/v1/egress-map', { token: reader });
      return r.headers['moor-mapping-stale'] === '1' ? r : undefined;
    });
    expect(during.status).toBe(200);
    expect(during.headers.etag).toBe(before.headers.etag);
    expect(during.body).toBe(before.body);
    // A token never seen before cannot be checked now: 503, not 401.
    expect((await get(plainReplica, '/v1/egress-map', { token: 'never-seen' })).status).toBe(503);
    expect(plainReplica.process.running).toBe(true);
    // The other replica's /metrics says so as well.
    await waitFor('moor_egress_map_stale 1 on the TLS replica', async () =>
      (await scrape()).get('moor_egress_map_stale') === 1 ? true : undefined,
    );
  });

  it('a rotated certificate serves the next connection; garbage keeps the old one, counted', async () => {
    const old = fingerprintOf(c.tlsCert);
    expect(await servedFingerprint(tlsReplica)).toBe(old);
    writeFileSync(tlsFiles.cert, 'not a certificate\n');
    const failed = await waitFor('the garbage certificate counted', async () => {
      const m = await scrape();
      return (m.get('moor_egress_map_certificate_reload_failures_total') ?? 0) > 0 ? m : undefined;
    });
    expect(failed.get('moor_egress_map_certificate_reloads_total')).toBe(0);
    expect(await servedFingerprint(tlsReplica)).toBe(old);
    expect(tlsReplica.process.log()).toContain('still serving the previous certificate');
    expect(tlsReplica.process.log()).toContain(tlsFiles.cert);
    // The fix: another certificate and its key (from another CA: only its fingerprint is checked).
    const next = join(run.dir, 'next-pki');
    mkdirSync(next);
    const pki = await makeApiServerPki(next, [CTL_ADDRESS, '127.0.0.1'], ['localhost']);
    copyFileSync(pki.servingKey, tlsFiles.key);
    copyFileSync(pki.servingCert, tlsFiles.cert);
    const rotated = fingerprintOf(pki.servingCert);
    await waitFor('the rotated certificate served', async () =>
      (await servedFingerprint(tlsReplica)) === rotated ? true : undefined,
    );
    const m = await scrape();
    expect(m.get('moor_egress_map_certificate_reloads_total')).toBe(1);
    expect(m.get('moor_egress_map_certificate_not_after_timestamp_seconds')).toBe(
      Math.floor(Date.parse(new X509Certificate(readFileSync(pki.servingCert)).validTo) / 1000),
    );
    expect(tlsReplica.process.running).toBe(true);
  });
});
