// Our routes in one table, reconciled against a fresh listing every time (routes vanish when a
// link goes down or is re-created, so memory is never the truth — Kilo's route.Table.Set).
// Ownership is the route protocol number: every route we install carries MOOR_ROUTE_PROTO, and
// only routes with that number are ever replaced or deleted. 109 (0x6d, "m") is not assigned in
// iproute2's rt_protos (0-4 kernel, 8-18, 42 babel, 99 openr, 186-192 routing daemons). A
// route of someone else with the key of one we want is reported as a conflict and left alone.
import { MoorError } from '../../errors.ts';
import type { IpFamily } from '../../net/ipv4.ts';
import { assertInterfaceName } from '../names.ts';
import { type ApplyResult, attempt, emptyResult } from '../result.ts';
import { describeRoute, normalizeRoute, routeKey, sameRoute } from './route-spec.ts';
import { MAIN_TABLE, type NetlinkBasic, type Route, type RouteSpec } from './types.ts';

export const MOOR_ROUTE_PROTO = 109;

export type RouteChange =
  | { op: 'replace'; route: Route; reason: 'missing' | 'changed' }
  | { op: 'delete'; route: Route };

export interface RouteTableOptions {
  /** Default: main (254). */
  table?: number;
  /** Default: MOOR_ROUTE_PROTO. */
  proto?: number;
  /** Manage only routes through this device (e.g. one per tunnel interface). */
  dev?: string;
  /** Default: both. */
  families?: IpFamily[];
}

export class RouteTable {
  readonly table: number;
  readonly proto: number;
  readonly dev: string | undefined;
  readonly families: IpFamily[];
  readonly #netlink: NetlinkBasic;

  constructor(netlink: NetlinkBasic, opts: RouteTableOptions = {}) {
    this.#netlink = netlink;
    this.table = opts.table ?? MAIN_TABLE;
    this.proto = opts.proto ?? MOOR_ROUTE_PROTO;
    this.dev = opts.dev;
    if (this.dev !== undefined) assertInterfaceName(this.dev);
    this.families = opts.families ?? [4, 6];
  }

  /** Our routes as the kernel holds them now. */
  async list(): Promise<Route[]> {
    return (await this.#listAll()).filter((r) => r.proto === this.proto);
  }

  async #listAll(): Promise<Route[]> {
    const lists = await Promise.all(
      this.families.map((family) =>
        this.#netlink.routeList({
          family,
          table: this.table,
          ...(this.dev === undefined ? {} : { dev: this.dev }),
        }),
      ),
    );
    return lists.flat();
  }

  /** Make our routes in this table exactly `desired`: replace missing or different ones first,
   * then delete ours that are no longer wanted (add before delete, no blackhole in between).
   * `additive`: only add missing routes; change and delete nothing (last known good state). */
  async reconcile(
    desiredSpecs: RouteSpec[],
    opts: { additive?: boolean } = {},
  ): Promise<ApplyResult<RouteChange>> {
    const desired = new Map<string, Route>();
    for (const spec of desiredSpecs) {
      const route = this.#normalize(spec);
      const key = routeKey(route);
      if (desired.has(key)) {
        throw new MoorError('invalid-input', `route ${route.dst} (metric ${route.metric}) is listed twice`);
      }
      desired.set(key, route);
    }
    const current = new Map<string, Route[]>();
    for (const r of await this.#listAll()) {
      const key = routeKey(r);
      current.set(key, [...(current.get(key) ?? []), r]);
    }
    const result = emptyResult<RouteChange>();
    for (const [key, want] of desired) {
      const have = current.get(key) ?? [];
      const ours = have.find((r) => r.proto === this.proto);
      const foreign = have.find((r) => r.proto !== this.proto);
      if (ours && (sameRoute(ours, want) || opts.additive)) continue;
      const change: RouteChange = { op: 'replace', route: want, reason: ours ? 'changed' : 'missing' };
      if (foreign && !ours) {
        result.errors.push({
          change,
          error: new MoorError(
            'system',
            `route conflict: wanted ${describeRoute(want)}, found ${describeRoute(foreign)}`,
            {
              hint: 'another program owns a route with this destination and metric; remove it or use another table',
            },
          ),
        });
        continue;
      }
      await attempt(result, change, () => this.#netlink.routeReplace(want));
    }
    for (const [key, have] of current) {
      if (desired.has(key) || opts.additive) continue;
      for (const r of have.filter((x) => x.proto === this.proto)) {
        await attempt(result, { op: 'delete', route: r }, () => this.#netlink.routeDel(r));
      }
    }
    return result;
  }

  #normalize(spec: RouteSpec): Route {
    if (spec.table !== undefined && spec.table !== this.table) {
      throw new MoorError(
        'invalid-input',
        `route ${spec.dst} is for table ${spec.table}, this RouteTable manages ${this.table}`,
      );
    }
    if (this.dev !== undefined && spec.dev !== this.dev) {
      throw new MoorError(
        'invalid-input',
        `route ${spec.dst} uses dev ${spec.dev ?? '(none)'}, this RouteTable manages ${this.dev}`,
      );
    }
    const route = normalizeRoute({ ...spec, table: this.table, proto: this.proto });
    if (!this.families.includes(route.family)) {
      throw new MoorError(
        'invalid-input',
        `route ${route.dst} is IPv${route.family}; this RouteTable manages IPv${this.families.join('/')}`,
      );
    }
    return route;
  }
}
