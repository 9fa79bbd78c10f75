// Certificate reload on a real HTTPS socket: the files sit in a directory laid out like a mounted
// Kubernetes Secret (tls.crt -> ..data/tls.crt, ..data -> a timestamped directory, a rotation is
// one rename of ..data). A new TLS connection sees the rotated certificate; garbage, a key of
// another certificate (a half-written rotation) or a missing file keep the old one serving, are
// logged once and counted, and the fix goes into service at the next poll; an open long-poll
// is not cut. The poll runs on a FakeClock; the sockets and TLS are real.
import { X509Certificate } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApiServerPki } from '../../test/harness/pki.ts';
import { systemClock } from '../reconcile/clock.ts';
import { FakeClock } from '../reconcile/fake-clock.ts';
import { EgressMapHandler, type EgressMapSource } from './egress-map-http.ts';
import { type EgressMapServer, startEgressMapServer } from './egress-map-server.ts';
import { CertificateReloader, checkPair, type TlsPair } from './egress-map-tls.ts';

let dir: string;
const pairs: TlsPair[] = [];
let server: EgressMapServer | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'moor-tls-reload-'));
  for (const name of ['a', 'b', 'c']) {
    const d = join(dir, `pki-${name}`);
    mkdirSync(d);
    const pki = await makeApiServerPki(d, ['127.0.0.1'], ['localhost']);
    pairs.push({ cert: readFileSync(pki.servingCert, 'utf8'), key: readFileSync(pki.servingKey, 'utf8') });
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Secret volume as the kubelet writes it: every update is one atomic rename of `..data`. */
function secretVolume(root: string) {
  mkdirSync(root);
  let n = 0;
  const update = (files: { 'tls.crt'?: string; 'tls.key'?: string }) => {
    const version = join(root, `..2026_12_01_${n++}`);
    mkdirSync(version);
    for (const [name, text] of Object.entries(files))
      writeFileSync(join(version, name), text, { mode: 0o600 });
    symlinkSync(version, join(root, '..data_tmp'));
    renameSync(join(root, '..data_tmp'), join(root, '..data'));
  };
  return {
    cert: join(root, 'tls.crt'),
    key: join(root, 'tls.key'),
    install(pair: TlsPair) {
      update({ 'tls.crt': pair.cert, 'tls.key': pair.key });
      symlinkSync('..data/tls.crt', join(root, 'tls.crt'));
      symlinkSync('..data/tls.key', join(root, 'tls.key'));
    },
    update,
  };
}

const fingerprint = (pair: TlsPair) => new X509Certificate(pair.cert).fingerprint256;

/** The certificate a new TLS connection is given. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

const source: EgressMapSource = {
  read: () => ({ rows: [], problems: [], generation: 1 }),
  onChange: () => () => undefined,
  policyExists: () => true,
  namespaceExists: () => true,
};

function httpsGet(port: number, headers: Record<string, string>, path = '/v1/egress-map') {
  return new Promise<{ status: number; etag: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers, agent: false, rejectUnauthorized: false })
      .on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag) }));
      })
      .on('error', reject)
      .end();
  });
}

describe('checkPair', () => {
  it('accepts a certificate with its key, refuses garbage and a key of another certificate', () => {
    const [a, b] = pairs as [TlsPair, TlsPair];
    const ok = checkPair(a);
    expect(ok.ok && ok.info.fingerprint256).toBe(fingerprint(a));
    expect(ok.ok && ok.info.notAfterMs).toBe(Date.parse(new X509Certificate(a.cert).validTo));
    expect(checkPair({ cert: a.cert, key: b.key }).ok).toBe(false);
    expect(checkPair({ cert: 'not a certificate', key: a.key }).ok).toBe(false);
    expect(checkPair({ cert: a.cert, key: '' }).ok).toBe(false);
  });
});

describe('CertificateReloader on a real HTTPS server', () => {
  it('rotates, keeps the old certificate through bad pairs, logs once, counts, recovers', async () => {
    const [a, b, c] = pairs as [TlsPair, TlsPair, TlsPair];
    const vol = secretVolume(join(dir, 'secret'));
    vol.install(a);
    const clock = new FakeClock();
    const log: string[] = [];
    const reloader = new CertificateReloader({
      certPath: vol.cert,
      keyPath: vol.key,
      apply: (pair) => server?.setTls(pair),
      log: (l) => log.push(l),
      clock,
      intervalMs: 10_000,
    });
    const handler = new EgressMapHandler({
      source,
      auth: { check: async () => ({ kind: 'allowed', user: 'u' }) },
      clock: systemClock,
    });
    server = await startEgressMapServer({
      address: { host: '127.0.0.1', port: 0 },
      tls: reloader.initial(),
      handler,
    });
    const port = server.port;
    reloader.start();
    expect(await servedFingerprint(port)).toBe(fingerprint(a));

    // A long-poll parked on a connection made with certificate a.
    const { etag } = await httpsGet(port, { authorization: 'Bearer t' });
    const parked = httpsGet(
      port,
      { authorization: 'Bearer t', 'if-none-match': etag },
      '/v1/egress-map?wait=2',
    );
    for (let i = 0; i < 200 && handler.waiters === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(handler.waiters).toBe(1);

    // Rotation to b: new connections get b; the long-poll ends normally (304 at its wait).
    vol.update({ 'tls.crt': b.cert, 'tls.key': b.key });
    await clock.advance(10_000);
    expect(await servedFingerprint(port)).toBe(fingerprint(b));
    expect(reloader.stats()).toMatchObject({ reloads: 1, failures: 0, problem: undefined });
    expect(reloader.stats()?.current.fingerprint256).toBe(fingerprint(b));
    expect((await parked).status).toBe(304);

    // Garbage: b stays, one log line for two polls, both counted.
    vol.update({ 'tls.crt': 'garbage\n', 'tls.key': b.key });
    await clock.advance(10_000);
    await clock.advance(10_000);
    expect(await servedFingerprint(port)).toBe(fingerprint(b));
    expect(reloader.stats()).toMatchObject({ reloads: 1, failures: 2 });
    const garbageLines = log.filter((l) => l.includes('not a usable certificate and key'));
    expect(garbageLines).toHaveLength(1);
    expect(garbageLines[0]).toContain(vol.cert);
    expect(garbageLines[0]).toContain('still serving the previous certificate');

    // Half-written rotation to c (certificate first, key later): b stays until the key arrives.
    vol.update({ 'tls.crt': c.cert, 'tls.key': b.key });
    await clock.advance(10_000);
    expect(await servedFingerprint(port)).toBe(fingerprint(b));
    expect(reloader.stats()).toMatchObject({ reloads: 1, failures: 3 });
    expect(reloader.stats()?.problem).toMatch(/mismatch/);
    vol.update({ 'tls.crt': c.cert, 'tls.key': c.key });
    await clock.advance(10_000);
    expect(await servedFingerprint(port)).toBe(fingerprint(c));
    expect(reloader.stats()).toMatchObject({ reloads: 2, failures: 3, problem: undefined });

    // A missing key file: c stays; the key put back unchanged is the served pair again.
    vol.update({ 'tls.crt': c.cert });
    await clock.advance(10_000);
    expect(await servedFingerprint(port)).toBe(fingerprint(c));
    expect(reloader.stats()?.problem).toContain('does not exist');
    vol.update({ 'tls.crt': c.cert, 'tls.key': c.key });
    await clock.advance(10_000);
    expect(reloader.stats()).toMatchObject({ reloads: 2, failures: 4, problem: undefined });

    // No key material in any line.
    const keyLines = [a, b, c].flatMap((p) =>
      p.key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')),
    );
    for (const line of log) for (const k of keyLines) expect(line).not.toContain(k);
    reloader.stop();
    expect(clock.pending).toBe(0);
  });

  it('refuses a bad pair at start with both files named', () => {
    const [a, b] = pairs as [TlsPair, TlsPair];
    const d = join(dir, 'start');
    mkdirSync(d);
    writeFileSync(join(d, 'tls.crt'), a.cert);
    writeFileSync(join(d, 'tls.key'), b.key);
    const reloader = new CertificateReloader({
      certPath: join(d, 'tls.crt'),
      keyPath: join(d, 'tls.key'),
      apply: () => undefined,
      log: () => undefined,
    });
    expect(() => reloader.initial()).toThrow(/tls\.crt and --egress-map-tls-key .*tls\.key are not a usable/);
    const missing = new CertificateReloader({
      certPath: join(d, 'nope.crt'),
      keyPath: join(d, 'tls.key'),
      apply: () => undefined,
      log: () => undefined,
    });
    expect(() => missing.initial()).toThrow(/--egress-map-tls-cert .*nope\.crt does not exist/);
  });
});
