// The egress roles' policy routing: rules that send our marked packets (top byte of the fwmark)
// to a table, and our routes in those tables. One helper for the node agent and the egress
// gateway, so both clean up alike: every table we route in is reconciled (the wanted ones and
// those our rules still point at, e.g. of a group deleted while the process was away), and the
// rules become exactly the wanted set. Routes first, then rules: a new rule never points at an
// empty table.
import { MOOR_ROUTE_PROTO, type RouteChange, RouteTable } from '../netlink/route-table.ts';
import { type RuleChange, reconcileRules } from '../netlink/rules.ts';
import type { NetlinkBasic, Rule } from '../netlink/types.ts';
import type { ApplyResult } from '../result.ts';

export interface MarkedRoutingOwner {
  /** The fwmark's top byte that marks a rule as ours (with our protocol number). */
  markTop: number;
  /** For a rule without its own priority. */
  defaultPriority: number;
}

export interface MarkedRoutingDesired {
  routes: readonly { table: number; dst: string; dev: string; scope?: string; gateway?: string }[];
  rules: readonly { table: number; fwmark: number; priority?: number | undefined }[];
}

export interface MarkedRoutingResult {
  /** One result per table, in table order. */
  routes: { table: number; result: ApplyResult<RouteChange> }[];
  rules: ApplyResult<RuleChange>;
}

export async function reconcileMarkedRouting(
  netlink: NetlinkBasic,
  owner: MarkedRoutingOwner,
  desired: MarkedRoutingDesired,
): Promise<MarkedRoutingResult> {
  const owned = (r: Rule) => r.fwmark !== undefined && (r.fwmark & 0xff000000) >>> 0 === owner.markTop >>> 0;
  const ours = (await netlink.ruleList(4)).filter((r) => r.proto === MOOR_ROUTE_PROTO && owned(r));
  const tables = new Set([
    ...desired.routes.map((r) => r.table),
    ...desired.rules.map((r) => r.table),
    ...ours.map((r) => r.table),
  ]);
  const routes: MarkedRoutingResult['routes'] = [];
  for (const table of [...tables].sort((a, b) => a - b)) {
    const want = desired.routes.filter((r) => r.table === table);
    const result = await new RouteTable(netlink, { table, families: [4] }).reconcile(
      want.map((r) => ({
        dst: r.dst,
        dev: r.dev,
        scope: r.scope === 'link' ? ('link' as const) : ('global' as const),
        ...(r.gateway ? { gateway: r.gateway } : {}),
      })),
    );
    routes.push({ table, result });
  }
  const rules = await reconcileRules(
    netlink,
    desired.rules.map((r) => ({
      family: 4 as const,
      priority: r.priority ?? owner.defaultPriority,
      table: r.table,
      fwmark: r.fwmark,
    })),
    { families: [4], owned },
  );
  return { routes, rules };
}

export const describeRouteChange = (table: number) => (c: RouteChange) =>
  `${c.op} ${c.route.dst} table ${table}`;

export const describeRuleChange = (c: RuleChange) =>
  `${c.op} fwmark 0x${(c.rule.fwmark ?? 0).toString(16)} table ${c.rule.table}`;
