// The egress Basic ports: VXLAN devices, static neighbours, sysctls and gratuitous ARP. One
// method per system operation; the idempotent helpers in ./reconcile.ts sit on top, and the
// fakes (./fake.ts) implement only these ports.

export interface VxlanSpec {
  name: string;
  vni: number;
  port: number;
  /** The LAN device it is bound to (unbound VXLAN devices fragment outer packets silently). */
  dev: string;
  /** Fixed remote (node side: the group's floating IP); absent on gateways (receive only). */
  remote?: string;
  /** Fixed MAC (gateway side: the group MAC). */
  mac?: string;
  mtu: number;
}

export interface VxlanObserved {
  name: string;
  vni: number;
  port: number;
  dev: string | undefined;
  remote: string | undefined;
  mac: string;
  mtu: number;
  learning: boolean;
  up: boolean;
}

export interface Neighbour {
  dev: string;
  address: string;
  mac: string;
  permanent: boolean;
}

/** A unicast VXLAN forwarding entry: frames to `mac` go to `dst` (`bridge fdb ... self`). */
export interface FdbEntry {
  dev: string;
  mac: string;
  dst: string;
  permanent: boolean;
}

export interface EgressLinkBasic {
  /** Every VXLAN device whose name starts with `prefix`. */
  vxlanList(prefix: string): Promise<VxlanObserved[]>;
  /** Create (down), with learning off. */
  vxlanCreate(spec: VxlanSpec): Promise<void>;
  linkSetUp(name: string): Promise<void>;
  linkSetMtu(name: string, mtu: number): Promise<void>;
  linkDelete(name: string): Promise<void>;
  neighList(dev: string): Promise<Neighbour[]>;
  /** A permanent entry (`nud permanent`). */
  neighReplace(dev: string, address: string, mac: string): Promise<void>;
  /** The device's FDB entries that carry a remote (dst). */
  fdbList(dev: string): Promise<FdbEntry[]>;
  /** A permanent entry `mac → dst`. */
  fdbReplace(dev: string, mac: string, dst: string): Promise<void>;
  fdbDelete(dev: string, mac: string, dst: string): Promise<void>;
}

export interface SysctlBasic {
  /** undefined when the key does not exist (yet). */
  read(key: string): Promise<string | undefined>;
  write(key: string, value: string): Promise<void>;
}

export interface ArpAnnouncer {
  /** Send gratuitous ARP for `address` on `dev`; resolves once sent (twice, for a lost frame). */
  announce(dev: string, address: string): Promise<void>;
}
