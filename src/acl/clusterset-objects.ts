// The one reader and writer of EgressMapSummary objects (k8s/broker/crds/egress.moor.io_egressmapsummaries.yaml):
// a member cluster's ACL rules, published on the broker so every member and every joined host
// can list the egress IPs of the whole clusterset. Submariner's broker conventions: the object
// is named `<clusterID>-…`, labelled `submariner-io/clusterID: <clusterID>` (what an admission
// policy checks against the writer's credential) and carries `clusterID` in its content. The
// reader trusts an object only when the three agree; it never trusts shape or types.
import { CLUSTER_ID_LABEL, clusterIdProblem } from '../broker/names.ts';
import { MoorError } from '../errors.ts';
import { KubeApiError } from '../k8s/rest.ts';
import { tryParseIpv4 } from '../net/ipv4.ts';
import { readDestinations } from '../plan/egress-mapping-wire.ts';
import type { Destination } from '../plan/egress-types.ts';

export const SUMMARY_KIND = 'EgressMapSummary';
export const SUMMARY_API_VERSION = 'egress.moor.io/v1alpha1';
/** Rules per object: with one policy's destinations (≤ 32 × 33 CIDRs) an object stays < 100 KiB. */
export const MAX_SUMMARY_RULES = 100;
const NAME_MAX = 253;

export const summaryPaths = {
  collection: (namespace: string) =>
    `/apis/egress.moor.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/egressmapsummaries`,
};

const SETUP_HINT =
  'the broker admin applies k8s/broker/crds/egress.moor.io_egressmapsummaries.yaml and k8s/broker/rbac/moor-egress-summaries-role.yaml (docs/egress-acl.md, "Clusterset view")';

/** A broker that lacks the EgressMapSummary API or the members' Role, said with the fix. */
export function summaryAccessError(err: unknown, namespace: string): unknown {
  if (!(err instanceof KubeApiError) || (err.status !== 404 && err.status !== 403)) return err;
  return err.status === 404
    ? new MoorError('not-found', `the broker has no EgressMapSummary API (namespace ${namespace})`, {
        hint: SETUP_HINT,
      })
    : new MoorError(
        'broker-forbidden',
        `the broker credential may not use EgressMapSummary objects in ${namespace}: ${err.message}`,
        {
          hint: SETUP_HINT,
        },
      );
}

/** One (egress IP, workload) of one policy in one cluster; `pods` leave from the IP now. */
export interface SummaryRule {
  egressIP: string;
  namespace: string;
  workload: { kind: string; name: string };
  pods: number;
}

export interface MapSummary {
  name: string;
  clusterID: string;
  policy: string;
  destinations: Destination[];
  /** Sorted by egress IP text, namespace, kind, name. */
  rules: SummaryRule[];
}

export type SummaryProblemCode = 'inconsistent-cluster-id' | 'invalid-object' | 'conflict' | 'not-a-member';

/** Why an object (or part of one) is not trusted: stable code, the object, the reason. */
export interface SummaryProblem {
  code: SummaryProblemCode;
  /** `EgressMapSummary/<namespace>/<name>` (`<clusterID>-*` for every object of a non-member). */
  object: string;
  problem: string;
}

export type SummaryRead =
  | { ok: true; summary: MapSummary; createdAt: string; skippedRules: number }
  | { ok: false; name: string; problem: SummaryProblem };

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const KIND = /^[A-Za-z][A-Za-z0-9]{0,62}$/;

export function objectRef(namespace: string | undefined, name: string): string {
  return `${SUMMARY_KIND}/${namespace ? `${namespace}/` : ''}${name}`;
}

/** `<clusterID>-<policy>-<n>`, the policy part shortened so the name fits 253 characters. */
export function summaryName(clusterID: string, policy: string, n: number): string {
  const suffix = `-${n}`;
  const room = NAME_MAX - clusterID.length - 1 - suffix.length;
  return `${clusterID}-${policy.slice(0, Math.max(0, room)).replace(/[-.]+$/, '')}${suffix}`;
}

export function summaryObject(s: MapSummary, namespace?: string): Json {
  return {
    apiVersion: SUMMARY_API_VERSION,
    kind: SUMMARY_KIND,
    metadata: {
      name: s.name,
      ...(namespace ? { namespace } : {}),
      labels: { [CLUSTER_ID_LABEL]: s.clusterID },
    },
    clusterID: s.clusterID,
    policy: s.policy,
    destinations: s.destinations,
    rules: s.rules,
  };
}

