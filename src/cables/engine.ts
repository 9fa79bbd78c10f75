// The cable engine shared by the host agent and the cluster gateway: it watches the broker's
// Clusters and Endpoints, plans the members (pure), and applies the difference to WireGuard,
// link, addresses and routes. Events only mark the state dirty; one reconcile runs at a time,
// and a periodic resync repairs drift (a route deleted by hand, our Endpoint deleted on the
// broker). Stopping the engine leaves the dataplane as it is; callers decide about teardown.

import { localRoutes } from '../agent/underlay.ts';
import { parseCluster, parseEndpoint } from '../broker/objectReader.ts';
import type { ClusterObject, EndpointObject } from '../broker/types.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import { type HostNetworkPort, HostNetworkReader } from '../dataplane/host-network.ts';
import { reconcileAddresses } from '../dataplane/netlink/addresses.ts';
import { IpRouteNetlink } from '../dataplane/netlink/iproute.ts';
import { reconcileLink } from '../dataplane/netlink/links.ts';
import { tunnelMtu, underlayMtu } from '../dataplane/netlink/mtu.ts';
import { RouteTable } from '../dataplane/netlink/route-table.ts';
import { WireGuardDevice } from '../dataplane/wireguard/device.ts';
import { createWireGuardDriver, detectWireGuardDriver } from '../dataplane/wireguard/drivers.ts';
import { publicKeyOf } from '../dataplane/wireguard/keys.ts';
import type { MoorError } from '../errors.ts';
import { Pinger } from '../health/pinger.ts';
import { brokerPaths } from '../k8s/paths.ts';
import { Reflector } from '../k8s/reflector.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { type Member, planMembers } from '../plan/members.ts';
import { type ConnectionStatus, connectionStatus } from './connectionStatus.ts';
import { DetachedSpawner } from './detachedSpawner.ts';
import { ProtectedAddressSource } from './protectedAddresses.ts';
import { type AgentStatus, type Rejection, writeStatus } from './status.ts';

export interface CableEngineConfig {
  clusterId: string;
  namespace: string;
  client: KubeRestClient;
  interfaceName: string;
  privateKey: string;
  listenPort: number;
  /** The WireGuard preshared key (base64 of SHA-256 of the broker PSK string). */
  psk: string;
  /** Our own addresses: no member may claim them. */
  selfAddresses: string[];
  /** Subnets we advertise: no member may claim them. */
  selfSubnets: string[];
  /** Addresses put on the WireGuard link (the host's clusterset IPs; none on a gateway). */
  interfaceAddresses: string[];
  /** Preferred source of routes to members: an address inside our subnets, so replies and
   * health checks come back through the tunnel and pass the remote AllowedIPs. */
  routeSource: string;
  /** Publish (or re-assert) our own Cluster and Endpoint; called on every reconcile. */
  publish: () => Promise<string>;
  runner: CommandRunner;
  log: (line: string) => void;
  stateDir: string;
  /** More work after each reconcile (DNS, resolver, exports); returns failures to report. */
  afterReconcile?: () => Promise<string[]>;
  /** Called with fresh connection states about once a second. */
  onConnections?: (connections: readonly ConnectionStatus[]) => void;
  /** Extra sections of the status document. */
  extraStatus?: () => Pick<AgentStatus, 'dns' | 'exports'>;
  resyncMs?: number;
  statusIntervalMs?: number;
  driver?: 'kernel' | 'wireguard-go';
  /** Where the default gateways and nameservers are read (default: this host). */
  hostNetwork?: HostNetworkPort;
}

export class CableEngine {
  private readonly config: CableEngineConfig;
  readonly publicKey: string;
  private readonly clusters: Reflector;
  private readonly endpoints: Reflector;
  private readonly netlink: IpRouteNetlink;
  private readonly routes: RouteTable;
  private readonly pinger: Pinger;
  private readonly protectedAddresses: ProtectedAddressSource;
  private device: WireGuardDevice | undefined;
  private driverName = '';
  private plan: { members: Member[]; rejected: Rejection[] } = { members: [], rejected: [] };
  private dirty = false;
  private running: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private published: { endpointName: string | null; error: string | null } = {
    endpointName: null,
    error: null,
  };
  private applyErrors: string[] = [];
  private mtu: number | null = null;
  /** Path MTU towards each member endpoint address (see chooseMtu). */
  private readonly pathMtu = new Map<string, number>();
  private readonly since = new Map<string, { status: string; at: number }>();
  private readonly reportedRejections = new Set<string>();
  private readonly counters = { reconciles: 0, applyErrors: 0, rejectedEndpoints: 0 };
  /** Resolves after the first reconcile that saw the broker. */
  readonly firstSync: Promise<void>;
  private resolveFirstSync!: () => void;

