// The document `/v1/egress-map` serves: the firewall rules of this cluster's mapping (the same
// `aclRules` `moor acl export` prints), optionally the per-pod rows, and the slices the reader
// refused. Pure: a query and a mapping snapshot in, bytes and a strong ETag out. The bytes depend
// only on the mapping and the query (no timestamps, sorted everywhere), so equal mappings give
// equal ETags on every replica and across restarts.
import { createHash } from 'node:crypto';
import type { MapRow } from '../plan/egress-mapping.ts';
import { compareNames } from '../plan/egress-types.ts';
import { type AclFilter, type AclRule, aclRules, parseWorkloadFilter } from './rules.ts';
import type { Problem } from './store.ts';

export const EGRESS_MAP_PATH = '/v1/egress-map';
/** Longest long-poll a client may ask for; a proxy in between often cuts idle requests at 5 min. */
export const MAX_WAIT_SECONDS = 300;

export interface EgressMapQuery {
  filter: AclFilter;
  view: 'rules' | 'pods';
  /** Long-poll seconds (0 = answer now). */
  waitSeconds: number;
}

export type QueryResult = { ok: true; query: EgressMapQuery } | { ok: false; status: 400; message: string };

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const KNOWN = new Set(['namespace', 'policy', 'workload', 'view', 'wait']);

/** Parses the query string; anything unexpected is a 400 that names the parameter and the fix. */
export function parseEgressMapQuery(params: URLSearchParams): QueryResult {
  const bad = (message: string): QueryResult => ({ ok: false, status: 400, message });
  for (const key of new Set(params.keys())) {
    if (!KNOWN.has(key))
      return bad(`unknown parameter "${key}": use namespace, policy, workload, view or wait`);
    if (params.getAll(key).length > 1) return bad(`parameter "${key}" is given more than once`);
  }
  const filter: AclFilter = {};
  for (const key of ['namespace', 'policy'] as const) {
    const v = params.get(key);
    if (v === null) continue;
    if (!NAME.test(v)) return bad(`${key} ${JSON.stringify(v)} is not a Kubernetes object name`);
    filter[key] = v;
  }
  const workload = params.get('workload');
  if (workload !== null) {
    if (!parseWorkloadFilter(workload))
      return bad(`workload ${JSON.stringify(workload)} is not KIND/NAME, e.g. Deployment/checkout`);
    filter.workload = workload;
  }
  const view = params.get('view') ?? 'rules';
  if (view !== 'rules' && view !== 'pods')
    return bad(`view ${JSON.stringify(view)} is not "rules" or "pods"`);
  const waitText = params.get('wait') ?? '0';
  const waitSeconds = /^\d{1,4}$/.test(waitText) ? Number(waitText) : Number.NaN;
  if (!(waitSeconds >= 0 && waitSeconds <= MAX_WAIT_SECONDS))
    return bad(`wait ${JSON.stringify(waitText)} is not whole seconds from 0 to ${MAX_WAIT_SECONDS}`);
  return { ok: true, query: { filter, view, waitSeconds } };
}

/** A canonical key of what a query selects (wait excluded): equal keys, equal bodies. */
export function queryKey(q: EgressMapQuery): string {
  const f = q.filter;
  return [q.view, f.namespace ?? '', f.policy ?? '', f.workload ?? ''].join('\u0000');
}

export interface EgressMapPod {
  namespace: string;
  pod: string;
  node?: string;
  podIP?: string;
  workload: { kind: string; name: string };
  policy: string;
  gateway: string;
  egressIP?: string;
  since: string;
}

export interface EgressMapDocument {
  kind: 'MoorEgressMap';
  version: 1;
  filter: AclFilter;
  rules: AclRule[];
  pods?: EgressMapPod[];
  problems: Problem[];
}

export interface RenderedDocument {
  body: Buffer;
  /** Strong: a hash of the exact bytes. */
  etag: string;
}

export function egressMapDocument(
  rows: readonly MapRow[],
  problems: readonly Problem[],
  q: EgressMapQuery,
): EgressMapDocument {
  const doc: EgressMapDocument = {
    kind: 'MoorEgressMap',
    version: 1,
    filter: { ...q.filter },
    rules: aclRules(rows, q.filter),
    problems: [...problems].sort(
      (a, b) => compareNames(a.object, b.object) || compareNames(a.problem, b.problem),
    ),
  };
  if (q.view === 'pods') doc.pods = podRows(rows, q.filter);
  return doc;
}

function podRows(rows: readonly MapRow[], filter: AclFilter): EgressMapPod[] {
  const wl = filter.workload !== undefined ? parseWorkloadFilter(filter.workload) : undefined;
  return rows
    .filter(
      (r) =>
        (filter.namespace === undefined || r.namespace === filter.namespace) &&
        (filter.policy === undefined || r.policy === filter.policy) &&
        (!wl || (r.workload.kind.toLowerCase() === wl.kind.toLowerCase() && r.workload.name === wl.name)),
    )
    .map((r) => ({
      namespace: r.namespace,
      pod: r.pod,
      ...(r.node !== undefined ? { node: r.node } : {}),
      ...(r.podIP !== undefined ? { podIP: r.podIP } : {}),
      workload: { kind: r.workload.kind, name: r.workload.name },
      policy: r.policy,
      gateway: r.gateway,
      ...(r.egressIP !== undefined ? { egressIP: r.egressIP } : {}),
      since: r.since,
    }))
    .sort((a, b) => compareNames(`${a.namespace}/${a.pod}`, `${b.namespace}/${b.pod}`));
}

export function renderDocument(doc: EgressMapDocument): RenderedDocument {
  const body = Buffer.from(`${JSON.stringify(doc)}\n`);
  return { body, etag: etagOf(body) };
}

export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** If-None-Match (RFC 9110 §13.1.2, weak comparison): does it name this ETag, or `*`? */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = etag.replace(/^W\//, '');
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || t.replace(/^W\//, '') === bare);
}
