// Address, prefix and endpoint normalisation for both families. The dataplane compares what it
// wants with what the kernel prints, so both sides must be in the same canonical form: IPv6 per
// RFC 5952 (what iproute2, nft and wg print), prefixes with host bits cleared (what the kernel
// stores), bare addresses as /32 or /128 (how `ip route` prints host routes).
import { MoorError } from '../errors.ts';

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  bytes: Uint8Array;
}

const V4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return undefined;
  return text.includes(':') ? parseV6(text) : parseV4(text);
}

function parseV4(text: string): IpAddress | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, p] of parts.entries()) {
    if (!V4_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return { family: 4, bytes };
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

export interface Endpoint {
  ip: string;
  port: number;
  family: IpFamily;
}

/** "10.0.0.1:4500" or "[fd00::1]:4500". Host names are refused on purpose: `wg` would resolve
 * them (retrying for up to a minute), and the kernel reports the address, so a name could never
 * compare equal and every reconcile would rewrite the peer. Resolve names in the planner. */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text);
  const ip = m ? parseIp(m[1] ?? m[2] ?? '') : undefined;
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !ip || (m[1] !== undefined) !== (ip.family === 6) || port < 1 || port > 65535) {
    throw invalid('endpoint (ip:port or [ipv6]:port, no host names)', text);
  }
  return { ip: formatIp(ip), port, family: ip.family };
}

export function formatEndpoint(ep: Endpoint): string {
  return ep.family === 6 ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
}

export function normalizeEndpoint(text: string): string {
  return formatEndpoint(parseEndpoint(text));
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
