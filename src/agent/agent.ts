// `moor agent`: the host as a pseudo-cluster, wired on the reconciler core. The cable engine does
// the cables from the state `moor join` wrote (the host's clusterset addresses on the WireGuard
// link, its persistent key, its Cluster/Endpoint re-asserted on every resync); this adds what only
// a host has, as more stages of the same reconcile: the clusterset DNS server with the host
// resolver routed to it, and the host's exports. The last accepted broker state is kept in the
// state directory, so a restart with the broker down keeps every tunnel and every DNS name.
import { wireguardPsk } from '../broker/psk.ts';
import { usableForDns } from '../cables/connectionStatus.ts';
import { CableEngine } from '../cables/engine.ts';
import { brokerMemberCollections, type CablePorts, createCablePorts } from '../cables/ports.ts';
import { type AgentStatus, readStatus, writeStatus } from '../cables/status.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import { detectPrivateIp } from '../dataplane/netlink/underlay.ts';
import { publicKeyOf } from '../dataplane/wireguard/keys.ts';
import { ClustersetEgressFeed } from '../dns/egress-feed.ts';
import { UdpForwarder } from '../dns/forwarder.ts';
import { HostResolverIntegration, type ResolverOutcome } from '../dns/resolver.ts';
import { ClustersetDns } from '../dns/service.ts';
import { MoorError } from '../errors.ts';
import { ExportHealthLoop } from '../exports/health.ts';
import { ExportPublisher, publisherIdentity } from '../exports/publisher.ts';
import { loadExports } from '../exports/store.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { NO_CHANGE, OutcomeBuilder, type ReconcileOutcome } from '../reconcile/outcome.ts';
import { FileSnapshotStore } from '../reconcile/snapshot.ts';
import type { Stage } from '../reconcile/stage.ts';
import { publishRegistration } from './registration.ts';
import { brokerClientOptions, type HostState, loadPrivateKey, loadState, saveState } from './state.ts';

export interface AgentOptions {
  stateDir: string;
  runner: CommandRunner;
  log: (line: string) => void;
  resyncMs?: number;
  statusIntervalMs?: number;
  driver?: 'kernel' | 'wireguard-go';
  /** Where the clusterset DNS listens; default the host's first clusterset address, port 53. */
  dns?: { address: string; port: number } | 'off';
  /** Upstream servers for names outside the clusterset zones (default: answer REFUSED). */
  dnsForward?: string[];
  /** Kernel, WireGuard, pings and clock; default: the real ones (createCablePorts). */
  ports?: CablePorts & { driverReason?: string };
}

export class HostAgent {
  readonly state: HostState;
  /** Resolves when the tunnel interface, its addresses and routes are set up and the DNS
   * listener is up (systemd READY=1); from the broker, or from the snapshot while it is down. */
  readonly ready: Promise<void>;
  private engineInstance: CableEngine | undefined;
  private readonly privateKey: string;
  private readonly client: KubeRestClient;
  private readonly options: AgentOptions;
  private readonly snapshots: FileSnapshotStore;
  private readonly dns: ClustersetDns | undefined;
  /** Every member's egress names from the broker, fed into the DNS server. */
  private readonly egressNames: ClustersetEgressFeed | undefined;
  private readonly resolver: HostResolverIntegration | undefined;
  private resolverOutcome: ResolverOutcome | undefined;
  private dnsStarted = false;
  private forwarder: UdpForwarder | undefined;
  private readonly exportPublisher: ExportPublisher;
  private readonly exportHealth: ExportHealthLoop;
  private resolveReady!: () => void;
  private readonly reconciledListeners = new Set<(o: ReconcileOutcome) => void>();

