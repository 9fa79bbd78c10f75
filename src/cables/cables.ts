// The cables stage: members from the broker (or, until the broker has been listed, from the last
// accepted snapshot) go through the pure planHost, and the appliers make WireGuard, the link, its
// addresses and the routes match. An event whose plan equals the last applied one touches no port
// at all; a resync (and every run after a failure) re-reads the kernel and repairs drift.

import { underlayMtu } from '../dataplane/netlink/mtu.ts';
import { RouteTable } from '../dataplane/netlink/route-table.ts';
import type { NetlinkBasic } from '../dataplane/netlink/types.ts';
import { localRoutes } from '../dataplane/netlink/underlay.ts';
import { WireGuardDevice, type WireGuardStatus } from '../dataplane/wireguard/device.ts';
import { MoorError } from '../errors.ts';
import { HealthMonitor } from '../health/pinger.ts';
import {
  equalHostPlan,
  type HostPlan,
  type MemberSnapshot,
  planHost,
  type TunnelSettings,
} from '../plan/host.ts';
import type { ProtectedAddress, SelfDescription } from '../plan/members.ts';
import { NO_CHANGE, OutcomeBuilder, type ReconcileOutcome } from '../reconcile/outcome.ts';
import { isObjectLists, type SnapshotStore } from '../reconcile/snapshot.ts';
import type { Stage } from '../reconcile/stage.ts';
import { type ApplyMode, applyAddresses, applyLink, applyRoutes, applyWireGuard } from './appliers.ts';
import { type ConnectionStatus, connectionStatus } from './connectionStatus.ts';
import type { CablePorts, MemberCollections } from './ports.ts';

export interface CablesConfig {
  clusterId: string;
  privateKey: string;
  listenPort: number;
  tunnel: TunnelSettings;
  /** Our own addresses: no member may claim them. */
  selfAddresses: readonly string[];
  /** Subnets we advertise: no member may claim them. */
  selfSubnets: readonly string[];
  /** Reads everything planMembers needs to know about us; default: our addresses and subnets
   * plus the host's local routes. Called at start and on every resync. */
  describeSelf?: (netlink: NetlinkBasic) => Promise<SelfDescription>;
  log: (line: string) => void;
}

/** Reasons that make a run re-read the kernel even when the plan did not change. */
const OBSERVE_REASONS = new Set(['start', 'resync', 'retry']);
/** Underlay paths change rarely (a new uplink): path MTUs are re-read this often. */
const PATH_MTU_TTL_MS = 10 * 60_000;

export type MemberSource = 'broker' | 'snapshot' | 'none';

export class Cables implements Stage {
  readonly name = 'cables';
  readonly device: WireGuardDevice;
  readonly health: HealthMonitor;
  readonly #c: CablesConfig;
  readonly #ports: CablePorts;
  readonly #members: MemberCollections;
  readonly #snapshots: SnapshotStore | undefined;
  readonly #protected: { read(): Promise<ProtectedAddress[]> } | undefined;
  readonly #routes: RouteTable;
  #self: SelfDescription | undefined;
  #persisted: { savedAt: string; data: MemberSnapshot } | undefined;
  #applied: { plan: HostPlan; mode: ApplyMode; clean: boolean } | undefined;
  #plan: HostPlan | undefined;
  #source: MemberSource = 'none';
  readonly #pathMtu = new Map<string, number>();
  #pathMtuReadAt = 0;
  readonly #reportedRejections = new Set<string>();
  rejectedCount = 0;

  constructor(o: {
    config: CablesConfig;
    ports: CablePorts;
    members: MemberCollections;
    snapshots?: SnapshotStore;
    /** Broker API server, default gateways, nameservers: no member route may cover them. */
    protectedAddresses?: { read(): Promise<ProtectedAddress[]> };
  }) {
    this.#c = o.config;
    this.#ports = o.ports;
    this.#members = o.members;
    this.#snapshots = o.snapshots;
    this.#protected = o.protectedAddresses;
    const dev = o.config.tunnel.interfaceName;
    this.device = new WireGuardDevice(o.ports.wireguard, dev, { now: () => o.ports.clock.now() });
    this.#routes = new RouteTable(o.ports.netlink, { dev, families: [4] });
    this.health = new HealthMonitor({ ping: o.ports.ping, clock: o.ports.clock, log: o.config.log });
    const saved = o.snapshots?.load('members', isObjectLists('clusters', 'endpoints'));
    if (saved) this.#persisted = { savedAt: saved.savedAt, data: saved.data };
  }

  /** Both collections listed at least once. */
  get synced(): boolean {
    return this.#members.clusters.synced && this.#members.endpoints.synced;
  }

  /** The latest plan (applied or not); undefined before the first run. */
  get plan(): HostPlan | undefined {
    return this.#plan;
  }