  constructor(config: CableEngineConfig) {
    this.config = config;
    this.publicKey = publicKeyOf(config.privateKey);
    const onChange = () => this.markDirty();
    const onError = (err: MoorError) => config.log(`broker watch: ${err.message}`);
    this.clusters = new Reflector({
      client: config.client,
      path: brokerPaths.clusters(config.namespace),
      onChange,
      onError,
    });
    this.endpoints = new Reflector({
      client: config.client,
      path: brokerPaths.endpoints(config.namespace),
      onChange,
      onError,
    });
    this.netlink = new IpRouteNetlink(config.runner);
    this.routes = new RouteTable(this.netlink, { dev: config.interfaceName, families: [4] });
    this.pinger = new Pinger({ log: config.log });
    this.protectedAddresses = new ProtectedAddressSource({
      host: config.hostNetwork ?? new HostNetworkReader(config.runner),
      brokerServer: config.client.server,
      log: config.log,
    });
    this.firstSync = new Promise((resolve) => {
      this.resolveFirstSync = resolve;
    });
  }

  async start(): Promise<void> {
    const c = this.config;
    const detected = c.driver
      ? { driver: c.driver, reason: 'chosen with --wireguard-driver' }
      : await detectWireGuardDriver(c.runner);
    this.driverName = detected.driver;
    c.log(`WireGuard driver: ${detected.driver} (${detected.reason})`);
    const basic = createWireGuardDriver(detected.driver, {
      runner: c.runner,
      spawner: new DetachedSpawner(c.stateDir),
    });
    this.device = new WireGuardDevice(basic, c.interfaceName);
    this.clusters.start();
    this.endpoints.start();
    this.markDirty();
    this.timers.push(setInterval(() => this.markDirty(), c.resyncMs ?? 30_000));
    // Underlay paths change rarely (a new uplink); re-read them every 10 minutes.
    this.timers.push(setInterval(() => this.pathMtu.clear(), 10 * 60_000));
    this.timers.push(setInterval(() => void this.refreshStatus(), c.statusIntervalMs ?? 1_000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.pinger.stop();
    await Promise.all([this.clusters.stop(), this.endpoints.stop()]);
    await this.running;
  }

  /** Coalesce events into one reconcile at a time; a change during a run triggers one more. */
  markDirty(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running) return;
    this.running = (async () => {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        await new Promise((r) => setTimeout(r, 20)); // let a burst of events land first
        try {
          await this.reconcile();
        } catch (err) {
          this.counters.applyErrors += 1;
          this.config.log(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      this.running = undefined;
    })();
  }

  private async reconcile(): Promise<void> {
    this.counters.reconciles += 1;
    const c = this.config;
    const errors: string[] = [];

    // 1. Plan, but only once both collections were listed: an empty snapshot during a broker
    //    outage must never remove working peers.
    const synced = this.clusters.synced && this.endpoints.synced;
    if (synced) {
      const { clusters, endpoints, malformed } = this.snapshot();
      const routes = await localRoutes(c.runner, c.interfaceName);
      const planned = planMembers({
        self: {
          clusterId: c.clusterId,
          addresses: c.selfAddresses,
          localRoutes: routes,
          subnets: c.selfSubnets,
          // Broker API server, default gateways, nameservers: never routed into a tunnel.
          protected: await this.protectedAddresses.read(),
        },
        clusters,
        endpoints,
      });
      this.plan = { members: planned.members, rejected: [...planned.rejected, ...malformed] };
      this.reportRejections(this.plan.rejected);
    }

    // 2. WireGuard device and peers.
    const wg = await this.device!.reconcile({
      privateKey: c.privateKey,
      listenPort: c.listenPort,
      peers: this.plan.members.map((m) => ({
        publicKey: m.publicKey,
        presharedKey: c.psk,
        endpoint: `${m.endpoint.host}:${m.endpoint.port}`,
        allowedIPs: m.allowedIPs,
        persistentKeepalive: 10,
      })),
    });
    for (const e of wg.errors) errors.push(`wireguard ${e.change.kind}: ${e.error.message}`);
    for (const ch of wg.applied) if (ch.kind !== 'set-interface') c.log(`wireguard: ${describeChange(ch)}`);

    // 3. Link MTU from the underlay towards the peers, addresses, then routes (they need both).
    const mtu = await this.chooseMtu(this.plan.members.map((m) => m.endpoint.host));
    if (typeof mtu === 'string') errors.push(`MTU: ${mtu}`);
    else if (mtu !== undefined) this.mtu = mtu;
    const link = await reconcileLink(this.netlink, c.interfaceName, {
      up: true,
      ...(this.mtu ? { mtu: this.mtu } : {}),
    });
    for (const e of link.errors) errors.push(`link: ${e.error.message}`);
    const addrs = await reconcileAddresses(
      this.netlink,
      c.interfaceName,
      c.interfaceAddresses.map((a) => `${a}/32`),
    );
    for (const e of addrs.errors) errors.push(`address: ${e.error.message}`);
    const routes = await this.routes.reconcile(
      this.plan.members.flatMap((m) =>
        m.allowedIPs.map((dst) => ({
          dst,
          dev: c.interfaceName,
          src: c.routeSource,
          scope: 'link' as const,
        })),
      ),
    );
    for (const e of routes.errors) errors.push(`route: ${e.error.message}`);
    for (const ch of routes.applied) c.log(`route ${ch.op} ${ch.route.dst}`);

    // 4. Our own registration on the broker (idempotent; repairs deletions by others), only after
    //    our peers are programmed: a member that sees our new Endpoint (a new key after a
    //    failover) and initiates a handshake at once must find us ready, or WireGuard waits 5 s
    //    (REKEY_TIMEOUT) before it tries again.
    if (synced || this.published.endpointName !== null) {
      try {
        this.published = { endpointName: await c.publish(), error: null };
      } catch (err) {
        this.published = { endpointName: null, error: err instanceof Error ? err.message : String(err) };
        errors.push(`publishing registration: ${this.published.error}`);
      }
    }

    // 5. Health checks through the tunnel, from our own address.
    this.pinger.update(
      this.plan.members.flatMap((m) => (m.healthCheckIP ? [m.healthCheckIP] : [])),
      c.routeSource,
    );
    if (c.afterReconcile) errors.push(...(await c.afterReconcile()));
    this.applyErrors = errors;
    this.counters.applyErrors += errors.length;
    for (const e of errors) c.log(`apply: ${e}`);
    await this.refreshStatus();
    if (synced) this.resolveFirstSync();
  }

  /**
   * The tunnel MTU: the smallest path MTU towards any member, minus WireGuard's overhead. Path
   * MTUs are looked up once per endpoint address (two `ip` runs each) and cached, so a resync
   * with a thousand members spawns nothing; one unreachable endpoint does not block the rest.
   * Returns undefined without members, or a message when no path could be read.
   */
  private async chooseMtu(endpointIps: string[]): Promise<number | string | undefined> {
    const unique = [...new Set(endpointIps)];
    if (unique.length === 0) return undefined;
    const missing = unique.filter((ip) => !this.pathMtu.has(ip));
    for (let i = 0; i < missing.length; i += 8) {
      await Promise.all(
        missing.slice(i, i + 8).map(async (ip) => {
          try {
            this.pathMtu.set(ip, (await underlayMtu(this.netlink, ip)).mtu);
          } catch (err) {
            this.config.log(
              `MTU: no path to member endpoint ${ip}: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
        }),
      );
    }
    const known = unique.flatMap((ip) => (this.pathMtu.has(ip) ? [this.pathMtu.get(ip) as number] : []));
    if (known.length === 0) return 'no route to any member endpoint';
    try {
      return tunnelMtu(Math.min(...known));
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  private snapshot(): { clusters: ClusterObject[]; endpoints: EndpointObject[]; malformed: Rejection[] } {
    const clusters: ClusterObject[] = [];
    for (const raw of this.clusters.list()) {
      const r = parseCluster(raw);
      if (r.ok) clusters.push(r.value);
    }
    const endpoints: EndpointObject[] = [];
    const malformed: Rejection[] = [];
    for (const raw of this.endpoints.list()) {
      const r = parseEndpoint(raw);
      if (r.ok) {
        endpoints.push(r.value);
        continue;
      }
      const meta = (raw.metadata ?? {}) as { name?: string; labels?: Record<string, string> };
      malformed.push({
        clusterId: meta.labels?.['submariner-io/clusterID'] ?? '',
        endpointName: meta.name ?? '',
        reason: `malformed Endpoint: ${r.reason}`,
        code: 'malformed',
      });
    }
    return { clusters, endpoints, malformed };
  }

  private reportRejections(rejected: Rejection[]): void {
    for (const r of rejected) {
      if (r.code === 'superseded') continue;
      const key = `${r.endpointName}|${r.reason}`;
      if (this.reportedRejections.has(key)) continue;
      this.reportedRejections.add(key);
      this.counters.rejectedEndpoints += 1;
      this.config.log(`rejected Endpoint ${r.endpointName} of cluster "${r.clusterId}": ${r.reason}`);
    }
  }

  /** Current connection states (also used by DNS to count only connected clusters). */
  connections(): ConnectionStatus[] {
    return this.lastConnections;
  }
  private lastConnections: ConnectionStatus[] = [];
  private lastStatus: AgentStatus | undefined;

  /** The latest status document (also written to status.json); undefined before the first. */
  status(): AgentStatus | undefined {
    return this.lastStatus;
  }

  private async refreshStatus(): Promise<void> {
    if (!this.device || this.stopped) return;
    const c = this.config;
    let peers = new Map<
      string,
      { latestHandshake: Date | null; rxBytes: number; txBytes: number; endpoint: string | null }
    >();
    let listenPort = c.listenPort;
    try {
      const st = await this.device.status();
      if (st) {
        listenPort = st.listenPort;
        peers = new Map(st.peers.map((p) => [p.publicKey, p]));
      }
    } catch {
      // device missing: the next reconcile recreates it
    }
    const now = Date.now();
    this.lastConnections = this.plan.members.map((m) => {
      const health = m.healthCheckIP ? this.pinger.tracker.get(m.healthCheckIP) : undefined;
      const conn = connectionStatus(m, peers.get(m.publicKey), health, now);
      const prev = this.since.get(m.clusterId);
      const since = prev && prev.status === conn.status ? prev.at : now;
      this.since.set(m.clusterId, { status: conn.status, at: since });
      return { ...conn, since };
    });
    c.onConnections?.(this.lastConnections);
    const status: AgentStatus = {
      version: 1,
      updatedAt: new Date(now).toISOString(),
      pid: process.pid,
      clusterId: c.clusterId,
      addresses: c.selfAddresses,
      interface: {
        name: c.interfaceName,
        driver: this.driverName,
        publicKey: this.publicKey,
        listenPort,
        mtu: this.mtu,
      },
      broker: {
        server: c.client.server,
        namespace: c.namespace,
        synced: this.clusters.synced && this.endpoints.synced,
        lastError: (this.endpoints.lastError ?? this.clusters.lastError)?.message ?? null,
      },
      registration: {
        published: this.published.error === null && this.published.endpointName !== null,
        endpointName: this.published.endpointName,
        lastError: this.published.error,
      },
      connections: this.lastConnections,
      rejected: this.plan.rejected.filter((r) => r.code !== 'superseded'),
      applyErrors: this.applyErrors,
      counters: { ...this.counters },
      ...c.extraStatus?.(),
    };
    this.lastStatus = status;
    try {
      writeStatus(c.stateDir, status);
    } catch (err) {
      c.log(`cannot write status: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function describeChange(c: { kind: string; publicKey?: string; reason?: string }): string {
  return `${c.kind}${c.publicKey ? ` ${c.publicKey.slice(0, 8)}…` : ''}${c.reason ? ` (${c.reason})` : ''}`;
}
