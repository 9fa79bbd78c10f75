import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { WireGuardDevice } from './device.ts';
import { FakeWireGuard } from './fake.ts';
import { generateKeyPair, generatePresharedKey } from './keys.ts';
import type { WireGuardDesired, WireGuardPeerDesired } from './plan.ts';

const self = generateKeyPair();
const [kb, kc, kd] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
const psk = generatePresharedKey();
const NOW = 1_700_000_000;

const peerB: WireGuardPeerDesired = {
  publicKey: kb.publicKey,
  presharedKey: psk,
  endpoint: '10.99.0.2:4500',
  allowedIPs: ['10.1.0.0/16', '10.96.0.0/16'],
  persistentKeepalive: 10,
};
const peerC: WireGuardPeerDesired = {
  publicKey: kc.publicKey,
  presharedKey: psk,
  endpoint: '[fd99::6]:4500',
  allowedIPs: ['10.2.0.0/16'],
  persistentKeepalive: 10,
};
const desired = (...peers: WireGuardPeerDesired[]): WireGuardDesired => ({
  privateKey: self.privateKey,
  listenPort: 4500,
  peers,
});

function setup(): { fake: FakeWireGuard; device: WireGuardDevice } {
  const fake = new FakeWireGuard();
  return { fake, device: new WireGuardDevice(fake, 'wg0', { now: () => NOW * 1000 }) };
}

