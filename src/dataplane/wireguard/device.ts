// One WireGuard device, reconciled against a fresh `wg show dump` every time (never against
// memory, practices §2). Order: create the device, set the interface, add or update peers, and
// only then remove stale peers, so a key rotation adds the new peer (which takes over the
// allowed IPs) before the old one goes (practices §3). Peers are set in batches, one `wg` run per
// MAX_PEERS_PER_WG_SET peers: a run per peer took seconds for 1,000 members.
import { MoorError } from '../../errors.ts';
import { assertInterfaceName } from '../names.ts';
import { type ApplyResult, asMoorError, attempt } from '../result.ts';
import {
  normalizeDesired,
  type PlannedPeerSet,
  planWireGuard,
  type WireGuardChange,
  type WireGuardDesired,
  type WireGuardPlan,
} from './plan.ts';
import { MAX_PEERS_PER_WG_SET, type WgDump, type WgPeerState, type WireGuardBasic } from './types.ts';

export interface WireGuardApplyResult extends ApplyResult<WireGuardChange> {
  /** Differences deliberately left alone and removals deferred, in words. */
  notes: string[];
}

export interface WireGuardDeviceOptions {
  /** Clock in milliseconds (tests inject one). */
  now?: () => number;
  /** See PlanOptions.roamingGraceSeconds. Default 135 s: just above Submariner's 130 s limit for
   * a handshake to count as current, below WireGuard's 180 s session expiry. */
  roamingGraceSeconds?: number;
}

export interface WireGuardPeerStatus {
  publicKey: string;
  endpoint: string | null;
  allowedIPs: string[];
  /** null: never. */
  latestHandshake: Date | null;
  /** Seconds since the latest handshake; null: never. */
  handshakeAgeSeconds: number | null;
  rxBytes: number;
  txBytes: number;
}

export interface WireGuardStatus {
  name: string;
  driver: string;
  publicKey: string | null;
  listenPort: number;
  peers: WireGuardPeerStatus[];
}

export class WireGuardDevice {
  readonly name: string;
  readonly #basic: WireGuardBasic;
  readonly #now: () => number;
  readonly #graceSeconds: number;

  constructor(basic: WireGuardBasic, name: string, opts: WireGuardDeviceOptions = {}) {
    assertInterfaceName(name);
    this.name = name;
    this.#basic = basic;
    this.#now = opts.now ?? Date.now;
    this.#graceSeconds = opts.roamingGraceSeconds ?? 135;
  }

