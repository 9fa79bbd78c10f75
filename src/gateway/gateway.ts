// `moor gateway`: the cluster end of the cables, for clusters that do not run Submariner. Every
// gateway node runs it; the shared HA module (src/ha) makes one of them active. The active
// gateway, like a real Submariner gateway, starts with a fresh WireGuard key, publishes its
// cluster's Cluster and Endpoint, removes the previous active node's Endpoint, terminates cables
// from every member and routes their subnets; it also holds the floating address the cluster's
// nodes route remote subnets to. Passive gateways hold nothing. A gateway that loses the role
// drops the floating address first, then its cables, and campaigns again as a standby.
import { wireguardPsk } from '../broker/psk.ts';
import { CableEngine } from '../cables/engine.ts';
import type { AgentStatus } from '../cables/status.ts';
import type { AddressHolderPort, HeldAddress } from '../dataplane/address-holder.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import { UdpDatagrams } from '../dataplane/udp.ts';
import { generateKeyPair } from '../dataplane/wireguard/keys.ts';
import { HeartbeatChannel } from '../ha/heartbeatChannel.ts';
import { deriveHeartbeatKey } from '../ha/heartbeatCodec.ts';
import { KubeLease } from '../ha/kubeLease.ts';
import { HaMember, type HaStatus } from '../ha/member.ts';
import type { HaTimings } from '../ha/timings.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import type { Clock } from '../reconcile/clock.ts';
import { type GatewayIdentity, publishGateway } from './registration.ts';

export interface GatewayHaOptions {
  namespace: string;
  name: string;
  identity: string;
  timings: HaTimings;
  /** Direct heartbeats; undefined: Lease only (a standby waits the lease duration). */
  heartbeat?: { secret: Buffer; port: number; destinations: string[] };
  clock: Clock;
}

export interface GatewayOptions {
  identity: GatewayIdentity;
  broker: KubeRestClient;
  cluster: KubeRestClient;
  psk: string;
  interfaceName: string;
  /** The floating address (undefined: none). */
  vip: HeldAddress | undefined;
  addresses: AddressHolderPort;
  ha: GatewayHaOptions;
  stateDir: string;
  runner: CommandRunner;
  log: (line: string) => void;
  driver?: 'kernel' | 'wireguard-go';
  resyncMs?: number;
}

export class GatewayService {
  private readonly o: GatewayOptions;
  private member: HaMember | undefined;
  private engine: CableEngine | undefined;
  private activating: Promise<void> = Promise.resolve();
  /** Address changes run in the order they were asked for: a drop never overtakes a take. */
  private addressChain: Promise<void> = Promise.resolve();
  private generation = 0;

  constructor(options: GatewayOptions) {
    this.o = options;
  }

  get active(): boolean {
    return this.engine !== undefined;
  }

  /** The active engine's status document; undefined while passive. */
  status(): AgentStatus | undefined {
    return this.engine?.status();
  }

  ha(): HaStatus | undefined {
    return this.member?.status();
  }

  async start(): Promise<void> {
    const o = this.o;
    // Like Submariner: whatever a previous run left is removed; the active role starts clean.
    // That includes the floating address: a gateway killed while active (its node still up)
    // would otherwise hold it alongside the new active node.
    if (o.vip) await o.addresses.drop([o.vip]);
    await this.removeInterface();
    const group = `${o.ha.namespace}/${o.ha.name}`;
    let heartbeats: HeartbeatChannel | undefined;
    if (o.ha.heartbeat) {
      const hb = o.ha.heartbeat;
      const datagrams = await UdpDatagrams.open({ port: hb.port, destinations: hb.destinations, log: o.log });
      heartbeats = new HeartbeatChannel({
        datagrams,
        key: deriveHeartbeatKey(hb.secret, group),
        group,
        self: o.ha.identity,
        log: o.log,
      });
    }
    this.member = new HaMember({
      identity: o.ha.identity,
      lease: new KubeLease(o.cluster, o.ha.namespace, o.ha.name),
      heartbeats,
      clock: o.ha.clock,
      timings: o.ha.timings,
      activate: () => this.activate(),
      deactivate: () => this.deactivate(),
      log: (line) => o.log(`ha ${group}: ${line}`),
    });
    o.log(
      `gateway ${o.ha.identity}: passive, campaigning for ${group}` +
        (heartbeats
          ? ` (heartbeats on ${o.ha.heartbeat?.port}/udp to ${o.ha.heartbeat?.destinations.join(', ')})`
          : ' (no heartbeat key: a standby takes over only after the lease duration)'),
    );
    this.member.start();
  }

  /** Graceful stop: the floating address goes first, then the cables, then the Lease. */
  async stop(): Promise<void> {
    await this.member?.stop();
    await this.activating.catch(() => undefined);
  }

  private changeAddresses(op: (a: AddressHolderPort) => Promise<void>): Promise<void> {
    const next = this.addressChain.then(() => op(this.o.addresses));
    this.addressChain = next.catch(() => undefined);
    return next;
  }

  private activate(): Promise<void> {
    const gen = ++this.generation;
    this.activating = this.runActivation(gen);
    return this.activating;
  }

  private async runActivation(gen: number): Promise<void> {
    const o = this.o;
    const vip = o.vip;
    if (vip) await this.changeAddresses((a) => a.take([vip]));
    if (gen !== this.generation) return;
    const { privateKey } = generateKeyPair(); // a fresh key on every activation, like Submariner
    const id = o.identity;
    let publicKey = '';
    const engine = new CableEngine({
      clusterId: id.clusterId,
      namespace: id.namespace,
      client: o.broker,
      interfaceName: o.interfaceName,
      privateKey,
      listenPort: id.port,
      psk: wireguardPsk(o.psk),
      selfAddresses: id.healthCheckIp ? [id.healthCheckIp] : [],
      selfSubnets: [...id.serviceCidrs, ...id.clusterCidrs],
      interfaceAddresses: [],
      routeSource: id.healthCheckIp ?? '',
      publish: () => publishGateway(o.broker, id, publicKey),
      runner: o.runner,
      log: o.log,
      stateDir: o.stateDir,
      ...(o.driver ? { driver: o.driver } : {}),
      ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
    });
    publicKey = engine.publicKey;
    this.engine = engine;
    await engine.start();
    if (gen === this.generation) o.log(`gateway ${o.ha.identity}: active`);
  }

  private async deactivate(): Promise<void> {
    this.generation += 1;
    const vip = this.o.vip;
    // FIRST: the floating address, before waiting for anything else.
    if (vip) await this.changeAddresses((a) => a.drop([vip]));
    await this.activating.catch(() => undefined);
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await engine.stop();
    await this.removeInterface();
    this.o.log(`gateway ${this.o.ha.identity}: passive`);
  }

  private async removeInterface(): Promise<void> {
    const link = await this.o.runner.run(['ip', 'link', 'show', 'dev', this.o.interfaceName], {
      allowNonZeroExit: true,
    });
    if (link.code === 0) await this.o.runner.run(['ip', 'link', 'del', 'dev', this.o.interfaceName]);
  }
}
