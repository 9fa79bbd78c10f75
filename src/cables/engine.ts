// The cable engine shared by the host agent and the cluster gateway, as a small wiring on the
// reconciler core: broker collections mark the loop dirty; each run is a list of stages — the
// cables (planHost + appliers), our registration, then whatever the caller adds (DNS, resolver,
// exports); a ticker writes the status document. Every port comes in through the constructor.
// Stopping the engine leaves the dataplane as it is; callers decide about teardown.
import type { WireGuardStatus } from '../dataplane/wireguard/device.ts';
import { publicKeyOf } from '../dataplane/wireguard/keys.ts';
import type { TimerHandle } from '../reconcile/clock.ts';
import { ReconcileLoop } from '../reconcile/loop.ts';
import { OutageReporter } from '../reconcile/outage.ts';
import { describeError, NO_CHANGE, type ReconcileOutcome } from '../reconcile/outcome.ts';
import type { SnapshotStore } from '../reconcile/snapshot.ts';
import { runStages, type Stage } from '../reconcile/stage.ts';
import { Cables, type CablesConfig } from './cables.ts';
import type { ConnectionStatus } from './connectionStatus.ts';
import type { CablePorts, MemberCollections, MemberCollectionsFactory } from './ports.ts';
import { ProtectedAddressSource } from './protectedAddresses.ts';
import { RegistrationStage } from './registration.ts';
import type { AgentStatus } from './status.ts';

export interface CableEngineOptions {
  cables: CablesConfig;
  ports: CablePorts;
  /** The broker's Clusters and Endpoints (reflectors in production). */
  members: MemberCollectionsFactory;
  broker: { server: string; namespace: string };
  /** Publish (or re-assert) our own Cluster and Endpoint; returns the Endpoint's name. */
  publish: () => Promise<string>;
  /** The WireGuard driver in use, for the status document. */
  driverName: string;
  /** Run after the cables and the registration on every reconcile (DNS, resolver, exports). */
  stages?: readonly Stage[];
  /** More sections of the status document. */
  statusSections?: ReadonlyArray<() => Partial<Pick<AgentStatus, 'dns' | 'exports'>>>;
  /** Persist the last accepted member snapshot (host agent); gateways start clean instead. */
  snapshots?: SnapshotStore;
  /** The previous run's registration (from its status.json), shown until re-confirmed. */
  previousRegistration?: AgentStatus['registration'];
  /** Where status documents go (status.json); default nowhere. */
  writeStatus?: (status: AgentStatus) => void;
  resyncMs?: number;
  statusIntervalMs?: number;
  /** First retry after a failed apply (doubling up to resyncMs). Default 1 s. */
  retryMs?: number;
  log: (line: string) => void;
}

/** Phases whose failure means the tunnel itself is not set up. */
const TUNNEL_PHASES = new Set(['wireguard', 'link', 'address', 'reconcile']);

export class CableEngine {
  readonly publicKey: string;
  readonly loop: ReconcileLoop;
  readonly cables: Cables;
  readonly registration: RegistrationStage;
  /** Resolves after the first reconcile that saw the broker. */
  readonly firstSync: Promise<void>;
  /** Resolves after the first reconcile that set the tunnel up (device, link, addresses), from
   * the broker or from the snapshot. */
  readonly tunnelReady: Promise<void>;
  readonly #o: CableEngineOptions;
  readonly #members: MemberCollections;
  readonly #outage: OutageReporter;
  #resolveFirstSync!: () => void;
  #resolveTunnelReady!: () => void;
  #statusTimer: TimerHandle | undefined;
  #stopped = false;
  #lastConnections: ConnectionStatus[] = [];
  readonly #since = new Map<string, { status: string; at: number }>();
  #lastStatus: AgentStatus | undefined;
  #statusListeners = new Set<(s: AgentStatus) => void>();