  /** Throws for invalid input (before anything is read or touched) and when the device cannot
   * be read at all; failures of individual changes are reported in `errors` while the remaining
   * changes are still attempted. */
  async reconcile(desiredInput: WireGuardDesired): Promise<WireGuardApplyResult> {
    const desired = normalizeDesired(desiredInput);
    const result: WireGuardApplyResult = { applied: [], errors: [], notes: [] };
    let observed = await this.#basic.showDump(this.name);
    if (!observed) {
      const created = await attempt(result, { kind: 'create-interface' }, () =>
        this.#basic.createInterface(this.name),
      );
      if (!created) return result;
      observed = await this.#basic.showDump(this.name);
      if (!observed) {
        throw new MoorError('system', `WireGuard interface ${this.name} vanished right after it was created`);
      }
    }
    const opts = { nowSeconds: Math.floor(this.#now() / 1000), roamingGraceSeconds: this.#graceSeconds };
    const plan = planWireGuard(desired, observed, opts);
    result.notes.push(...plan.notes);
    await this.#apply(plan, result, (dump) => planWireGuard(desired, dump, opts).setPeers);
    return result;
  }

  async #apply(
    plan: WireGuardPlan,
    result: WireGuardApplyResult,
    replanPeers: (dump: WgDump) => PlannedPeerSet[],
  ): Promise<void> {
    const setIface = plan.setInterface;
    if (setIface) {
      await attempt(result, setIface.change, () => this.#basic.setInterface(this.name, setIface.settings));
    }
    const failedPrefixes = new Set<string>();
    for (let i = 0; i < plan.setPeers.length; i += MAX_PEERS_PER_WG_SET) {
      const chunk = plan.setPeers.slice(i, i + MAX_PEERS_PER_WG_SET);
      for (const p of await this.#setChunk(chunk, result, replanPeers)) {
        for (const prefix of p.allowedIPs) failedPrefixes.add(prefix);
      }
    }
    for (const r of plan.removePeers) {
      // The replacement for these prefixes failed: the old peer is the only path left, keep it.
      const blocking = r.allowedIPs.filter((prefix) => failedPrefixes.has(prefix));
      if (blocking.length > 0) {
        result.notes.push(
          `peer ${r.change.publicKey}: removal deferred, its replacement for ${blocking.join(', ')} failed`,
        );
        continue;
      }
      await attempt(result, r.change, () => this.#basic.removePeer(this.name, r.change.publicKey));
    }
  }

  /** One batched set; returns the peers that failed. A failed batch does not say which peer was
   * wrong, and the peers before it may have landed, so we read the device again and set the
   * peers of this chunk that are still not right one at a time: each error names its peer, the
   * others are applied, and a peer that is already right is not touched again. */
  async #setChunk(
    chunk: PlannedPeerSet[],
    result: WireGuardApplyResult,
    replanPeers: (dump: WgDump) => PlannedPeerSet[],
  ): Promise<PlannedPeerSet[]> {
    try {
      await this.#basic.setPeers(
        this.name,
        chunk.map((p) => ({ publicKey: p.change.publicKey, settings: p.settings })),
      );
      result.applied.push(...chunk.map((p) => p.change));
      return [];
    } catch (err) {
      result.notes.push(
        `setting ${chunk.length} peer(s) in one batch failed (${asMoorError(err).message}); retried one by one`,
      );
    }
    let pending: Map<string, PlannedPeerSet> | undefined;
    try {
      const dump = await this.#basic.showDump(this.name);
      if (dump) pending = new Map(replanPeers(dump).map((p) => [p.change.publicKey, p]));
    } catch {
      // Cannot read the device: retry the whole chunk as planned; the errors will tell why.
    }
    const failed: PlannedPeerSet[] = [];
    for (const p of chunk) {
      const redo = pending ? pending.get(p.change.publicKey) : p;
      if (!redo) {
        // The batch got this peer in before it failed.
        result.applied.push(p.change);
        continue;
      }
      const ok = await attempt(result, p.change, () =>
        this.#basic.setPeer(this.name, p.change.publicKey, redo.settings),
      );
      if (!ok) failed.push(p);
    }
    return failed;
  }

  /** Fresh per-peer handshake and counters; undefined when the device does not exist. */
  async status(): Promise<WireGuardStatus | undefined> {
    const dump = await this.#basic.showDump(this.name);
    if (!dump) return undefined;
    const nowSeconds = Math.floor(this.#now() / 1000);
    return {
      name: this.name,
      driver: this.#basic.driver,
      publicKey: dump.interface.publicKey,
      listenPort: dump.interface.listenPort,
      peers: dump.peers.map((p) => peerStatus(p, nowSeconds)),
    };
  }

  /** Idempotent: true when a device was deleted, false when there was none. */
  async delete(): Promise<boolean> {
    if (!(await this.#basic.showDump(this.name))) return false;
    await this.#basic.deleteInterface(this.name);
    return true;
  }
}

function peerStatus(p: WgPeerState, nowSeconds: number): WireGuardPeerStatus {
  const never = p.latestHandshake === 0;
  return {
    publicKey: p.publicKey,
    endpoint: p.endpoint,
    allowedIPs: p.allowedIPs,
    latestHandshake: never ? null : new Date(p.latestHandshake * 1000),
    handshakeAgeSeconds: never ? null : Math.max(0, nowSeconds - p.latestHandshake),
    rxBytes: p.rxBytes,
    txBytes: p.txBytes,
  };
}