describe('WireGuardDevice.reconcile', () => {
  test('from nothing: creates the device, sets key and port, adds peers', async () => {
    const { fake, device } = setup();
    const res = await device.reconcile(desired(peerB, peerC));
    expect(res.errors).toEqual([]);
    expect(res.applied.map((c) => c.kind)).toEqual([
      'create-interface',
      'set-interface',
      'set-peer',
      'set-peer',
    ]);
    expect(fake.dump()).toBe(
      [
        `wg0 pub=${self.publicKey} port=4500 fwmark=off`,
        ...[
          `  peer ${kb.publicKey} psk=yes endpoint=10.99.0.2:4500 allowed=10.1.0.0/16,10.96.0.0/16 keepalive=10`,
          `  peer ${kc.publicKey} psk=yes endpoint=[fd99::6]:4500 allowed=10.2.0.0/16 keepalive=10`,
        ].sort(),
      ].join('\n'),
    );
  });

  test('the same desired state twice: the second run only reads', async () => {
    const { fake, device } = setup();
    await device.reconcile(desired(peerB, peerC));
    fake.clearCalls();
    const res = await device.reconcile(
      desired({ ...peerC }, { ...peerB, allowedIPs: ['10.96.0.0/16', '10.1.0.0/16'] }),
    );
    expect(res).toEqual({ applied: [], errors: [], notes: [] });
    expect(fake.mutatingCalls()).toEqual([]);
  });

  test('a new key for a cluster: the new peer takes the prefixes before the old one goes; others untouched', async () => {
    const { fake, device } = setup();
    await device.reconcile(desired(peerB, peerC));
    fake.clearCalls();
    const res = await device.reconcile(desired({ ...peerB, publicKey: kd.publicKey }, peerC));
    expect(res.applied).toEqual([
      {
        kind: 'set-peer',
        publicKey: kd.publicKey,
        reason: 'new',
        fields: ['allowedIPs', 'endpoint', 'persistentKeepalive', 'presharedKey'],
      },
      { kind: 'remove-peer', publicKey: kb.publicKey },
    ]);
    expect(fake.mutatingCalls().map((c) => c.op)).toEqual(['setPeers', 'removePeer']);
    expect(JSON.stringify(fake.calls)).not.toContain(kc.publicKey);
  });

  test('only the fields that differ are sent', async () => {
    const { fake, device } = setup();
    await device.reconcile(desired(peerB, peerC));
    fake.clearCalls();
    const res = await device.reconcile(
      desired({ ...peerB, persistentKeepalive: 25, presharedKey: null }, peerC),
    );
    expect(res.applied).toEqual([
      {
        kind: 'set-peer',
        publicKey: kb.publicKey,
        reason: 'changed',
        fields: ['persistentKeepalive', 'presharedKey'],
      },
    ]);
    expect(fake.mutatingCalls()).toEqual([
      {
        op: 'setPeers',
        name: 'wg0',
        peers: [{ publicKey: kb.publicKey, settings: { presharedKey: null, persistentKeepalive: 25 } }],
      },
    ]);
  });

  test('a roamed endpoint with a fresh handshake is left alone; a stale one is reset', async () => {
    const { fake, device } = setup();
    await device.reconcile(desired(peerB));
    fake.simulateTraffic('wg0', kb.publicKey, {
      atSeconds: NOW - 30,
      rx: 100,
      tx: 100,
      endpoint: '198.51.100.7:31000',
    });
    fake.clearCalls();
    const fresh = await device.reconcile(desired(peerB));
    expect(fresh.applied).toEqual([]);
    expect(fresh.notes).toEqual([
      expect.stringMatching(/198\.51\.100\.7:31000 differs from 10\.99\.0\.2:4500 .* 30s ago; left as is/),
    ]);
    fake.simulateTraffic('wg0', kb.publicKey, { atSeconds: NOW - 600 });
    const stale = await device.reconcile(desired(peerB));
    expect(stale.applied).toEqual([
      { kind: 'set-peer', publicKey: kb.publicKey, reason: 'changed', fields: ['endpoint'] },
    ]);
  });

  test('a failed replacement defers removal of the peer it replaces, and the next run finishes', async () => {
    const { fake, device } = setup();
    await device.reconcile(desired(peerB, peerC));
    fake.failNext('setPeers');
    fake.failNext('setPeer');
    const res = await device.reconcile(desired({ ...peerB, publicKey: kd.publicKey }, peerC));
    expect(res.applied).toEqual([]);
    expect(res.errors.map((e) => e.change)).toEqual([
      expect.objectContaining({ kind: 'set-peer', publicKey: kd.publicKey }),
    ]);
    expect(res.notes).toEqual([
      expect.stringMatching(/1 peer\(s\) in one batch failed \(injected failure of setPeers\)/),
      expect.stringMatching(/removal deferred/),
    ]);
    expect(fake.dump()).toContain(kb.publicKey);
    const again = await device.reconcile(desired({ ...peerB, publicKey: kd.publicKey }, peerC));
    expect(again.applied.map((c) => c.kind)).toEqual(['set-peer', 'remove-peer']);
  });

  test('a device that cannot be created is reported, nothing else is tried', async () => {
    const { fake, device } = setup();
    fake.failNext('createInterface', 'no tun device');
    const res = await device.reconcile(desired(peerB));
    expect(res.errors.map((e) => [e.change.kind, e.error.message])).toEqual([
      ['create-interface', 'no tun device'],
    ]);
    expect(fake.calls.map((c) => c.op)).toEqual(['showDump', 'createInterface']);
  });

  test.each<[string, WireGuardDesired]>([
    ['own key as peer', desired({ ...peerB, publicKey: self.publicKey })],
    ['a peer twice', desired(peerB, { ...peerB })],
    ['one prefix on two peers', desired(peerB, { ...peerC, allowedIPs: ['10.1.0.0/16'] })],
    ['host name endpoint', desired({ ...peerB, endpoint: 'gw.example.com:4500' })],
    ['bad keepalive', desired({ ...peerB, persistentKeepalive: -1 })],
    ['bad private key', { ...desired(peerB), privateKey: 'x' }],
  ])('invalid input (%s) throws before anything is read or written', async (_name, input) => {
    const { fake, device } = setup();
    await expect(device.reconcile(input)).rejects.toMatchObject({ code: 'invalid-input' });
    expect(fake.calls).toEqual([]);
  });

  test('status reports handshake age and counters; delete is idempotent', async () => {
    const { fake, device } = setup();
    expect(await device.status()).toBeUndefined();
    await device.reconcile(desired(peerB, peerC));
    fake.simulateTraffic('wg0', kb.publicKey, { atSeconds: NOW - 5, rx: 1000, tx: 2000 });
    const s = await device.status();
    expect(s).toMatchObject({ name: 'wg0', driver: 'kernel', publicKey: self.publicKey, listenPort: 4500 });
    expect(s?.peers.find((p) => p.publicKey === kb.publicKey)).toMatchObject({
      latestHandshake: new Date((NOW - 5) * 1000),
      handshakeAgeSeconds: 5,
      rxBytes: 1000,
      txBytes: 2000,
    });
    expect(s?.peers.find((p) => p.publicKey === kc.publicKey)?.latestHandshake).toBeNull();
    expect(await device.delete()).toBe(true);
    expect(await device.delete()).toBe(false);
  });
});

