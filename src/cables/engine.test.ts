// The cable engine on strict fakes: the kernel (FakeNetlink + FakeWireGuard, linked so that
// creating a WireGuard device creates its link), fping (FakePinger), the broker collections and
// the clock. Asserts on port calls and on the fakes' state, never on log wording.
import { describe, expect, it } from 'vitest';
import { FakeHostNetwork } from '../dataplane/host-network-fake.ts';
import { FakeNetlink } from '../dataplane/netlink/fake.ts';
import { FakePinger } from '../dataplane/ping/fake.ts';
import { FakeWireGuard } from '../dataplane/wireguard/fake.ts';
import { FakeClock } from '../reconcile/fake-clock.ts';
import { MemorySnapshotStore } from '../reconcile/snapshot.ts';
import { CableEngine } from './engine.ts';
import type { BrokerCollection } from './ports.ts';
import type { AgentStatus } from './status.ts';

const key = (n: number) => Buffer.alloc(32, n).toString('base64');
const PRIVATE = key(0x11);
const PSK = key(0x50);

class FakeCollection implements BrokerCollection {
  synced = false;
  lastError: Error | undefined;
  items = new Map<string, unknown>();
  started = false;
  readonly onChange: () => void;
  constructor(onChange: () => void) {
    this.onChange = onChange;
  }
  list(): unknown[] {
    return [...this.items.values()];
  }
  start(): void {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.started = false;
  }
  /** A successful list (or relist) with these objects. */
  listed(objects: Record<string, unknown>): void {
    this.items = new Map(Object.entries(objects));
    this.synced = true;
    this.lastError = undefined;
    this.onChange();
  }
  put(name: string, object: unknown): void {
    this.items.set(name, object);
    this.onChange();
  }
  remove(name: string): void {
    this.items.delete(name);
    this.onChange();
  }
}