  constructor(o: CableEngineOptions) {
    this.#o = o;
    this.publicKey = publicKeyOf(o.cables.privateKey);
    this.firstSync = new Promise((r) => (this.#resolveFirstSync = r));
    this.tunnelReady = new Promise((r) => (this.#resolveTunnelReady = r));
    this.#outage = new OutageReporter({ what: 'broker', clock: o.ports.clock, log: o.log });
    this.#members = o.members(
      () => {
        this.#outage.recovered();
        this.loop.markDirty('broker');
      },
      (err) => this.#outage.failed(err.message),
    );
    this.cables = new Cables({
      config: o.cables,
      ports: o.ports,
      members: this.#members,
      ...(o.snapshots ? { snapshots: o.snapshots } : {}),
      ...(o.ports.hostNetwork
        ? {
            protectedAddresses: new ProtectedAddressSource({
              host: o.ports.hostNetwork,
              brokerServer: o.broker.server,
              log: o.log,
            }),
          }
        : {}),
    });
    this.registration = new RegistrationStage({
      publish: o.publish,
      mayPublish: () => this.cables.synced,
      clock: o.ports.clock,
      previous: o.previousRegistration
        ? { ...o.previousRegistration, confirmedAt: o.previousRegistration.confirmedAt ?? null }
        : undefined,
    });
    this.loop = new ReconcileLoop({
      name: 'reconcile',
      clock: o.ports.clock,
      log: o.log,
      reconcile: runStages([this.cables, this.registration, ...(o.stages ?? [])]),
      resyncMs: o.resyncMs ?? 30_000,
      retryMs: o.retryMs ?? 1000,
    });
    this.loop.onReconciled((outcome) => this.#afterRun(outcome));
  }

  start(): void {
    this.#members.clusters.start();
    this.#members.endpoints.start();
    this.loop.start();
    this.#scheduleStatus();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#statusTimer) this.#o.ports.clock.clearTimeout(this.#statusTimer);
    await Promise.all([this.#members.clusters.stop(), this.#members.endpoints.stop()]);
    await this.loop.stop();
    this.cables.stop();
  }

  markDirty(reason: string): void {
    this.loop.markDirty(reason);
  }

  /** Current connection states (also used by DNS to count only connected clusters). */
  connections(): ConnectionStatus[] {
    return this.#lastConnections;
  }

  /** The latest status document; undefined before the first. */
  status(): AgentStatus | undefined {
    return this.#lastStatus;
  }

  /** Called with every fresh status document (about once a second); returns the unsubscribe. */
  onStatus(cb: (status: AgentStatus) => void): () => void {
    this.#statusListeners.add(cb);
    return () => this.#statusListeners.delete(cb);
  }

  #afterRun(outcome: ReconcileOutcome): void {
    if (!outcome.errors.some((e) => TUNNEL_PHASES.has(e.phase))) this.#resolveTunnelReady();
    if (this.cables.synced) this.#resolveFirstSync();
    // A run that changed nothing leaves the status to the ticker (and the ports alone).
    if (outcome !== NO_CHANGE) void this.refreshStatus();
  }

  #scheduleStatus(): void {
    if (this.#stopped) return;
    this.#statusTimer = this.#o.ports.clock.setTimeout(() => {
      void this.refreshStatus().finally(() => this.#scheduleStatus());
    }, this.#o.statusIntervalMs ?? 1000);
  }

  /** Reads the device once and writes a fresh status document. */
  async refreshStatus(): Promise<void> {
    if (this.#stopped) return;
    const o = this.#o;
    let device: WireGuardStatus | undefined;
    try {
      device = await this.cables.device.status();
    } catch {
      // device missing: the next reconcile recreates it
    }
    const now = o.ports.clock.now();
    this.#lastConnections = this.cables.connections(device, now).map((conn) => {
      const prev = this.#since.get(conn.clusterId);
      const since = prev && prev.status === conn.status ? prev.at : now;
      this.#since.set(conn.clusterId, { status: conn.status, at: since });
      return { ...conn, since };
    });
    const last = this.loop.last;
    const errorsByPhase = this.loop.counters.errorsByPhase;
    const source = this.cables.source;
    const reg = this.registration.status;
    const outageSince = this.#outage.since;
    const status: AgentStatus = {
      version: 1,
      updatedAt: new Date(now).toISOString(),
      pid: process.pid,
      clusterId: o.cables.clusterId,
      addresses: [...o.cables.selfAddresses],
      interface: {
        name: o.cables.tunnel.interfaceName,
        driver: o.driverName,
        publicKey: this.publicKey,
        listenPort: device?.listenPort ?? o.cables.listenPort,
        mtu: this.cables.plan?.link.mtu ?? null,
      },
      broker: {
        server: o.broker.server,
        namespace: o.broker.namespace,
        synced: this.cables.synced,
        lastError: this.cables.brokerError?.message ?? null,
        unreachableSince: outageSince === undefined ? null : new Date(outageSince).toISOString(),
        serving: source.from,
        snapshotSavedAt: source.snapshotSavedAt,
      },
      registration: {
        published: reg.published,
        endpointName: reg.endpointName,
        lastError: reg.lastError,
        confirmedAt: reg.confirmedAt,
      },
      connections: this.#lastConnections,
      rejected: (this.cables.plan?.rejected ?? []).filter((r) => r.code !== 'superseded'),
      applyErrors: (last?.errors ?? []).map(describeError),
      counters: {
        reconciles: this.loop.counters.runs,
        applyErrors: Object.values(errorsByPhase).reduce((a, b) => a + b, 0),
        rejectedEndpoints: this.cables.rejectedCount,
        errorsByPhase: { ...errorsByPhase },
      },
    };
    for (const section of o.statusSections ?? []) Object.assign(status, section());
    this.#lastStatus = status;
    try {
      o.writeStatus?.(status);
    } catch (err) {
      o.log(`cannot write status: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const cb of this.#statusListeners) cb(status);
  }
}
