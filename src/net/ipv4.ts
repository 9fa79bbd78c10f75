// The one IP address module. IPv4 addresses and CIDRs as plain numbers (uint32), for planning.
// Parsing is strict on purpose: broker objects are untrusted, and forms such as "01.2.3.4" (octal
// in some libcs) or "1.2.3" (inet_aton shorthand) mean different things to different tools, so we
// refuse them instead of guessing. Planning recognises IPv6 only to refuse it with a clear message;
// the dataplane, which compares what it wants with what the kernel prints, also needs canonical
// text of both families: see "Canonical text, both families" below.
import { MoorError } from '../errors.ts';

/** A network: `network` always has its host bits cleared. */
export interface Ipv4Cidr {
  readonly network: number;
  readonly prefix: number;
}

/** An interface-style CIDR such as 10.0.0.5/24: the address and the network it lives in. */
export interface Ipv4AddressInCidr {
  readonly address: number;
  readonly cidr: Ipv4Cidr;
  readonly hostBitsSet: boolean;
}

export type Ipv4Result<T> = { ok: true; value: T } | { ok: false; error: string };

export interface CidrParseOptions {
  /** Accept "10.1.2.3/16" and normalise it to 10.1.0.0/16 instead of reporting the host bits. */
  allowHostBits?: boolean;
}

const MAX_TEXT_LENGTH = 64;
const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const DECIMAL_PREFIX = /^(0|[1-9][0-9]?)$/;

export function looksLikeIpv6(text: string): boolean {
  return text.includes(':');
}

export function tryParseIpv4(text: string): Ipv4Result<number> {
  if (typeof text !== 'string') return fail('not a string');
  const shown = quote(text);
  if (looksLikeIpv6(text)) return fail(`${shown}: IPv6 is not supported yet`);
  if (text.length === 0) return fail('empty string is not an IPv4 address');
  if (text.length > MAX_TEXT_LENGTH) return fail(`${shown} is not an IPv4 address: too long`);
  const parts = text.split('.');
  if (parts.length !== 4) {
    return fail(`${shown} is not an IPv4 address: expected four dot-separated numbers (like 10.0.0.1)`);
  }
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) {
      const why = /^0[0-9]+$/.test(part)
        ? `leading zeros are not allowed ("${part}")`
        : `"${part}" is not a decimal number 0-255`;
      return fail(`${shown} is not an IPv4 address: ${why}`);
    }
    const octet = Number(part);
    if (octet > 255) return fail(`${shown} is not an IPv4 address: ${octet} is larger than 255`);
    value = value * 256 + octet;
  }
  return { ok: true, value };
}

export function parseIpv4(text: string): number {
  return orThrow(tryParseIpv4(text));
}

export function isIpv4(text: string): boolean {
  return tryParseIpv4(text).ok;
}

