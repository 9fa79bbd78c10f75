// Addresses of one device, reconciled against a fresh listing. iproute2 6.1 cannot tag addresses
// with a protocol, so ownership is by device: every global address on `dev` is managed unless
// `manage` narrows it (e.g. to an egress pool on a shared underlay device). Link-local and host
// scope addresses belong to the kernel and are never touched.
import { MoorError } from '../../errors.ts';
import { normalizeAddressCidr } from '../../net/ipv4.ts';
import { assertInterfaceName } from '../names.ts';
import { type ApplyResult, attempt, emptyResult } from '../result.ts';
import type { NetlinkBasic } from './types.ts';

export type AddressChange =
  | { op: 'add'; dev: string; cidr: string }
  | { op: 'delete'; dev: string; cidr: string };

export interface AddressOptions {
  /** Which existing addresses we may delete; default: every global-scope address on dev. */
  manage?: (cidr: string) => boolean;
}

export async function reconcileAddresses(
  netlink: NetlinkBasic,
  dev: string,
  desiredCidrs: string[],
  opts: AddressOptions = {},
): Promise<ApplyResult<AddressChange>> {
  assertInterfaceName(dev);
  const desired = [...new Set(desiredCidrs.map(normalizeAddressCidr))];
  const result = emptyResult<AddressChange>();
  if (!(await netlink.linkGet(dev))) {
    const change: AddressChange = { op: 'add', dev, cidr: desired.join(',') };
    result.errors.push({ change, error: new MoorError('not-found', `device ${dev} does not exist`) });
    return result;
  }
  const present = (await netlink.addrList(dev)).filter((a) => a.scope === 'global').map((a) => a.cidr);
  const manage = opts.manage ?? (() => true);
  const stale = present.filter((c) => !desired.includes(c) && manage(c));
  const ipOf = (cidr: string): string => cidr.split('/')[0] ?? '';
  // The kernel keys IPv6 addresses by address alone, so a prefix-length change of the same IPv6
  // address must delete first; everything else is added before anything is deleted.
  const blocking = stale.filter((c) => c.includes(':') && desired.some((d) => ipOf(d) === ipOf(c)));
  for (const cidr of blocking) {
    await attempt(result, { op: 'delete', dev, cidr }, () => netlink.addrDel(dev, cidr));
  }
  for (const cidr of desired.filter((c) => !present.includes(c))) {
    await attempt(result, { op: 'add', dev, cidr }, () => netlink.addrAdd(dev, cidr));
  }
  for (const cidr of stale.filter((c) => !blocking.includes(c))) {
    await attempt(result, { op: 'delete', dev, cidr }, () => netlink.addrDel(dev, cidr));
  }
  return result;
}
