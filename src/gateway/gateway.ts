// `moor gateway`: the cluster end of the cables, for clusters that do not run Submariner. Every
// gateway node runs it; a Lease elects the active one. The active gateway, like a real Submariner
// gateway, starts with a fresh WireGuard key, publishes its cluster's Cluster and Endpoint,
// removes the previous active node's Endpoint, terminates cables from every member and routes
// their subnets; it also holds the floating address the cluster's nodes route remote subnets to.
// Passive gateways hold nothing. A gateway that loses its lease gives everything up and exits,
// to be restarted clean by its supervisor (as Submariner's does).
import { wireguardPsk } from '../broker/psk.ts';
import { CableEngine } from '../cables/engine.ts';
import { brokerMemberCollections, createCablePorts } from '../cables/ports.ts';
import { type AgentStatus, writeStatus } from '../cables/status.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import { generateKeyPair } from '../dataplane/wireguard/keys.ts';
import { LeaderElector } from '../k8s/leaderElection.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { type GatewayIdentity, publishGateway } from './registration.ts';
import { claimVip, releaseVip, type Vip } from './vip.ts';

export interface GatewayOptions {
  identity: GatewayIdentity;
  broker: KubeRestClient;
  cluster: KubeRestClient;
  psk: string;
  interfaceName: string;
  vip: Vip | undefined;
  lease: {
    namespace: string;
    name: string;
    durationS: number;
    renewDeadlineS: number;
    retryPeriodS: number;
    identity?: string;
  };
  stateDir: string;
  runner: CommandRunner;
  log: (line: string) => void;
  driver?: 'kernel' | 'wireguard-go';
  resyncMs?: number;
  /** Called when leadership is lost; the CLI exits non-zero so the supervisor restarts us. */
  onFatal: (reason: string) => void;
}

export class GatewayService {
  private readonly o: GatewayOptions;
  private readonly elector: LeaderElector;
  private engine: CableEngine | undefined;
  private activating: Promise<void> | undefined;

  constructor(options: GatewayOptions) {
    this.o = options;
    this.elector = new LeaderElector({
      client: options.cluster,
      namespace: options.lease.namespace,
      name: options.lease.name,
      ...(options.lease.identity ? { identity: options.lease.identity } : {}),
      leaseDurationS: options.lease.durationS,
      renewDeadlineS: options.lease.renewDeadlineS,
      retryPeriodS: options.lease.retryPeriodS,
      log: options.log,
      onStartedLeading: () => {
        this.activating = this.activate().catch((err: unknown) => {
          this.o.onFatal(
            `could not become the active gateway: ${err instanceof Error ? err.message : String(err)}`,
          );
        });
      },
      onStoppedLeading: () => {
        void this.deactivate().finally(() => this.o.onFatal('lost the gateway lease'));
      },
    });
  }

  get active(): boolean {
    return this.engine !== undefined;
  }

  /** The active engine's status document; undefined while passive. */
  status(): AgentStatus | undefined {
    return this.engine?.status();
  }

  async start(): Promise<void> {
    // Like Submariner: whatever a previous run left is removed; the active role starts clean.
    // That includes the floating address: a gateway killed while active (its node still up)
    // would otherwise hold it alongside the new active node.
    await this.removeInterface();
    if (this.o.vip) await releaseVip(this.o.runner, this.o.vip);
    this.o.log(
      `gateway ${this.elector.identity}: passive, campaigning for ${this.o.lease.namespace}/${this.o.lease.name}`,
    );
    this.elector.start();
  }

  async stop(): Promise<void> {
    await this.activating;
    await this.deactivate();
    await this.elector.stop();
  }

  private async activate(): Promise<void> {
    const o = this.o;
    const { privateKey } = generateKeyPair(); // a fresh key on every activation, like Submariner
    if (o.vip) await claimVip(o.runner, o.vip, o.log);
    const id = o.identity;
    let publicKey = '';
    const ports = await createCablePorts({
      runner: o.runner,
      stateDir: o.stateDir,
      log: o.log,
      ...(o.driver ? { driver: o.driver } : {}),
    });
    const engine = new CableEngine({
      cables: {
        clusterId: id.clusterId,
        privateKey,
        listenPort: id.port,
        selfAddresses: id.healthCheckIp ? [id.healthCheckIp] : [],
        selfSubnets: [...id.serviceCidrs, ...id.clusterCidrs],
        tunnel: {
          interfaceName: o.interfaceName,
          presharedKey: wireguardPsk(o.psk),
          keepaliveSeconds: 10,
          interfaceAddresses: [],
          routeSource: id.healthCheckIp ?? '',
        },
        log: o.log,
      },
      ports,
      members: brokerMemberCollections(o.broker, id.namespace),
      broker: { server: o.broker.server, namespace: id.namespace },
      driverName: ports.wireguard.driver,
      publish: () => publishGateway(o.broker, id, publicKey),
      writeStatus: (s) => writeStatus(o.stateDir, s),
      log: o.log,
      ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
    });
    publicKey = engine.publicKey;
    this.engine = engine;
    engine.start();
    o.log(`gateway ${this.elector.identity}: active`);
  }

  private async deactivate(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await engine.stop();
    if (this.o.vip) await releaseVip(this.o.runner, this.o.vip);
    await this.removeInterface();
  }

  private async removeInterface(): Promise<void> {
    const link = await this.o.runner.run(['ip', 'link', 'show', 'dev', this.o.interfaceName], {
      allowNonZeroExit: true,
    });
    if (link.code === 0) await this.o.runner.run(['ip', 'link', 'del', 'dev', this.o.interfaceName]);
  }
}
