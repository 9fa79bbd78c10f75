// Parsers for `ip -j -N …` (iproute2 JSON with numeric protocol/scope/table/type). iproute2 omits
// fields it considers default or implied by the query: `table` when listing one table (main
// when listing all), `dev`/`protocol` when filtering by them, `protocol` when it is "boot",
// `scope` when universe, `metric` when 0. The filter fills those back in.
import { MoorError } from '../../errors.ts';
import { type IpFamily, normalizeAddressCidr, normalizeCidr, normalizeIp } from '../../net/ipv4.ts';
import { PROTO_BOOT, routeTypeFromNumber, scopeFromNumber } from './route-spec.ts';
import {
  type Address,
  type Link,
  MAIN_TABLE,
  type Route,
  type RouteFilter,
  type RouteLookup,
  type Rule,
} from './types.ts';

type Json = Record<string, unknown>;

export function parseJsonArray(text: string, what: string): Json[] {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch (err) {
    throw new MoorError('system', `unexpected output from ${what}: not JSON`, { cause: err });
  }
  if (!Array.isArray(value))
    throw new MoorError('system', `unexpected output from ${what}: not a JSON array`);
  return value.filter((v): v is Json => typeof v === 'object' && v !== null);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return Number(v);
  return undefined;
};

export function parseLinks(items: Json[]): Link[] {
  return items.flatMap((l): Link[] => {
    const name = str(l.ifname);
    const index = num(l.ifindex);
    if (name === undefined || index === undefined) return [];
    const flags = Array.isArray(l.flags) ? l.flags : [];
    const info = (l.linkinfo ?? {}) as Json;
    return [
      {
        name,
        index,
        mtu: num(l.mtu) ?? 0,
        up: flags.includes('UP'),
        operState: str(l.operstate) ?? 'UNKNOWN',
        kind: str(info.info_kind),
      },
    ];
  });
}

export function parseAddresses(items: Json[]): Address[] {
  return items.flatMap((l) => {
    const dev = str(l.ifname);
    const infos = Array.isArray(l.addr_info) ? (l.addr_info as Json[]) : [];
    return infos.flatMap((a): Address[] => {
      const family = a.family === 'inet' ? 4 : a.family === 'inet6' ? 6 : undefined;
      const local = str(a.local);
      const len = num(a.prefixlen);
      if (dev === undefined || family === undefined || local === undefined || len === undefined) return [];
      return [
        {
          dev,
          family,
          cidr: normalizeAddressCidr(`${local}/${len}`),
          scope: scopeFromNumber(num(a.scope) ?? 0) ?? 'global',
        },
      ];
    });
  });
}

/** Routes of an unmodelled type (e.g. anycast) are skipped: they are never ours. */
export function parseRoutes(items: Json[], filter: RouteFilter): Route[] {
  return items.flatMap((r): Route[] => {
    const dstText = str(r.dst);
    const type = routeTypeFromNumber(num(r.type) ?? 1);
    if (dstText === undefined || type === undefined) return [];
    const dst = dstText === 'default' ? (filter.family === 4 ? '0.0.0.0/0' : '::/0') : normalizeCidr(dstText);
    const route: Route = {
      family: filter.family,
      dst,
      table: num(r.table) ?? filter.table ?? MAIN_TABLE,
      metric: num(r.metric) ?? 0,
      type,
      proto: num(r.protocol) ?? filter.proto ?? PROTO_BOOT,
      scope: scopeFromNumber(num(r.scope) ?? 0) ?? 'global',
    };
    const dev = str(r.dev) ?? filter.dev;
    if (dev !== undefined) route.dev = dev;
    const gateway = str(r.gateway);
    if (gateway !== undefined) route.gateway = normalizeIp(gateway);
    const src = str(r.prefsrc);
    if (src !== undefined) route.src = normalizeIp(src);
    return [route];
  });
}

export function parseRouteGet(items: Json[]): RouteLookup | undefined {
  const r = items[0];
  const dev = r ? str(r.dev) : undefined;
  if (!r || dev === undefined) return undefined;
  const lookup: RouteLookup = { dev };
  const src = str(r.prefsrc);
  if (src !== undefined) lookup.src = normalizeIp(src);
  const gateway = str(r.gateway);
  if (gateway !== undefined) lookup.gateway = normalizeIp(gateway);
  const metrics = Array.isArray(r.metrics) ? (r.metrics as Json[]) : [];
  for (const m of metrics) {
    const mtu = num(m.mtu);
    if (mtu !== undefined) lookup.mtu = mtu;
  }
  return lookup;
}

export function parseRules(items: Json[], family: IpFamily): Rule[] {
  return items.flatMap((r): Rule[] => {
    const priority = num(r.priority);
    if (priority === undefined) return [];
    const rule: Rule = { family, priority, table: num(r.table) ?? 0, proto: num(r.protocol) ?? 0 };
    const src = prefix(r.src, r.srclen, family);
    if (src !== undefined) rule.src = src;
    const dst = prefix(r.dst, r.dstlen, family);
    if (dst !== undefined) rule.dst = dst;
    const fwmark = num(r.fwmark);
    if (fwmark !== undefined) rule.fwmark = fwmark;
    const fwmask = num(r.fwmask);
    if (fwmask !== undefined) rule.fwmask = fwmask;
    const iif = str(r.iif);
    if (iif !== undefined) rule.iif = iif;
    const oif = str(r.oif);
    if (oif !== undefined) rule.oif = oif;
    return [rule];
  });
}

function prefix(addr: unknown, len: unknown, family: IpFamily): string | undefined {
  const a = str(addr);
  if (a === undefined || a === 'all') return undefined;
  const l = num(len) ?? (family === 4 ? 32 : 128);
  return normalizeCidr(`${a}/${l}`);
}