describe('batched peer sets', () => {
  const many = (n: number, pskOf: (i: number) => string | null = () => psk): WireGuardPeerDesired[] =>
    Array.from({ length: n }, (_v, i) => ({
      publicKey: generateKeyPair().publicKey,
      presharedKey: pskOf(i),
      endpoint: `10.99.${i >> 8}.${i & 255}:4500`,
      allowedIPs: [`10.${100 + (i >> 8)}.${i & 255}.0/24`],
      persistentKeepalive: 10,
    }));

  test('250 new peers: three setPeers of 100, 100 and 50 in order, no single setPeer; a rerun only reads', async () => {
    const { fake, device } = setup();
    const peers = many(250);
    const res = await device.reconcile(desired(...peers));
    expect(res.errors).toEqual([]);
    expect(res.applied.filter((c) => c.kind === 'set-peer')).toHaveLength(250);
    const batches = fake.calls.flatMap((c) => (c.op === 'setPeers' ? [c.peers.length] : []));
    expect(batches).toEqual([100, 100, 50]);
    expect(fake.calls.some((c) => c.op === 'setPeer')).toBe(false);
    expect(fake.peerSets().map((p) => p.publicKey)).toEqual(peers.map((p) => p.publicKey));
    fake.clearCalls();
    expect(await device.reconcile(desired(...peers))).toEqual({ applied: [], errors: [], notes: [] });
    expect(fake.mutatingCalls()).toEqual([]);
  });

  test('only the changed peers go into the batch; removals come after all sets', async () => {
    const { fake, device } = setup();
    const peers = many(150);
    await device.reconcile(desired(...peers));
    fake.clearCalls();
    const next = peers.slice(1).map((p, i) => (i % 30 === 0 ? { ...p, persistentKeepalive: 25 } : p));
    const res = await device.reconcile(desired(...next));
    expect(res.errors).toEqual([]);
    expect(fake.mutatingCalls().map((c) => c.op)).toEqual(['setPeers', 'removePeer']);
    expect(fake.peerSets()).toEqual(
      next
        .filter((_p, i) => i % 30 === 0)
        .map((p) => ({ publicKey: p.publicKey, settings: { persistentKeepalive: 25 } })),
    );
  });

  test('a batch that fails part-way: the device is read again, the failing peer is named, the rest applied, landed peers not touched', async () => {
    const { fake, device } = setup();
    const peers = many(150);
    const bad = peers[50]?.publicKey ?? '';
    fake.rejectPeer(bad, 'Invalid argument');
    const res = await device.reconcile(desired(...peers));
    expect(res.errors.map((e) => [e.change, e.error.message])).toEqual([
      [expect.objectContaining({ kind: 'set-peer', publicKey: bad }), `wg0: peer ${bad}: Invalid argument`],
    ]);
    expect(res.applied.filter((c) => c.kind === 'set-peer')).toHaveLength(149);
    expect(res.notes).toEqual([expect.stringMatching(/^setting 100 peer\(s\) in one batch failed/)]);
    // The first chunk stopped at peer 50 (0-49 landed); 50-99 one by one; the second chunk batched.
    const ops = fake.mutatingCalls().map((c) => (c.op === 'setPeers' ? `setPeers:${c.peers.length}` : c.op));
    expect(ops).toEqual([
      'createInterface',
      'setInterface',
      'setPeers:100',
      ...Array(50).fill('setPeer'),
      'setPeers:50',
    ]);
    const single = fake.calls.flatMap((c) => (c.op === 'setPeer' ? [c.publicKey] : []));
    expect(single).toEqual(peers.slice(50, 100).map((p) => p.publicKey));
    const dump = fake.dump();
    expect(peers.filter((p) => dump.includes(p.publicKey))).toHaveLength(149);
  });

  test('a batch that fails and a device that cannot be read: every peer of the chunk is retried as planned', async () => {
    /** Its reads succeed until `readsLeft` reaches 0. */
    class FlakyReads extends FakeWireGuard {
      readsLeft = Number.POSITIVE_INFINITY;
      override async showDump(name: string) {
        if (this.readsLeft-- <= 0) throw new Error('read failed');
        return super.showDump(name);
      }
    }
    const fake = new FlakyReads();
    const device = new WireGuardDevice(fake, 'wg0', { now: () => NOW * 1000 });
    const peers = many(3);
    await device.reconcile(desired());
    fake.clearCalls();
    fake.failNext('setPeers');
    fake.readsLeft = 1;
    const res = await device.reconcile(desired(...peers));
    expect(res.errors).toEqual([]);
    expect(res.applied).toHaveLength(3);
    expect(fake.calls.map((c) => c.op)).toEqual(['showDump', 'setPeers', 'setPeer', 'setPeer', 'setPeer']);
  });

  test('distinct preshared keys and no preshared key mix in one batch', async () => {
    const { fake, device } = setup();
    const other = generatePresharedKey();
    const peers = many(6, (i) => [psk, other, null][i % 3] ?? null);
    const res = await device.reconcile(desired(...peers));
    expect(res.errors).toEqual([]);
    expect(fake.dump().match(/psk=yes/g)).toHaveLength(4);
    expect(fake.peerSets().map((p) => p.settings.presharedKey)).toEqual([
      psk,
      other,
      undefined,
      psk,
      other,
      undefined,
    ]);
  });
});

