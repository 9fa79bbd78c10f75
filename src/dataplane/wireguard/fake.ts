// A strict in-memory WireGuardBasic: it models devices and peers the way WireGuard does (an
// allowed IP belongs to one peer, setting it on another moves it; removing an unknown peer is
// fine), rejects what the real tools reject (unknown device, bad keys, host names), records
// every call, and renders its state as canonical text for golden comparisons.
import { MoorError } from '../../errors.ts';
import { normalizeCidr, normalizeSocketAddress } from '../../net/ipv4.ts';
import { assertInterfaceName } from '../names.ts';
import type { FakeNetlink } from '../netlink/fake.ts';
import { compareText } from '../text.ts';
import { assertWireGuardKey, publicKeyOf } from './keys.ts';
import type {
  WgDump,
  WgInterfaceSettings,
  WgPeerSettings,
  WgPeerState,
  WgPeerUpdate,
  WireGuardBasic,
  WireGuardDriverName,
} from './types.ts';

export type FakeWireGuardCall =
  | { op: 'createInterface'; name: string }
  | { op: 'deleteInterface'; name: string }
  | { op: 'showDump'; name: string }
  | { op: 'setInterface'; name: string; settings: WgInterfaceSettings }
  | { op: 'setPeer'; name: string; publicKey: string; settings: WgPeerSettings }
  | { op: 'setPeers'; name: string; peers: WgPeerUpdate[] }
  | { op: 'removePeer'; name: string; publicKey: string };

interface FakeDevice {
  privateKey: string | null;
  listenPort: number;
  fwmark: number | null;
  peers: Map<string, WgPeerState>;
}

export class FakeWireGuard implements WireGuardBasic {
  readonly driver: WireGuardDriverName;
  readonly calls: FakeWireGuardCall[] = [];
  readonly #devices = new Map<string, FakeDevice>();
  #nextPort = 40000;
  /** Make the next call of `op` fail once (to test error paths). */
  readonly #failNext = new Map<FakeWireGuardCall['op'], string>();
  /** Peers whose every set fails, the way a device refuses one peer of a batch (to test that
   * the failure is pinned on that peer and the rest of the batch still lands). */
  readonly #rejectedPeers = new Map<string, string>();

  readonly #netlink: FakeNetlink | undefined;

  /** With `netlink`, creating and deleting a device also adds and removes its link there, as
   * the kernel does (so link, address and route helpers find it). */
  constructor(driver: WireGuardDriverName = 'kernel', netlink?: FakeNetlink) {
    this.driver = driver;
    this.#netlink = netlink;
  }

  failNext(op: FakeWireGuardCall['op'], message = `injected failure of ${op}`): void {
    this.#failNext.set(op, message);
  }