function cluster(id: string, cidrs: string[]): unknown {
  return {
    apiVersion: 'submariner.io/v1',
    kind: 'Cluster',
    metadata: {
      name: id,
      labels: { 'submariner-io/clusterID': id },
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: { cluster_id: id, cluster_cidr: cidrs, service_cidr: [], global_cidr: [] },
  };
}

function endpoint(id: string, ip: string, k: string, subnets: string[], healthCheckIP?: string): unknown {
  const cable = `submariner-cable-${id}-${ip.replaceAll('.', '-')}`;
  return {
    apiVersion: 'submariner.io/v1',
    kind: 'Endpoint',
    metadata: {
      name: `${id}-${cable}`,
      labels: { 'submariner-io/clusterID': id },
      creationTimestamp: '2026-01-01T00:01:00Z',
    },
    spec: {
      cluster_id: id,
      cable_name: cable,
      hostname: `gw-${id}`,
      subnets,
      private_ip: ip,
      public_ip: ip,
      nat_enabled: false,
      backend: 'wireguard',
      backend_config: { publicKey: k },
      ...(healthCheckIP ? { healthCheckIP } : {}),
    },
  };
}

const CLUSTERS = { east: cluster('east', ['10.1.0.0/16']), west: cluster('west', ['10.2.0.0/16']) };
const ENDPOINTS = {
  east: endpoint('east', '172.16.0.1', key(1), ['10.1.0.0/16'], '10.1.0.1'),
  west: endpoint('west', '172.16.0.2', key(2), ['10.2.0.0/16']),
};

function setup(
  o: {
    snapshots?: MemorySnapshotStore;
    kernel?: { netlink: FakeNetlink; wireguard: FakeWireGuard };
    previous?: AgentStatus;
    hostNetwork?: FakeHostNetwork;
  } = {},
) {
  const clock = new FakeClock();
  const netlink = o.kernel?.netlink ?? new FakeNetlink();
  if (!o.kernel) {
    netlink.addLink('eth0', { up: true });
    void netlink.addrAdd('eth0', '172.16.0.100/24'); // the fake applies it synchronously
  }
  const wireguard = o.kernel?.wireguard ?? new FakeWireGuard('wireguard-go', netlink);
  const pinger = new FakePinger();
  const logs: string[] = [];
  const published: string[] = [];
  let publishError: Error | undefined;
  const statuses: AgentStatus[] = [];
  let clusters!: FakeCollection;
  let endpoints!: FakeCollection;
  const engine = new CableEngine({
    cables: {
      clusterId: 'vm-db',
      privateKey: PRIVATE,
      listenPort: 4500,
      selfAddresses: ['100.70.0.10'],
      selfSubnets: ['100.70.0.10/32'],
      tunnel: {
        interfaceName: 'moor0',
        presharedKey: PSK,
        keepaliveSeconds: 10,
        interfaceAddresses: ['100.70.0.10'],
        routeSource: '100.70.0.10',
      },
      log: (l) => logs.push(l),
    },
    ports: {
      netlink,
      wireguard,
      ping: (opts) => pinger.bind(opts),
      clock,
      ...(o.hostNetwork ? { hostNetwork: o.hostNetwork } : {}),
    },
    members: (onChange) => {
      clusters = new FakeCollection(onChange);
      endpoints = new FakeCollection(onChange);
      return { clusters, endpoints };
    },
    broker: { server: 'https://broker.test:6443', namespace: 'submariner-k8s-broker' },
    publish: async () => {
      if (publishError) throw publishError;
      published.push('vm-db-endpoint');
      return 'vm-db-endpoint';
    },
    driverName: 'wireguard-go',
    ...(o.snapshots ? { snapshots: o.snapshots } : {}),
    ...(o.previous ? { previousRegistration: o.previous.registration } : {}),
    writeStatus: (s) => statuses.push(s),
    resyncMs: 30_000,
    statusIntervalMs: 3_600_000,
    log: (l) => logs.push(l),
  });
  const all = () => [...netlink.mutatingCalls(), ...wireguard.mutatingCalls()];
  const clear = () => {
    netlink.clearCalls();
    wireguard.clearCalls();
    pinger.calls.length = 0;
  };
  return {
    clock,
    netlink,
    wireguard,
    pinger,
    engine,
    logs,
    published,
    statuses,
    get clusters() {
      return clusters;
    },
    get endpoints() {
      return endpoints;
    },
    failPublish: (e: Error | undefined) => {
      publishError = e;
    },
    mutating: all,
    clear,
    /** Run everything that is due (debounce, the run, its follow-ups). */
    settle: async (ms = 100) => {
      await clock.advance(ms);
      // A resync that fell due at the very end still has its debounce to run.
      for (let i = 0; i < 100 && engine.loop.busy; i++) await clock.advance(20);
      await engine.loop.idle();
    },
    listBoth: () => {
      clusters.listed(CLUSTERS);
      endpoints.listed(ENDPOINTS);
    },
  };
}

const ROUTES = ['route 10.1.0.0/16 dev moor0', 'route 10.2.0.0/16 dev moor0'];

describe('CableEngine', () => {
  it('programs peers, link MTU, address and routes once the broker is listed, then publishes', async () => {
    const t = setup();
    t.engine.start();
    t.listBoth();
    await t.settle();
    expect(t.wireguard.dump()).toContain(
      `peer ${key(1)} psk=yes endpoint=172.16.0.1:4500 allowed=10.1.0.0/16 keepalive=10`,
    );
    expect(t.wireguard.dump()).toContain(
      `peer ${key(2)} psk=yes endpoint=172.16.0.2:4500 allowed=10.2.0.0/16`,
    );
    const dump = t.netlink.dump();
    expect(dump).toContain('link moor0 mtu 1420 up');
    expect(dump).toContain('addr 100.70.0.10/32');
    for (const r of ROUTES) expect(dump).toMatch(new RegExp(`${r}.*src 100.70.0.10`));
    expect(t.pinger.targets).toEqual(['10.1.0.1']);
    expect(t.published).toEqual(['vm-db-endpoint']);
    expect(t.engine.loop.last?.errors, t.logs.join('\n')).toEqual([]);
    await t.engine.stop();
  });

  it('an unchanged snapshot programs nothing: zero calls to any port', async () => {
    const t = setup();
    t.engine.start();
    t.listBoth();
    await t.settle();
    t.clear();
    // A relist with identical objects and a watch event re-putting the same object.
    t.listBoth();
    t.endpoints.put('east', ENDPOINTS.east);
    await t.settle();
    expect(t.netlink.calls).toEqual([]);
    expect(t.wireguard.calls).toEqual([]);
    expect(t.pinger.calls).toEqual([]);
    await t.engine.stop();
  });

  it('a resync repairs a route deleted by hand, and touches nothing else', async () => {
    const t = setup();
    t.engine.start();
    t.listBoth();
    await t.settle();
    const route = (await t.netlink.routeList({ family: 4, dev: 'moor0' })).find(
      (r) => r.dst === '10.2.0.0/16',
    );
    await t.netlink.routeDel(route!);
    expect(t.netlink.dump()).not.toContain(ROUTES[1]);
    t.clear();
    await t.settle(30_000);
    expect(t.netlink.dump()).toContain(ROUTES[1]);
    expect(t.mutating()).toEqual([
      { op: 'routeReplace', args: [expect.objectContaining({ dst: '10.2.0.0/16' })] },
    ]);
    // Another resync with nothing drifted changes nothing.
    t.clear();
    await t.settle(30_000);
    expect(t.mutating()).toEqual([]);
    await t.engine.stop();
  });

  it('a failed apply is reported with its phase, retried, and cleared', async () => {
    const t = setup();
    t.engine.start();
    t.netlink.failNext('routeReplace', 'No buffer space available');
    t.listBoth();
    await t.settle(50);
    const errors = t.engine.loop.last?.errors ?? [];
    expect(errors).toEqual([
      expect.objectContaining({ code: 'system', phase: 'route', object: 'replace 10.1.0.0/16' }),
    ]);
    expect(t.engine.loop.counters.errorsByPhase).toEqual({ route: 1 });
    await t.engine.refreshStatus();
    expect(t.statuses.at(-1)?.applyErrors).toEqual([
      'route replace 10.1.0.0/16: RTNETLINK answers: No buffer space available',
    ]);
    await t.settle(1000); // the retry
    expect(t.netlink.dump()).toContain(ROUTES[0]);
    expect(t.engine.loop.last?.errors).toEqual([]);
    await t.engine.refreshStatus();
    expect(t.statuses.at(-1)?.applyErrors).toEqual([]);
    expect(t.statuses.at(-1)?.counters.errorsByPhase).toEqual({ route: 1 });
    await t.engine.stop();
  });

  it('removes a member deleted on the broker: route and peer, the peer after its route', async () => {
    const t = setup();
    t.engine.start();
    t.listBoth();
    await t.settle();
    t.clear();
    t.endpoints.remove('west');
    await t.settle();
    expect(t.wireguard.dump()).not.toContain(key(2));
    expect(t.netlink.dump()).not.toContain(ROUTES[1]);
    expect(t.netlink.mutatingCalls().map((c) => c.op)).toEqual(['routeDel']);
    expect(t.wireguard.mutatingCalls().map((c) => c.op)).toEqual(['removePeer']);
    await t.engine.stop();
  });
});

describe('CableEngine before the broker is listed (restart and outage safety)', () => {
  /** The kernel as a previous run left it. */
  async function previousRun(snapshots?: MemorySnapshotStore) {
    const t = setup(snapshots ? { snapshots } : {});
    t.engine.start();
    t.listBoth();
    await t.settle();
    await t.engine.stop();
    return t;
  }

  it('without a snapshot, a restart removes and changes nothing the kernel holds', async () => {
    const before = await previousRun();
    const r = setup({ kernel: { netlink: before.netlink, wireguard: before.wireguard } });
    const kernelNl = before.netlink;
    const kernelWg = before.wireguard;
    const kernelBefore = `${kernelNl.dump()}\n${kernelWg.dump()}`;
    kernelNl.clearCalls();
    kernelWg.clearCalls();
    r.engine.start();
    await r.settle(120_000); // start, resyncs: the broker never lists
    expect(kernelNl.mutatingCalls()).toEqual([]);
    expect(kernelWg.mutatingCalls()).toEqual([]);
    expect(r.engine.loop.last?.waiting).toMatch(/broker not listed yet/);
    expect(r.published).toEqual([]); // never publish blind
    expect(`${kernelNl.dump()}\n${kernelWg.dump()}`).toBe(kernelBefore);
    await r.engine.stop();
  });

  it('with a snapshot and an empty kernel (reboot), it rebuilds every tunnel from the snapshot', async () => {
    const snapshots = new MemorySnapshotStore();
    await previousRun(snapshots);
    expect(snapshots.parts.get('members')).toBeDefined();
    const t = setup({ snapshots });
    t.engine.start();
    await t.settle(5000);
    expect(t.wireguard.dump()).toContain(key(1));
    expect(t.wireguard.dump()).toContain(key(2));
    for (const r of ROUTES) expect(t.netlink.dump()).toContain(r);
    await t.engine.refreshStatus();
    const st = t.statuses.at(-1)!;
    expect(st.broker.serving).toBe('snapshot');
    expect(st.broker.snapshotSavedAt).toBe(snapshots.parts.get('members')?.savedAt);
    await t.engine.stop();
  });

  it('after the broker returns, changes made during the outage converge', async () => {
    const snapshots = new MemorySnapshotStore();
    await previousRun(snapshots);
    const t = setup({ snapshots });
    t.engine.start();
    await t.settle(5000);
    // During the outage west left and north joined.
    t.clusters.listed({ east: CLUSTERS.east, north: cluster('north', ['10.3.0.0/16']) });
    t.endpoints.listed({
      east: ENDPOINTS.east,
      north: endpoint('north', '172.16.0.3', key(3), ['10.3.0.0/16']),
    });
    await t.settle();
    expect(t.wireguard.dump()).not.toContain(key(2));
    expect(t.wireguard.dump()).toContain(key(3));
    expect(t.netlink.dump()).toContain('route 10.3.0.0/16 dev moor0');
    expect(t.netlink.dump()).not.toContain(ROUTES[1]);
    await t.engine.refreshStatus();
    expect(t.statuses.at(-1)?.broker.serving).toBe('broker');
    expect(JSON.stringify(snapshots.parts.get('members')?.data)).toContain('north');
    await t.engine.stop();
  });

  it('keeps the registration "published" (last confirmed) through an outage', async () => {
    const t = setup();
    t.engine.start();
    t.listBoth();
    await t.settle();
    t.failPublish(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
    t.endpoints.lastError = new Error('connect ECONNREFUSED 127.0.0.1:6443');
    await t.settle(30_000);
    await t.engine.refreshStatus();
    const reg = t.statuses.at(-1)!.registration;
    expect(reg).toMatchObject({
      published: true,
      endpointName: 'vm-db-endpoint',
      lastError: 'connect ECONNREFUSED 127.0.0.1:6443',
    });
    expect(reg.confirmedAt).toBeTruthy();
    await t.engine.stop();
  });

  it('after a restart with the broker down, shows the registration the last run confirmed', async () => {
    const before = await previousRun();
    await before.engine.refreshStatus();
    const last = before.statuses.at(-1)!;
    const t = setup({ previous: last });
    t.engine.start();
    await t.settle(60_000);
    expect(t.published).toEqual([]);
    await t.engine.refreshStatus();
    expect(t.statuses.at(-1)?.registration).toEqual({ ...last.registration, lastError: null });
    await t.engine.stop();
  });
});

describe('CableEngine protects the addresses its own traffic needs', () => {
  it('never routes the broker, a default gateway, a nameserver or a special-purpose block into a tunnel', async () => {
    const host = new FakeHostNetwork();
    host.names.set('broker.test', ['10.99.0.2']);
    host.gateways = ['192.168.1.1'];
    host.servers = ['10.53.0.53'];
    const t = setup({ hostNetwork: host });
    t.engine.start();
    const evil = cluster('evil', ['0.0.0.0/0']) as { metadata: { creationTimestamp: string } };
    evil.metadata.creationTimestamp = '2026-06-01T00:00:00Z';
    t.clusters.listed({ ...CLUSTERS, evil });
    const claims = ['10.99.0.2/32', '192.168.1.0/24', '10.53.0.53/32', '127.0.0.0/8'];
    t.endpoints.listed({
      ...ENDPOINTS,
      ...Object.fromEntries(
        claims.map((c, i) => [`evil${i}`, endpoint('evil', `172.16.9.${i}`, key(30 + i), [c])]),
      ),
    });
    await t.settle();
    expect(t.netlink.dump()).not.toMatch(/route (10\.99|192\.168|10\.53|127)\.\S+ dev moor0/);
    for (const r of ROUTES) expect(t.netlink.dump()).toContain(r);
    await t.engine.refreshStatus();
    expect(
      t.statuses
        .at(-1)
        ?.rejected.map((r) => r.code)
        .sort(),
    ).toEqual(['overlaps-protected', 'overlaps-protected', 'overlaps-protected', 'special-purpose-subnet']);
    await t.engine.stop();
  });

  it('reads the host network again on a resync (a new nameserver is protected from then on)', async () => {
    const host = new FakeHostNetwork();
    host.names.set('broker.test', ['10.99.0.2']);
    const t = setup({ hostNetwork: host });
    t.engine.start();
    t.listBoth();
    await t.settle();
    host.servers = ['10.2.0.53']; // inside west's subnet: west must now go
    await t.settle(30_000);
    await t.engine.refreshStatus();
    expect(t.statuses.at(-1)?.rejected).toEqual([
      expect.objectContaining({ clusterId: 'west', code: 'overlaps-protected' }),
    ]);
    expect(t.netlink.dump()).not.toContain(ROUTES[1]);
    await t.engine.stop();
  });
});
