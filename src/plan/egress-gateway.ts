// The egress gateway's desired state as plain data. Active and standby gateways of a group
// program the same nft table and VXLAN device; only the active one also holds the addresses
// (the floating IP and every egress IP of the group, moved together) and announces them.
// So a takeover is addresses plus gratuitous ARP, nothing else.
//
//   forward (filter-10):   from a moor VXLAN: ct state invalid → drop (an INVALID packet gets no
//                          NAT and would leave with the pod IP); a source with no mapping → drop.
//   postrouting (srcnat-10): from a moor VXLAN out the LAN device: snat to map[pod IP]. A plain,
//                          deterministic SNAT that keeps the source port, so a new gateway picks
//                          an established TCP flow up (conntrack loose) with the same 4-tuple.
//   postrouting (srcnat+10): from a moor VXLAN with a source that is not an egress IP (nor
//                          local: the gateway's own VXLAN packets to nodes): drop.
//                          Nothing steered ever leaves un-translated, whatever ran before.
//   input (filter-10):     daddr an egress IP → drop. Return traffic of a known flow is
//                          translated before routing and is forwarded, so it never gets here;
//                          an unknown one is dropped instead of answered with a reset.
// Inbound (spec.ingress, ./egress-ingress.ts):
//   prerouting (dstnat):   from the LAN, egress IP + port → ct mark = group mark, DNAT to one
//                          target pod by a fixed-seed jhash of the client's address and port,
//                          so every gateway of the group picks the same pod for the same flow.
//   prerouting (dstnat+10): original direction of a marked flow → packet mark = ct mark; the
//                          rule fwmark MARK → table MARK routes the pod IP into the VXLAN, with
//                          a permanent neighbour (pod IP → the node's VXLAN MAC) and an FDB
//                          entry (that MAC → the node's InternalIP).
//   forward:               only marked (inbound) flows may leave by a moor VXLAN; SYN MSS clamp.
// Replies come back through the tunnel (the node agent routes them by ct mark) and conntrack
// undoes the DNAT, so they leave from the egress IP.
import type { NftTableSpec } from '../dataplane/nftables/model.ts';
import { type Ipv4Cidr, tryParseCidr } from '../net/ipv4.ts';
import type { IngressEntry } from './egress-ingress.ts';
import {
  groupMac,
  groupMark,
  INGRESS_HASH_SEED,
  INNER_GATEWAY,
  markText,
  nodeVxlanMac,
  RULE_PRIORITY,
  VXLAN_OVERHEAD,
  VXLAN_PREFIX,
  vxlanName,
} from './egress-names.ts';
import type { EgressRouteDesired, EgressRuleDesired, NeighbourDesired } from './egress-node.ts';
import type { PodAssignment } from './egress-pods.ts';
import type { GatewayInput } from './egress-types.ts';

export interface GatewayGroupInput {
  gateway: GatewayInput;
  /** Every egress IP allocated to a policy of this group (status.ips), even with no pods yet. */
  egressIPs: string[];
  /** Pods of this group's policies (from resolvePods), with addresses and egress IPs. */
  assignments: PodAssignment[];
  /** This node holds the group's role right now (from the HA module). */
  active: boolean;
  /** Inbound ports of this group's policies (planIngress); none without spec.ingress. */
  ingress?: IngressEntry[];
}

export interface FdbDesired {
  dev: string;
  mac: string;
  dst: string;
}

export interface GatewayVxlanDesired {
  name: string;
  vni: number;
  port: number;
  dev: string;
  mac: string;
  mtu: number;
}

export interface GatewayEgressDesired {
  vxlans: GatewayVxlanDesired[];
  /** Per LAN device: the addresses this node must hold ("a.b.c.d/prefix"), floating IP first. */
  addresses: { dev: string; cidrs: string[] }[];
  /** The inner gateway address on each VXLAN device, on every gateway: a device without an IPv4
   * address fails the kernel's reverse-path check (even loose) for everything it receives. */
  vxlanAddresses: { dev: string; cidrs: string[] }[];
  /** Addresses to announce with gratuitous ARP after adding them, per device. */
  announce: { dev: string; addresses: string[] }[];
  sysctls: { key: string; value: string }[];
  /** Inbound: pod IP → VXLAN (table = group mark), the rule to it, neighbours and FDB entries. */
  routes: EgressRouteDesired[];
  rules: EgressRuleDesired[];
  neighbours: NeighbourDesired[];
  fdb: FdbDesired[];
  table: Omit<NftTableSpec, 'name' | 'family'>;
}

