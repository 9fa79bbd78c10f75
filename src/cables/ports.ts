// What the cable engine needs from the outside world, injected through its constructor: the
// kernel (netlink, WireGuard), health pings, the clock, the host network and the broker collections. Production
// wiring is createCablePorts; unit tests pass the strict fakes of src/dataplane/fakes.ts.
import type { CommandRunner } from '../dataplane/exec.ts';
import { type HostNetworkPort, HostNetworkReader } from '../dataplane/host-network.ts';
import { IpRouteNetlink } from '../dataplane/netlink/iproute.ts';
import type { NetlinkBasic } from '../dataplane/netlink/types.ts';
import { FpingPinger } from '../dataplane/ping/fping.ts';
import { createWireGuardDriver, detectWireGuardDriver } from '../dataplane/wireguard/drivers.ts';
import type { WireGuardBasic } from '../dataplane/wireguard/types.ts';
import type { PingPortFactory } from '../health/pinger.ts';
import { brokerPaths } from '../k8s/paths.ts';
import { Reflector } from '../k8s/reflector.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { type Clock, systemClock } from '../reconcile/clock.ts';
import { DetachedSpawner } from './detachedSpawner.ts';

export interface CablePorts {
  netlink: NetlinkBasic;
  wireguard: WireGuardBasic;
  ping: PingPortFactory;
  clock: Clock;
  /** The host's default gateways and nameservers, and name lookups: with the broker's address
   * they are protected from member routes (src/cables/protectedAddresses.ts). */
  hostNetwork?: HostNetworkPort;
}

/** One broker collection as a reflector holds it (a fake in unit tests). */
export interface BrokerCollection {
  /** True once a list has succeeded; the copy may be stale while lastError is set. */
  readonly synced: boolean;
  readonly lastError: Error | undefined;
  list(): unknown[];
  start(): void;
  stop(): Promise<void>;
}

export interface MemberCollections {
  clusters: BrokerCollection;
  endpoints: BrokerCollection;
}

/** Builds the collections; `onChange` marks the engine dirty. */
export type MemberCollectionsFactory = (
  onChange: () => void,
  onError: (err: Error) => void,
) => MemberCollections;

export function brokerMemberCollections(client: KubeRestClient, namespace: string): MemberCollectionsFactory {
  return (onChange, onError) => ({
    clusters: new Reflector({ client, path: brokerPaths.clusters(namespace), onChange, onError }),
    endpoints: new Reflector({ client, path: brokerPaths.endpoints(namespace), onChange, onError }),
  });
}

export interface RealCablePorts extends CablePorts {
  driverReason: string;
}

/** The real kernel: iproute2, the detected (or chosen) WireGuard driver, fping. */
export async function createCablePorts(o: {
  runner: CommandRunner;
  stateDir: string;
  driver?: 'kernel' | 'wireguard-go';
  log: (line: string) => void;
}): Promise<RealCablePorts> {
  const detected = o.driver
    ? { driver: o.driver, reason: 'chosen with --wireguard-driver' }
    : await detectWireGuardDriver(o.runner);
  return {
    netlink: new IpRouteNetlink(o.runner),
    wireguard: createWireGuardDriver(detected.driver, {
      runner: o.runner,
      spawner: new DetachedSpawner(o.stateDir),
    }),
    ping: (options) => new FpingPinger({ log: o.log, ...options }),
    clock: systemClock,
    hostNetwork: new HostNetworkReader(o.runner),
    driverReason: detected.reason,
  };
}
