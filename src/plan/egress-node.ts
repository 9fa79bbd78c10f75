// The node agent's desired state as plain data: which local pods are steered to which group,
// and what is dropped when steering is impossible. Rendered into one owned nft table plus
// VXLAN devices, static neighbours, routes and rules.
//
// Data path (docs/egress.md, measured facts in shared/docs/egress-datapath.md):
//   prerouting (mangle)  mark = map[pod IP . destination] → the group's mark
//   ip rule fwmark MARK lookup MARK → default via INNER_GATEWAY dev moorvx<VNI> (VXLAN to the
//                         group's floating IP)
//   forward (filter-10)  selected pod of a Closed policy → matched destination, not leaving by a
//                         moor VXLAN: drop. Unknown local pod source → a Closed destination: drop.
//   postrouting (srcnat-10) leaving by a moor VXLAN: identity SNAT. nf_nat skips later NAT
//                         chains once a binding exists, so a CNI's masquerade (priority srcnat)
//                         can never rewrite a steered packet to the node IP.
//   inbound (spec.ingress): a flow arriving from a moor VXLAN (a gateway DNATed it to a local
//                         pod) gets ct mark = the group's mark; the pod's replies (ct direction
//                         reply) get packet mark = ct mark, so the same rule routes them back
//                         into the tunnel, whatever the client's address. The device has a MAC
//                         derived from the node name, which the gateways address it by.
// Cluster-internal destinations (pod and service CIDRs) are never steered and never dropped.
import type { NftTableSpec } from '../dataplane/nftables/model.ts';
import { tryParseCidr } from '../net/ipv4.ts';
import { cidrInterval, type Interval, normalise, subtract, toCidrTexts } from './egress-intervals.ts';
import {
  groupMac,
  groupMark,
  INNER_GATEWAY,
  INNER_NODE,
  markText,
  RULE_PRIORITY,
  VXLAN_OVERHEAD,
  VXLAN_PREFIX,
  vxlanName,
} from './egress-names.ts';
import type { PodAssignment } from './egress-pods.ts';
import { compareNames, type Destination, type FailurePolicy } from './egress-types.ts';

export interface NodeGroup {
  name: string;
  floatingIP: string;
  vni: number;
  vxlanPort: number;
  /** The controller says the group can carry traffic (valid, a ready node). */
  usable: boolean;
}

export interface NodePolicy {
  name: string;
  gateway: string;
  failurePolicy: FailurePolicy;
  destinations: Destination[];
}

export interface NodeEgressInput {
  /** The node's LAN device the VXLAN devices are bound to, and its MTU. */
  underlayDevice: string;
  underlayMtu: number;
  /** Pod and service CIDRs: traffic to them is cluster-internal and never touched. */
  clusterCidrs: string[];
  /** This node's pod CIDRs; with them, a local pod the agent does not know yet is held back
   * from Closed destinations until it is classified. Empty turns that guard off. */
  localPodCidrs: string[];
  groups: NodeGroup[];
  policies: NodePolicy[];
  /** Assignments of this node's pods (from resolvePods). */
  assignments: PodAssignment[];
  /** Every local pod IP the agent has classified, selected or not. */
  knownPodIPs: string[];
  /** The MAC of this node's VXLAN devices (nodeVxlanMac of the node name), which gateways send
   * inbound traffic to. Absent: the kernel picks one and inbound cannot reach this node. */
  vxlanMac?: string;
}

export interface VxlanDesired {
  name: string;
  vni: number;
  remote: string;
  port: number;
  dev: string;
  mtu: number;
  mac?: string;
}

export interface NeighbourDesired {
  dev: string;
  address: string;
  mac: string;
}

export interface EgressRouteDesired {
  table: number;
  dst: string;
  dev: string;
  gateway?: string;
  scope: 'link' | 'global';
}

export interface EgressRuleDesired {
  priority: number;
  fwmark: number;
  table: number;
}

