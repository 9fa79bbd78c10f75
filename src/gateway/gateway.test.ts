// `moor gateway` on strict fakes: the kernel (FakeNetlink + FakeWireGuard), fping, the broker
// collections, the Lease (FakeLeaseStore) and the clock. What matters at this level is the order
// of the role changes: the floating address only after the Lease was won, the Endpoint only
// while active, and on a step-down the address goes before the cables.
import { describe, expect, it } from 'vitest';
import type { BrokerCollection } from '../cables/ports.ts';
import type { AddressHolderPort, HeldAddress } from '../dataplane/address-holder.ts';
import { FakeNetlink } from '../dataplane/netlink/fake.ts';
import { FakePinger } from '../dataplane/ping/fake.ts';
import { FakeWireGuard } from '../dataplane/wireguard/fake.ts';
import { FakeLeaseStore } from '../ha/fakes.ts';
import { PRODUCTION_TIMINGS as T } from '../ha/timings.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { FakeClock } from '../reconcile/fake-clock.ts';
import { GatewayService } from './gateway.ts';

class StaticCollection implements BrokerCollection {
  synced = true;
  lastError: Error | undefined;
  list(): unknown[] {
    return [];
  }
  start(): void {}
  async stop(): Promise<void> {}
}

/** Records every address change in one event list shared with the kernel's link deletions. */
class RecordingAddresses implements AddressHolderPort {
  readonly held = new Set<string>();
  private readonly events: string[];
  constructor(events: string[]) {
    this.events = events;
  }
  async take(addresses: HeldAddress[]): Promise<void> {
    for (const a of addresses) this.held.add(a.cidr);
    this.events.push(`take ${addresses.map((a) => a.cidr).join(',')}`);
  }
  async drop(addresses: HeldAddress[]): Promise<void> {
    for (const a of addresses) this.held.delete(a.cidr);
    this.events.push(`drop ${addresses.map((a) => a.cidr).join(',')}`);
  }
  async present(addresses: HeldAddress[]): Promise<HeldAddress[]> {
    return addresses.filter((a) => this.held.has(a.cidr));
  }
}

const VIP = { cidr: '10.99.10.10/24', dev: 'eth0' };

function setup() {
  const clock = new FakeClock(1_000_000);
  const store = new FakeLeaseStore(clock);
  const lease = store.port('gw-a');
  const events: string[] = [];
  const netlink = new FakeNetlink();
  netlink.addLink('eth0', { up: true });
  const wireguard = new FakeWireGuard('wireguard-go', netlink);
  const pinger = new FakePinger();
  const addresses = new RecordingAddresses(events);
  const published: string[] = [];
  const unused = {} as KubeRestClient; // every broker/cluster call goes through an injected port
  const gateway = new GatewayService({
    identity: {
      clusterId: 'east',
      namespace: 'submariner-k8s-broker',
      serviceCidrs: ['10.96.0.0/16'],
      clusterCidrs: ['10.1.0.0/16'],
      hostname: 'gw-a',
      privateIp: '10.99.10.2',
      publicIp: '10.99.10.2',
      port: 4500,
      healthCheckIp: undefined,
    },
    broker: unused,
    cluster: unused,
    psk: 'clusterset-psk',
    interfaceName: 'moor-gw0',
    vip: VIP,
    addresses,
    links: {
      linkGet: (name) => netlink.linkGet(name),
      linkDelete: async (name) => {
        events.push(`delete link ${name}`);
        await netlink.linkDelete(name);
      },
    },
    ha: { namespace: 'moor-system', name: 'east-gateway', identity: 'gw-a', timings: T, clock },
    stateDir: '/nonexistent',
    runner: { run: () => Promise.reject(new Error('no program may run in this test')) },
    log: () => {},
    ports: {
      cables: async () => ({ netlink, wireguard, ping: (o) => pinger.bind(o), clock }),
      members: () => ({ clusters: new StaticCollection(), endpoints: new StaticCollection() }),
      lease,
      publish: async (publicKey) => {
        published.push(publicKey);
        events.push('publish');
        return 'east-gw-a';
      },
    },
  });
  const run = async (ms: number, step = 10) => {
    for (let t = 0; t < ms; t += step) await clock.advance(step);
  };
  /** A stop waits on timers of the fake clock (the Lease release), so the clock must move. */
  const stop = async () => {
    const stopped = gateway.stop();
    await run(1_000);
    await stopped;
  };
  return { clock, store, lease, events, netlink, addresses, published, gateway, run, stop };
}

describe('GatewayService on fakes', () => {
  it('takes the floating address and publishes only once it holds the Lease', async () => {
    const t = setup();
    await t.gateway.start();
    await t.run(T.renewIntervalMs * 5);
    expect(t.store.record?.holder).toBe('gw-a');
    expect(t.gateway.active).toBe(true);
    expect(t.addresses.held.has(VIP.cidr)).toBe(true);
    expect(t.published.length).toBeGreaterThan(0);
    // The warm cables exist: the WireGuard interface was created before the role was won.
    expect(await t.netlink.linkGet('moor-gw0')).toBeDefined();
    // A restart must not inherit an address: start() dropped it before campaigning.
    expect(t.events[0]).toBe(`drop ${VIP.cidr}`);
    expect(t.events.indexOf(`take ${VIP.cidr}`)).toBeGreaterThan(0);
    await t.stop();
  });

  it('steps down on its own timer when renewals hang: the address goes first, then the cables', async () => {
    const t = setup();
    await t.gateway.start();
    await t.run(T.renewIntervalMs * 5);
    expect(t.gateway.active).toBe(true);
    t.events.length = 0;
    t.lease.hang = true; // the API server stops answering; nothing ever returns
    await t.run(T.renewDeadlineMs + T.renewIntervalMs);
    expect(t.addresses.held.has(VIP.cidr)).toBe(false);
    expect(t.gateway.active).toBe(false);
    const dropAt = t.events.indexOf(`drop ${VIP.cidr}`);
    expect(dropAt).toBe(0);
    expect(t.events.indexOf('delete link moor-gw0')).toBeGreaterThan(dropAt);
    // Standing by, it publishes nothing more.
    const published = t.published.length;
    await t.run(2_000);
    expect(t.published.length).toBe(published);
    await t.stop();
  });

  it('a graceful stop drops the address before the interface and hands the Lease back', async () => {
    const t = setup();
    await t.gateway.start();
    await t.run(T.renewIntervalMs * 5);
    t.events.length = 0;
    await t.stop();
    expect(t.events[0]).toBe(`drop ${VIP.cidr}`);
    expect(t.events).toContain('delete link moor-gw0');
    expect(t.store.record?.holder ?? '').not.toBe('gw-a');
  });
});
