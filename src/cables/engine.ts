// `moor agent`: the pseudo-cluster at work. Watches the broker's Clusters and Endpoints, plans
// the members (pure), and applies the difference to WireGuard, addresses and routes. Events only
// mark the state dirty; one reconcile runs at a time, and a periodic resync repairs anything that
// drifted (a route deleted by hand, our Endpoint deleted on the broker). Stopping the agent
// leaves the dataplane as it is: only `moor leave` tears down.
import { parseCluster, parseEndpoint } from '../broker/objectReader.ts';
import { wireguardPsk } from '../broker/psk.ts';
import type { ClusterObject, EndpointObject } from '../broker/types.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import { reconcileAddresses } from '../dataplane/netlink/addresses.ts';
import { IpRouteNetlink } from '../dataplane/netlink/iproute.ts';
import { reconcileLink } from '../dataplane/netlink/links.ts';
import { tunnelMtuFor } from '../dataplane/netlink/mtu.ts';
import { RouteTable } from '../dataplane/netlink/route-table.ts';
import { WireGuardDevice } from '../dataplane/wireguard/device.ts';
import { createWireGuardDriver, detectWireGuardDriver } from '../dataplane/wireguard/drivers.ts';
import { publicKeyOf } from '../dataplane/wireguard/keys.ts';
import { MoorError } from '../errors.ts';
import { Pinger } from '../health/pinger.ts';
import { brokerPaths } from '../k8s/paths.ts';
import { Reflector } from '../k8s/reflector.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { type Member, planMembers } from '../plan/members.ts';
import { type ConnectionStatus, connectionStatus } from './connectionStatus.ts';
import { DetachedSpawner } from './detachedSpawner.ts';
import { publishRegistration } from './registration.ts';
import { type HostState, loadPrivateKey, loadState } from './state.ts';
import type { AgentStatus, Rejection } from './status.ts';
import { writeStatus } from './status.ts';
import { localRoutes } from './underlay.ts';

export interface AgentOptions {
  stateDir: string;
  runner: CommandRunner;
  log: (line: string) => void;
  resyncMs?: number;
  statusIntervalMs?: number;
  /** Force a WireGuard driver instead of detecting one. */
  driver?: 'kernel' | 'wireguard-go';
}

export class HostAgent {
  private readonly options: AgentOptions;
  private readonly state: HostState;
  private readonly privateKey: string;
  private readonly publicKey: string;
  private readonly psk: string;
  private readonly client: KubeRestClient;
  private readonly clusters: Reflector;
  private readonly endpoints: Reflector;
  private readonly netlink: IpRouteNetlink;
  private readonly routes: RouteTable;
  private readonly pinger: Pinger;
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
  private readonly since = new Map<string, { status: string; at: number }>();
  private readonly reportedRejections = new Set<string>();
  private readonly counters = { reconciles: 0, applyErrors: 0, rejectedEndpoints: 0 };

  constructor(options: AgentOptions) {
    this.options = options;
    this.state = loadState(options.stateDir);
    const key = loadPrivateKey(options.stateDir);
    if (!key) {
      throw new MoorError('not-found', `the WireGuard key is missing from ${options.stateDir}`, {
        hint: 'the state is incomplete: run `moor leave broker-info.subm` and join again',
      });
    }
    this.privateKey = key;
    this.publicKey = publicKeyOf(key);
    this.psk = wireguardPsk(this.state.psk);
    const b = this.state.broker;
    this.client = new KubeRestClient({
      server: b.server,
      token: b.token,
      insecure: b.insecure,
      ...(b.caPem ? { caPem: b.caPem } : {}),
    });
    const onChange = () => this.markDirty();
    const onError = (err: MoorError) => options.log(`broker watch: ${err.message}`);
    this.clusters = new Reflector({
      client: this.client,
      path: brokerPaths.clusters(b.namespace),
      onChange,
      onError,
    });
    this.endpoints = new Reflector({
      client: this.client,
      path: brokerPaths.endpoints(b.namespace),
      onChange,
      onError,
    });
    this.netlink = new IpRouteNetlink(options.runner);
    this.routes = new RouteTable(this.netlink, { dev: this.state.interfaceName, families: [4] });
    this.pinger = new Pinger({ log: options.log });
  }