export interface NodeEgressDesired {
  vxlans: VxlanDesired[];
  neighbours: NeighbourDesired[];
  routes: EgressRouteDesired[];
  rules: EgressRuleDesired[];
  /** Loose reverse-path check on each VXLAN device (inbound arrives there from any client)... */
  sysctls: { key: string; value: string }[];
  /** ...which also needs an IPv4 address on the device. */
  vxlanAddresses: { dev: string; cidrs: string[] }[];
  table: Omit<NftTableSpec, 'name' | 'family'>;
  /** Pods the agent cannot steer and drops (or lets through, Open), for status and logs. */
  notSteered: { pod: string; policy: string; reason: string }[];
}

/** Destinations of a policy minus its exceptions and minus cluster-internal networks. */
export function effectiveDestinations(
  destinations: readonly Destination[],
  clusterCidrs: readonly string[],
): string[] {
  const parse = (c: string): Interval[] => {
    const r = tryParseCidr(c, { allowHostBits: true });
    return r.ok ? [cidrInterval(r.value)] : [];
  };
  let out: Interval[] = [];
  for (const d of destinations) out.push(...subtract(parse(d.cidr), (d.except ?? []).flatMap(parse)));
  out = subtract(normalise(out), clusterCidrs.flatMap(parse));
  return toCidrTexts(out);
}

