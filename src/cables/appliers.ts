// Appliers: each takes one part of a HostPlan, reads the kernel fresh through a port and changes
// only what differs. "additive" is the mode before the broker was ever listed: the kernel holds
// the last known good state, so anything missing from the snapshot is added and nothing is
// changed or removed (a restart with the broker down keeps every tunnel).

import { reconcileAddresses } from '../dataplane/netlink/addresses.ts';
import { reconcileLink } from '../dataplane/netlink/links.ts';
import type { RouteTable } from '../dataplane/netlink/route-table.ts';
import type { NetlinkBasic } from '../dataplane/netlink/types.ts';
import type { WireGuardDevice } from '../dataplane/wireguard/device.ts';
import type { WireGuardChange, WireGuardPeerDesired } from '../dataplane/wireguard/plan.ts';
import type { WgDump, WireGuardBasic } from '../dataplane/wireguard/types.ts';
import { normalizeCidr } from '../net/ipv4.ts';
import type { HostPlan } from '../plan/host.ts';
import type { OutcomeBuilder } from '../reconcile/outcome.ts';

export type ApplyMode = 'full' | 'additive';

export interface TunnelKeys {
  privateKey: string;
  listenPort: number;
}

export async function applyWireGuard(
  device: WireGuardDevice,
  wireguard: WireGuardBasic,
  plan: HostPlan,
  keys: TunnelKeys,
  mode: ApplyMode,
  out: OutcomeBuilder,
): Promise<void> {
  try {
    let desired = { privateKey: keys.privateKey, listenPort: keys.listenPort, peers: plan.peers };
    if (mode === 'additive') {
      const dump = await wireguard.showDump(device.name);
      if (dump) desired = keepObserved(dump, plan.peers, keys);
    }
    const result = await device.reconcile(desired);
    out.add('wireguard', result, describeWireGuardChange);
  } catch (err) {
    out.fail('wireguard', err, device.name);
  }
}

/** The device as it is, plus planned peers it lacks whose prefixes nobody holds. */
function keepObserved(dump: WgDump, planned: readonly WireGuardPeerDesired[], keys: TunnelKeys) {
  const kept: WireGuardPeerDesired[] = dump.peers.map((p) => ({
    publicKey: p.publicKey,
    presharedKey: p.presharedKey,
    ...(p.endpoint === null ? {} : { endpoint: p.endpoint }),
    allowedIPs: p.allowedIPs,
    persistentKeepalive: p.persistentKeepalive ?? 0,
  }));
  const keysPresent = new Set(kept.map((p) => p.publicKey));
  const taken = new Set(kept.flatMap((p) => p.allowedIPs.map(normalizeCidr)));
  const added = planned.filter(
    (p) => !keysPresent.has(p.publicKey) && p.allowedIPs.every((a) => !taken.has(normalizeCidr(a))),
  );
  return {
    privateKey: dump.interface.privateKey ?? keys.privateKey,
    listenPort: dump.interface.privateKey === null ? keys.listenPort : 0,
    peers: [...kept, ...added],
  };
}

export async function applyLink(
  netlink: NetlinkBasic,
  dev: string,
  plan: HostPlan,
  mode: ApplyMode,
  out: OutcomeBuilder,
): Promise<void> {
  try {
    const desired = mode === 'additive' ? { up: true } : plan.link;
    out.add('link', await reconcileLink(netlink, dev, desired), (c) =>
      c.op === 'set-mtu' ? `${c.dev} mtu ${c.mtu}` : `${c.dev} up`,
    );
  } catch (err) {
    out.fail('link', err, dev);
  }
}

export async function applyAddresses(
  netlink: NetlinkBasic,
  dev: string,
  plan: HostPlan,
  mode: ApplyMode,
  out: OutcomeBuilder,
): Promise<void> {
  try {
    const opts = mode === 'additive' ? { manage: () => false } : {};
    out.add(
      'address',
      await reconcileAddresses(netlink, dev, plan.addresses, opts),
      (c) => `${c.op} ${c.cidr}`,
    );
  } catch (err) {
    out.fail('address', err, dev);
  }
}

export async function applyRoutes(
  table: RouteTable,
  plan: HostPlan,
  mode: ApplyMode,
  out: OutcomeBuilder,
): Promise<void> {
  try {
    out.add(
      'route',
      await table.reconcile(plan.routes, { additive: mode === 'additive' }),
      (c) => `${c.op} ${c.route.dst}`,
    );
  } catch (err) {
    out.fail('route', err);
  }
}

export function describeWireGuardChange(c: WireGuardChange): string {
  switch (c.kind) {
    case 'create-interface':
      return 'create-interface';
    case 'set-interface':
      return `set-interface ${c.fields.join(',')}`;
    case 'set-peer':
      return `set-peer ${c.publicKey.slice(0, 8)}… (${c.reason})`;
    case 'remove-peer':
      return `remove-peer ${c.publicKey.slice(0, 8)}…`;
  }
}