  async start(): Promise<void> {
    const detected = this.options.driver
      ? { driver: this.options.driver, reason: 'chosen with --wireguard-driver' }
      : await detectWireGuardDriver(this.options.runner);
    this.driverName = detected.driver;
    this.options.log(`WireGuard driver: ${detected.driver} (${detected.reason})`);
    const basic = createWireGuardDriver(detected.driver, {
      runner: this.options.runner,
      spawner: new DetachedSpawner(this.options.stateDir),
    });
    this.device = new WireGuardDevice(basic, this.state.interfaceName);
    this.clusters.start();
    this.endpoints.start();
    this.markDirty();
    this.timers.push(setInterval(() => this.markDirty(), this.options.resyncMs ?? 30_000));
    this.timers.push(setInterval(() => this.refreshStatus(), this.options.statusIntervalMs ?? 1_000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.pinger.stop();
    await Promise.all([this.clusters.stop(), this.endpoints.stop()]);
    await this.running;
    this.client.close();
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
          this.options.log(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      this.running = undefined;
    })();
  }

  private async reconcile(): Promise<void> {
    this.counters.reconciles += 1;
    const s = this.state;
    const errors: string[] = [];

    // 1. Our own registration on the broker (idempotent; repairs deletions by others).
    try {
      const outcome = await publishRegistration(this.client, s, this.publicKey);
      if (outcome.cluster !== 'unchanged' || outcome.endpoint !== 'unchanged') {
        this.options.log(`registration: Cluster ${outcome.cluster}, Endpoint ${outcome.endpoint}`);
      }
      this.published = { endpointName: `${s.clusterId}`, error: null };
    } catch (err) {
      this.published = { endpointName: null, error: err instanceof Error ? err.message : String(err) };
      errors.push(`publishing registration: ${this.published.error}`);
    }

    // 2. Plan from the broker snapshot (only once both collections have been listed: an empty
    //    snapshot must never remove working peers).
    if (this.clusters.synced && this.endpoints.synced) {
      const { clusters, endpoints, malformed } = this.snapshot();
      const routes = await localRoutes(this.options.runner, s.interfaceName);
      const planned = planMembers({
        self: {
          clusterId: s.clusterId,
          addresses: s.addresses,
          localRoutes: routes,
          subnets: s.addresses.map((a) => `${a}/32`),
        },
        clusters,
        endpoints,
      });
      this.plan = { members: planned.members, rejected: [...planned.rejected, ...malformed] };
      this.reportRejections(this.plan.rejected);
    }

    // 3. WireGuard device and peers.
    const device = this.device!;
    const wg = await device.reconcile({
      privateKey: this.privateKey,
      listenPort: s.port,
      peers: this.plan.members.map((m) => ({
        publicKey: m.publicKey,
        presharedKey: this.psk,
        endpoint: `${m.endpoint.host}:${m.endpoint.port}`,
        allowedIPs: m.allowedIPs,
        persistentKeepalive: 10,
      })),
    });
    for (const e of wg.errors) errors.push(`wireguard ${e.change.kind}: ${e.error.message}`);
    for (const c of wg.applied)
      if (c.kind !== 'set-interface') this.options.log(`wireguard: ${describeChange(c)}`);

    // 4. Link MTU from the underlay towards the peers, addresses, then routes (they need both).
    const endpointIps = this.plan.members.map((m) => m.endpoint.host);
    if (endpointIps.length > 0) {
      try {
        this.mtu = await tunnelMtuFor(this.netlink, endpointIps);
      } catch (err) {
        errors.push(`MTU: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const link = await reconcileLink(this.netlink, s.interfaceName, {
      up: true,
      ...(this.mtu ? { mtu: this.mtu } : {}),
    });
    for (const e of link.errors) errors.push(`link: ${e.error.message}`);
    const addrs = await reconcileAddresses(
      this.netlink,
      s.interfaceName,
      s.addresses.map((a) => `${a}/32`),
    );
    for (const e of addrs.errors) errors.push(`address: ${e.error.message}`);
    const routes = await this.routes.reconcile(
      this.plan.members.flatMap((m) =>
        m.allowedIPs.map((dst) => ({
          dst,
          dev: s.interfaceName,
          src: s.addresses[0],
          scope: 'link' as const,
        })),
      ),
    );
    for (const e of routes.errors) errors.push(`route: ${e.error.message}`);
    for (const c of routes.applied) this.options.log(`route ${c.op} ${c.route.dst}`);

    // 5. Health checks through the tunnel, from our clusterset address.
    this.pinger.update(
      this.plan.members.flatMap((m) => (m.healthCheckIP ? [m.healthCheckIP] : [])),
      s.addresses[0],
    );
    this.applyErrors = errors;
    this.counters.applyErrors += errors.length;
    for (const e of errors) this.options.log(`apply: ${e}`);
    await this.refreshStatus();
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
      if (r.ok) endpoints.push(r.value);
      else {
        const meta = (raw.metadata ?? {}) as { name?: string; labels?: Record<string, string> };
        malformed.push({
          clusterId: meta.labels?.['submariner-io/clusterID'] ?? '',
          endpointName: meta.name ?? '',
          reason: `malformed Endpoint: ${r.reason}`,
          code: 'malformed',
        });
      }
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
      this.options.log(`rejected Endpoint ${r.endpointName} of cluster "${r.clusterId}": ${r.reason}`);
    }
  }

  private async refreshStatus(): Promise<void> {
    if (!this.device || this.stopped) return;
    let peers = new Map<
      string,
      { latestHandshake: Date | null; rxBytes: number; txBytes: number; endpoint: string | null }
    >();
    let listenPort = this.state.port;
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
    const connections: ConnectionStatus[] = this.plan.members.map((m) => {
      const c = connectionStatus(
        m,
        peers.get(m.publicKey),
        m.healthCheckIP ? this.pinger.tracker.get(m.healthCheckIP) : undefined,
        now,
      );
      const prev = this.since.get(m.clusterId);
      const since = prev && prev.status === c.status ? prev.at : now;
      this.since.set(m.clusterId, { status: c.status, at: since });
      return { ...c, since };
    });
    const status: AgentStatus = {
      version: 1,
      updatedAt: new Date(now).toISOString(),
      pid: process.pid,
      clusterId: this.state.clusterId,
      addresses: this.state.addresses,
      interface: {
        name: this.state.interfaceName,
        driver: this.driverName,
        publicKey: this.publicKey,
        listenPort,
        mtu: this.mtu,
      },
      broker: {
        server: this.state.broker.server,
        namespace: this.state.broker.namespace,
        synced: this.clusters.synced && this.endpoints.synced,
        lastError: (this.endpoints.lastError ?? this.clusters.lastError)?.message ?? null,
      },
      registration: {
        published: this.published.error === null && this.published.endpointName !== null,
        endpointName: this.published.endpointName,
        lastError: this.published.error,
      },
      connections,
      rejected: this.plan.rejected.filter((r) => r.code !== 'superseded'),
      applyErrors: this.applyErrors,
      counters: { ...this.counters },
    };
    try {
      writeStatus(this.options.stateDir, status);
    } catch (err) {
      this.options.log(`cannot write status: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function describeChange(c: { kind: string; publicKey?: string; reason?: string }): string {
  return `${c.kind}${c.publicKey ? ` ${c.publicKey.slice(0, 8)}…` : ''}${c.reason ? ` (${c.reason})` : ''}`;
}
