// The netlink Basic port: links, addresses, routes and rules, one method per `ip` operation.
// Values are canonical (see ../ip.ts) so helpers can compare them with plain string equality.
import type { IpFamily } from '../../net/ipv4.ts';

export interface Link {
  name: string;
  index: number;
  mtu: number;
  /** Administratively up (IFF_UP), which is what `ip link set up` controls. */
  up: boolean;
  operState: string;
  /** linkinfo kind: "veth", "wireguard", "tun", … ; undefined for plain devices. */
  kind: string | undefined;
}

export type AddressScope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

export interface Address {
  dev: string;
  family: IpFamily;
  /** Address with its prefix length, host bits kept: "10.99.0.1/30". */
  cidr: string;
  scope: AddressScope;
}

export type RouteScope = AddressScope;
export type RouteType =
  | 'unicast'
  | 'local'
  | 'broadcast'
  | 'multicast'
  | 'blackhole'
  | 'unreachable'
  | 'prohibit'
  | 'throw';

export const MAIN_TABLE = 254;
export const LOCAL_TABLE = 255;

/** A route as the kernel keys it (family, table, dst, metric) plus its attributes. */
export interface Route {
  family: IpFamily;
  /** Canonical prefix; "0.0.0.0/0" / "::/0" for default. */
  dst: string;
  table: number;
  /** Kernel defaults: 0 for IPv4, 1024 for IPv6. */
  metric: number;
  type: RouteType;
  dev?: string;
  gateway?: string;
  /** Preferred source address (`src` on the command line, `prefsrc` in output). */
  src?: string;
  proto: number;
  scope: RouteScope;
}

/** What callers describe: family, table, metric, type, proto and scope get kernel defaults. */
export interface RouteSpec {
  dst: string;
  table?: number;
  metric?: number;
  type?: RouteType;
  dev?: string;
  gateway?: string;
  src?: string;
  proto?: number;
  scope?: RouteScope;
}

export interface RouteFilter {
  family: IpFamily;
  /** Default: main. */
  table?: number;
  dev?: string;
  proto?: number;
}

export interface Rule {
  family: IpFamily;
  priority: number;
  table: number;
  /** Canonical prefix; undefined = all. */
  src?: string;
  dst?: string;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  /** Routing protocol that installed the rule (0 when unset). */
  proto: number;
}

export interface RouteLookup {
  dev: string;
  src?: string;
  gateway?: string;
  /** A locked route MTU (`mtu lock N`), when the route carries one. */
  mtu?: number;
}

export interface NetlinkBasic {
  linkList(): Promise<Link[]>;
  /** undefined when there is no such link. */
  linkGet(name: string): Promise<Link | undefined>;
  linkSetUp(name: string): Promise<void>;
  linkSetDown(name: string): Promise<void>;
  linkSetMtu(name: string, mtu: number): Promise<void>;
  linkDelete(name: string): Promise<void>;

  addrList(dev?: string): Promise<Address[]>;
  addrAdd(dev: string, cidr: string): Promise<void>;
  addrDel(dev: string, cidr: string): Promise<void>;

  routeList(filter: RouteFilter): Promise<Route[]>;
  /** `ip route replace`: add, or overwrite the route with the same table/dst/metric. */
  routeReplace(route: Route): Promise<void>;
  routeDel(route: Route): Promise<void>;
  /** `ip route get <ip>`; undefined when unreachable. */
  routeGet(ip: string): Promise<RouteLookup | undefined>;

  ruleList(family: IpFamily): Promise<Rule[]>;
  ruleAdd(rule: Rule): Promise<void>;
  ruleDel(rule: Rule): Promise<void>;
}
