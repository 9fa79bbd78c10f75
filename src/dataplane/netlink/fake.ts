// A strict in-memory NetlinkBasic that behaves like the kernel where our helpers depend on it:
// connected routes appear with addresses on up links, routes vanish when their link goes down or
// away, a route needs an up device, a local prefsrc and a reachable gateway, duplicates and
// missing objects are errors (EEXIST / ESRCH). Every call is recorded; dump() renders the whole
// state as sorted text for golden comparisons.
import { MoorError } from '../../errors.ts';
import {
  type IpFamily,
  ipFamily,
  normalizeAddressCidr,
  normalizeCidr,
  prefixContains,
} from '../../net/ipv4.ts';
import { assertInterfaceName } from '../names.ts';
import { compareText } from '../text.ts';
import { describeRoute, PROTO_KERNEL, routeKey } from './route-spec.ts';
import { ruleKey } from './rules.ts';
import {
  type Address,
  type Link,
  LOCAL_TABLE,
  MAIN_TABLE,
  type NetlinkBasic,
  type Route,
  type RouteFilter,
  type RouteLookup,
  type Rule,
} from './types.ts';

export interface FakeNetlinkCall {
  op: keyof NetlinkBasic;
  args: unknown[];
}

const READ_OPS = new Set<keyof NetlinkBasic>([
  'linkList',
  'linkGet',
  'addrList',
  'routeList',
  'routeGet',
  'ruleList',
]);

const fail = (message: string): MoorError => new MoorError('system', `RTNETLINK answers: ${message}`);

