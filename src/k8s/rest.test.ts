// KubeRestClient against a real HTTPS server on loopback (certificate from the test PKI helper):
// watches never take the sockets that requests need.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApiServerPki } from '../../test/harness/pki.ts';
import { KubeRestClient } from './rest.ts';

let dir: string;
let server: Server;
let ca: string;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'moor-rest-'));
  const pki = await makeApiServerPki(dir, ['127.0.0.1'], []);
  ca = pki.caPem;
  // A watch gets its headers and then nothing (as a quiet collection); anything else an answer.
  server = createServer(
    { key: readFileSync(pki.servingKey), cert: readFileSync(pki.servingCert) },
    (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.includes('watch=1')) res.flushHeaders();
      else res.end('{"kind":"Lease"}');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.closeAllConnections();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('KubeRestClient', () => {
  it('answers a request while more watches are open than the request pool has sockets', async () => {
    const client = new KubeRestClient({ server: url, caPem: ca, token: 't', timeoutMs: 2_000 });
    const stop = new AbortController();
    const watches = Array.from({ length: 12 }, (_, i) =>
      client.watch(`/api/v1/things${i}?watch=1`, () => undefined, stop.signal),
    );
    await new Promise((r) => setTimeout(r, 200));
    try {
      const queued = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the request waited behind the watches')), 5_000).unref(),
      );
      const answer = await Promise.race([client.get('/apis/coordination.k8s.io/v1/leases/x'), queued]);
      expect(answer).toEqual({ kind: 'Lease' });
    } finally {
      stop.abort();
      await Promise.allSettled(watches);
      client.close();
    }
  });
});
