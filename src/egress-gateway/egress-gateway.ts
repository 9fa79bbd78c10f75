// The egress gateway role (`moor egress-gateway`) on every node a group's nodeSelector selects.
// Every node programs the same nft table and VXLAN device (standbys too), so a takeover is
// addresses plus gratuitous ARP. One HaMember per group (src/ha, Lease fencing) elects the active node; on losing it the
// node drops the group's addresses FIRST, before anything else, so two nodes never answer for
// one egress IP longer than the lease fencing allows.
import {
  type ArpAnnouncer,
  describeEgressLinkChange,
  describeRouteChange,
  describeRuleChange,
  type EgressLinkBasic,
  type NetlinkBasic,
  type NftablesBasic,
  OwnedTable,
  reconcileAddresses,
  reconcileFdb,
  reconcileMarkedRouting,
  reconcileNeighbours,
  reconcileSysctls,
  reconcileVxlans,
  type SysctlBasic,
} from '../dataplane/index.ts';
import { UdpDatagrams } from '../dataplane/udp.ts';
import { monotonicClock } from '../ha/clock.ts';
import { HeartbeatChannel } from '../ha/heartbeatChannel.ts';
import { deriveHeartbeatKey } from '../ha/heartbeatCodec.ts';
import { KubeLease } from '../ha/kubeLease.ts';
import { HaMember } from '../ha/member.ts';
import { type HaTimings, validateTimings } from '../ha/timings.ts';
import { egressPaths } from '../k8s/egress-paths.ts';
import { type EgressSnapshot, EgressView } from '../k8s/egress-view.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { cidrLast, formatIpv4, tryParseCidr } from '../net/ipv4.ts';
import { type GatewayEgressDesired, planGatewayEgress } from '../plan/egress-gateway.ts';
import { GATEWAY_TABLE, GROUP_ROUTING, NODE_MAC_PREFIX, VXLAN_PREFIX } from '../plan/egress-names.ts';
import { readGateway, readGatewayStatus } from '../plan/egress-read.ts';
import type { GatewayInput } from '../plan/egress-types.ts';
import { OutcomeBuilder, ReconcileLoop, type ReconcileOutcome, waiting } from '../reconcile/index.ts';
import { gatewayGroupInputs, servedGroups } from './snapshot.ts';

export interface EgressGatewayPorts {
  netlink: NetlinkBasic;
  links: EgressLinkBasic;
  nft: NftablesBasic;
  sysctl: SysctlBasic;
  arp: ArpAnnouncer;
}

export interface EgressGatewayOptions {
  client: KubeRestClient;
  nodeName: string;
  identity: string;
  leaseNamespace: string;
  /** HA timings of every group's member (src/ha). */
  timings: HaTimings;
  /** Heartbeats between the gateways of a group (to the subnet's broadcast address); without
   * them a standby takes over only once the Lease has lapsed. */
  heartbeat?: { secret: Buffer; port: number };
  ports: EgressGatewayPorts;
  resyncMs?: number;
  log: (line: string) => void;
}

export class EgressGatewayRole {
  readonly loop: ReconcileLoop;
  readonly #o: EgressGatewayOptions;
  readonly #view: EgressView;
  readonly #table: OwnedTable;
  readonly #members = new Map<string, HaMember>();
  readonly #active = new Set<string>();
  /** Addresses announced since they were added, per group; cleared on deactivation. */
  readonly #announced = new Map<string, Set<string>>();
  #groups: GatewayInput[] = [];
  #last: GatewayEgressDesired | undefined;
  #stopping = false;

