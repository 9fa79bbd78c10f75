import { afterEach, describe, expect, it } from 'vitest';
import { MappingView } from '../acl/mapping-view.ts';
import type { ReflectorClient } from '../k8s/reflector.ts';
import type { WatchEvent } from '../k8s/rest.ts';
import { mapSliceObject } from '../plan/egress-mapping-wire.ts';
import { RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, TYPE_A, TYPE_PTR } from './constants.ts';
import { EgressDns } from './egress-service.ts';
import { decodeMessage, encodeQuery } from './message.ts';
import { udpExchange } from './testing-sockets.ts';

const NAME = 'checkout.payments.cluster-a.egress.clusterset.local';
type Json = Record<string, unknown>;

/** The API server's three collections behind list + watch; lists wait while `hold` is set. */
function fakeApi(collections: Record<'egressmapslices' | 'egresspolicies' | 'egressgateways', Json[]>) {
  const watchers = new Map<string, (e: WatchEvent) => void>();
  let hold: Promise<void> | undefined;
  const kind = (path: string) => (path.split('?')[0] ?? '').split('/').pop() as keyof typeof collections;
  const client: ReflectorClient = {
    get: (async (path: string) => {
      await hold;
      return { items: collections[kind(path)], metadata: { resourceVersion: '1' } };
    }) as ReflectorClient['get'],
    watch: (path, onEvent, signal) => {
      watchers.set(kind(path), onEvent);
      return new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    },
  };
  return {
    client,
    emit: (k: keyof typeof collections, e: WatchEvent) => watchers.get(k)?.(e),
    hold: (p: Promise<void>) => {
      hold = p;
    },
  };
}

// Every write gets a new resourceVersion, as on the API server (MappingView caches by it).
let version = 2;
const slice = (ip: string) => ({
  ...mapSliceObject({
    name: 'checkout-0',
    policy: 'checkout',
    gateway: 'east',
    destinations: [{ cidr: '10.50.0.0/24' }],
    entries: [
      {
        namespace: 'payments',
        pod: 'checkout-1',
        workload: { kind: 'Deployment', name: 'checkout' },
        egressIP: ip,
        since: '2026-12-01T10:00:00Z',
      },
    ],
  }),
  metadata: {
    name: 'checkout-0',
    labels: { 'egress.moor.io/policy': 'checkout' },
    resourceVersion: String(version++),
  },
});
const policy = {
  metadata: { name: 'checkout' },
  spec: { gateway: 'east', destinations: [{ cidr: '10.50.0.0/24' }], ips: ['203.0.113.20', '203.0.113.21'] },
  status: { ips: ['203.0.113.20', '203.0.113.21'] },
};
const gateway = {
  metadata: { name: 'east' },
  spec: {
    pool: { cidrs: ['203.0.113.16/29'] },
    interface: 'lan0',
    subnet: '203.0.113.0/24',
    floatingIP: '203.0.113.254',
    vni: 4100,
  },
};

const running: EgressDns[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

async function ask(dns: EgressDns, name: string, type = TYPE_A) {
  const reply = await udpExchange(dns.address()?.port ?? 0, [encodeQuery({ id: 3, name, type })]);
  if (!reply) throw new Error(`no reply for ${name}`);
  const d = decodeMessage(reply);
  if (!d.ok) throw new Error(d.reason);
  return d.message;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('EgressDns (the controller process)', () => {
  it('SERVFAIL until listed, then names; a burst of changes becomes one rebuild; removal removes', async () => {
    const api = fakeApi({
      egressmapslices: [slice('203.0.113.20')],
      egresspolicies: [policy],
      egressgateways: [gateway],
    });
    let release = () => {};
    api.hold(new Promise<void>((r) => (release = r)));
    const log: string[] = [];
    const mapping = new MappingView({ client: api.client });
    const dns = new EgressDns({
      client: api.client,
      mapping,
      clusterId: 'cluster-a',
      listen: { address: '127.0.0.1', port: 0 },
      log: (l) => log.push(l),
      debounceMs: 20,
    });
    running.push(dns);
    await dns.start();
    mapping.start();
    expect((await ask(dns, NAME)).rcode).toBe(RCODE_SERVFAIL);
    release();
    await dns.waitUntilReady(3000);
    const a = await ask(dns, NAME);
    expect(a.answers.map((r) => r.rdata)).toEqual([{ kind: 'A', address: '203.0.113.20' }]);
    expect((await ask(dns, '20.113.0.203.in-addr.arpa', TYPE_PTR)).rcode).toBe(RCODE_NOERROR);

    const before = dns.stats().rebuilds;
    for (const ip of ['203.0.113.21', '203.0.113.20', '203.0.113.21'])
      api.emit('egressmapslices', { type: 'MODIFIED', object: slice(ip) });
    await until(async () => (await ask(dns, NAME)).answers.length === 1 && dns.stats().rebuilds > before);
    await until(async () => {
      const r = await ask(dns, NAME);
      return r.answers[0]?.rdata.kind === 'A' && r.answers[0].rdata.address === '203.0.113.21';
    });
    expect(dns.stats().rebuilds - before).toBe(1);

    api.emit('egressmapslices', { type: 'DELETED', object: slice('203.0.113.21') });
    await until(async () => (await ask(dns, NAME)).rcode === RCODE_NXDOMAIN);
    expect((await ask(dns, '21.113.0.203.in-addr.arpa', TYPE_PTR)).rcode).toBe(RCODE_NXDOMAIN);
    expect(dns.stats()).toMatchObject({ ready: true, forwardNames: 0, reverseNames: 0, problems: 0 });
    await mapping.stop();
  });
});
