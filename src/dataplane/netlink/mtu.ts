// Tunnel MTU from the underlay path. WireGuard adds an outer IP header, 8 bytes of UDP and 32
// bytes of its own (16 header + 16 authentication tag): 60 bytes over an IPv4 underlay, 80 over
// IPv6. We always subtract the IPv6 worst case, like the kernel's default of 1420 on a 1500
// underlay, because a peer's endpoint can change family (roaming, dual stack) without us
// reconfiguring the device, and a too-large MTU silently blackholes big packets.
import { MoorError } from '../../errors.ts';
import type { NetlinkBasic } from './types.ts';

export const WIREGUARD_OVERHEAD_IPV4 = 60;
export const WIREGUARD_OVERHEAD_IPV6 = 80;
export const WIREGUARD_OVERHEAD = WIREGUARD_OVERHEAD_IPV6;
/** IPv6 needs 1280 on every link; below that we refuse rather than carry only IPv4. */
export const MIN_TUNNEL_MTU = 1280;

export interface UnderlayPath {
  dev: string;
  src: string | undefined;
  mtu: number;
}

/** The MTU towards `destIp`: the device's MTU, or a smaller locked route MTU if there is one. */
export async function underlayMtu(netlink: NetlinkBasic, destIp: string): Promise<UnderlayPath> {
  const lookup = await netlink.routeGet(destIp);
  if (!lookup) {
    throw new MoorError('system', `no route to ${destIp}`, { hint: `check \`ip route get ${destIp}\`` });
  }
  const link = await netlink.linkGet(lookup.dev);
  if (!link)
    throw new MoorError('system', `route to ${destIp} uses device ${lookup.dev}, which does not exist`);
  const mtu = lookup.mtu !== undefined ? Math.min(lookup.mtu, link.mtu) : link.mtu;
  return { dev: lookup.dev, src: lookup.src, mtu };
}

export function tunnelMtu(underlay: number): number {
  const mtu = underlay - WIREGUARD_OVERHEAD;
  if (mtu < MIN_TUNNEL_MTU) {
    throw new MoorError(
      'system',
      `underlay MTU ${underlay} leaves ${mtu} for the tunnel, below ${MIN_TUNNEL_MTU}`,
      {
        hint: 'raise the underlay MTU to at least 1360',
      },
    );
  }
  return mtu;
}

/** The tunnel MTU for several peers: the smallest underlay wins. */
export async function tunnelMtuFor(netlink: NetlinkBasic, destIps: string[]): Promise<number> {
  if (destIps.length === 0)
    throw new MoorError('invalid-argument', 'tunnelMtuFor needs at least one destination');
  const paths = await Promise.all(destIps.map((ip) => underlayMtu(netlink, ip)));
  return tunnelMtu(Math.min(...paths.map((p) => p.mtu)));
}
