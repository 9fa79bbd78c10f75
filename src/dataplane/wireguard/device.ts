// One WireGuard device, reconciled against a fresh `wg show dump` every time (never against
// memory, practices §2). Order: create the device, set the interface, add or update peers, and
// only then remove stale peers, so a key rotation adds the new peer (which takes over the
// allowed IPs) before the old one goes (practices §3).
import { MoorError } from '../../errors.ts';
import { assertInterfaceName } from '../names.ts';
import { type ApplyResult, attempt } from '../result.ts';
import {
  normalizeDesired,
  planWireGuard,
  type WireGuardChange,
  type WireGuardDesired,
  type WireGuardPlan,
} from './plan.ts';
import type { WgPeerState, WireGuardBasic } from './types.ts';

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
    const plan = planWireGuard(desired, observed, {
      nowSeconds: Math.floor(this.#now() / 1000),
      roamingGraceSeconds: this.#graceSeconds,
    });
    result.notes.push(...plan.notes);
    await this.#apply(plan, result);
    return result;
  }

  async #apply(plan: WireGuardPlan, result: WireGuardApplyResult): Promise<void> {
    const setIface = plan.setInterface;
    if (setIface) {
      await attempt(result, setIface.change, () => this.#basic.setInterface(this.name, setIface.settings));
    }
    const failedPrefixes = new Set<string>();
    for (const p of plan.setPeers) {
      const ok = await attempt(result, p.change, () =>
        this.#basic.setPeer(this.name, p.change.publicKey, p.settings),
      );
      if (!ok) for (const prefix of p.allowedIPs) failedPrefixes.add(prefix);
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