/** Content without metadata, in a fixed key order: equal data gives equal text. */
export function canonicalSummary(s: MapSummary): string {
  return JSON.stringify([
    s.clusterID,
    s.policy,
    s.destinations.map((d) => [d.cidr, d.except ?? []]),
    s.rules.map((r) => [r.egressIP, r.namespace, r.workload.kind, r.workload.name, r.pods]),
  ]);
}

/** The cluster ID an object's name, label and content agree on, or why they do not. */
export function clusterIdOf(
  name: string,
  label: unknown,
  content: unknown,
): { ok: true; clusterID: string } | { ok: false; problem: string } {
  if (typeof content !== 'string' || clusterIdProblem(content) !== undefined)
    return { ok: false, problem: `clusterID ${JSON.stringify(content ?? null)} is not a valid cluster ID` };
  if (label !== content)
    return {
      ok: false,
      problem: `label ${CLUSTER_ID_LABEL}=${JSON.stringify(label ?? null)} disagrees with clusterID "${content}"`,
    };
  if (!name.startsWith(`${content}-`))
    return { ok: false, problem: `name "${name}" is not prefixed with its clusterID "${content}-"` };
  return { ok: true, clusterID: content };
}

export function readSummary(o: unknown): SummaryRead {
  const meta = isObj(o) && isObj(o.metadata) ? o.metadata : undefined;
  const name = str(meta?.name);
  const namespace = str(meta?.namespace);
  const ref = objectRef(namespace, name ?? '?');
  const fail = (code: SummaryProblemCode, problem: string): SummaryRead => ({
    ok: false,
    name: name ?? '?',
    problem: { code, object: ref, problem },
  });
  if (!isObj(o) || !name) return fail('invalid-object', 'no metadata.name');
  const labels = isObj(meta?.labels) ? meta.labels : {};
  const id = clusterIdOf(name, labels[CLUSTER_ID_LABEL], o.clusterID);
  if (!id.ok) return fail('inconsistent-cluster-id', id.problem);
  const policy = str(o.policy);
  if (!policy || !SUBDOMAIN.test(policy)) return fail('invalid-object', 'policy is not a valid name');
  const destinations = readDestinations(o.destinations);
  if (typeof destinations === 'string') return fail('invalid-object', destinations);
  if (!Array.isArray(o.rules)) return fail('invalid-object', 'rules must be a list');
  if (o.rules.length > MAX_SUMMARY_RULES)
    return fail('invalid-object', `${o.rules.length} rules; at most ${MAX_SUMMARY_RULES} are allowed`);
  const rules: SummaryRule[] = [];
  let skipped = 0;
  for (const r of o.rules) {
    const rule = readRule(r);
    if (rule) rules.push(rule);
    else skipped++;
  }
  const createdAt = str(meta?.creationTimestamp) ?? '';
  return {
    ok: true,
    summary: { name, clusterID: id.clusterID, policy, destinations, rules: rules.sort(compareSummaryRules) },
    createdAt,
    skippedRules: skipped,
  };
}

function readRule(r: unknown): SummaryRule | undefined {
  if (!isObj(r)) return undefined;
  const egressIP = str(r.egressIP);
  const namespace = str(r.namespace);
  const w = isObj(r.workload) ? r.workload : undefined;
  const kind = str(w?.kind);
  const wname = str(w?.name);
  const pods = r.pods;
  if (!egressIP || !tryParseIpv4(egressIP).ok) return undefined;
  if (!namespace || !DNS_LABEL.test(namespace) || !kind || !KIND.test(kind)) return undefined;
  if (!wname || !SUBDOMAIN.test(wname)) return undefined;
  if (typeof pods !== 'number' || !Number.isSafeInteger(pods) || pods < 1) return undefined;
  return { egressIP, namespace, workload: { kind, name: wname }, pods };
}

export function summaryRuleKey(r: Pick<SummaryRule, 'egressIP' | 'namespace' | 'workload'>): string {
  return `${r.egressIP} ${r.namespace}/${r.workload.kind}/${r.workload.name}`;
}

export function compareSummaryRules(a: SummaryRule, b: SummaryRule): number {
  const x = summaryRuleKey(a);
  const y = summaryRuleKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
