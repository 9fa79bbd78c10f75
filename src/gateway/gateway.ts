// `moor gateway`: the cluster end of the cables, for clusters that do not run Submariner. Every
// gateway node runs it; the shared HA module (src/ha) makes one of them active. Like a real
// Submariner gateway, each start uses a fresh WireGuard key; the active gateway publishes its
// cluster's Cluster and Endpoint, removes the previous active node's Endpoint, terminates cables
// from every member and routes their subnets, and holds the floating address the cluster's
// nodes route remote subnets to.
//
// Standbys are WARM: their cables are already programmed (interface, peers, routes) with their
// own key, but they hold no address and publish nothing, so no member sends them traffic. A
// takeover is then the floating address, its gratuitous ARP and one Endpoint write. A gateway
// that loses the role drops the floating address first, then its cables, and warms up again
// with a fresh key as a standby.
import { wireguardPsk } from '../broker/psk.ts';
import { CableEngine } from '../cables/engine.ts';
import {
  brokerMemberCollections,
  type CablePorts,
  createCablePorts,
  type MemberCollectionsFactory,
} from '../cables/ports.ts';
import { type AgentStatus, writeStatus } from '../cables/status.ts';
import type { AddressHolderPort, HeldAddress } from '../dataplane/address-holder.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import type { NetlinkBasic } from '../dataplane/netlink/types.ts';
import { UdpDatagrams } from '../dataplane/udp.ts';
import { generateKeyPair } from '../dataplane/wireguard/keys.ts';
import { HeartbeatChannel } from '../ha/heartbeatChannel.ts';
import { deriveHeartbeatKey } from '../ha/heartbeatCodec.ts';
import { KubeLease } from '../ha/kubeLease.ts';
import { HaMember, type HaStatus } from '../ha/member.ts';
import type { HeartbeatPort, LeasePort } from '../ha/ports.ts';
import type { HaTimings } from '../ha/timings.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import type { Clock } from '../reconcile/clock.ts';
import { type GatewayIdentity, publishGateway } from './registration.ts';

export interface GatewayHaOptions {
  namespace: string;
  name: string;
  identity: string;
  timings: HaTimings;
  /** Direct heartbeats; undefined: Lease only (a standby notices by polling, ~2.6 s). */
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
  /** For removing a previous run's WireGuard interface. */
  links: Pick<NetlinkBasic, 'linkGet' | 'linkDelete'>;
  ha: GatewayHaOptions;
  stateDir: string;
  runner: CommandRunner;
  log: (line: string) => void;
  driver?: 'kernel' | 'wireguard-go';
  resyncMs?: number;
  /** Ports for unit tests; production builds each from the options above. */
  ports?: GatewayPorts;
}

/** What the gateway talks to besides addresses and links, injectable for unit tests. */
export interface GatewayPorts {
  /** The kernel side of the cables (netlink, WireGuard, pings, clock). */
  cables?: () => Promise<CablePorts & { wireguard: { driver: string } }>;
  /** The broker's Clusters and Endpoints. */
  members?: MemberCollectionsFactory;
  lease?: LeasePort;
  heartbeats?: HeartbeatPort;
  /** Writes our Cluster and Endpoint (default: publishGateway on the broker). */
  publish?: (publicKey: string) => Promise<string>;
}

export class GatewayService {
  private readonly o: GatewayOptions;
  private member: HaMember | undefined;
  private engine: CableEngine | undefined;
  /** Only the active gateway's engine publishes; a standby's publish is a no-op. */
  private publishing = false;
  private stopping = false;
  private warming: Promise<void> = Promise.resolve();
  /** Address changes run in the order they were asked for: a drop never overtakes a take. */
  private addressChain: Promise<void> = Promise.resolve();

  constructor(options: GatewayOptions) {
    this.o = options;
  }

  get active(): boolean {
    return this.member?.active === true && this.publishing;
  }

