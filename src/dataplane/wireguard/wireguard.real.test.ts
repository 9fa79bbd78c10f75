// Real kernel + wireguard-go: three namespaces (a host A and two gateways B and C, each joined
// to A by a veth pair), WireGuard devices reconciled by WireGuardDevice, routes by RouteTable,
// and pings through the tunnels. Everything lives in namespaces created here and is removed in
// afterAll, even when a test fails. Addresses: 10.99.0.0/16 only.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skipOutsideCi } from '../../testing-ci.ts';
import { reconcileAddresses } from '../netlink/addresses.ts';
import { IpRouteNetlink } from '../netlink/iproute.ts';
import { reconcileLink } from '../netlink/links.ts';
import { tunnelMtu, underlayMtu } from '../netlink/mtu.ts';
import { RouteTable } from '../netlink/route-table.ts';
import {
  host,
  namespaceExists,
  randomHex,
  realTestsUnavailable,
  recording,
  type TestNamespace,
  TestNamespaces,
} from '../real-test-support.ts';
import { WireGuardDevice } from './device.ts';
import { detectWireGuardDriver } from './drivers.ts';
import { generateKeyPair, generatePresharedKey, type WireGuardKeyPair } from './keys.ts';
import type { WireGuardDesired } from './plan.ts';
import type { WireGuardBasic } from './types.ts';
import { UserspaceWireGuard } from './userspace.ts';

const skip = realTestsUnavailable();

interface Node {
  ns: TestNamespace;
  wg: UserspaceWireGuard;
  dev: string;
  keys: WireGuardKeyPair;
  tunnelIp: string;
  subnet: string;
}

