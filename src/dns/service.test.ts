import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { KubeRestClient, type WatchEvent } from '../k8s/rest.ts';
import { MemorySnapshotStore } from '../reconcile/snapshot.ts';
import { RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_REFUSED, RCODE_SERVFAIL, TYPE_A } from './constants.ts';
import { type DecodedMessage, decodeMessage, encodeQuery } from './message.ts';
import { ClustersetDns } from './service.ts';
import { serviceImport, serviceIpSlice, tcp } from './testing.ts';

type Json = Record<string, unknown>;

/** A broker in memory behind the REST client's two read verbs: list (get) and watch. */
class FakeBroker extends KubeRestClient {
  readonly items = new Map<string, Json[]>([
    ['serviceimports', []],
    ['endpointslices', []],
  ]);
  private readonly watchers = new Set<{
    kind: string;
    onEvent: (e: WatchEvent) => void;
    fail: (e: Error) => void;
  }>();
  /** While set, lists wait for it (the broker is slow to answer the first list). */
  hold: Promise<void> | undefined;
  down = false;
  lists: string[] = [];

  constructor() {
    super({ server: 'https://127.0.0.1:1', token: 'test' });
  }

  override async get<T = Json>(path: string): Promise<T> {
    this.lists.push(path);
    await this.hold;
    if (this.down) throw new MoorError('broker-unreachable', 'broker down');
    return { items: [...(this.items.get(kindOf(path)) ?? [])], metadata: { resourceVersion: '1' } } as T;
  }

  override watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const watcher = { kind: kindOf(path), onEvent, fail: reject };
      this.watchers.add(watcher);
      signal.addEventListener('abort', () => {
        this.watchers.delete(watcher);
        resolve();
      });
    });
  }

  emit(kind: string, type: WatchEvent['type'], object: Json): void {
    for (const w of this.watchers) if (w.kind === kind) w.onEvent({ type, object });
  }

  breakWatches(): void {
    this.down = true;
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.fail(new MoorError('broker-unreachable', 'connection reset'));
    }
  }
}

function kindOf(path: string): string {
  return (path.split('?')[0] ?? '').split('/').pop() ?? '';
}

const services: ClustersetDns[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop()));
});

async function startService(
  broker: FakeBroker,
  log: string[] = [],
  snapshots?: MemorySnapshotStore,
): Promise<ClustersetDns> {
  const dns = new ClustersetDns({
    ...(snapshots ? { snapshots } : {}),
    client: broker,
    namespace: 'submariner-k8s-broker',
    localClusterId: 'host1',
    customDomains: [],
    listen: { address: '127.0.0.1', port: 0 },
    log: (line) => log.push(line),
    debounceMs: 5,
  });
  services.push(dns);
  await dns.start();
  return dns;
}