  /** The active engine's status document; undefined while standby. */
  status(): AgentStatus | undefined {
    return this.active ? this.engine?.status() : undefined;
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
    let heartbeats: HeartbeatPort | undefined = o.ports?.heartbeats;
    if (!heartbeats && o.ha.heartbeat) {
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
      lease: o.ports?.lease ?? new KubeLease(o.cluster, o.ha.namespace, o.ha.name),
      heartbeats,
      clock: o.ha.clock,
      timings: o.ha.timings,
      activate: () => this.activate(),
      deactivate: () => this.deactivate(),
      log: (line) => o.log(`ha ${group}: ${line}`),
    });
    this.warming = this.warmUp();
    o.log(
      `gateway ${o.ha.identity}: passive, campaigning for ${group}` +
        (heartbeats
          ? ` (heartbeats on ${o.ha.heartbeat?.port}/udp to ${o.ha.heartbeat?.destinations.join(', ')})`
          : ' (no heartbeat key: a standby notices a dead leader only by reading the Lease every 2 s)'),
    );
    this.member.start();
  }

  /** Graceful stop: the floating address goes first, then the cables, then the Lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.member?.stop();
    await this.warming.catch(() => undefined);
    await this.stopEngine();
  }

  private changeAddresses(op: (a: AddressHolderPort) => Promise<void>): Promise<void> {
    const next = this.addressChain.then(() => op(this.o.addresses));
    this.addressChain = next.catch(() => undefined);
    return next;
  }

  /** Cables programmed with a fresh key, publishing nothing until this node is active. */
  private async warmUp(): Promise<void> {
    const o = this.o;
    const { privateKey } = generateKeyPair(); // a fresh key per warm-up, like Submariner per start
    const id = o.identity;
    let publicKey = '';
    const ports = o.ports?.cables
      ? await o.ports.cables()
      : await createCablePorts({
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
      members: o.ports?.members ?? brokerMemberCollections(o.broker, id.namespace),
      broker: { server: o.broker.server, namespace: id.namespace },
      driverName: ports.wireguard.driver,
      publish: () => (this.publishing ? this.publish(publicKey) : Promise.resolve('')),
      writeStatus: (s) => writeStatus(o.stateDir, s),
      log: o.log,
      ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
    });
    publicKey = engine.publicKey;
    if (this.stopping) return;
    this.engine = engine;
    engine.start();
  }

  private async activate(): Promise<void> {
    const vip = this.o.vip;
    // The address (the cluster's nodes send to it) and the Endpoint (every member waits for the
    // new key) at once: the warm cables carry traffic as soon as both are out.
    const address = vip ? this.changeAddresses((a) => a.take([vip])) : Promise.resolve();
    const published = this.publishNow();
    await address;
    await published;
    if (this.member?.active) this.o.log(`gateway ${this.o.ha.identity}: active`);
  }

  private async publishNow(): Promise<void> {
    await this.warming;
    if (!this.member?.active) return;
    this.publishing = true;
    const engine = this.engine;
    // Cables already programmed (one reconcile done): publish directly, not after the next
    // reconcile has re-read the kernel; the engine's registration stage re-asserts it anyway.
    // Before that, publishing early would make members handshake with a half-made interface.
    if (engine?.loop.last && engine.loop.last.errors.length === 0) {
      await this.publish(engine.publicKey).catch((err: unknown) =>
        this.o.log(
          `publishing on activation: ${err instanceof Error ? err.message : String(err)} (the engine retries)`,
        ),
      );
    }
    engine?.markDirty('became the active gateway');
  }

  private publish(publicKey: string): Promise<string> {
    return this.o.ports?.publish
      ? this.o.ports.publish(publicKey)
      : publishGateway(this.o.broker, this.o.identity, publicKey);
  }

  private async deactivate(): Promise<void> {
    this.publishing = false;
    const vip = this.o.vip;
    // FIRST: the floating address, before waiting for anything else.
    if (vip) await this.changeAddresses((a) => a.drop([vip]));
    await this.warming.catch(() => undefined);
    await this.stopEngine();
    this.o.log(`gateway ${this.o.ha.identity}: passive`);
    if (!this.stopping) this.warming = this.warmUp();
  }

  private async stopEngine(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    if (engine) await engine.stop();
    await this.removeInterface();
  }

  private async removeInterface(): Promise<void> {
    if (await this.o.links.linkGet(this.o.interfaceName)) await this.o.links.linkDelete(this.o.interfaceName);
  }
}
