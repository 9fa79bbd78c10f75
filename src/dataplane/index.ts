// The dataplane's public surface: Basic ports with their real implementations, and the
// idempotent helpers on top. Fakes for tests are exported from ./fakes.ts so that production
// bundles never include them.
export * from './address-holder.ts';
export * from './diagnostics.ts';
export * from './egress/iproute.ts';
export * from './egress/marked-routing.ts';
export * from './egress/reconcile.ts';
export * from './egress/types.ts';
export * from './exec.ts';
export * from './names.ts';
export * from './netlink/addresses.ts';
export * from './netlink/iproute.ts';
export * from './netlink/links.ts';
export * from './netlink/mtu.ts';
export { normalizeRoute, PROTO_BOOT, PROTO_KERNEL } from './netlink/route-spec.ts';
export * from './netlink/route-table.ts';
export * from './netlink/rules.ts';
export * from './netlink/types.ts';
export * from './netlink/underlay.ts';
export * from './nftables/model.ts';
export * from './nftables/nft.ts';
export type {
  NftCleanup,
  ObservedChain,
  ObservedMap,
  ObservedSet,
  ObservedTable,
} from './nftables/observe.ts';
export * from './nftables/owned-table.ts';
export { renderTableScript } from './nftables/render.ts';
export * from './nftables/types.ts';
export * from './ping/fping.ts';
export * from './ping/types.ts';
export * from './result.ts';
export * from './udp.ts';
export * from './wireguard/device.ts';
export * from './wireguard/drivers.ts';
export * from './wireguard/kernel.ts';
export * from './wireguard/keys.ts';
export type { WireGuardChange, WireGuardDesired, WireGuardPeerDesired } from './wireguard/plan.ts';
export * from './wireguard/types.ts';
export * from './wireguard/userspace.ts';