export function planGatewayEgress(
  groups: readonly GatewayGroupInput[],
  underlayMtu: number,
): GatewayEgressDesired {
  const snat: [string, string][] = [];
  const mapped = new Set<string>();
  const egress = new Set<string>();
  const vxlans: GatewayVxlanDesired[] = [];
  const addresses = new Map<string, string[]>();
  const announce = new Map<string, string[]>();
  const sysctls: GatewayEgressDesired['sysctls'] = [];
  const lanDevices = new Set<string>();
  const dnat: string[] = [];
  const routes: EgressRouteDesired[] = [];
  const rules: EgressRuleDesired[] = [];
  const neighbours: NeighbourDesired[] = [];
  const fdb: FdbDesired[] = [];
  const sorted = [...groups].sort((a, b) => a.gateway.vni - b.gateway.vni);
  for (const g of sorted) {
    const gw = g.gateway;
    const subnet = tryParseCidr(gw.subnet, { allowHostBits: true });
    const groupIPs = new Set(g.egressIPs);
    for (const ip of groupIPs) egress.add(ip);
    for (const a of g.assignments) {
      if (a.podIP === undefined || a.egressIP === undefined || !groupIPs.has(a.egressIP)) continue;
      if (mapped.has(a.podIP)) continue; // one pod, one policy: resolvePods guarantees it
      mapped.add(a.podIP);
      snat.push([a.podIP, a.egressIP]);
    }
    const name = vxlanName(gw.vni);
    vxlans.push({
      name,
      vni: gw.vni,
      port: gw.vxlanPort ?? 4789,
      dev: gw.interface,
      mac: groupMac(gw.vni),
      mtu: underlayMtu - VXLAN_OVERHEAD,
    });
    const mark = groupMark(gw.vni);
    rules.push({ priority: RULE_PRIORITY, fwmark: mark, table: mark });
    const routed = new Map<string, string>(); // pod IP → node IP
    for (const e of g.ingress ?? []) {
      if (!groupIPs.has(e.egressIP) || e.targets.length === 0) continue;
      dnat.push(dnatRule(gw.interface, e, mark));
      for (const t of e.targets) routed.set(t.podIP, t.nodeIP);
    }
    const nodeMacs = new Map<string, string>(); // node IP → MAC
    for (const e of g.ingress ?? []) for (const t of e.targets) nodeMacs.set(t.nodeIP, nodeVxlanMac(t.node));
    for (const [podIP, nodeIP] of [...routed].sort()) {
      routes.push({ table: mark, dst: `${podIP}/32`, dev: name, scope: 'link' });
      neighbours.push({ dev: name, address: podIP, mac: nodeMacs.get(nodeIP) ?? '' });
    }
    for (const [nodeIP, mac] of [...nodeMacs].sort()) fdb.push({ dev: name, mac, dst: nodeIP });
    // Packets from pods arrive on the VXLAN while their reverse path is the pod network.
    sysctls.push({ key: `net.ipv4.conf.${name}.rp_filter`, value: '2' });
    lanDevices.add(gw.interface);
    if (g.active && subnet.ok) {
      const list = [gw.floatingIP, ...[...groupIPs].sort()];
      addresses.set(gw.interface, [
        ...(addresses.get(gw.interface) ?? []),
        ...list.map((a) => withPrefix(a, subnet.value)),
      ]);
      announce.set(gw.interface, [...(announce.get(gw.interface) ?? []), ...list]);
    }
  }
  const vx = `"${VXLAN_PREFIX}*"`;
  const lanSet = [...lanDevices].sort().map((d) => `"${d}"`);
  const lan = lanSet.length === 1 ? lanSet[0] : `{ ${lanSet.join(', ')} }`;
  const snatRules = lanSet.length > 0 ? [`iifname ${vx} oifname ${lan} snat to ip saddr map @snat_map`] : [];
  const mss = underlayMtu - VXLAN_OVERHEAD - 40;
  const ours = `ct mark & 0xff000000 == ${markText(0x6d000000)}`;
  return {
    vxlans,
    addresses: [...addresses].map(([dev, cidrs]) => ({ dev, cidrs })),
    vxlanAddresses: vxlans.map((v) => ({ dev: v.name, cidrs: [`${INNER_GATEWAY}/32`] })),
    announce: [...announce].map(([dev, list]) => ({ dev, addresses: list })),
    sysctls,
    routes,
    rules,
    neighbours,
    fdb,
    table: {
      sets: [
        { name: 'mapped_pods', type: 'ipv4_addr', elements: [...mapped].sort() },
        { name: 'egress_ips', type: 'ipv4_addr', elements: [...egress].sort() },
      ],
      maps: [{ name: 'snat_map', type: 'ipv4_addr', valueType: 'ipv4_addr', elements: snat }],
      chains: [
        {
          name: 'moor_forward',
          base: { type: 'filter', hook: 'forward', priority: -10 },
          rules: [
            `iifname ${vx} ct state invalid drop`,
            `iifname ${vx} ip saddr != @mapped_pods drop`,
            // Only inbound flows of an ingress port ever go into a tunnel, and they go nowhere
            // else: a target whose route is missing is dropped, never half-delivered without
            // the return path.
            `oifname ${vx} ct mark & 0xff000000 != ${markText(0x6d000000)} drop`,
            `iifname != ${vx} oifname != ${vx} ct direction original ${ours} drop`,
            `oifname ${vx} tcp flags & (syn | rst) == syn tcp option maxseg size > ${mss} tcp option maxseg size set ${mss}`,
          ],
        },
        {
          name: 'moor_ingress_dnat',
          base: { type: 'nat', hook: 'prerouting', priority: -100 },
          rules: dnat,
        },
        {
          name: 'moor_ingress_mark',
          base: { type: 'filter', hook: 'prerouting', priority: -90 },
          rules: [`iifname != ${vx} ct direction original ${ours} meta mark set ct mark`],
        },
        {
          name: 'moor_snat',
          base: { type: 'nat', hook: 'postrouting', priority: 90 },
          rules: snatRules,
        },
        {
          name: 'moor_guard',
          base: { type: 'filter', hook: 'postrouting', priority: 110 },
          // A local source passes: the VXLAN packets this gateway itself sends to a node (inbound)
          // still carry the tunnel's iif here. A pod cannot spoof one: forward drops unmapped sources.
          rules: [`iifname ${vx} fib saddr type != local ip saddr != @egress_ips drop`],
        },
        {
          name: 'moor_input',
          base: { type: 'filter', hook: 'input', priority: -10 },
          rules: ['ip daddr @egress_ips drop'],
        },
      ],
    },
  };
}