export function formatIpv4(address: number): string {
  return `${(address >>> 24) & 255}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

// ---- Canonical text, both families (from the former src/dataplane/ip.ts) ----
// The dataplane compares what it wants with what the kernel prints, so both sides must be in the
// same canonical form: IPv6 per RFC 5952 (what iproute2, nft and wg print), prefixes with host
// bits cleared (what the kernel stores), bare addresses as /32 or /128 (how `ip route` prints host
// routes). An IPv4 address is parsed by the same strict rules as above.

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  bytes: Uint8Array;
}

const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return undefined;
  return text.includes(':') ? parseV6(text) : parseV4(text);
}

function parseV4(text: string): IpAddress | undefined {
  const parsed = tryParseIpv4(text);
  if (!parsed.ok) return undefined;
  const v = parsed.value;
  return { family: 4, bytes: Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255) };
}

function parseV6(text: string): IpAddress | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (const [i, p] of parts.entries()) {
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p);
        if (!v4) return undefined;
        const b = v4.bytes;
        out.push(((b[0] ?? 0) << 8) | (b[1] ?? 0), ((b[2] ?? 0) << 8) | (b[3] ?? 0));
      } else if (V6_GROUP.test(p)) {
        out.push(Number.parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (const [i, g] of all.entries()) {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  }
  return { family: 6, bytes };
}

export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return Array.from(b).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  // RFC 5952: compress the longest run (length ≥ 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function invalid(what: string, text: string): MoorError {
  return new MoorError('invalid-input', `${JSON.stringify(text)} is not a valid ${what}`);
}

export function normalizeIp(text: string): string {
  const ip = parseIp(text);
  if (!ip) throw invalid('IP address', text);
  return formatIp(ip);
}

export function ipFamily(text: string): IpFamily {
  const ip = parseIp(text.split('/')[0] ?? '');
  if (!ip) throw invalid('IP address or prefix', text);
  return ip.family;
}

function splitPrefix(text: string, what: string): { ip: IpAddress; len: number } {
  const [addr = '', len, ...rest] = text.split('/');
  const ip = parseIp(addr);
  if (!ip || rest.length > 0) throw invalid(what, text);
  const max = ip.family === 4 ? 32 : 128;
  if (len === undefined) return { ip, len: max };
  if (!/^(0|[1-9][0-9]{0,2})$/.test(len) || Number(len) > max) throw invalid(what, text);
  return { ip, len: Number(len) };
}

/** "10.99.2.5/24" → "10.99.2.0/24", "10.99.6.1" → "10.99.6.1/32", "default" is not accepted. */
export function normalizeCidr(text: string): string {
  const { ip, len } = splitPrefix(text, 'IP prefix');
  const bytes = ip.bytes.slice();
  for (let bit = len; bit < bytes.length * 8; bit++) {
    const i = bit >> 3;
    bytes[i] = (bytes[i] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return `${formatIp({ family: ip.family, bytes })}/${len}`;
}

/** An interface address keeps its host bits: "10.99.0.1/30" stays as is, just canonical. */
export function normalizeAddressCidr(text: string): string {
  const { ip, len } = splitPrefix(text, 'interface address (ip/prefix)');
  return `${formatIp(ip)}/${len}`;
}

export interface SocketAddress {
  ip: string;
  port: number;
  family: IpFamily;
}

/** "10.0.0.1:4500" or "[fd00::1]:4500". Host names are refused on purpose: `wg` would resolve
 * them (retrying for up to a minute), and the kernel reports the address, so a name could never
 * compare equal and every reconcile would rewrite the peer. Resolve names in the planner. */
export function parseSocketAddress(text: string): SocketAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text);
  const ip = m ? parseIp(m[1] ?? m[2] ?? '') : undefined;
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !ip || (m[1] !== undefined) !== (ip.family === 6) || port < 1 || port > 65535) {
    throw invalid('endpoint (ip:port or [ipv6]:port, no host names)', text);
  }
  return { ip: formatIp(ip), port, family: ip.family };
}

export function formatSocketAddress(ep: SocketAddress): string {
  return ep.family === 6 ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

export function normalizeSocketAddress(text: string): string {
  return formatSocketAddress(parseSocketAddress(text));
}

/** Whether the address part of `cidr` (host bits cleared) lies inside network `prefix`. */
export function prefixContains(prefix: string, addressOrCidr: string): boolean {
  const outer = splitPrefix(prefix, 'IP prefix');
  const inner = splitPrefix(addressOrCidr, 'IP address or prefix');
  if (outer.ip.family !== inner.ip.family || inner.len < outer.len) return false;
  for (let bit = 0; bit < outer.len; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((outer.ip.bytes[i] ?? 0) & mask) !== ((inner.ip.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Parses "a.b.c.d/n" keeping the address, so interface addresses like 10.0.0.5/24 are usable. */
export function tryParseAddressInCidr(text: string): Ipv4Result<Ipv4AddressInCidr> {
  if (typeof text !== 'string') return fail('not a string');
  const shown = quote(text);
  if (looksLikeIpv6(text)) return fail(`${shown}: IPv6 is not supported yet`);
  const slash = text.indexOf('/');
  if (slash < 0) return fail(`${shown} is not an IPv4 CIDR: expected address/prefix (like 10.0.0.0/16)`);
  const address = tryParseIpv4(text.slice(0, slash));
  if (!address.ok) return fail(`${shown} is not an IPv4 CIDR: ${address.error}`);
  const prefixText = text.slice(slash + 1);
  if (!DECIMAL_PREFIX.test(prefixText) || Number(prefixText) > 32) {
    return fail(`${shown} is not an IPv4 CIDR: prefix length must be a number 0-32`);
  }
  const prefix = Number(prefixText);
  const network = (address.value & prefixMask(prefix)) >>> 0;
  return {
    ok: true,
    value: { address: address.value, cidr: { network, prefix }, hostBitsSet: network !== address.value },
  };
}

export function tryParseCidr(text: string, options: CidrParseOptions = {}): Ipv4Result<Ipv4Cidr> {
  const parsed = tryParseAddressInCidr(text);
  if (!parsed.ok) return parsed;
  if (parsed.value.hostBitsSet && options.allowHostBits !== true) {
    return fail(`${quote(text)} has host bits set; the network is ${formatCidr(parsed.value.cidr)}`);
  }
  return { ok: true, value: parsed.value.cidr };
}

export function parseCidr(text: string, options: CidrParseOptions = {}): Ipv4Cidr {
  return orThrow(tryParseCidr(text, options));
}

/** "10.0.0.1" → 10.0.0.1/32; "10.0.0.0/24" → itself. Host bits are normalised away. */
export function tryParseAddressOrCidr(text: string): Ipv4Result<Ipv4Cidr> {
  if (typeof text === 'string' && !text.includes('/')) {
    const address = tryParseIpv4(text);
    return address.ok ? { ok: true, value: hostCidr(address.value) } : address;
  }
  return tryParseCidr(text, { allowHostBits: true });
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

export function prefixMask(prefix: number): number {
  // `x << 32` is `x << 0` in JavaScript, so /0 needs its own branch.
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function hostCidr(address: number): Ipv4Cidr {
  return { network: address >>> 0, prefix: 32 };
}

export function cidrSize(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** The last address of the network (the broadcast address for prefixes up to /30). */
export function cidrLast(cidr: Ipv4Cidr): number {
  return cidr.network + cidrSize(cidr) - 1;
}

export function contains(cidr: Ipv4Cidr, address: number): boolean {
  return (address & prefixMask(cidr.prefix)) >>> 0 === cidr.network;
}

/** True when every address of `inner` is inside `outer` (equal networks included). */
export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner.network);
}

export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/**
 * True when `address` can be given to a host inside `cidr`: inside it and, for prefixes up to /30,
 * neither the network nor the broadcast address (/31 and /32 have no such reserved addresses).
 */
export function isHostAddressInside(cidr: Ipv4Cidr, address: number): boolean {
  if (!contains(cidr, address)) return false;
  if (cidr.prefix >= 31) return true;
  return address !== cidr.network && address !== cidrLast(cidr);
}

export function compareCidrs(a: Ipv4Cidr, b: Ipv4Cidr): number {
  return a.network - b.network || a.prefix - b.prefix;
}

export function sameCidr(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network === b.network && a.prefix === b.prefix;
}

/** Sorted by address then prefix, exact duplicates removed. */
export function sortCidrs(cidrs: readonly Ipv4Cidr[]): Ipv4Cidr[] {
  const sorted = [...cidrs].sort(compareCidrs);
  return sorted.filter((cidr, i) => i === 0 || !sameCidr(cidr, sorted[i - 1] as Ipv4Cidr));
}

/**
 * A block of the IANA IPv4 Special-Purpose Address Registry (RFC 6890) that is never valid as a
 * clusterset address, a member subnet, a health-check IP or a tunnel endpoint: nothing routes it
 * between hosts. Private ranges, shared address space (100.64.0.0/10, moor's own pool), the
 * documentation and benchmarking ranges stay usable: they forward like any unicast range and labs
 * use them. So does the reserved 240.0.0.0/4 except its broadcast address: Submariner's Globalnet
 * allocates from 242.0.0.0/8 by default (docs/decisions.md, "Special-purpose addresses").
 */
export interface SpecialPurposeBlock {
  readonly cidr: Ipv4Cidr;
  /** The block's name in the registry, short: "loopback". */
  readonly name: string;
  readonly rfc: string;
}

const SPECIAL_PURPOSE: readonly SpecialPurposeBlock[] = (
  [
    // Most specific first: 255.255.255.255 is reported as broadcast, not as reserved.
    ['255.255.255.255/32', 'limited broadcast', 'RFC 919'],
    ['192.0.0.0/24', 'IETF protocol assignments', 'RFC 6890'],
    ['169.254.0.0/16', 'link-local', 'RFC 3927'],
    ['0.0.0.0/8', '"this network"', 'RFC 791'],
    ['127.0.0.0/8', 'loopback', 'RFC 1122'],
    ['224.0.0.0/4', 'multicast', 'RFC 5771'],
  ] as const
).map(([text, name, rfc]) => ({ cidr: parseCidr(text), name, rfc }));

/** The special-purpose block `address` is in (the most specific one), if any. */
export function specialPurposeBlockOf(address: number): SpecialPurposeBlock | undefined {
  return SPECIAL_PURPOSE.find((block) => contains(block.cidr, address));
}

const SPECIAL_PURPOSE_BY_ADDRESS = [...SPECIAL_PURPOSE].sort((a, b) => compareCidrs(a.cidr, b.cidr));

/** The lowest special-purpose block `cidr` overlaps (so 0.0.0.0/0 and other wide prefixes count). */
export function specialPurposeOverlap(cidr: Ipv4Cidr): SpecialPurposeBlock | undefined {
  return SPECIAL_PURPOSE_BY_ADDRESS.find((block) => overlaps(block.cidr, cidr));
}

/** "the loopback block 127.0.0.0/8 (RFC 1122)" */
export function describeSpecialPurpose(block: SpecialPurposeBlock): string {
  return `the ${block.name} block ${formatCidr(block.cidr)} (${block.rfc})`;
}

/** Why `address` can never be a host's address, or undefined when it can. */
export function specialPurposeAddressReason(address: number): string | undefined {
  const block = specialPurposeBlockOf(address);
  return block && `${formatIpv4(address)} is in ${describeSpecialPurpose(block)}, never a host's address`;
}