export function planNodeEgress(input: NodeEgressInput): NodeEgressDesired {
  const groups = new Map(input.groups.map((g) => [g.name, g]));
  const policies = new Map(input.policies.map((p) => [p.name, p]));
  const dsts = new Map<string, string[]>();
  for (const p of input.policies) dsts.set(p.name, effectiveDestinations(p.destinations, input.clusterCidrs));

  const steer: [string, string][] = [];
  const closedGuard: string[] = [];
  const steeredPods = new Set<string>();
  const notSteered: NodeEgressDesired['notSteered'] = [];
  const assignments = [...input.assignments].sort((a, b) =>
    compareNames(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`),
  );
  for (const a of assignments) {
    if (a.podIP === undefined) continue;
    const policy = policies.get(a.policy);
    if (!policy) continue;
    const group = groups.get(policy.gateway);
    const ranges = dsts.get(policy.name) ?? [];
    if (policy.failurePolicy === 'Closed') for (const d of ranges) closedGuard.push(`${a.podIP} . ${d}`);
    const why =
      group === undefined
        ? `gateway ${policy.gateway} does not exist`
        : !group.usable
          ? `gateway ${group.name} is not ready`
          : a.egressIP === undefined
            ? `policy ${policy.name} has no egress IP`
            : undefined;
    if (why !== undefined || group === undefined) {
      notSteered.push({ pod: `${a.namespace}/${a.name}`, policy: policy.name, reason: why ?? 'no gateway' });
      continue;
    }
    steeredPods.add(a.podIP);
    for (const d of ranges) steer.push([`${a.podIP} . ${d}`, markText(groupMark(group.vni))]);
  }

  // Every usable group gets its device even without local pods yet: a new pod is then one map
  // element away from being steered, not a device creation.
  const vxlans: VxlanDesired[] = [];
  const neighbours: NeighbourDesired[] = [];
  const routes: EgressRouteDesired[] = [];
  const rules: EgressRuleDesired[] = [];
  const inboundMarks: string[] = [];
  for (const g of [...input.groups].sort((a, b) => a.vni - b.vni)) {
    if (!g.usable) continue;
    const name = vxlanName(g.vni);
    const mark = groupMark(g.vni);
    vxlans.push({
      name,
      vni: g.vni,
      remote: g.floatingIP,
      port: g.vxlanPort,
      dev: input.underlayDevice,
      mtu: input.underlayMtu - VXLAN_OVERHEAD,
      ...(input.vxlanMac ? { mac: input.vxlanMac } : {}),
    });
    inboundMarks.push(`iifname "${name}" ct direction original ct mark set ${markText(mark)}`);
    neighbours.push({ dev: name, address: INNER_GATEWAY, mac: groupMac(g.vni) });
    routes.push({ table: mark, dst: `${INNER_GATEWAY}/32`, dev: name, scope: 'link' });
    routes.push({ table: mark, dst: '0.0.0.0/0', dev: name, gateway: INNER_GATEWAY, scope: 'global' });
    rules.push({ priority: RULE_PRIORITY, fwmark: mark, table: mark });
  }

  const closedDsts = new Set<string>();
  for (const p of input.policies)
    if (p.failurePolicy === 'Closed') for (const d of dsts.get(p.name) ?? []) closedDsts.add(d);
  const localPodCidrs = input.localPodCidrs.filter((c) => tryParseCidr(c, { allowHostBits: true }).ok);
  const guardUnknown = localPodCidrs.length > 0 && closedDsts.size > 0;

  const vx = `"${VXLAN_PREFIX}*"`;
  const forward: string[] = [`ip saddr . ip daddr @closed_guard oifname != ${vx} drop`];
  if (guardUnknown) forward.push(`ip saddr @local_pods ip saddr != @known_pods ip daddr @closed_dsts drop`);
  const mss = input.underlayMtu - VXLAN_OVERHEAD - 40;

  return {
    vxlans,
    neighbours,
    routes,
    rules,
    sysctls: vxlans.map((v) => ({ key: `net.ipv4.conf.${v.name}.rp_filter`, value: '2' })),
    vxlanAddresses: vxlans.map((v) => ({ dev: v.name, cidrs: [`${INNER_NODE}/32`] })),
    notSteered,
    table: {
      sets: [
        { name: 'closed_guard', type: 'ipv4_addr . ipv4_addr', flags: ['interval'], elements: closedGuard },
        { name: 'steered_pods', type: 'ipv4_addr', elements: [...steeredPods] },
        { name: 'known_pods', type: 'ipv4_addr', elements: [...new Set(input.knownPodIPs)] },
        { name: 'local_pods', type: 'ipv4_addr', flags: ['interval'], elements: localPodCidrs },
        { name: 'closed_dsts', type: 'ipv4_addr', flags: ['interval'], elements: [...closedDsts] },
      ],
      maps: [
        {
          name: 'steer',
          type: 'ipv4_addr . ipv4_addr',
          valueType: 'mark',
          flags: ['interval'],
          elements: steer,
        },
      ],
      chains: [
        {
          name: 'moor_prerouting',
          base: { type: 'filter', hook: 'prerouting', priority: 'mangle' },
          rules: [
            ...inboundMarks,
            'meta mark set ip saddr . ip daddr map @steer',
            // Replies of inbound flows go back into the tunnel they came from.
            `ct direction reply ct mark & 0xff000000 == ${markText(0x6d000000)} meta mark set ct mark`,
          ],
        },
        {
          name: 'moor_forward',
          base: { type: 'filter', hook: 'forward', priority: -10 },
          rules: [
            ...forward,
            // A fixed MSS on replies to steered pods: their segments cross the VXLAN, and a node
            // that drops its own frag-needed ICMP would otherwise hang TCP at pod MTU 1500.
            `ip daddr @steered_pods tcp flags & (syn | ack) == syn | ack tcp option maxseg size > ${mss} tcp option maxseg size set ${mss}`,
            // And on a pod's SYN-ACK of an inbound connection, which leaves by the tunnel.
            `oifname ${vx} tcp flags & (syn | ack) == syn | ack tcp option maxseg size > ${mss} tcp option maxseg size set ${mss}`,
          ],
        },
        {
          name: 'moor_postrouting',
          base: { type: 'nat', hook: 'postrouting', priority: 90 },
          rules: [`oifname ${vx} snat to ip saddr`],
        },
      ],
    },
  };
}
