// Link state (MTU, up) set only when it differs from what the kernel reports now.
import { MoorError } from '../../errors.ts';
import { type ApplyResult, attempt, emptyResult } from '../result.ts';
import type { NetlinkBasic } from './types.ts';

export type LinkChange = { op: 'set-mtu'; dev: string; mtu: number } | { op: 'set-up'; dev: string };

export interface LinkDesired {
  mtu?: number;
  up?: boolean;
}

/** MTU before up, so the first packets already use the right size. Never takes a link down. */
export async function reconcileLink(
  netlink: NetlinkBasic,
  dev: string,
  desired: LinkDesired,
): Promise<ApplyResult<LinkChange>> {
  const result = emptyResult<LinkChange>();
  const link = await netlink.linkGet(dev);
  if (!link) {
    result.errors.push({
      change: { op: 'set-up', dev },
      error: new MoorError('not-found', `device ${dev} does not exist`),
    });
    return result;
  }
  const mtu = desired.mtu;
  if (mtu !== undefined && link.mtu !== mtu) {
    await attempt(result, { op: 'set-mtu', dev, mtu }, () => netlink.linkSetMtu(dev, mtu));
  }
  if (desired.up && !link.up) {
    await attempt(result, { op: 'set-up', dev }, () => netlink.linkSetUp(dev));
  }
  return result;
}