  /** Where the current plan's members came from, and the snapshot's age when from one. */
  get source(): { from: MemberSource; snapshotSavedAt: string | null } {
    return { from: this.#source, snapshotSavedAt: this.#persisted?.savedAt ?? null };
  }

  get brokerError(): Error | undefined {
    return this.#members.endpoints.lastError ?? this.#members.clusters.lastError;
  }

  async reconcile(reason: string): Promise<ReconcileOutcome> {
    const out = new OutcomeBuilder();
    const observe =
      reason.split(',').some((r) => OBSERVE_REASONS.has(r)) || !this.#applied?.clean || !this.#self;
    if (observe) await this.#readSelf(out);
    if (!this.#self) return out.build();

    const synced = this.synced;
    let snapshot: MemberSnapshot;
    if (synced) {
      snapshot = { clusters: this.#members.clusters.list(), endpoints: this.#members.endpoints.list() };
      this.#source = 'broker';
    } else {
      snapshot = this.#persisted?.data ?? { clusters: [], endpoints: [] };
      this.#source = this.#persisted ? 'snapshot' : 'none';
      out.wait(
        this.#persisted
          ? `broker not listed yet: serving the snapshot of ${this.#persisted.savedAt}; nothing is changed or removed`
          : 'broker not listed yet and no snapshot: nothing is changed or removed',
      );
    }
    const mode: ApplyMode = synced ? 'full' : 'additive';
    const plan = await this.#planWithPaths(snapshot, observe);
    this.#plan = plan;
    this.#reportRejections(plan);
    for (const p of plan.problems) out.fail('plan', new MoorError('system', p), 'mtu');

    const a = this.#applied;
    if (!observe && a && a.mode === mode && equalHostPlan(a.plan, plan)) {
      return plan.problems.length === 0 && synced ? NO_CHANGE : out.build();
    }
    const p = this.#ports;
    const dev = this.#c.tunnel.interfaceName;
    const before = out.errors.length;
    await applyWireGuard(this.device, p.wireguard, plan, this.#c, mode, out);
    // MTU before up, addresses before routes (routes name an address as their source).
    await applyLink(p.netlink, dev, plan, mode, out);
    await applyAddresses(p.netlink, dev, plan, mode, out);
    await applyRoutes(this.#routes, plan, mode, out);
    this.health.update(plan.healthTargets, this.#c.tunnel.routeSource || undefined);
    const clean = out.errors.length === before;
    this.#applied = { plan, mode, clean };
    if (synced && this.#snapshots) {
      try {
        this.#snapshots.save('members', snapshot, new Date(p.clock.now()));
        this.#persisted = { savedAt: new Date(p.clock.now()).toISOString(), data: snapshot };
      } catch (err) {
        out.fail('snapshot', err);
      }
    }
    return out.build();
  }

  /** Connection states of the planned members from a fresh device status. */
  connections(device: WireGuardStatus | undefined, now: number): Omit<ConnectionStatus, 'since'>[] {
    const peers = new Map((device?.peers ?? []).map((peer) => [peer.publicKey, peer]));
    return (this.#plan?.members ?? []).map((m) =>
      connectionStatus(
        m,
        peers.get(m.publicKey),
        m.healthCheckIP ? this.health.tracker.get(m.healthCheckIP) : undefined,
        now,
      ),
    );
  }

  stop(): void {
    this.health.stop();
  }

  async #readSelf(out: OutcomeBuilder): Promise<void> {
    const c = this.#c;
    try {
      const self = c.describeSelf
        ? await c.describeSelf(this.#ports.netlink)
        : {
            clusterId: c.clusterId,
            addresses: c.selfAddresses,
            localRoutes: await localRoutes(this.#ports.netlink, c.tunnel.interfaceName),
            subnets: c.selfSubnets,
          };
      // Never throws: a failed read keeps the last known addresses.
      this.#self = this.#protected ? { ...self, protected: await this.#protected.read() } : self;
    } catch (err) {
      // Keep the previous description; without one nothing can be planned safely.
      out.fail('plan', err, 'local routes');
    }
  }

  /** Plans, looking up path MTUs of member endpoints not seen before (eight at a time). */
  async #planWithPaths(snapshot: MemberSnapshot, observe: boolean): Promise<HostPlan> {
    const now = this.#ports.clock.now();
    if (observe && now - this.#pathMtuReadAt > PATH_MTU_TTL_MS) {
      this.#pathMtu.clear();
      this.#pathMtuReadAt = now;
    }
    const input = () => ({
      self: this.#self as SelfDescription,
      snapshot,
      tunnel: this.#c.tunnel,
      pathMtus: this.#pathMtu,
    });
    const first = planHost(input());
    const missing = first.unknownPaths.filter((h) => !this.#pathTried.has(h) || observe);
    if (missing.length === 0) return first;
    for (let i = 0; i < missing.length; i += 8) {
      await Promise.all(
        missing.slice(i, i + 8).map(async (ip) => {
          this.#pathTried.add(ip);
          try {
            this.#pathMtu.set(ip, (await underlayMtu(this.#ports.netlink, ip)).mtu);
          } catch (err) {
            this.#c.log(
              `MTU: no path to member endpoint ${ip}: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
        }),
      );
    }
    return planHost(input());
  }
  readonly #pathTried = new Set<string>();

  #reportRejections(plan: HostPlan): void {
    for (const r of plan.rejected) {
      if (r.code === 'superseded') continue;
      const key = `${r.endpointName}|${r.reason}`;
      if (this.#reportedRejections.has(key)) continue;
      this.#reportedRejections.add(key);
      this.rejectedCount += 1;
      this.#c.log(`rejected Endpoint ${r.endpointName} of cluster "${r.clusterId}": ${r.reason}`);
    }
  }
}
