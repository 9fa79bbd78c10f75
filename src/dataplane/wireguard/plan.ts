// The pure half of WireGuardDevice: validate the desired device, compare it with a fresh dump,
// and list the minimal changes. A peer whose key, preshared key, endpoint, allowed IPs and
// keepalive already match is not touched, because reconfiguring a peer can interrupt traffic.
import { MoorError } from '../../errors.ts';
import { normalizeCidr, normalizeSocketAddress } from '../../net/ipv4.ts';
import { assertWireGuardKey, publicKeyOf } from './keys.ts';
import type { WgDump, WgInterfaceSettings, WgPeerSettings, WgPeerState } from './types.ts';

/** The full desired state of one device: peers not listed are removed. */
export interface WireGuardDesired {
  privateKey: string;
  /** undefined or 0: keep whatever port the device has. */
  listenPort?: number;
  /** undefined: leave as is; 0: off. */
  fwmark?: number;
  peers: WireGuardPeerDesired[];
}

export interface WireGuardPeerDesired {
  publicKey: string;
  /** Absent or null: no preshared key. */
  presharedKey?: string | null;
  /** "ip:port" or "[ip6]:port"; absent: passive peer, whatever endpoint WireGuard learned stays
   * (wg cannot unset an endpoint). */
  endpoint?: string;
  allowedIPs: string[];
  /** Seconds; absent or 0: off. */
  persistentKeepalive?: number;
}

export type PeerField = 'presharedKey' | 'endpoint' | 'allowedIPs' | 'persistentKeepalive';
export type InterfaceField = 'privateKey' | 'listenPort' | 'fwmark';

export type WireGuardChange =
  | { kind: 'create-interface' }
  | { kind: 'set-interface'; fields: InterfaceField[] }
  | { kind: 'set-peer'; publicKey: string; reason: 'new' | 'changed'; fields: PeerField[] }
  | { kind: 'remove-peer'; publicKey: string };

export interface PlannedPeerSet {
  change: Extract<WireGuardChange, { kind: 'set-peer' }>;
  settings: WgPeerSettings;
  allowedIPs: string[];
}

export interface WireGuardPlan {
  setInterface?: {
    change: Extract<WireGuardChange, { kind: 'set-interface' }>;
    settings: WgInterfaceSettings;
  };
  setPeers: PlannedPeerSet[];
  removePeers: { change: Extract<WireGuardChange, { kind: 'remove-peer' }>; allowedIPs: string[] }[];
  /** Why a difference was deliberately left alone (e.g. a roamed endpoint). */
  notes: string[];
}

export interface PlanOptions {
  nowSeconds: number;
  /** A peer whose endpoint differs from the desired one but that completed a handshake this
   * recently has roamed (NAT rebinding, or the remote moved and initiated to us): it works, so
   * we leave it. Older or no handshake: we set the desired endpoint. */
  roamingGraceSeconds: number;
}

/** Validate and canonicalise; throws MoorError 'invalid-input' before anything is touched. */
export function normalizeDesired(d: WireGuardDesired): WireGuardDesired {
  assertWireGuardKey(d.privateKey, 'the private key');
  const own = publicKeyOf(d.privateKey);
  checkRange(d.listenPort, 65535, 'listen port');
  checkRange(d.fwmark, 0xffffffff, 'fwmark');
  const seenKeys = new Set<string>();
  const prefixOwner = new Map<string, string>();
  const peers = d.peers.map((p): WireGuardPeerDesired => {
    assertWireGuardKey(p.publicKey, 'a peer public key');
    if (p.publicKey === own) throw invalid(`peer ${p.publicKey} is this device's own public key`);
    if (seenKeys.has(p.publicKey)) throw invalid(`peer ${p.publicKey} is listed twice`);
    seenKeys.add(p.publicKey);
    if (p.presharedKey != null)
      assertWireGuardKey(p.presharedKey, `the preshared key of peer ${p.publicKey}`);
    checkRange(p.persistentKeepalive, 65535, 'persistent keepalive');
    const allowedIPs = [...new Set(p.allowedIPs.map(normalizeCidr))].sort();
    for (const prefix of allowedIPs) {
      const other = prefixOwner.get(prefix);
      // WireGuard would silently move the prefix to whichever peer was set last.
      if (other) throw invalid(`allowed IP ${prefix} is listed for peers ${other} and ${p.publicKey}`);
      prefixOwner.set(prefix, p.publicKey);
    }
    return {
      publicKey: p.publicKey,
      presharedKey: p.presharedKey ?? null,
      ...(p.endpoint === undefined ? {} : { endpoint: normalizeSocketAddress(p.endpoint) }),
      allowedIPs,
      persistentKeepalive: p.persistentKeepalive ?? 0,
    };
  });
  return { ...d, peers };
}