/** Why `cidr` can never be routed to a member, or undefined when it can. */
export function specialPurposeCidrReason(cidr: Ipv4Cidr): string | undefined {
  const block = specialPurposeOverlap(cidr);
  if (block === undefined) return undefined;
  const where = cidrContains(block.cidr, cidr) ? 'is inside' : 'covers';
  return `${formatCidr(cidr)} ${where} ${describeSpecialPurpose(block)}, which is never routed between hosts`;
}

/**
 * An IPv4 address a host can be reached at or use as its own: well-formed and outside every
 * special-purpose block. The error names the address and why.
 */
export function tryParseUnicastAddress(text: string): Ipv4Result<number> {
  const parsed = tryParseIpv4(text);
  if (!parsed.ok) return parsed;
  const why = specialPurposeAddressReason(parsed.value);
  return why === undefined ? parsed : fail(why);
}

/** A network a member may route: well-formed and overlapping no special-purpose block. */
export function tryParseUnicastCidr(text: string, options: CidrParseOptions = {}): Ipv4Result<Ipv4Cidr> {
  const parsed = tryParseCidr(text, options);
  if (!parsed.ok) return parsed;
  const why = specialPurposeCidrReason(parsed.value);
  return why === undefined ? parsed : fail(why);
}

/** A command-line address (`--address 10.0.0.1`): unicast, or a MoorError naming option and why. */
export function parseUnicastAddressOption(option: string, text: string): number {
  const parsed = tryParseUnicastAddress(text);
  if (parsed.ok) return parsed.value;
  throw new MoorError('invalid-argument', `${option} ${parsed.error}`, {
    hint: 'give a unicast IPv4 address other hosts can route to, such as 10.0.0.1 or 100.70.0.10',
  });
}

/** A command-line network (`--cluster-cidr 10.42.0.0/16`): routable, or a MoorError. */
export function parseUnicastCidrOption(option: string, text: string): Ipv4Cidr {
  const parsed = tryParseUnicastCidr(text);
  if (parsed.ok) return parsed.value;
  throw new MoorError('invalid-argument', `${option} ${parsed.error}`, {
    hint: 'give a routable IPv4 network as address/prefix, such as 10.42.0.0/16',
  });
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

function orThrow<T>(result: Ipv4Result<T>): T {
  if (result.ok) return result.value;
  throw new MoorError('invalid-input', result.error, {
    hint: 'write IPv4 addresses as four decimal numbers (10.0.0.1) and networks as address/prefix (10.0.0.0/16)',
  });
}

function quote(text: string): string {
  return JSON.stringify(text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH)}…` : text);
}
