// Our policy routing rules, owned by protocol number like our routes (see route-table.ts).
// Added before stale ones are deleted; identical rules are left alone.
import { MoorError } from '../../errors.ts';
import { type IpFamily, normalizeCidr } from '../../net/ipv4.ts';
import { type ApplyResult, attempt, emptyResult } from '../result.ts';
import { MOOR_ROUTE_PROTO } from './route-table.ts';
import type { NetlinkBasic, Rule } from './types.ts';

export type RuleChange = { op: 'add'; rule: Rule } | { op: 'delete'; rule: Rule };

export type RuleSpec = Omit<Rule, 'proto'>;

export function ruleKey(r: Rule): string {
  return [r.family, r.priority, r.table, r.src, r.dst, r.fwmark, r.fwmask, r.iif, r.oif, r.proto].join('|');
}

export async function reconcileRules(
  netlink: NetlinkBasic,
  desiredSpecs: RuleSpec[],
  /** `owned`: of the rules with our protocol, those this caller manages (default: all). */
  opts: { proto?: number; families?: IpFamily[]; owned?: (rule: Rule) => boolean } = {},
): Promise<ApplyResult<RuleChange>> {
  const proto = opts.proto ?? MOOR_ROUTE_PROTO;
  const families = opts.families ?? [4, 6];
  const desired = new Map<string, Rule>();
  for (const spec of desiredSpecs) {
    if (!families.includes(spec.family)) {
      throw new MoorError(
        'invalid-input',
        `rule priority ${spec.priority}: IPv${spec.family} is not managed here`,
      );
    }
    const rule: Rule = { ...spec, proto };
    if (spec.src !== undefined) rule.src = normalizeCidr(spec.src);
    if (spec.dst !== undefined) rule.dst = normalizeCidr(spec.dst);
    desired.set(ruleKey(rule), rule);
  }
  const current = (await Promise.all(families.map((f) => netlink.ruleList(f))))
    .flat()
    .filter((r) => r.proto === proto && (opts.owned?.(r) ?? true));
  const currentKeys = new Set(current.map(ruleKey));
  const result = emptyResult<RuleChange>();
  for (const [key, rule] of desired) {
    if (!currentKeys.has(key)) await attempt(result, { op: 'add', rule }, () => netlink.ruleAdd(rule));
  }
  for (const rule of current) {
    if (!desired.has(ruleKey(rule)))
      await attempt(result, { op: 'delete', rule }, () => netlink.ruleDel(rule));
  }
  return result;
}
