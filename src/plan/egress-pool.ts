// An EgressGateway's pool as the set of addresses that may be handed out: its CIDRs and ranges,
// inside its subnet's host addresses, minus exclusions and the floating IP. Problems are reported
// as text for a condition, never thrown: a bad entry is skipped, the rest of the pool still works.
import {
  cidrLast,
  formatIpv4,
  type Ipv4Cidr,
  tryParseAddressOrCidr,
  tryParseCidr,
  tryParseIpv4,
} from '../net/ipv4.ts';
import { cidrInterval, type Interval, intersect, normalise, size, subtract } from './egress-intervals.ts';
import type { GatewayInput } from './egress-types.ts';

export interface ParsedPool {
  /** Addresses that may be allocated, sorted and disjoint. */
  usable: Interval[];
  subnet: Ipv4Cidr | undefined;
  floatingIP: number | undefined;
  problems: string[];
}

export function parsePool(gw: GatewayInput): ParsedPool {
  const problems: string[] = [];
  const subnetParsed = tryParseCidr(gw.subnet, { allowHostBits: true });
  const subnet = subnetParsed.ok ? subnetParsed.value : undefined;
  if (!subnetParsed.ok) problems.push(`subnet: ${subnetParsed.error}`);
  const floating = tryParseIpv4(gw.floatingIP);
  if (!floating.ok) problems.push(`floatingIP: ${floating.error}`);

  const raw: Interval[] = [];
  for (const c of gw.pool.cidrs ?? []) {
    const parsed = tryParseCidr(c, { allowHostBits: true });
    if (parsed.ok) raw.push(cidrInterval(parsed.value));
    else problems.push(`pool cidr: ${parsed.error}`);
  }
  for (const r of gw.pool.ranges ?? []) {
    const start = tryParseIpv4(r.start);
    const end = tryParseIpv4(r.end);
    if (!start.ok || !end.ok) problems.push(`pool range ${r.start}-${r.end}: not two IPv4 addresses`);
    else if (start.value > end.value) problems.push(`pool range ${r.start}-${r.end}: start is after end`);
    else raw.push({ start: start.value, end: end.value });
  }
  const excluded: Interval[] = [];
  for (const e of gw.pool.exclude ?? []) {
    const parsed = tryParseAddressOrCidr(e);
    if (parsed.ok) excluded.push(cidrInterval(parsed.value));
    else problems.push(`pool exclude: ${parsed.error}`);
  }
  if (floating.ok) excluded.push({ start: floating.value, end: floating.value });

  let usable = subtract(normalise(raw), excluded);
  if (subnet) {
    // Only host addresses of the subnet: never its network or broadcast address.
    const hosts: Interval =
      subnet.prefix >= 31 ? cidrInterval(subnet) : { start: subnet.network + 1, end: cidrLast(subnet) - 1 };
    const inside = intersect(usable, [hosts]);
    if (size(inside) !== size(usable))
      problems.push(`pool: addresses outside the host addresses of subnet ${gw.subnet} are skipped`);
    usable = inside;
  } else usable = [];
  return { usable, subnet, floatingIP: floating.ok ? floating.value : undefined, problems };
}

export function describeInterval(i: Interval): string {
  return i.start === i.end ? formatIpv4(i.start) : `${formatIpv4(i.start)}-${formatIpv4(i.end)}`;
}
