// The socket adapter on a real loopback socket: a client that goes away drops its long-poll at
// once, a long-poll is held until its wait, a port in use is a clear error, and the listen checks.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../reconcile/clock.ts';
import { EgressMapHandler, type EgressMapSource } from './egress-map-http.ts';
import {
  checkListenSecurity,
  type EgressMapServer,
  isLoopback,
  startEgressMapServer,
} from './egress-map-server.ts';

const source: EgressMapSource = {
  read: () => ({ rows: [], problems: [], generation: 1 }),
  onChange: () => () => undefined,
  policyExists: () => true,
  namespaceExists: () => true,
};

let server: EgressMapServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function get(port: number, path: string, headers: Record<string, string>) {
  const req = request({ host: '127.0.0.1', port, path, headers, agent: false });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  req.end();
  return { req, answer };
}

async function start() {
  const handler = new EgressMapHandler({
    source,
    auth: { check: async () => ({ kind: 'allowed', user: 'u' }) },
    clock: systemClock,
  });
  server = await startEgressMapServer({
    address: { host: '127.0.0.1', port: 0 },
    handler,
  });
  return { handler, port: server.port, etag: await etagOf(server.port) };
}

async function etagOf(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({
      host: '127.0.0.1',
      port,
      path: '/v1/egress-map',
      headers: { authorization: 'Bearer t' },
      agent: false,
    })
      .on('response', (res) => {
        res.resume();
        resolve(String(res.headers.etag));
      })
      .on('error', reject)
      .end();
  });
}

describe('startEgressMapServer', () => {
  it('drops a long-poll as soon as its client disconnects', async () => {
    const { handler, port, etag } = await start();
    const { req, answer } = get(port, '/v1/egress-map?wait=300', {
      authorization: 'Bearer t',
      'if-none-match': etag,
    });
    answer.catch(() => undefined);
    for (let i = 0; i < 100 && handler.waiters === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(handler.waiters).toBe(1);
    req.destroy();
    for (let i = 0; i < 100 && handler.waiters > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(handler.waiters).toBe(0);
  });

  it('holds a long-poll and answers 304 with the ETag at its wait', async () => {
    const { port, etag } = await start();
    const t0 = Date.now();
    const r = await get(port, '/v1/egress-map?wait=2', { authorization: 'Bearer t', 'if-none-match': etag })
      .answer;
    expect(r.status).toBe(304);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    // Counted by status (the ETag fetch was a 200); a readiness probe is not a request for the map.
    expect((await get(port, '/healthz', {}).answer).status).toBe(200);
    expect(Object.fromEntries(server?.requestsByCode ?? [])).toEqual({ 200: 1, 304: 1 });
  });

  it('refuses a port in use with the option named', async () => {
    const { port } = await start();
    const handler = new EgressMapHandler({
      source,
      auth: { check: async () => ({ kind: 'allowed', user: 'u' }) },
      clock: systemClock,
    });
    await expect(startEgressMapServer({ address: { host: '127.0.0.1', port }, handler })).rejects.toThrow(
      /cannot serve the egress map on --egress-map-listen 127\.0\.0\.1:\d+/,
    );
  });
});

describe('checkListenSecurity', () => {
  it('plain HTTP only on loopback; cert and key together', () => {
    expect(
      isLoopback('127.0.0.1') && isLoopback('127.1.2.3') && isLoopback('::1') && isLoopback('localhost'),
    ).toBe(true);
    expect(isLoopback('0.0.0.0') || isLoopback('10.0.0.1') || isLoopback('127.example.com')).toBe(false);
    expect(() => checkListenSecurity('127.0.0.1', {})).not.toThrow();
    expect(() => checkListenSecurity('0.0.0.0', {})).toThrow(/not loopback and no TLS/);
    expect(() => checkListenSecurity('0.0.0.0', { cert: 'c', key: 'k' })).not.toThrow();
    expect(() => checkListenSecurity('0.0.0.0', { cert: 'c' })).toThrow(/go together/);
  });
});

describe('close', () => {
  it('answers parked long-polls with 304 before the socket goes', async () => {
    const { port, etag } = await start();
    const { answer } = get(port, '/v1/egress-map?wait=300', {
      authorization: 'Bearer t',
      'if-none-match': etag,
    });
    await new Promise((r) => setTimeout(r, 100));
    await server?.close();
    server = undefined;
    expect((await answer).status).toBe(304);
  });
});
