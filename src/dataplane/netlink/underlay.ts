// Facts about the host's underlay network, read through the netlink port (never parsed here).
import { MoorError } from '../../errors.ts';
import { MAIN_TABLE, type NetlinkBasic } from './types.ts';

/**
 * The source address the kernel would use towards the internet, as Submariner's gateway picks
 * its private IP (spec §2.2). A route lookup only consults the routing table; nothing is sent.
 */
export async function detectPrivateIp(netlink: NetlinkBasic): Promise<string> {
  const src = (await netlink.routeGet('8.8.8.8'))?.src;
  if (!src) {
    throw new MoorError(
      'invalid-argument',
      'cannot tell which address other gateways reach this host at (no default route)',
      { hint: 'pass --private-ip with the underlay address of this host' },
    );
  }
  return src;
}

export interface LocalAddress {
  ifname: string;
  cidr: string;
  address: string;
}

/** Every IPv4 address configured on the host, with its prefix, except host-scope ones. */
export async function localAddresses(netlink: NetlinkBasic): Promise<LocalAddress[]> {
  return (await netlink.addrList())
    .filter((a) => a.family === 4 && a.scope !== 'host')
    .map((a) => ({ ifname: a.dev, cidr: a.cidr, address: a.cidr.split('/')[0] ?? '' }));
}

/** Destinations of the main IPv4 table that do not go through `exceptDev` (ours), default excluded. */
export async function localRoutes(netlink: NetlinkBasic, exceptDev: string): Promise<string[]> {
  const routes = await netlink.routeList({ family: 4, table: MAIN_TABLE });
  return [
    ...new Set(routes.filter((r) => r.dev !== exceptDev && r.dst !== '0.0.0.0/0').map((r) => r.dst)),
  ].sort();
}
