// Sets of IPv4 addresses as sorted, disjoint, inclusive intervals of uint32. Pools, exclusions,
// destinations and their exceptions are all such sets; a /16 pool is one interval, not 65,536
// addresses.
import { cidrLast, formatCidr, type Ipv4Cidr, prefixMask } from '../net/ipv4.ts';

export interface Interval {
  readonly start: number;
  readonly end: number;
}

export function cidrInterval(cidr: Ipv4Cidr): Interval {
  return { start: cidr.network, end: cidrLast(cidr) };
}

/** Sorted, overlapping and adjacent intervals merged. */
export function normalise(list: readonly Interval[]): Interval[] {
  const sorted = [...list].filter((i) => i.start <= i.end).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end + 1) {
      if (i.end > last.end) out[out.length - 1] = { start: last.start, end: i.end };
    } else out.push(i);
  }
  return out;
}

export function subtract(from: readonly Interval[], remove: readonly Interval[]): Interval[] {
  let current = normalise(from);
  for (const r of normalise(remove)) {
    const next: Interval[] = [];
    for (const i of current) {
      if (r.end < i.start || r.start > i.end) {
        next.push(i);
        continue;
      }
      if (r.start > i.start) next.push({ start: i.start, end: r.start - 1 });
      if (r.end < i.end) next.push({ start: r.end + 1, end: i.end });
    }
    current = next;
  }
  return current;
}

export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  const x = normalise(a);
  const y = normalise(b);
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i] as Interval;
    const q = y[j] as Interval;
    const start = Math.max(p.start, q.start);
    const end = Math.min(p.end, q.end);
    if (start <= end) out.push({ start, end });
    if (p.end < q.end) i++;
    else j++;
  }
  return out;
}

export function includes(list: readonly Interval[], address: number): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const i = list[mid] as Interval;
    if (address < i.start) hi = mid - 1;
    else if (address > i.end) lo = mid + 1;
    else return true;
  }
  return false;
}

export function size(list: readonly Interval[]): number {
  return list.reduce((n, i) => n + (i.end - i.start + 1), 0);
}

/** The lowest address in `list` for which `taken` is false. Cost grows with the taken addresses met. */
export function firstFree(
  list: readonly Interval[],
  taken: (address: number) => boolean,
): number | undefined {
  for (const i of list) {
    for (let a = i.start; a <= i.end; a++) if (!taken(a)) return a;
  }
  return undefined;
}

/** The fewest CIDRs that cover exactly these intervals, in address order. */
export function toCidrs(list: readonly Interval[]): Ipv4Cidr[] {
  const out: Ipv4Cidr[] = [];
  for (const i of normalise(list)) {
    let start = i.start;
    while (start <= i.end) {
      let prefix = 32;
      // Grow the block while it stays aligned and inside the interval.
      while (prefix > 0) {
        const wider = prefix - 1;
        const network = (start & prefixMask(wider)) >>> 0;
        if (network !== start || start + 2 ** (32 - wider) - 1 > i.end) break;
        prefix = wider;
      }
      out.push({ network: start, prefix });
      start += 2 ** (32 - prefix);
    }
  }
  return out;
}

export function toCidrTexts(list: readonly Interval[]): string[] {
  return toCidrs(list).map(formatCidr);
}