  #enter(call: FakeWireGuardCall): void {
    this.calls.push(call);
    const failure = this.#failNext.get(call.op);
    if (failure !== undefined) {
      this.#failNext.delete(call.op);
      throw new MoorError('system', failure);
    }
  }

  #device(name: string): FakeDevice {
    const d = this.#devices.get(name);
    if (!d) throw new MoorError('system', `Unable to access interface ${name}: No such device`);
    return d;
  }

  async createInterface(name: string): Promise<void> {
    assertInterfaceName(name);
    this.#enter({ op: 'createInterface', name });
    if (this.#devices.has(name)) throw new MoorError('system', `interface ${name} already exists`);
    this.#devices.set(name, {
      privateKey: null,
      listenPort: this.#nextPort++,
      fwmark: null,
      peers: new Map(),
    });
    this.#netlink?.addLink(name, { mtu: 1420, kind: 'wireguard' });
  }

  async deleteInterface(name: string): Promise<void> {
    this.#enter({ op: 'deleteInterface', name });
    if (!this.#devices.delete(name))
      throw new MoorError('not-found', `WireGuard interface ${name} does not exist`);
    if (this.#netlink) await this.#netlink.linkDelete(name);
  }

  async showDump(name: string): Promise<WgDump | undefined> {
    this.#enter({ op: 'showDump', name });
    const d = this.#devices.get(name);
    if (!d) return undefined;
    return structuredClone({
      interface: {
        privateKey: d.privateKey,
        publicKey: d.privateKey === null ? null : publicKeyOf(d.privateKey),
        listenPort: d.listenPort,
        fwmark: d.fwmark,
      },
      peers: [...d.peers.values()],
    });
  }

  async setInterface(name: string, settings: WgInterfaceSettings): Promise<void> {
    this.#enter({ op: 'setInterface', name, settings: { ...settings } });
    const d = this.#device(name);
    if (settings.privateKey !== undefined) {
      assertWireGuardKey(settings.privateKey, 'the private key');
      d.privateKey = settings.privateKey;
    }
    if (settings.listenPort !== undefined) d.listenPort = settings.listenPort || this.#nextPort++;
    if (settings.fwmark !== undefined) d.fwmark = settings.fwmark || null;
  }

  async setPeer(name: string, publicKey: string, settings: WgPeerSettings): Promise<void> {
    this.#enter({ op: 'setPeer', name, publicKey, settings: structuredClone(settings) });
    const d = this.#device(name);
    this.#validatePeer(publicKey, settings);
    this.#applyPeer(name, d, publicKey, settings);
  }

  async setPeers(name: string, peers: WgPeerUpdate[]): Promise<void> {
    this.#enter({ op: 'setPeers', name, peers: structuredClone(peers) });
    const d = this.#device(name);
    // Like `wg`, which parses the whole command line before it configures anything: bad input
    // applies nothing. A rejected peer (rejectPeer) fails at its turn, after the peers before it.
    for (const p of peers) this.#validatePeer(p.publicKey, p.settings);
    for (const p of peers) this.#applyPeer(name, d, p.publicKey, p.settings);
  }

  #validatePeer(publicKey: string, settings: WgPeerSettings): void {
    assertWireGuardKey(publicKey, 'the peer public key');
    if (settings.presharedKey) assertWireGuardKey(settings.presharedKey, 'the preshared key');
    if (settings.endpoint !== undefined) normalizeSocketAddress(settings.endpoint);
    for (const prefix of settings.allowedIPs ?? []) normalizeCidr(prefix);
  }

  #applyPeer(name: string, d: FakeDevice, publicKey: string, settings: WgPeerSettings): void {
    const rejected = this.#rejectedPeers.get(publicKey);
    if (rejected !== undefined) throw new MoorError('system', `${name}: peer ${publicKey}: ${rejected}`);
    const endpoint = settings.endpoint === undefined ? undefined : normalizeSocketAddress(settings.endpoint);
    const allowed = settings.allowedIPs?.map(normalizeCidr);
    const peer = d.peers.get(publicKey) ?? {
      publicKey,
      presharedKey: null,
      endpoint: null,
      allowedIPs: [],
      latestHandshake: 0,
      rxBytes: 0,
      txBytes: 0,
      persistentKeepalive: null,
    };
    if (settings.presharedKey !== undefined) peer.presharedKey = settings.presharedKey;
    if (endpoint !== undefined) peer.endpoint = endpoint;
    if (settings.persistentKeepalive !== undefined)
      peer.persistentKeepalive = settings.persistentKeepalive || null;
    if (allowed) {
      // Like the kernel's allowedips trie: a prefix has exactly one owner.
      for (const other of d.peers.values()) {
        if (other !== peer) other.allowedIPs = other.allowedIPs.filter((p) => !allowed.includes(p));
      }
      peer.allowedIPs = [...new Set(allowed)];
    }
    d.peers.set(publicKey, peer);
  }

  async removePeer(name: string, publicKey: string): Promise<void> {
    this.#enter({ op: 'removePeer', name, publicKey });
    assertWireGuardKey(publicKey, 'the peer public key');
    this.#device(name).peers.delete(publicKey);
  }

  // ---- test helpers ----

  /** Every later set of this peer fails (setPeers: after the peers listed before it). */
  rejectPeer(publicKey: string, message = 'injected rejection'): void {
    this.#rejectedPeers.set(publicKey, message);
  }

  /** Calls of setPeer and setPeers, flattened to one entry per peer, in order. */
  peerSets(): { publicKey: string; settings: WgPeerSettings }[] {
    return this.calls.flatMap((c) =>
      c.op === 'setPeer'
        ? [{ publicKey: c.publicKey, settings: c.settings }]
        : c.op === 'setPeers'
          ? c.peers
          : [],
    );
  }

  /** Calls that change state (everything but showDump). */
  mutatingCalls(): FakeWireGuardCall[] {
    return this.calls.filter((c) => c.op !== 'showDump');
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Simulate traffic: a handshake at `atSeconds`, counters, and optionally a roamed endpoint. */
  simulateTraffic(
    name: string,
    publicKey: string,
    t: { atSeconds: number; rx?: number; tx?: number; endpoint?: string },
  ): void {
    const peer = this.#device(name).peers.get(publicKey);
    if (!peer) throw new Error(`FakeWireGuard: no peer ${publicKey} on ${name}`);
    peer.latestHandshake = t.atSeconds;
    peer.rxBytes += t.rx ?? 0;
    peer.txBytes += t.tx ?? 0;
    if (t.endpoint !== undefined) peer.endpoint = normalizeSocketAddress(t.endpoint);
  }

  /** Canonical sorted text of all devices, without private keys or counters. */
  dump(): string {
    const lines: string[] = [];
    for (const [name, d] of [...this.#devices].sort(([a], [b]) => compareText(a, b))) {
      const pub = d.privateKey === null ? '(none)' : publicKeyOf(d.privateKey);
      lines.push(`${name} pub=${pub} port=${d.listenPort} fwmark=${d.fwmark ?? 'off'}`);
      for (const p of [...d.peers.values()].sort((a, b) => compareText(a.publicKey, b.publicKey))) {
        const allowed = [...p.allowedIPs].sort().join(',') || '(none)';
        lines.push(
          `  peer ${p.publicKey} psk=${p.presharedKey === null ? 'no' : 'yes'} endpoint=${p.endpoint ?? '(none)'} ` +
            `allowed=${allowed} keepalive=${p.persistentKeepalive ?? 'off'}`,
        );
      }
    }
    return lines.join('\n');
  }
}