  constructor(o: EgressGatewayOptions) {
    this.#o = o;
    this.#table = new OwnedTable(o.ports.nft, GATEWAY_TABLE, 'ip');
    this.#view = new EgressView({
      client: o.client,
      collections: ['gateways', 'policies', 'namespaces', 'pods', 'nodes'],
      onChange: (what) => this.loop.markDirty(what),
      onError: (what, err) => o.log(`egress-gateway: watching ${what} failed: ${err.message} (retrying)`),
    });
    this.loop = new ReconcileLoop({
      name: 'egress-gateway',
      reconcile: () => this.#reconcile(),
      debounceMs: 10,
      resyncMs: o.resyncMs ?? 30_000,
      log: o.log,
    });
  }

  get activeGroups(): string[] {
    return [...this.#active].sort();
  }

  get desired(): GatewayEgressDesired | undefined {
    return this.#last;
  }

  start(): void {
    this.#view.start();
    this.loop.start();
  }

  /** Graceful: release every lease (addresses dropped first), keep the nft state. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const name of [...this.#active]) await this.#deactivate(name);
    await Promise.all([...this.#members.values()].map((m) => m.stop()));
    await Promise.all(this.#sockets.map((s) => s.close()));
    await this.loop.stop();
    await this.#view.stop();
  }

  readonly #sockets: UdpDatagrams[] = [];

  async #member(g: GatewayInput): Promise<HaMember> {
    let m = this.#members.get(g.name);
    if (!m) {
      const group = `${this.#o.leaseNamespace}/moor-egress-${g.name}`;
      let heartbeats: HeartbeatChannel | undefined;
      const hb = this.#o.heartbeat;
      const broadcast = broadcastOf(g.subnet);
      if (hb && broadcast) {
        // One socket per group on the shared port: broadcasts reach every socket, and each
        // channel drops the other groups' heartbeats by their signed group name.
        const datagrams = await UdpDatagrams.open({
          port: hb.port,
          destinations: [broadcast],
          log: this.#o.log,
        });
        this.#sockets.push(datagrams);
        heartbeats = new HeartbeatChannel({
          datagrams,
          key: deriveHeartbeatKey(hb.secret, group),
          group,
          self: this.#o.identity,
          log: this.#o.log,
        });
      }
      if (this.#members.has(g.name)) return this.#members.get(g.name) as HaMember;
      m = new HaMember({
        identity: this.#o.identity,
        lease: new KubeLease(this.#o.client, this.#o.leaseNamespace, `moor-egress-${g.name}`),
        heartbeats,
        clock: monotonicClock,
        timings: validateTimings(this.#o.timings),
        activate: async () => {
          if (this.#stopping) return;
          this.#active.add(g.name);
          await this.#takeOver(g.name);
          if (heartbeats)
            this.#o.log(
              `egress-gateway: active for ${g.name}; heartbeats accepted ${heartbeats.accepted}, rejected ${JSON.stringify(heartbeats.rejected)}`,
            );
          this.loop.markDirty(`leading ${g.name}`);
        },
        deactivate: async () => {
          await this.#deactivate(g.name);
          this.loop.markDirty(`lost ${g.name}`);
        },
        log: (line) => this.#o.log(`ha ${g.name}: ${line}`),
      });
      this.#members.set(g.name, m);
      m.start();
    }
    return m;
  }

  /** Addresses first: nothing else happens before this node stops answering for the group. */
  async #deactivate(name: string): Promise<void> {
    this.#active.delete(name);
    this.#announced.delete(name);
    const g = this.#groups.find((x) => x.name === name);
    if (!g) return;
    const drop = new Set(this.#groupAddresses(name));
    const keep = (this.#last?.addresses.find((a) => a.dev === g.interface)?.cidrs ?? []).filter(
      (c) => !drop.has(c.split('/')[0] ?? ''),
    );
    const r = await reconcileAddresses(this.#o.ports.netlink, g.interface, keep, {
      manage: (c) => drop.has(c.split('/')[0] ?? ''),
    });
    for (const e of r.errors) this.#o.log(`egress-gateway: dropping ${name}'s addresses: ${e.error.message}`);
  }

  /** The fast path of a takeover: the nft state is pre-programmed, so only the addresses (the
   * floating IP and the egress IPs together) and the gratuitous ARP remain; the full reconcile
   * follows. */
  async #takeOver(name: string): Promise<void> {
    const g = this.#groups.find((x) => x.name === name);
    const subnet = g ? tryParseCidr(g.subnet, { allowHostBits: true }) : undefined;
    if (!g || !subnet?.ok) return;
    const { netlink, arp } = this.#o.ports;
    const present = new Set((await netlink.addrList(g.interface)).map((a) => a.cidr.split('/')[0]));
    for (const address of this.#groupAddresses(name)) {
      if (present.has(address)) continue;
      try {
        await netlink.addrAdd(g.interface, `${address}/${subnet.value.prefix}`);
      } catch (err) {
        this.#o.log(
          `egress-gateway: taking ${address} for ${name}: ${err instanceof Error ? err.message : err}`,
        );
        continue;
      }
      const done = this.#announced.get(name) ?? new Set<string>();
      this.#announced.set(name, done);
      done.add(address);
      void arp.announce(g.interface, address).catch(() => undefined);
    }
  }

  #groupAddresses(name: string): string[] {
    const g = this.#groups.find((x) => x.name === name);
    const input = this.#last && g ? g : undefined;
    if (!input) return [];
    const snapshot = this.#view.snapshot();
    if (!snapshot) return [input.floatingIP];
    const [group] = gatewayGroupInputs([input], new Set(), snapshot, allGateways(snapshot));
    return [input.floatingIP, ...(group?.egressIPs ?? [])];
  }

  async #reconcile(): Promise<ReconcileOutcome> {
    const snapshot = this.#view.snapshot();
    if (!snapshot) return waiting(`not listed yet: ${this.#view.unsynced().join(', ')}`);
    const { netlink, links, sysctl, nft: _nft } = this.#o.ports;
    this.#groups = servedGroups(this.#o.nodeName, snapshot);
    for (const g of this.#groups) await this.#member(g);
    for (const [name, m] of this.#members)
      if (!this.#groups.some((g) => g.name === name)) {
        this.#members.delete(name);
        await this.#deactivate(name);
        await m.stop();
      }
    const inputs = gatewayGroupInputs(this.#groups, this.#active, snapshot, allGateways(snapshot));
    const out = new OutcomeBuilder();
    const lanMtu = (await netlink.linkGet(this.#groups[0]?.interface ?? 'lo'))?.mtu ?? 1500;
    const desired = planGatewayEgress(inputs, lanMtu);
    this.#last = desired;
    out.add(
      'vxlan',
      await reconcileVxlans(
        links,
        VXLAN_PREFIX,
        desired.vxlans.map((v) => ({ ...v })),
      ),
      describeEgressLinkChange,
    );
    out.add('sysctl', await reconcileSysctls(sysctl, desired.sysctls), describeEgressLinkChange);
    for (const v of desired.vxlanAddresses)
      out.add(
        'address',
        await reconcileAddresses(netlink, v.dev, v.cidrs),
        (c) => `${c.op} ${c.cidr} dev ${c.dev}`,
      );
    await this.#applyInbound(desired, out);
    out.add('nft', await this.#table.apply(desired.table), (c) => `${c.op} ${c.table} (${c.reason})`);
    // Addresses last: the nft state is in place before this node attracts any traffic.
    const mayHold = new Set(inputs.flatMap((i) => [i.gateway.floatingIP, ...i.egressIPs]));
    const devices = new Set(this.#groups.map((g) => g.interface));
    for (const dev of devices) {
      const cidrs = desired.addresses.find((a) => a.dev === dev)?.cidrs ?? [];
      out.add(
        'address',
        await reconcileAddresses(netlink, dev, cidrs, { manage: (c) => mayHold.has(c.split('/')[0] ?? '') }),
        (c) => `${c.op} ${c.cidr} dev ${c.dev}`,
      );
    }
    for (const a of desired.announce) await this.#announce(a.dev, a.addresses, inputs);
    await this.#publishActive(snapshot, out);
    return out.build();
  }

  /** Inbound paths into the tunnels (FDB, neighbours, routes, rules) before the nft table, so a
   * DNAT rule never points at a pod the gateway cannot reach yet. */
  async #applyInbound(desired: GatewayEgressDesired, out: OutcomeBuilder): Promise<void> {
    const { netlink, links } = this.#o.ports;
    const devices = desired.vxlans.map((v) => v.name);
    out.add(
      'fdb',
      await reconcileFdb(links, devices, desired.fdb, (mac) => mac.startsWith(NODE_MAC_PREFIX)),
      describeEgressLinkChange,
    );
    out.add('neighbour', await reconcileNeighbours(links, desired.neighbours), describeEgressLinkChange);
    const routing = await reconcileMarkedRouting(netlink, GROUP_ROUTING, desired);
    for (const t of routing.routes) out.add('route', t.result, describeRouteChange(t.table));
    out.add('rule', routing.rules, describeRuleChange);
  }

  async #announce(
    dev: string,
    addresses: string[],
    inputs: ReturnType<typeof gatewayGroupInputs>,
  ): Promise<void> {
    for (const i of inputs) {
      if (!i.active || i.gateway.interface !== dev) continue;
      const done = this.#announced.get(i.gateway.name) ?? new Set<string>();
      this.#announced.set(i.gateway.name, done);
      for (const a of addresses) {
        if (done.has(a) || !(a === i.gateway.floatingIP || i.egressIPs.includes(a))) continue;
        done.add(a);
        // Not awaited: arping lingers about a second after its frames have left.
        void this.#o.ports.arp
          .announce(dev, a)
          .catch((err: Error) =>
            this.#o.log(`egress-gateway: gratuitous ARP for ${a} failed: ${err.message}`),
          );
      }
    }
  }

  async #publishActive(snapshot: EgressSnapshot, out: OutcomeBuilder): Promise<void> {
    for (const name of this.#active) {
      const raw = snapshot.gateways.find((g) => g.metadata?.name === name);
      if (!raw || readGatewayStatus(raw).activeNode === this.#o.nodeName) continue;
      try {
        await this.#o.client.mergePatch(egressPaths.gatewayStatus(name), {
          status: { activeNode: this.#o.nodeName },
        });
        out.applied1(`status ${name} activeNode ${this.#o.nodeName}`);
      } catch (err) {
        out.fail('status', err, `EgressGateway ${name}`);
      }
    }
  }
}

function allGateways(snapshot: EgressSnapshot): GatewayInput[] {
  return snapshot.gateways.flatMap((raw) => {
    const r = readGateway(raw);
    return r.ok ? [r.value] : [];
  });
}

function broadcastOf(subnet: string): string | undefined {
  const c = tryParseCidr(subnet, { allowHostBits: true });
  return c.ok ? formatIpv4(cidrLast(c.value)) : undefined;
}
