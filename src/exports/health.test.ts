import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkExportHealth, checkTcp, ExportHealthLoop, type LoopTimers } from './health.ts';
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

/** Timers stepped by hand: `fire()` runs the pending callback and waits for the round it starts. */
class ManualTimers implements LoopTimers {
  pending: { callback: () => void; ms: number } | undefined;
  setTimeout(callback: () => void, ms: number): unknown {
    this.pending = { callback, ms };
    return this.pending;
  }
  clearTimeout(handle: unknown): void {
    if (handle === this.pending) this.pending = undefined;
  }
  async fire(): Promise<void> {
    const next = this.pending;
    this.pending = undefined;
    next?.callback();
    for (let i = 0; i < 20; i += 1) await Promise.resolve();
  }
}

function loop(exports: StoredExport[], readiness: Map<string, boolean>, publishFails = new Set<string>()) {
  const timers = new ManualTimers();
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
    timers,
    now: () => 42,
  });
  return { health, timers, published };
}

describe('ExportHealthLoop', () => {
  it('publishes each export once at first, then only when its readiness flips', async () => {
    const readiness = new Map([
      ['db', true],
      ['web', false],
    ]);
    const { health, timers, published } = loop([exp('db'), exp('web')], readiness);
    health.start();
    expect(timers.pending?.ms).toBe(0);
    await timers.fire();
    expect(published).toEqual(['db=true', 'web=false']);
    expect(timers.pending?.ms).toBe(5000);
    await timers.fire();
    expect(published).toHaveLength(2);
    readiness.set('db', false);
    await timers.fire();
    expect(published).toEqual(['db=true', 'web=false', 'db=false']);
    expect(health.status()).toContainEqual({
      name: 'db',
      namespace: 'vms',
      ready: false,
      published: false,
      lastCheckedAt: 42,
      lastError: undefined,
    });
    await health.stop();
    expect(timers.pending).toBeUndefined();
  });

  it('retries a failed publish in the next round', async () => {
    const fails = new Set(['db']);
    const { health, published } = loop([exp('db')], new Map([['db', true]]), fails);
    await health.tick();
    expect(published).toEqual([]);
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