export class FakeNetlink implements NetlinkBasic {
  readonly calls: FakeNetlinkCall[] = [];
  #links: Link[] = [];
  #addrs: Address[] = [];
  #routes: Route[] = [];
  #rules: Rule[] = [
    { family: 4, priority: 0, table: LOCAL_TABLE, proto: 0 },
    { family: 4, priority: 32766, table: MAIN_TABLE, proto: 0 },
    { family: 4, priority: 32767, table: 253, proto: 0 },
    { family: 6, priority: 0, table: LOCAL_TABLE, proto: 0 },
    { family: 6, priority: 32766, table: MAIN_TABLE, proto: 0 },
  ];
  #nextIndex = 1;

  readonly #failNext = new Map<keyof NetlinkBasic, string>();

  #record(op: keyof NetlinkBasic, ...args: unknown[]): void {
    this.calls.push({ op, args: structuredClone(args) });
    const failure = this.#failNext.get(op);
    if (failure !== undefined) {
      this.#failNext.delete(op);
      throw fail(failure);
    }
  }

  /** Make the next call of `op` fail once, as the kernel would (to test error paths). */
  failNext(op: keyof NetlinkBasic, message = 'Device or resource busy'): void {
    this.#failNext.set(op, message);
  }

  #link(name: string): Link {
    const l = this.#links.find((x) => x.name === name);
    if (!l) throw new MoorError('system', `Cannot find device "${name}"`);
    return l;
  }

  // ---- fixtures (not part of the port) ----

  /** Create a link the way `ip link add` would (down, MTU 1500 unless given). */
  addLink(name: string, opts: { mtu?: number; kind?: string; up?: boolean } = {}): void {
    assertInterfaceName(name);
    if (this.#links.some((l) => l.name === name)) throw fail('File exists');
    const up = opts.up ?? false;
    this.#links.push({
      name,
      index: this.#nextIndex++,
      mtu: opts.mtu ?? 1500,
      up,
      operState: up ? 'UP' : 'DOWN',
      kind: opts.kind,
    });
  }

  mutatingCalls(): FakeNetlinkCall[] {
    return this.calls.filter((c) => !READ_OPS.has(c.op));
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  // ---- links ----

  async linkList(): Promise<Link[]> {
    this.#record('linkList');
    return structuredClone(this.#links);
  }

  async linkGet(name: string): Promise<Link | undefined> {
    this.#record('linkGet', name);
    return structuredClone(this.#links.find((l) => l.name === name));
  }

  async linkSetUp(name: string): Promise<void> {
    this.#record('linkSetUp', name);
    const l = this.#link(name);
    if (l.up) return;
    l.up = true;
    l.operState = 'UP';
    for (const a of this.#addrs.filter((x) => x.dev === name)) this.#addConnected(a);
  }

  async linkSetDown(name: string): Promise<void> {
    this.#record('linkSetDown', name);
    const l = this.#link(name);
    l.up = false;
    l.operState = 'DOWN';
    this.#routes = this.#routes.filter((r) => r.dev !== name);
  }

  async linkSetMtu(name: string, mtu: number): Promise<void> {
    this.#record('linkSetMtu', name, mtu);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw fail('Invalid argument');
    this.#link(name).mtu = mtu;
  }

  async linkDelete(name: string): Promise<void> {
    this.#record('linkDelete', name);
    this.#link(name);
    this.#links = this.#links.filter((l) => l.name !== name);
    this.#addrs = this.#addrs.filter((a) => a.dev !== name);
    this.#routes = this.#routes.filter((r) => r.dev !== name);
  }

  // ---- addresses ----

  async addrList(dev?: string): Promise<Address[]> {
    this.#record('addrList', dev);
    if (dev !== undefined) this.#link(dev);
    return structuredClone(this.#addrs.filter((a) => dev === undefined || a.dev === dev));
  }

  async addrAdd(dev: string, cidr: string): Promise<void> {
    this.#record('addrAdd', dev, cidr);
    const link = this.#link(dev);
    const c = normalizeAddressCidr(cidr);
    const family = ipFamily(c);
    const ip = c.split('/')[0];
    const clash = this.#addrs.some(
      (a) => a.dev === dev && (a.cidr === c || (family === 6 && a.cidr.split('/')[0] === ip)),
    );
    if (clash) throw fail('File exists');
    const addr: Address = { dev, family, cidr: c, scope: 'global' };
    this.#addrs.push(addr);
    if (link.up) this.#addConnected(addr);
  }

  async addrDel(dev: string, cidr: string): Promise<void> {
    this.#record('addrDel', dev, cidr);
    this.#link(dev);
    const c = normalizeAddressCidr(cidr);
    const i = this.#addrs.findIndex((a) => a.dev === dev && a.cidr === c);
    if (i < 0) throw fail('Cannot assign requested address');
    this.#addrs.splice(i, 1);
    const network = normalizeCidr(c);
    const src = c.split('/')[0];
    this.#routes = this.#routes.filter(
      (r) =>
        !(
          r.proto === PROTO_KERNEL &&
          r.dev === dev &&
          r.dst === network &&
          (r.family === 6 || r.src === src)
        ),
    );
  }

  #addConnected(a: Address): void {
    const len = Number(a.cidr.split('/')[1]);
    if (len === (a.family === 4 ? 32 : 128)) return;
    const route: Route = {
      family: a.family,
      dst: normalizeCidr(a.cidr),
      table: MAIN_TABLE,
      metric: a.family === 4 ? 0 : 256,
      type: 'unicast',
      dev: a.dev,
      proto: PROTO_KERNEL,
      scope: a.family === 4 ? 'link' : 'global',
    };
    if (a.family === 4) route.src = a.cidr.split('/')[0] ?? '';
    if (!this.#routes.some((r) => routeKey(r) === routeKey(route) && r.dev === a.dev))
      this.#routes.push(route);
  }

  // ---- routes ----

  async routeList(filter: RouteFilter): Promise<Route[]> {
    this.#record('routeList', filter);
    if (filter.dev !== undefined) this.#link(filter.dev);
    return structuredClone(
      this.#routes.filter(
        (r) =>
          r.family === filter.family &&
          r.table === (filter.table ?? MAIN_TABLE) &&
          (filter.dev === undefined || r.dev === filter.dev) &&
          (filter.proto === undefined || r.proto === filter.proto),
      ),
    );
  }

  async routeReplace(route: Route): Promise<void> {
    this.#record('routeReplace', route);
    if (route.dev !== undefined) {
      const link = this.#link(route.dev);
      if (!link.up && route.type === 'unicast') throw fail('Nexthop device is not up');
    }
    if (route.src !== undefined && !this.#addrs.some((a) => a.cidr.split('/')[0] === route.src)) {
      throw fail('Invalid prefsrc address');
    }
    const gw = route.gateway;
    if (gw !== undefined) {
      const reachable = this.#routes.some(
        (r) =>
          r.table === MAIN_TABLE &&
          r.type === 'unicast' &&
          r.gateway === undefined &&
          (route.dev === undefined || r.dev === route.dev) &&
          prefixContains(r.dst, gw),
      );
      if (!reachable) throw fail('Nexthop has invalid gateway');
    }
    this.#routes = this.#routes.filter((r) => routeKey(r) !== routeKey(route));
    this.#routes.push(structuredClone(route));
  }

  async routeDel(route: Route): Promise<void> {
    this.#record('routeDel', route);
    const i = this.#routes.findIndex(
      (r) =>
        routeKey(r) === routeKey(route) &&
        r.proto === route.proto &&
        (route.dev === undefined || r.dev === route.dev) &&
        (route.gateway === undefined || r.gateway === route.gateway),
    );
    if (i < 0) throw fail('No such process');
    this.#routes.splice(i, 1);
  }

  async routeGet(ip: string): Promise<RouteLookup | undefined> {
    this.#record('routeGet', ip);
    const family: IpFamily = ipFamily(ip);
    const candidates = this.#routes
      .filter(
        (r) =>
          r.family === family && r.table === MAIN_TABLE && r.type === 'unicast' && prefixContains(r.dst, ip),
      )
      .sort((a, b) => Number(b.dst.split('/')[1]) - Number(a.dst.split('/')[1]) || a.metric - b.metric);
    const best = candidates[0];
    if (!best || best.dev === undefined) return undefined;
    const lookup: RouteLookup = { dev: best.dev };
    if (best.src !== undefined) lookup.src = best.src;
    if (best.gateway !== undefined) lookup.gateway = best.gateway;
    return lookup;
  }

  // ---- rules ----

  async ruleList(family: IpFamily): Promise<Rule[]> {
    this.#record('ruleList', family);
    return structuredClone(this.#rules.filter((r) => r.family === family));
  }

  async ruleAdd(rule: Rule): Promise<void> {
    this.#record('ruleAdd', rule);
    if (this.#rules.some((r) => ruleKey(r) === ruleKey(rule))) throw fail('File exists');
    this.#rules.push(structuredClone(rule));
  }

  async ruleDel(rule: Rule): Promise<void> {
    this.#record('ruleDel', rule);
    const i = this.#rules.findIndex((r) => ruleKey(r) === ruleKey(rule));
    if (i < 0) throw fail('No such file or directory');
    this.#rules.splice(i, 1);
  }

  // ---- golden output ----

  dump(): string {
    const lines: string[] = [];
    for (const l of [...this.#links].sort((a, b) => compareText(a.name, b.name))) {
      lines.push(`link ${l.name} mtu ${l.mtu} ${l.up ? 'up' : 'down'}`);
      for (const a of this.#addrs
        .filter((x) => x.dev === l.name)
        .sort((a, b) => compareText(a.cidr, b.cidr))) {
        lines.push(`  addr ${a.cidr}`);
      }
    }
    for (const r of [...this.#routes].map(describeRoute).sort()) lines.push(`route ${r}`);
    // The kernel's default rules (protocol unspecified) are left out of the dump.
    const rules = this.#rules.filter((r) => r.proto !== 0);
    for (const r of rules.sort((a, b) => a.family - b.family || a.priority - b.priority)) {
      lines.push(
        `rule -${r.family} ${r.priority} ${r.src ?? 'all'}${r.dst ? ` to ${r.dst}` : ''} table ${r.table} proto ${r.proto}`,
      );
    }
    return lines.join('\n');
  }
}
