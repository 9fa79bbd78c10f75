// The host's underlay facts for commands that hold only a CommandRunner (join, gateway). The
// reads themselves live behind the dataplane's netlink port (src/dataplane/netlink/underlay.ts).
import type { CommandRunner } from '../dataplane/exec.ts';
import { IpRouteNetlink } from '../dataplane/netlink/iproute.ts';
import * as underlay from '../dataplane/netlink/underlay.ts';

export type { LocalAddress } from '../dataplane/netlink/underlay.ts';

export function detectPrivateIp(runner: CommandRunner): Promise<string> {
  return underlay.detectPrivateIp(new IpRouteNetlink(runner));
}

export function localAddresses(runner: CommandRunner): Promise<underlay.LocalAddress[]> {
  return underlay.localAddresses(new IpRouteNetlink(runner));
}
