import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../reconcile/fake-clock.ts';
import { checkExportHealth, checkTcp, ExportHealthLoop } from './health.ts';
import type { StoredExport } from './store.ts';

const exp = (name: string, overrides: Partial<StoredExport> = {}): StoredExport => ({
  name,
  namespace: 'vms',
  ports: [{ name: '', protocol: 'TCP', port: 5432 }],
  health: { type: 'tcp' },
  perHostNames: false,
  exportedAt: '1800000000000000000',
  ...overrides,
});

function loop(exports: StoredExport[], readiness: Map<string, boolean>, publishFails = new Set<string>()) {
  const clock = new FakeClock(42);
  const published: string[] = [];
  const health = new ExportHealthLoop({
    loadExports: () => exports,
    check: async (e) => readiness.get(e.name) ?? false,
    publisher: {
      publish: async (e, { ready }) => {
        if (publishFails.has(e.name)) throw new Error('broker down');
        published.push(`${e.name}=${ready}`);
        return { serviceImport: 'unchanged', endpointSlice: 'unchanged', ports: 'unchanged', sliceName: 'x' };
      },
    },
    clock,
  });
  return { health, clock, published };
}

describe('ExportHealthLoop', () => {
  it('publishes each export once at first, then only when its readiness flips', async () => {
    const readiness = new Map([
      ['db', true],
      ['web', false],
    ]);
    const { health, clock, published } = loop([exp('db'), exp('web')], readiness);
    health.start();
    await clock.advance(0);
    expect(published).toEqual(['db=true', 'web=false']);
    await clock.advance(4999);
    expect(published).toHaveLength(2);
    readiness.set('db', false);
    await clock.advance(1);
    expect(published).toEqual(['db=true', 'web=false', 'db=false']);
    await clock.advance(5000);
    expect(published).toEqual(['db=true', 'web=false', 'db=false']);
    expect(health.status()).toContainEqual({
      name: 'db',
      namespace: 'vms',
      ready: false,
      published: false,
      lastCheckedAt: 10042,
      lastError: undefined,
    });
    await health.stop();
    expect(clock.pending).toBe(0);
  });

  it('retries a failed publish in the next round', async () => {
    const fails = new Set(['db']);
    const { health, published } = loop([exp('db')], new Map([['db', true]]), fails);
    const failed = await health.tick();
    expect(published).toEqual([]);
    expect(failed.errors).toEqual([
      { code: 'internal', phase: 'exports', object: 'vms/db readiness true', message: 'broker down' },
    ]);
    expect(health.status()[0]).toMatchObject({ ready: true, published: undefined, lastError: 'broker down' });
    fails.clear();
    await health.tick();
    expect(published).toEqual(['db=true']);
  });

  it('follows the store: new exports are published, removed ones forgotten', async () => {
    const exports = [exp('db')];
    const { health, published } = loop(exports, new Map([['db', true]]));
    await health.tick();
    exports.push(exp('web'));
    await health.tick();
    expect(published).toEqual(['db=true', 'web=false']);
    exports.splice(0, 1);
    await health.tick();
    expect(health.status().map((s) => s.name)).toEqual(['web']);
  });
});

describe('checkTcp', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it('is true while 127.0.0.1:<port> accepts connections and false once it stops', async () => {
    server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    expect(await checkTcp(port)).toBe(true);
    expect(await checkExportHealth({ health: { type: 'tcp', port }, ports: [] })).toBe(true);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    expect(await checkTcp(port)).toBe(false);
  });

  it('"none" is always ready', async () => {
    expect(await checkExportHealth({ health: { type: 'none' }, ports: [] })).toBe(true);
  });
});
