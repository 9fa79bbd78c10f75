// The operator's `moor join` flags, checked before anything is created: each bad value gets one
// message naming the flag, instead of a failure half-way (after the broker was touched) or a
// WireGuard interface that `ip` refuses. Address classes (loopback, multicast, …) are checked
// with the addresses themselves in join.
import { MoorError } from '../errors.ts';
import { tryParseCidr, tryParseIpv4 } from '../net/ipv4.ts';

export interface JoinFlags {
  addresses: string[];
  pool: string;
  privateIp?: string;
  publicIp?: string;
  interfaceName: string;
  hostname?: string;
}

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace. */
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** Submariner publishes the host name in the Endpoint: a DNS name (RFC 1123). */
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

function bad(flag: string, value: string, why: string, hint: string): MoorError {
  const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value;
  return new MoorError('invalid-argument', `--${flag} ${JSON.stringify(shown)} ${why}`, { hint });
}

export function checkJoinFlags(f: JoinFlags): void {
  const pool = tryParseCidr(f.pool);
  if (!pool.ok)
    throw new MoorError('invalid-argument', `--pool ${pool.error}`, {
      hint: 'for example --pool 100.70.0.0/16',
    });
  for (const [flag, value] of [
    ['private-ip', f.privateIp],
    ['public-ip', f.publicIp],
  ] as const) {
    if (value === undefined) continue;
    const ip = tryParseIpv4(value);
    if (!ip.ok) throw bad(flag, value, 'is not an IPv4 address', 'give a bare address such as 192.0.2.10');
  }
  const seen = new Set<string>();
  for (const a of f.addresses) {
    if (seen.has(a)) throw bad('address', a, 'is given twice', 'give each address once');
    seen.add(a);
  }
  if (!INTERFACE_NAME.test(f.interfaceName) || f.interfaceName === '.' || f.interfaceName === '..') {
    throw bad(
      'interface',
      f.interfaceName,
      'is not a network interface name',
      'use 1 to 15 letters, digits, "-", "_" or ".", such as moor0',
    );
  }
  if (f.hostname !== undefined && (f.hostname.length > 253 || !HOSTNAME.test(f.hostname))) {
    throw bad(
      'hostname',
      f.hostname,
      'is not a host name',
      'use letters, digits, "-" and ".", at most 253 characters',
    );
  }
}
