// The one reader and writer of EgressMapSlice objects (k8s/egress/crds/egressmapslices.yaml):
// plain JSON in and out. The reader never trusts shape or types: an entry it cannot use is
// skipped and counted, a slice whose label disagrees with its content is refused.
import { formatCidr, tryParseAddressOrCidr, tryParseIpv4 } from '../net/ipv4.ts';
import type { MapEntry, MapSlice } from './egress-mapping.ts';
import { POLICY_LABEL } from './egress-mapping.ts';
import type { Destination } from './egress-types.ts';

export const MAP_SLICE_KIND = 'EgressMapSlice';
export const MAP_SLICE_API_VERSION = 'egress.moor.io/v1alpha1';

export type SliceRead =
  | { ok: true; slice: MapSlice; skippedEntries: number }
  | { ok: false; name: string; problem: string };

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const isTime = (v: string | undefined): v is string => v !== undefined && !Number.isNaN(Date.parse(v));

/** A CIDR in network form (host bits cleared), or undefined. */
function cidrText(v: unknown): string | undefined {
  const s = str(v);
  const parsed = s === undefined ? undefined : tryParseAddressOrCidr(s);
  return parsed?.ok ? formatCidr(parsed.value) : undefined;
}

export function mapSliceObject(s: MapSlice): Json {
  return {
    apiVersion: MAP_SLICE_API_VERSION,
    kind: MAP_SLICE_KIND,
    metadata: { name: s.name, labels: { [POLICY_LABEL]: s.policy } },
    policy: s.policy,
    gateway: s.gateway,
    destinations: s.destinations,
    entries: s.entries,
  };
}

export function readMapSlice(o: unknown): SliceRead {
  const meta = isObj(o) && isObj(o.metadata) ? o.metadata : undefined;
  const name = str(meta?.name);
  if (!isObj(o) || !name) return { ok: false, name: '?', problem: 'EgressMapSlice without metadata.name' };
  const bad = (problem: string): SliceRead => ({ ok: false, name, problem });
  const policy = str(o.policy);
  const gateway = str(o.gateway);
  if (!policy || !gateway) return bad('policy and gateway are required');
  const label = isObj(meta?.labels) ? meta.labels[POLICY_LABEL] : undefined;
  if (label !== policy) return bad(`label ${POLICY_LABEL}=${String(label)} does not match policy ${policy}`);
  const destinations = readDestinations(o.destinations);
  if (typeof destinations === 'string') return bad(destinations);
  const entries: MapEntry[] = [];
  let skipped = 0;
  for (const e of Array.isArray(o.entries) ? o.entries : []) {
    const entry = readEntry(e);
    if (entry) entries.push(entry);
    else skipped++;
  }
  return { ok: true, slice: { name, policy, gateway, destinations, entries }, skippedEntries: skipped };
}

/** Destinations in network form, or why they are unusable (also for the broker's summaries). */
export function readDestinations(v: unknown): Destination[] | string {
  if (!Array.isArray(v)) return 'destinations must be a list';
  const destinations: Destination[] = [];
  for (const d of v) {
    const cidr = isObj(d) ? cidrText(d.cidr) : undefined;
    if (!cidr) return 'a destination without a valid IPv4 cidr';
    const rawExcept = isObj(d) && Array.isArray(d.except) ? d.except : [];
    const except = rawExcept.map(cidrText).filter((x): x is string => x !== undefined);
    if (except.length !== rawExcept.length)
      return `destination ${cidr} has an exception that is not an IPv4 CIDR`;
    destinations.push(except.length > 0 ? { cidr, except } : { cidr });
  }
  return destinations;
}

function readEntry(e: unknown): MapEntry | undefined {
  if (!isObj(e)) return undefined;
  const namespace = str(e.namespace);
  const pod = str(e.pod);
  const since = str(e.since);
  const w = isObj(e.workload) ? e.workload : undefined;
  const kind = str(w?.kind);
  const wname = str(w?.name);
  if (!namespace || !pod || !isTime(since) || !kind || !wname) return undefined;
  const out: MapEntry = { namespace, pod, workload: { kind, name: wname }, since };
  const node = str(e.node);
  if (node) out.node = node;
  for (const field of ['podIP', 'egressIP'] as const) {
    const v = str(e[field]);
    if (v === undefined) continue;
    if (!tryParseIpv4(v).ok) return undefined;
    out[field] = v;
  }
  return out;
}