/** One DNAT rule per (egress IP, protocol, port). The target list is the same on every gateway
 * (planIngress sorts it) and jhash has a fixed seed, so the pod for a client address and port is
 * the same on the standby that takes over: a picked-up TCP flow or a UDP flow keeps its pod. */
function dnatRule(lan: string, e: IngressEntry, mark: number): string {
  const proto = e.protocol === 'TCP' ? 'tcp' : 'udp';
  const match = `iifname "${lan}" ip daddr ${e.egressIP} ${proto} dport ${e.port} ct mark set ${markText(mark)}`;
  const samePort = e.targetPort === e.port;
  const only = e.targets[0];
  if (e.targets.length === 1 && only)
    return `${match} dnat to ${only.podIP}${samePort ? '' : `:${e.targetPort}`}`;
  const seed = `0x${INGRESS_HASH_SEED.toString(16)}`;
  const hash = `jhash ip saddr . ${proto} sport mod ${e.targets.length} seed ${seed}`;
  const elements = e.targets.map((t, i) => `${i} : ${t.podIP}${samePort ? '' : ` . ${e.targetPort}`}`);
  return `${match} dnat ${samePort ? '' : 'ip '}to ${hash} map { ${elements.join(', ')} }`;
}

function withPrefix(address: string, subnet: Ipv4Cidr): string {
  return `${address}/${subnet.prefix}`;
}
