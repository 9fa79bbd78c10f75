// Parser for `wg show <dev> dump` (wireguard-tools, show.c dump_print): tab-separated lines,
// first the interface (private key, public key, listen port, fwmark), then one line per peer
// (public key, preshared key, endpoint, allowed ips, latest handshake, rx bytes, tx bytes,
// persistent keepalive). Absent values print as "(none)", a zero fwmark/keepalive as "off".
// Anything else is rejected loudly: a silent misparse would make the reconciler rewrite peers.
import { MoorError } from '../../errors.ts';
import { normalizeCidr, normalizeSocketAddress } from '../../net/ipv4.ts';
import type { WgDump, WgInterfaceState, WgPeerState } from './types.ts';

export function parseWgDump(text: string): WgDump {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const [first, ...rest] = lines;
  if (first === undefined) throw malformed('empty output', text);
  return { interface: parseInterfaceLine(first), peers: rest.map(parsePeerLine) };
}

function parseInterfaceLine(line: string): WgInterfaceState {
  const f = line.split('\t');
  if (f.length !== 4) throw malformed(`interface line has ${f.length} fields, expected 4`, line);
  const [priv = '', pub = '', port = '', fwmark = ''] = f;
  return {
    privateKey: optional(priv),
    publicKey: optional(pub),
    listenPort: integer(port, line),
    fwmark: fwmark === 'off' ? null : integer(fwmark, line),
  };
}

function parsePeerLine(line: string): WgPeerState {
  const f = line.split('\t');
  if (f.length !== 8) throw malformed(`peer line has ${f.length} fields, expected 8`, line);
  const [pub = '', psk = '', endpoint = '', allowed = '', handshake = '', rx = '', tx = '', keepalive = ''] =
    f;
  return {
    publicKey: pub,
    presharedKey: optional(psk),
    endpoint: endpoint === '(none)' ? null : canonicalEndpoint(endpoint),
    allowedIPs: allowed === '(none)' || allowed === '' ? [] : allowed.split(',').map(canonicalCidr),
    latestHandshake: integer(handshake, line),
    rxBytes: integer(rx, line),
    txBytes: integer(tx, line),
    persistentKeepalive: keepalive === 'off' ? null : integer(keepalive, line),
  };
}

function optional(v: string): string | null {
  return v === '(none)' ? null : v;
}

// An endpoint we cannot canonicalise (e.g. an IPv6 zone) is kept verbatim: it then simply
// compares unequal to the desired one, which is the safe direction.
function canonicalEndpoint(v: string): string {
  try {
    return normalizeSocketAddress(v);
  } catch {
    return v;
  }
}

function canonicalCidr(v: string): string {
  try {
    return normalizeCidr(v);
  } catch {
    return v;
  }
}

function integer(v: string, line: string): number {
  // fwmark prints as hex ("0x20"); everything else is decimal.
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) throw malformed(`"${v}" is not a number`, line);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw malformed(`"${v}" is out of range`, line);
  return n;
}

function malformed(why: string, line: string): MoorError {
  // Never echo a line that may hold a private key.
  const safe = line.replace(/[A-Za-z0-9+/]{43}=/g, '<key>');
  return new MoorError('system', `unexpected output from "wg show … dump": ${why} (${safe.slice(0, 200)})`, {
    hint: 'check the wireguard-tools version (`wg --version`)',
  });
}
