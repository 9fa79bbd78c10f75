// The WireGuard Basic port: one method per `wg` / link operation, no diffing, no retries. The
// idempotent logic lives once in WireGuardDevice on top, so the fake that implements this port
// exercises the production reconcile code (practices §4).

export type WireGuardDriverName = 'kernel' | 'wireguard-go';

/** First line of `wg show <dev> dump`. */
export interface WgInterfaceState {
  privateKey: string | null;
  publicKey: string | null;
  listenPort: number;
  /** null when "off". */
  fwmark: number | null;
}

/** One peer line of `wg show <dev> dump`. */
export interface WgPeerState {
  publicKey: string;
  presharedKey: string | null;
  /** Canonical "ip:port" / "[ip6]:port", or null when the peer has none yet. This is where the
   * kernel currently sends, which follows the peer when it roams. */
  endpoint: string | null;
  /** Canonical prefixes, in kernel order. */
  allowedIPs: string[];
  /** Seconds since the epoch; 0 = never. */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  /** Seconds; null when "off". */
  persistentKeepalive: number | null;
}

export interface WgDump {
  interface: WgInterfaceState;
  peers: WgPeerState[];
}

export interface WgInterfaceSettings {
  privateKey?: string;
  /** 0 lets the device pick a random port. */
  listenPort?: number;
  /** 0 turns the mark off. */
  fwmark?: number;
}

/** Fields left undefined are not sent, so they keep their current value. */
export interface WgPeerSettings {
  /** null removes the preshared key. */
  presharedKey?: string | null;
  endpoint?: string;
  /** Replaces the whole list (wg's `allowed-ips` semantics). */
  allowedIPs?: string[];
  /** 0 turns keepalive off. */
  persistentKeepalive?: number;
}

export interface WgPeerUpdate {
  publicKey: string;
  settings: WgPeerSettings;
}

/** Peers per `wg set` run: keeps argv (about 200 bytes a peer) far below ARG_MAX, and bounds how
 * much one failing run has to redo peer by peer. */
export const MAX_PEERS_PER_WG_SET = 100;

export interface WireGuardBasic {
  readonly driver: WireGuardDriverName;
  /** Create the link (kernel) or start wireguard-go and wait for its link and socket. */
  createInterface(name: string): Promise<void>;
  /** Remove the link; throws MoorError 'not-found' when there is none. */
  deleteInterface(name: string): Promise<void>;
  /** Parsed `wg show <name> dump`; undefined when the device does not exist. */
  showDump(name: string): Promise<WgDump | undefined>;
  setInterface(name: string, settings: WgInterfaceSettings): Promise<void>;
  setPeer(name: string, publicKey: string, settings: WgPeerSettings): Promise<void>;
  /** Several setPeer in as few `wg set` runs as possible (one per MAX_PEERS_PER_WG_SET peers), in
   * order: one process per peer took seconds for 1,000 members (docs/benchmarks.md, rss).
   * Throws when any run fails; peers of earlier runs, or earlier in the failing run, may already
   * be applied, so a caller that needs to know which peer failed reads the device again. */
  setPeers(name: string, peers: WgPeerUpdate[]): Promise<void>;
  /** Like `wg set … peer X remove`: removing an unknown peer is not an error. */
  removePeer(name: string, publicKey: string): Promise<void>;
}