describe.skipIf(skipOutsideCi(skip))('WireGuard on a real kernel (wireguard-go in namespaces)', () => {
  const namespaces = new TestNamespaces();
  const id = randomHex();
  const psk = generatePresharedKey();
  let a: Node;
  let b: Node;
  let c: Node;
  let recorded: ReturnType<typeof recording<WireGuardBasic>>;
  let deviceA: WireGuardDevice;

  const node = async (letter: string, third: number): Promise<Node> => {
    const ns = await namespaces.create();
    return {
      ns,
      wg: new UserspaceWireGuard(ns.runner),
      dev: `mw${id}${letter}`,
      keys: generateKeyPair(),
      tunnelIp: `10.99.${third}.1`,
      subnet: `10.99.${third}.0/24`,
    };
  };

  const desiredA = (): WireGuardDesired => ({
    privateKey: a.keys.privateKey,
    listenPort: 51820,
    peers: [
      {
        publicKey: b.keys.publicKey,
        presharedKey: psk,
        endpoint: '10.99.0.2:51820',
        allowedIPs: [b.subnet],
        persistentKeepalive: 10,
      },
      {
        publicKey: c.keys.publicKey,
        presharedKey: psk,
        endpoint: '10.99.0.6:51820',
        allowedIPs: [c.subnet],
        persistentKeepalive: 10,
      },
    ],
  });
  const desiredGateway = (g: Node, endpointOfA: string): WireGuardDesired => ({
    privateKey: g.keys.privateKey,
    listenPort: 51820,
    peers: [
      {
        publicKey: a.keys.publicKey,
        presharedKey: psk,
        endpoint: endpointOfA,
        allowedIPs: [a.subnet],
        persistentKeepalive: 10,
      },
    ],
  });

  /** Address, MTU, up and routes for a node's tunnel device, via the netlink helpers. */
  const plumb = async (n: Node, remoteSubnets: string[], underlayPeer: string): Promise<void> => {
    const netlink = new IpRouteNetlink(n.ns.runner);
    expect((await reconcileAddresses(netlink, n.dev, [`${n.tunnelIp}/32`])).errors).toEqual([]);
    const mtu = tunnelMtu((await underlayMtu(netlink, underlayPeer)).mtu);
    expect((await reconcileLink(netlink, n.dev, { mtu, up: true })).errors).toEqual([]);
    const routes = new RouteTable(netlink, { dev: n.dev, families: [4] });
    const res = await routes.reconcile(remoteSubnets.map((dst) => ({ dst, dev: n.dev, src: n.tunnelIp })));
    expect(res.errors).toEqual([]);
  };

  const ping = async (from: Node, to: Node): Promise<void> => {
    for (let i = 0; ; i++) {
      const r = await from.ns.runner.run(['ping', '-c1', '-W2', to.tunnelIp], { allowNonZeroExit: true });
      if (r.code === 0) return;
      if (i === 2) throw new Error(`ping ${from.tunnelIp} → ${to.tunnelIp} failed: ${r.stdout}${r.stderr}`);
    }
  };

  beforeAll(async () => {
    a = await node('a', 1);
    b = await node('b', 2);
    c = await node('c', 3);
    const [ab, ba] = await namespaces.veth(a.ns, b.ns);
    const [ac, ca] = await namespaces.veth(a.ns, c.ns);
    for (const [n, dev, cidr] of [
      [a, ab, '10.99.0.1/30'],
      [b, ba, '10.99.0.2/30'],
      [a, ac, '10.99.0.5/30'],
      [c, ca, '10.99.0.6/30'],
    ] as const) {
      await n.ns.runner.run(['ip', 'addr', 'add', cidr, 'dev', dev]);
      await n.ns.runner.run(['ip', 'link', 'set', dev, 'up']);
    }
    recorded = recording<WireGuardBasic>(a.wg);
    deviceA = new WireGuardDevice(recorded.port, a.dev);
  });

  afterAll(async () => {
    for (const n of [a, b, c]) await n?.wg.close();
    await namespaces.destroyAll();
  });

  test('detects the driver and starts a wireguard-go interface inside a fresh namespace', async () => {
    const detected = await detectWireGuardDriver(a.ns.runner);
    expect(['kernel', 'wireguard-go']).toContain(detected.driver);
    await a.wg.createInterface(a.dev);
    const dump = await a.wg.showDump(a.dev);
    expect(dump).toEqual({
      interface: expect.objectContaining({ privateKey: null, fwmark: null }),
      peers: [],
    });
    expect(existsSync(a.wg.socketPath(a.dev))).toBe(true);
    // The link lives in A's namespace, not in the root namespace.
    expect((await host.run(['ip', 'link', 'show', 'dev', a.dev], { allowNonZeroExit: true })).code).not.toBe(
      0,
    );
    // A second device with the same name is refused: the socket directory is machine-wide.
    await expect(b.wg.createInterface(a.dev)).rejects.toThrow(/in use/);
  });

  test('reconciles three devices and pings through both tunnels', async () => {
    const resA = await deviceA.reconcile(desiredA());
    expect(resA.errors).toEqual([]);
    expect(resA.applied.map((x) => x.kind)).toEqual(['set-interface', 'set-peer', 'set-peer']);
    for (const [g, endpointOfA] of [
      [b, '10.99.0.1:51820'],
      [c, '10.99.0.5:51820'],
    ] as const) {
      const res = await new WireGuardDevice(g.wg, g.dev).reconcile(desiredGateway(g, endpointOfA));
      expect(res.errors).toEqual([]);
      expect(res.applied.map((x) => x.kind)).toEqual(['create-interface', 'set-interface', 'set-peer']);
    }
    await plumb(a, [b.subnet, c.subnet], '10.99.0.2');
    await plumb(b, [a.subnet], '10.99.0.1');
    await plumb(c, [a.subnet], '10.99.0.5');
    expect((await new IpRouteNetlink(a.ns.runner).linkGet(a.dev))?.mtu).toBe(1420);
    await ping(a, b);
    await ping(a, c);
    const status = await deviceA.status();
    expect(status?.peers.every((p) => p.latestHandshake !== null && p.rxBytes > 0)).toBe(true);
  });

  test('a second reconcile with the same input changes nothing', async () => {
    recorded.calls.length = 0;
    const res = await deviceA.reconcile(desiredA());
    expect(res).toEqual({ applied: [], errors: [], notes: [] });
    expect(recorded.calls.map((x) => x.method)).toEqual(['showDump']);
    const resB = await new WireGuardDevice(b.wg, b.dev).reconcile(desiredGateway(b, '10.99.0.1:51820'));
    expect(resB.applied).toEqual([]);
  });

  test("replacing C's key adds the new peer before removing the old one and leaves B alone", async () => {
    const before = (await deviceA.status())?.peers.find((p) => p.publicKey === b.keys.publicKey);
    expect(before?.latestHandshake).not.toBeNull();
    const oldC = c.keys.publicKey;
    c.keys = generateKeyPair();
    expect(
      (await new WireGuardDevice(c.wg, c.dev).reconcile(desiredGateway(c, '10.99.0.5:51820'))).errors,
    ).toEqual([]);

    recorded.calls.length = 0;
    const res = await deviceA.reconcile(desiredA());
    expect(res.errors).toEqual([]);
    expect(res.applied).toEqual([
      {
        kind: 'set-peer',
        publicKey: c.keys.publicKey,
        reason: 'new',
        fields: ['allowedIPs', 'endpoint', 'persistentKeepalive', 'presharedKey'],
      },
      { kind: 'remove-peer', publicKey: oldC },
    ]);
    expect(recorded.calls.some((x) => x.args.includes(b.keys.publicKey))).toBe(false);

    await ping(a, c);
    await ping(a, b);
    const after = (await deviceA.status())?.peers.find((p) => p.publicKey === b.keys.publicKey);
    expect(after?.latestHandshake).toEqual(before?.latestHandshake);
    expect(after?.rxBytes).toBeGreaterThanOrEqual(before?.rxBytes ?? 0);
    expect(after?.txBytes).toBeGreaterThanOrEqual(before?.txBytes ?? 0);
  });

  test('cleanup leaves no wireguard-go process, socket or namespace behind', async () => {
    const names = [a.dev, b.dev, c.dev];
    expect(await new WireGuardDevice(b.wg, b.dev).delete()).toBe(true);
    expect(await new WireGuardDevice(b.wg, b.dev).delete()).toBe(false);
    for (const n of [a, b, c]) await n.wg.close();
    for (const n of [a, b, c]) expect(n.wg.children()).toEqual([]);
    const nsNames = [a, b, c].map((n) => n.ns.name);
    await namespaces.destroyAll();
    for (const name of nsNames) expect(await namespaceExists(name)).toBe(false);
    for (const name of names) expect(existsSync(a.wg.socketPath(name))).toBe(false);
    expect(wireguardGoProcesses(names)).toEqual([]);
  });
});

