// Removing a WireGuard interface for good (`moor leave`): its addresses and routes go with the
// link, and wireguard-go exits when its link is deleted. A wireguard-go that died uncleanly leaves
// its control socket; a stale one would block the next join, so it is removed too.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NetlinkBasic } from '../netlink/types.ts';

export const WIREGUARD_SOCKET_DIR = '/var/run/wireguard';

export async function removeWireGuardInterface(
  netlink: NetlinkBasic,
  name: string,
  socketDir = WIREGUARD_SOCKET_DIR,
): Promise<void> {
  if ((await netlink.linkGet(name)) !== undefined) await netlink.linkDelete(name);
  const socket = join(socketDir, `${name}.sock`);
  // wireguard-go removes its socket as it exits; give it a moment before we do.
  for (let i = 0; i < 50 && existsSync(socket); i += 1) await new Promise((r) => setTimeout(r, 20));
  rmSync(socket, { force: true });
}