describe('path independence (random sequences of desired states)', () => {
  const keys = Array.from({ length: 4 }, () => generateKeyPair().publicKey);
  const prefixes = ['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', 'fd00:1::/64', '10.4.0.0/24'];
  const peerArb = fc.record({
    endpoint: fc.option(fc.constantFrom('10.99.0.2:4500', '10.99.0.3:4501', '[fd99::2]:4500'), {
      nil: undefined,
    }),
    psk: fc.boolean(),
    keepalive: fc.constantFrom(0, 10, 25),
  });
  const stateArb = fc
    .tuple(
      fc.subarray([0, 1, 2, 3]),
      fc.array(peerArb, { minLength: 4, maxLength: 4 }),
      fc.shuffledSubarray(prefixes),
    )
    .map(
      ([which, attrs, pfx]): WireGuardDesired => ({
        privateKey: self.privateKey,
        listenPort: 4500,
        peers: which.map((i, n) => ({
          publicKey: keys[i] ?? '',
          presharedKey: attrs[i]?.psk ? psk : null,
          ...(attrs[i]?.endpoint ? { endpoint: attrs[i]?.endpoint } : {}),
          // Disjoint prefixes: the n-th chosen peer gets every len-th prefix starting at n.
          allowedIPs: pfx.filter((_p, j) => j % which.length === n),
          persistentKeepalive: attrs[i]?.keepalive ?? 0,
        })),
      }),
    );

  test('any sequence ends in the same state as a fresh apply, and re-applying is a no-op', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stateArb, { minLength: 1, maxLength: 6 }), async (states) => {
        const { fake, device } = setup();
        for (const s of states) {
          expect((await device.reconcile(s)).errors).toEqual([]);
          const fresh = setup();
          await fresh.device.reconcile(s);
          // Endpoints cannot be unset in WireGuard, so compare only when every peer has one or
          // when the peer was new in both.
          if (s.peers.every((p) => p.endpoint !== undefined)) expect(fake.dump()).toBe(fresh.fake.dump());
          fake.clearCalls();
          expect((await device.reconcile(s)).applied).toEqual([]);
          expect(fake.mutatingCalls()).toEqual([]);
        }
      }),
      { numRuns: 60 },
    );
  });
});
