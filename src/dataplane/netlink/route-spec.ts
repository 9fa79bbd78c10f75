// Turning a RouteSpec into the Route the kernel will report, with the defaults iproute2 and the
// kernel apply (iproute.c iproute_modify, fib tables): without this, "10.1.0.0/16 dev wg0"
// would never compare equal to what `ip route show` prints and every reconcile would rewrite it.
import { MoorError } from '../../errors.ts';
import { ipFamily, normalizeCidr, normalizeIp } from '../../net/ipv4.ts';
import { MAIN_TABLE, type Route, type RouteScope, type RouteSpec, type RouteType } from './types.ts';

/** RTPROT_BOOT: what `ip route add` records when no proto is given. */
export const PROTO_BOOT = 3;
export const PROTO_KERNEL = 2;

export const SCOPE_NUMBERS: Record<RouteScope, number> = {
  global: 0,
  site: 200,
  link: 253,
  host: 254,
  nowhere: 255,
};

export const ROUTE_TYPE_NUMBERS: Record<RouteType, number> = {
  unicast: 1,
  local: 2,
  broadcast: 3,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
};

export function scopeFromNumber(n: number): RouteScope | undefined {
  return (Object.keys(SCOPE_NUMBERS) as RouteScope[]).find((k) => SCOPE_NUMBERS[k] === n);
}

export function routeTypeFromNumber(n: number): RouteType | undefined {
  return (Object.keys(ROUTE_TYPE_NUMBERS) as RouteType[]).find((k) => ROUTE_TYPE_NUMBERS[k] === n);
}

export function normalizeRoute(spec: RouteSpec): Route {
  const family = ipFamily(spec.dst);
  const dst = normalizeCidr(spec.dst);
  const type = spec.type ?? 'unicast';
  const gateway = spec.gateway === undefined ? undefined : normalizeIp(spec.gateway);
  const src = spec.src === undefined ? undefined : normalizeIp(spec.src);
  for (const [what, ip] of [
    ['gateway', gateway],
    ['src', src],
  ] as const) {
    if (ip !== undefined && ipFamily(ip) !== family) {
      throw new MoorError('invalid-input', `route ${dst}: ${what} ${ip} is not IPv${family}`);
    }
  }
  if (type === 'unicast' && spec.dev === undefined && gateway === undefined) {
    throw new MoorError('invalid-input', `route ${dst}: a unicast route needs a dev or a gateway`);
  }
  const table = spec.table ?? MAIN_TABLE;
  const metric = spec.metric ?? (family === 6 ? 1024 : 0);
  for (const [what, n, max] of [
    ['table', table, 0xffffffff],
    ['metric', metric, 0xffffffff],
    ['proto', spec.proto ?? PROTO_BOOT, 255],
  ] as const) {
    if (!Number.isInteger(n) || n < 0 || n > max) {
      throw new MoorError('invalid-input', `route ${dst}: ${what} must be an integer 0-${max}, got ${n}`);
    }
  }
  const route: Route = {
    family,
    dst,
    table,
    metric,
    type,
    proto: spec.proto ?? PROTO_BOOT,
    scope: spec.scope ?? defaultScope(family, type, gateway !== undefined),
  };
  if (spec.dev !== undefined) route.dev = spec.dev;
  if (gateway !== undefined) route.gateway = gateway;
  if (src !== undefined) route.src = src;
  return route;
}

function defaultScope(family: 4 | 6, type: RouteType, hasGateway: boolean): RouteScope {
  // IPv6 routes have no scope in the kernel; iproute2 sends "universe" and the kernel reports it.
  if (family === 6) return 'global';
  if (type === 'local') return 'host';
  if (type === 'broadcast' || type === 'multicast') return 'link';
  if (type === 'unicast' && !hasGateway) return 'link';
  return 'global';
}

/** The kernel's identity of a route: `ip route replace` overwrites the route with this key. */
export function routeKey(r: Route): string {
  return `${r.family}|${r.table}|${r.dst}|${r.metric}`;
}

export function sameRoute(a: Route, b: Route): boolean {
  return (
    routeKey(a) === routeKey(b) &&
    a.type === b.type &&
    a.dev === b.dev &&
    a.gateway === b.gateway &&
    a.src === b.src &&
    a.proto === b.proto &&
    (a.family === 6 || a.scope === b.scope)
  );
}

export function describeRoute(r: Route): string {
  const parts = [r.type === 'unicast' ? '' : r.type, r.dst];
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.src) parts.push(`src ${r.src}`);
  parts.push(`proto ${r.proto}`, `table ${r.table}`, `metric ${r.metric}`);
  return parts.filter(Boolean).join(' ');
}