  constructor(options: AgentOptions) {
    this.options = options;
    const state = loadState(options.stateDir);
    this.state = state;
    const privateKey = loadPrivateKey(options.stateDir);
    if (!privateKey) {
      throw new MoorError('not-found', `the WireGuard key is missing from ${options.stateDir}`, {
        hint: 'the state is incomplete: run `moor leave broker-info.subm` and join again',
      });
    }
    this.privateKey = privateKey;
    this.ready = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    this.snapshots = new FileSnapshotStore(options.stateDir, options.log);
    const b = state.broker;
    this.client = new KubeRestClient(brokerClientOptions(b));
    const client = this.client;

    const listen =
      options.dns === 'off'
        ? undefined
        : (options.dns ?? { address: state.addresses[0] ?? '127.0.0.1', port: 53 });
    if (listen) {
      this.forwarder = options.dnsForward?.length
        ? new UdpForwarder({ upstreams: options.dnsForward })
        : undefined;
      this.dns = new ClustersetDns({
        ...(this.forwarder ? { forwarder: this.forwarder } : {}),
        client,
        namespace: b.namespace,
        localClusterId: state.clusterId,
        customDomains: state.customDomains,
        listen,
        log: options.log,
        snapshots: this.snapshots,
        onReady: () => void this.engineInstance?.refreshStatus(),
      });
      const dns = this.dns;
      this.egressNames = new ClustersetEgressFeed({
        client,
        namespace: b.namespace,
        onIndex: (index) => dns.updateEgress(index),
        log: options.log,
        snapshots: this.snapshots,
      });
      this.resolver = new HostResolverIntegration({
        runner: options.runner,
        stateDir: options.stateDir,
        interfaceName: state.interfaceName,
        server: listen,
        customDomains: state.customDomains,
        log: options.log,
      });
    }
    const exports = () => loadExports(options.stateDir);
    this.exportPublisher = new ExportPublisher({
      api: client,
      identity: publisherIdentity(state),
      loadExports: exports,
      log: options.log,
    });
    this.exportHealth = new ExportHealthLoop({
      publisher: this.exportPublisher,
      loadExports: exports,
      log: options.log,
    });
  }

  /** The cable engine; undefined before start(). */
  get engine(): CableEngine | undefined {
    return this.engineInstance;
  }

  /** The latest status document; undefined before the first. */
  status(): AgentStatus | undefined {
    return this.engineInstance?.status();
  }

  /** Every completed reconcile (systemd WATCHDOG=1); returns the unsubscribe. */
  onReconciled(cb: (o: ReconcileOutcome) => void): () => void {
    this.reconciledListeners.add(cb);
    return () => this.reconciledListeners.delete(cb);
  }

  async start(): Promise<void> {
    const o = this.options;
    const state = this.state;
    const ports =
      o.ports ??
      (await createCablePorts({
        runner: o.runner,
        stateDir: o.stateDir,
        log: o.log,
        ...(o.driver ? { driver: o.driver } : {}),
      }));
    o.log(
      `WireGuard driver: ${ports.wireguard.driver}${ports.driverReason ? ` (${ports.driverReason})` : ''}`,
    );
    const client = this.client;
    const publicKey = publicKeyOf(this.privateKey);
    const previous = readStatus(o.stateDir);
    const engine = new CableEngine({
      cables: {
        clusterId: state.clusterId,
        privateKey: this.privateKey,
        listenPort: state.port,
        selfAddresses: state.addresses,
        selfSubnets: state.addresses.map((a) => `${a}/32`),
        tunnel: {
          interfaceName: state.interfaceName,
          presharedKey: wireguardPsk(state.psk),
          keepaliveSeconds: 10,
          interfaceAddresses: state.addresses,
          routeSource: state.addresses[0] ?? '',
        },
        log: o.log,
      },
      ports,
      members: brokerMemberCollections(client, state.broker.namespace),
      broker: { server: state.broker.server, namespace: state.broker.namespace },
      driverName: ports.wireguard.driver,
      publish: async () => {
        await this.followPrivateIp(ports);
        const outcome = await publishRegistration(client, state, publicKey);
        for (const old of outcome.removedEndpoints) o.log(`registration: removed our old Endpoint ${old}`);
        if (outcome.cluster !== 'unchanged' || outcome.endpoint !== 'unchanged') {
          o.log(`registration: Cluster ${outcome.cluster}, Endpoint ${outcome.endpoint}`);
        }
        return outcome.endpointName;
      },
      stages: [this.dnsStage(), this.resolverStage(), this.exportsStage()],
      statusSections: [() => this.extraStatus()],
      snapshots: this.snapshots,
      ...(previous ? { previousRegistration: previous.registration } : {}),
      writeStatus: (s) => writeStatus(o.stateDir, s),
      ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
      ...(o.statusIntervalMs ? { statusIntervalMs: o.statusIntervalMs } : {}),
      log: o.log,
    });
    this.engineInstance = engine;
    engine.onStatus((s) =>
      this.dns?.setConnectedClusters(s.connections.filter(usableForDns).map((c) => c.clusterId)),
    );
    engine.loop.onReconciled((outcome) => {
      for (const cb of this.reconciledListeners) cb(outcome);
    });
    void engine.tunnelReady.then(() => {
      if (!this.dns || this.dnsStarted) this.resolveReady();
    });
    engine.start();
    this.egressNames?.start();
    this.exportHealth.start();
  }

