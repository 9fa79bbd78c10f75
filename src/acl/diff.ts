// `moor acl diff`: what changed since an export (json or yaml, as `moor acl export` wrote it),
// so a firewall change can be reviewed line by line. Pure: two rule lists in, changes out.
import { parse } from 'yaml';
import { MoorError } from '../errors.ts';
import { ACL_DOCUMENT_KIND } from './render.ts';
import { type AclExport, type AclRule, describeRule, ruleKey } from './rules.ts';

export interface AclChange {
  change: 'added' | 'removed' | 'changed';
  rule: AclRule;
  /** For `changed`: the rule as it was. */
  before?: AclRule;
}

const destText = (r: AclRule) =>
  r.destinations.map((d) => `${d.cidr}${d.except?.length ? ` except ${d.except.join(',')}` : ''}`).join(', ');

export function diffAcl(before: readonly AclRule[], after: readonly AclRule[]): AclChange[] {
  const old = new Map(before.map((r) => [ruleKey(r), r]));
  const now = new Map(after.map((r) => [ruleKey(r), r]));
  const changes: AclChange[] = [];
  for (const [key, r] of old) if (!now.has(key)) changes.push({ change: 'removed', rule: r });
  for (const [key, r] of now) {
    const was = old.get(key);
    if (!was) changes.push({ change: 'added', rule: r });
    else if (destText(was) !== destText(r)) changes.push({ change: 'changed', rule: r, before: was });
  }
  const order = { removed: 0, changed: 1, added: 2 };
  return changes.sort(
    (a, b) => order[a.change] - order[b.change] || (ruleKey(a.rule) < ruleKey(b.rule) ? -1 : 1),
  );
}

/** Review lines: `+ allow 203.0.113.20 = payments/checkout (Deployment) policy checkout to 10.50.0.0/24`. */
export function renderDiff(changes: readonly AclChange[], cluster?: string): string {
  if (changes.length === 0) return 'no changes\n';
  const line = (sign: string, r: AclRule) =>
    `${sign} allow ${r.egressIP} = ${describeRule(r, cluster)} to ${destText(r)}`;
  return `${changes
    .flatMap((c) =>
      c.change === 'added'
        ? [line('+', c.rule)]
        : c.change === 'removed'
          ? [line('-', c.rule)]
          : [line('-', c.before as AclRule), line('+', c.rule)],
    )
    .join('\n')}\n`;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads an earlier export back; anything else is an error naming the problem. */
export function readAclExport(text: string, source: string): AclExport {
  const bad = (what: string) =>
    new MoorError('invalid-input', `${source}: ${what}`, {
      hint: 'give a file written by `moor acl export -o json` or `-o yaml`',
    });
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw bad(
      `not JSON or YAML (${err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)})`,
    );
  }
  if (!isObj(doc) || doc.kind !== ACL_DOCUMENT_KIND) throw bad(`not a ${ACL_DOCUMENT_KIND} document`);
  if (doc.version !== 1) throw bad(`version ${String(doc.version)} is not one this moor reads (1)`);
  if (!Array.isArray(doc.rules)) throw bad('no rules list');
  const rules: AclRule[] = doc.rules.map((r, i) => {
    const w = isObj(r) && isObj(r.workload) ? r.workload : undefined;
    const ok =
      isObj(r) &&
      typeof r.egressIP === 'string' &&
      typeof r.namespace === 'string' &&
      typeof r.policy === 'string' &&
      typeof w?.kind === 'string' &&
      typeof w?.name === 'string' &&
      Array.isArray(r.destinations) &&
      r.destinations.every((d) => isObj(d) && typeof d.cidr === 'string');
    if (!ok) throw bad(`rule ${i + 1} is incomplete (egressIP, namespace, workload, policy, destinations)`);
    const rule = r as unknown as AclRule;
    return { ...rule, pods: typeof rule.pods === 'number' ? rule.pods : 0 };
  });
  return {
    generatedAt: typeof doc.generatedAt === 'string' ? doc.generatedAt : '',
    ...(typeof doc.cluster === 'string' ? { cluster: doc.cluster } : {}),
    filter: isObj(doc.filter) ? (doc.filter as AclExport['filter']) : {},
    rules,
  };
}
