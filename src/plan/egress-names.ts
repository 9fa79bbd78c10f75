// Names and numbers the node agent and the gateway must agree on without talking to each other.
// Everything derives from the group's VNI, which the controller keeps unique among groups.

export const NODE_TABLE = 'moor_egress_node';
export const GATEWAY_TABLE = 'moor_egress_gw';
/** Interface-name prefix of every egress VXLAN device (nft matches "moorvx*"). */
export const VXLAN_PREFIX = 'moorvx';
/** The inner next hop nodes route to; link-local, never on any wire outside the VXLAN. */
export const INNER_GATEWAY = '169.254.109.1';
/** Policy routing rules for steered packets: before main (32766) and typical CNI rules. */
export const RULE_PRIORITY = 110;
/** VXLAN over IPv4: 14 Ethernet + 20 IP + 8 UDP + 8 VXLAN. */
export const VXLAN_OVERHEAD = 50;

export function vxlanName(vni: number): string {
  return `${VXLAN_PREFIX}${vni}`;
}

/** The top byte of every group mark: a fwmark rule with it (and our protocol) is ours. */
export const GROUP_MARK_TOP = 0x6d000000;

/** Which policy-routing rules the egress roles own, and their priority. */
export const GROUP_ROUTING = { markTop: GROUP_MARK_TOP, defaultPriority: RULE_PRIORITY } as const;

/** fwmark and routing table of a group: "m" (0x6d) in the top byte, the 24-bit VNI below. */
export function groupMark(vni: number): number {
  return (GROUP_MARK_TOP | (vni & 0xffffff)) >>> 0;
}

/** The same locally administered MAC on every gateway of a group, so a node's neighbour entry
 * for INNER_GATEWAY stays right across a failover. */
export function groupMac(vni: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return ['02', '6d', hex((vni >> 16) & 255), hex((vni >> 8) & 255), hex(vni & 255), '01'].join(':');
}

export function markText(mark: number): string {
  return `0x${mark.toString(16).padStart(8, '0')}`;
}

/** The node side's own address on each VXLAN device: the reverse-path check (loose) needs an
 * IPv4 address on a device before it accepts what arrives there (inbound from a gateway). */
export const INNER_NODE = '169.254.109.2';

/** jhash seed of the inbound DNAT: fixed, so every gateway of a group (and every restart) picks
 * the same pod for the same client address and port. */
export const INGRESS_HASH_SEED = 0x6d6f6f72;

/** Every node VXLAN MAC starts with this (nodeVxlanMac): the FDB entries a gateway owns. */
export const NODE_MAC_PREFIX = '02:6e:';

/** A node's VXLAN MAC, derived from its name (FNV-1a), so a gateway can address a node's device
 * without asking it: 02:6e:<32-bit hash>. Locally administered, unicast. */
export function nodeVxlanMac(nodeName: string): string {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(nodeName)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return [
    ...NODE_MAC_PREFIX.split(':').slice(0, 2),
    hex(h >>> 24),
    hex((h >>> 16) & 255),
    hex((h >>> 8) & 255),
    hex(h & 255),
  ].join(':');
}