describe.skipIf(skipOutsideCi(skip))('WireGuard on a real kernel: 300 peers in one reconcile', () => {
  const namespaces = new TestNamespaces();
  let wg: UserspaceWireGuard | undefined;

  afterAll(async () => {
    await wg?.close();
    await namespaces.destroyAll();
  });

  test('batched `wg set` runs program every peer with its allowed IPs and preshared key', async () => {
    const ns = await namespaces.create();
    const runner = recording(ns.runner);
    wg = new UserspaceWireGuard(runner.port);
    const dev = `mw${randomHex()}m`;
    const self = generateKeyPair();
    const psks = [generatePresharedKey(), generatePresharedKey()];
    // Three kinds of peer so one batch mixes a shared PSK, a second PSK and none.
    const peers = Array.from({ length: 300 }, (_v, i) => ({
      publicKey: generateKeyPair().publicKey,
      presharedKey: psks[i % 3] ?? null,
      endpoint: `10.99.${200 + (i >> 8)}.${i & 255}:51820`,
      allowedIPs: [`10.99.${i >> 2}.${(i & 3) * 64}/26`],
      persistentKeepalive: i % 2 === 0 ? 25 : 0,
    }));
    const desired: WireGuardDesired = { privateKey: self.privateKey, listenPort: 51900, peers };
    const device = new WireGuardDevice(wg, dev);
    const res = await device.reconcile(desired);
    expect(res.errors).toEqual([]);
    expect(res.applied.filter((x) => x.kind === 'set-peer')).toHaveLength(300);
    const wgSets = runner.calls.filter((x) => {
      const argv = x.args[0];
      return x.method === 'run' && Array.isArray(argv) && argv[0] === 'wg' && argv[1] === 'set';
    });
    // One for the interface, three for the peers (100 each).
    expect(wgSets).toHaveLength(4);

    const { stdout } = await ns.runner.run(['wg', 'show', dev, 'dump']);
    const lines = stdout.trim().split('\n').slice(1);
    const byKey = new Map(lines.map((l) => l.split('\t')).map((f) => [f[0], f]));
    expect(byKey.size).toBe(300);
    for (const p of peers) {
      const f = byKey.get(p.publicKey);
      // public-key, preshared-key, endpoint, allowed-ips, handshake, rx, tx, keepalive
      expect(f?.[1]).toBe(p.presharedKey ?? '(none)');
      expect(f?.[2]).toBe(p.endpoint);
      expect(f?.[3]).toBe(p.allowedIPs.join(','));
      expect(f?.[7]).toBe(p.persistentKeepalive ? String(p.persistentKeepalive) : 'off');
    }

    runner.calls.length = 0;
    expect(await device.reconcile(desired)).toEqual({ applied: [], errors: [], notes: [] });
    expect(runner.calls.map((x) => (x.args[0] as string[]).slice(0, 2).join(' '))).toEqual(['wg show']);
  });
});

/** Live wireguard-go processes serving one of `names` (from /proc, no tools needed). */
function wireguardGoProcesses(names: string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((x) => x.endsWith('wireguard-go')) && names.some((n) => argv.includes(n)))
        found.push(pid);
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}