let nextId = 1;
async function query(dns: ClustersetDns, name: string, type = TYPE_A): Promise<DecodedMessage> {
  const port = dns.address()?.port ?? 0;
  const socket = createSocket('udp4');
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply for ${name}`)), 2000);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
    socket.send(encodeQuery({ id: nextId++, name, type }), port, '127.0.0.1');
  }).finally(() => socket.close());
  const decoded = decodeMessage(reply);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.message;
}

const addresses = (m: DecodedMessage) => m.answers.map((a) => (a.rdata.kind === 'A' ? a.rdata.address : '?'));
const WEB = 'web.shop.svc.clusterset.local';

function seed(broker: FakeBroker): void {
  broker.items.set('serviceimports', [
    serviceImport({ service: 'web', namespace: 'shop', ports: [tcp('http', 80)] }),
  ]);
  broker.items.set('endpointslices', [
    serviceIpSlice('web', 'shop', 'east', '10.1.0.10', [tcp('http', 80)]),
    serviceIpSlice('web', 'shop', 'west', '10.2.0.10', [tcp('http', 80)]),
  ]);
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ClustersetDns', () => {
  it('answers SERVFAIL in its zones (REFUSED outside) until both lists are in', async () => {
    const broker = new FakeBroker();
    seed(broker);
    let release = () => {};
    broker.hold = new Promise((r) => {
      release = r;
    });
    const dns = await startService(broker);
    const early = await query(dns, WEB);
    expect(early).toMatchObject({ rcode: RCODE_SERVFAIL, aa: false, answers: [] });
    expect((await query(dns, 'example.com')).rcode).toBe(RCODE_REFUSED);
    expect(dns.stats()).toMatchObject({ ready: false, servfailsBeforeReady: 1 });

    release();
    await dns.waitUntilReady(2000);
    dns.setConnectedClusters(['east', 'west']);
    const ready = await query(dns, WEB);
    expect(ready).toMatchObject({ rcode: RCODE_NOERROR, aa: true });
    expect(['10.1.0.10', '10.2.0.10']).toContain(addresses(ready)[0]);
    expect((await query(dns, 'nope.shop.svc.clusterset.local')).rcode).toBe(RCODE_NXDOMAIN);
  });

  it('a failed bind fails again on the next start, never passing as listening without a server', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
    const port = taken.address().port;
    const broker = new FakeBroker();
    seed(broker);
    const dns = new ClustersetDns({
      client: broker,
      namespace: 'submariner-k8s-broker',
      localClusterId: 'host1',
      customDomains: [],
      listen: { address: '127.0.0.1', port },
      log: () => {},
      debounceMs: 5,
    });
    services.push(dns);
    await expect(dns.start()).rejects.toThrow();
    await expect(dns.start()).rejects.toThrow();
    expect(dns.address()).toBeNull();
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    await dns.start();
    expect(dns.address()?.port).toBe(port);
  });

  it('hands out only connected clusters, and rebuilds only when the set really changes', async () => {
    const broker = new FakeBroker();
    seed(broker);
    const dns = await startService(broker);
    await dns.waitUntilReady(2000);
    expect(addresses(await query(dns, WEB))).toEqual([]);
    dns.setConnectedClusters(['east']);
    expect(addresses(await query(dns, WEB))).toEqual(['10.1.0.10']);
    const rebuilds = dns.stats().rebuilds;
    dns.setConnectedClusters(new Set(['east']));
    expect(dns.stats().rebuilds).toBe(rebuilds);
    dns.setConnectedClusters(['west']);
    expect(addresses(await query(dns, WEB))).toEqual(['10.2.0.10']);
    expect(dns.stats()).toMatchObject({ rebuilds: rebuilds + 1, connectedClusters: ['west'], services: 1 });
  });

  it('follows watch events, logs a malformed object once, and serves the stale copy while the broker is down', async () => {
    const broker = new FakeBroker();
    seed(broker);
    const log: string[] = [];
    const dns = await startService(broker, log);
    await dns.waitUntilReady(2000);
    dns.setConnectedClusters(['east']);

    const moved = serviceIpSlice('web', 'shop', 'east', '10.1.0.99', [tcp('http', 80)]);
    broker.emit('endpointslices', 'ADDED', moved);
    const broken = serviceIpSlice('web', 'shop', 'north', '10.4.0.1', [
      { name: 'x', protocol: 'ICMP', port: 1 },
    ]);
    broker.emit('endpointslices', 'ADDED', broken);
    // Two slices for east now: the index keeps one (and reports the other).
    await until(async () => (dns.stats().problems >= 2 ? true : undefined));
    broker.emit(
      'serviceimports',
      'MODIFIED',
      serviceImport({ service: 'web', namespace: 'shop', ports: [tcp('http', 80)] }),
    );
    await until(async () => (dns.stats().rebuilds >= 4 ? true : undefined));
    const unknownProtocol = log.filter((line) => line.includes('unknown protocol "ICMP"'));
    expect(unknownProtocol).toHaveLength(1);
    expect(dns.problems().some((p) => p.reason.includes('unknown protocol'))).toBe(true);

    const before = addresses(await query(dns, WEB));
    broker.breakWatches();
    await until(async () => (dns.stats().brokerError ? true : undefined));
    expect(addresses(await query(dns, WEB))).toEqual(before);
    expect(dns.stats().ready).toBe(true);
  });

  it('after a restart with the broker down, answers known names from the saved snapshot', async () => {
    const snapshots = new MemorySnapshotStore();
    const first = new FakeBroker();
    seed(first);
    const before = await startService(first, [], snapshots);
    await before.waitUntilReady(2000);
    await until(async () => (snapshots.parts.has('dns') ? true : undefined));
    await before.stop();

    // The restart: the broker refuses every list.
    const down = new FakeBroker();
    down.down = true;
    const log: string[] = [];
    const dns = await startService(down, log, snapshots);
    dns.setConnectedClusters(['east']);
    expect(addresses(await query(dns, WEB))).toEqual(['10.1.0.10']);
    expect(dns.stats()).toMatchObject({ ready: true, fromSnapshot: snapshots.parts.get('dns')?.savedAt });
    // Only what the snapshot holds is answered.
    expect((await query(dns, 'nope.shop.svc.clusterset.local')).rcode).toBe(RCODE_NXDOMAIN);

    // The broker returns with a change made meanwhile: the live list replaces the snapshot.
    down.items.set('serviceimports', []);
    down.down = false;
    // (after the reflectors' next retry, within their first backoff steps)
    await until(async () => (dns.stats().fromSnapshot === null ? true : undefined), 10_000);
    expect((await query(dns, WEB)).rcode).toBe(RCODE_NXDOMAIN);
  }, 15_000);
});