  async stop(): Promise<void> {
    await this.exportHealth.stop();
    await this.engineInstance?.stop();
    await this.egressNames?.stop();
    await this.dns?.stop();
    await this.forwarder?.close();
    this.client.close();
  }

  /** DNS needs our address on the link before it can bind, so it starts after the cables. */
  private dnsStage(): Stage {
    return {
      name: 'dns',
      reconcile: async () => {
        if (!this.dns || this.dnsStarted) return NO_CHANGE;
        await this.dns.start();
        this.dnsStarted = true;
        const a = this.dns.address();
        this.options.log(`clusterset DNS listening on ${a?.address}:${a?.port}`);
        void this.engineInstance?.tunnelReady.then(() => this.resolveReady());
        return new OutcomeBuilder().applied1(`dns listen ${a?.address}:${a?.port}`).build();
      },
    };
  }

  /** The host resolver routes the clusterset zones to us; re-asserted on every reconcile. */
  private resolverStage(): Stage {
    return {
      name: 'resolver',
      reconcile: async () => {
        if (!this.resolver || !this.dnsStarted) return NO_CHANGE;
        const first = this.resolverOutcome === undefined;
        this.resolverOutcome = first ? await this.resolver.apply() : await this.resolver.ensure();
        if (first || this.resolverOutcome.changed) {
          return new OutcomeBuilder().applied1(`resolver ${this.resolverOutcome.summary}`).build();
        }
        return NO_CHANGE;
      },
    };
  }

  /** Our exported services, re-asserted on the broker (repairs deletions by others). */
  private exportsStage(): Stage {
    return {
      name: 'exports',
      reconcile: async () => {
        const result = await this.exportPublisher.reassertAll();
        const out = new OutcomeBuilder();
        for (const e of result.errors) out.fail('exports', new Error(e));
        return out.build();
      },
    };
  }
  private extraStatus(): Pick<AgentStatus, 'dns' | 'exports'> {
    const stats = this.dns?.stats();
    const a = this.dns?.address();
    const exports = this.exportHealth.status();
    return {
      ...(stats
        ? {
            dns: {
              listen: a ? `${a.address}:${a.port}` : '',
              ready: stats.ready,
              services: stats.services,
              problems: stats.problems,
              brokerError: stats.brokerError,
              fromSnapshot: stats.fromSnapshot,
              egress: this.egressStatus(),
              resolver: this.resolverOutcome
                ? {
                    kind: this.resolverOutcome.kind,
                    summary: this.resolverOutcome.summary,
                    instructions: this.resolverOutcome.instructions,
                  }
                : null,
            },
          }
        : {}),
      exports: exports.map((e) => ({ name: e.name, namespace: e.namespace, ready: e.ready ?? null })),
    };
  }

  private egressStatus(): NonNullable<AgentStatus['dns']>['egress'] {
    const e = this.egressNames?.stats();
    if (!e) return undefined;
    return {
      ready: e.ready,
      clusters: e.clusters,
      egressIPs: e.reverseNames,
      ignored: e.problems.map((p) => `${p.object} (${p.code})`),
      accessError: e.accessError,
    };
  }

  /** A detected private IP follows the underlay (DHCP renumbering, a moved VM): the cable name
   * changes with it, so a new Endpoint is published and the old one removed. */
  private async followPrivateIp(ports: CablePorts): Promise<void> {
    if (!this.state.privateIpDetected) return;
    let current: string;
    try {
      current = await detectPrivateIp(ports.netlink);
    } catch {
      return; // no default route right now: keep what we have
    }
    if (current === this.state.privateIp || this.state.addresses.includes(current)) return;
    this.options.log(`private IP changed from ${this.state.privateIp} to ${current}`);
    this.state.privateIp = current;
    saveState(this.options.stateDir, this.state);
  }
}