/** `desired` must come from normalizeDesired; `observed` from a fresh dump (undefined: no device). */
export function planWireGuard(
  desired: WireGuardDesired,
  observed: WgDump | undefined,
  opts: PlanOptions,
): WireGuardPlan {
  const plan: WireGuardPlan = { setPeers: [], removePeers: [], notes: [] };
  const iface = observed?.interface;
  const fields: InterfaceField[] = [];
  const settings: WgInterfaceSettings = {};
  if (iface?.privateKey !== desired.privateKey) {
    fields.push('privateKey');
    settings.privateKey = desired.privateKey;
  }
  if (desired.listenPort && iface?.listenPort !== desired.listenPort) {
    fields.push('listenPort');
    settings.listenPort = desired.listenPort;
  }
  if (desired.fwmark !== undefined && (iface?.fwmark ?? 0) !== desired.fwmark) {
    fields.push('fwmark');
    settings.fwmark = desired.fwmark;
  }
  if (fields.length > 0) plan.setInterface = { change: { kind: 'set-interface', fields }, settings };

  const current = new Map((observed?.peers ?? []).map((p) => [p.publicKey, p]));
  for (const want of desired.peers) {
    const have = current.get(want.publicKey);
    const set = have ? peerUpdate(want, have, opts, plan.notes) : newPeer(want);
    if (set) plan.setPeers.push(set);
  }
  const wanted = new Set(desired.peers.map((p) => p.publicKey));
  for (const have of observed?.peers ?? []) {
    if (!wanted.has(have.publicKey)) {
      plan.removePeers.push({
        change: { kind: 'remove-peer', publicKey: have.publicKey },
        allowedIPs: have.allowedIPs,
      });
    }
  }
  return plan;
}

function newPeer(want: WireGuardPeerDesired): PlannedPeerSet {
  const settings: WgPeerSettings = { allowedIPs: want.allowedIPs };
  const fields: PeerField[] = ['allowedIPs'];
  if (want.presharedKey) {
    settings.presharedKey = want.presharedKey;
    fields.push('presharedKey');
  }
  if (want.endpoint !== undefined) {
    settings.endpoint = want.endpoint;
    fields.push('endpoint');
  }
  if (want.persistentKeepalive) {
    settings.persistentKeepalive = want.persistentKeepalive;
    fields.push('persistentKeepalive');
  }
  return {
    change: { kind: 'set-peer', publicKey: want.publicKey, reason: 'new', fields: fields.sort() },
    settings,
    allowedIPs: want.allowedIPs,
  };
}

function peerUpdate(
  want: WireGuardPeerDesired,
  have: WgPeerState,
  opts: PlanOptions,
  notes: string[],
): PlannedPeerSet | undefined {
  const settings: WgPeerSettings = {};
  const fields: PeerField[] = [];
  if ((want.presharedKey ?? null) !== have.presharedKey) {
    settings.presharedKey = want.presharedKey ?? null;
    fields.push('presharedKey');
  }
  if (want.endpoint !== undefined && want.endpoint !== have.endpoint) {
    const age = opts.nowSeconds - have.latestHandshake;
    if (have.endpoint !== null && have.latestHandshake > 0 && age <= opts.roamingGraceSeconds) {
      notes.push(
        `peer ${have.publicKey}: endpoint ${have.endpoint} differs from ${want.endpoint} but the last ` +
          `handshake was ${age}s ago; left as is (roamed)`,
      );
    } else {
      settings.endpoint = want.endpoint;
      fields.push('endpoint');
    }
  }
  if (!sameSet(want.allowedIPs, have.allowedIPs)) {
    settings.allowedIPs = want.allowedIPs;
    fields.push('allowedIPs');
  }
  if ((want.persistentKeepalive ?? 0) !== (have.persistentKeepalive ?? 0)) {
    settings.persistentKeepalive = want.persistentKeepalive ?? 0;
    fields.push('persistentKeepalive');
  }
  if (fields.length === 0) return undefined;
  return {
    change: { kind: 'set-peer', publicKey: want.publicKey, reason: 'changed', fields: fields.sort() },
    settings,
    allowedIPs: want.allowedIPs,
  };
}

function sameSet(a: string[], b: string[]): boolean {
  const sb = new Set(b);
  return a.length === sb.size && a.every((x) => sb.has(x));
}

function checkRange(n: number | undefined, max: number, what: string): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > max)) {
    throw invalid(`${what} must be an integer 0-${max}, got ${n}`);
  }
}

function invalid(message: string): MoorError {
  return new MoorError('invalid-input', `invalid WireGuard configuration: ${message}`);
}
