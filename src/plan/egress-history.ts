// Who held which egress IP, from when to when: the answer to "who was 203.0.113.20 last Tuesday
// at 14:02?". One EgressIPHistory object per egress IP, append-only: a record is opened when a
// workload starts leaving from the IP and closed (never edited otherwise) when it stops; a
// Deployment rollout keeps one record and adds the new pods' names to it. Records closed longer
// ago than the retention are dropped (compaction), and at most MAX_RECORDS stay per IP.
// It lives in API objects, so a restarted controller or a standby that takes over reads it back
// and carries on: an open record stays open across the gap, nothing is re-opened twice.
import type { MapRow } from './egress-mapping.ts';
import type { Workload } from './egress-mapping-owner.ts';
import { compareNames } from './egress-types.ts';

export const MAX_RECORDS = 500;
/** The most recent pod names kept on one record. */
export const MAX_PODS = 50;
export const DEFAULT_RETENTION = '90d';

export interface HistoryRecord {
  namespace: string;
  workload: Workload;
  policy: string;
  /** RFC 3339. */
  from: string;
  /** Absent while the workload still holds the IP. */
  to?: string;
  /** Pods seen under this record, oldest first, the last MAX_PODS. */
  pods: string[];
}

export interface IpHistory {
  ip: string;
  /** Sorted by `from`, then workload. */
  records: HistoryRecord[];
}

export interface HistoryPlan {
  histories: IpHistory[];
  /** IPs whose object is new or changed. */
  write: string[];
  /** IPs whose object is left without records. */
  remove: string[];
}

const holderKey = (r: { namespace: string; workload: Workload; policy: string }) =>
  `${r.policy}\u0000${r.namespace}\u0000${r.workload.kind}\u0000${r.workload.name}`;

export function advanceHistory(input: {
  previous: readonly IpHistory[];
  rows: readonly MapRow[];
  now: string;
  retentionMs: number;
  maxRecords?: number;
}): HistoryPlan {
  const maxRecords = input.maxRecords ?? MAX_RECORDS;
  const nowMs = Date.parse(input.now);
  // Current holders: IP → holder → pods and the earliest `since` among them.
  const current = new Map<string, Map<string, { sample: MapRow; pods: string[]; from: string }>>();
  for (const row of [...input.rows].sort((a, b) =>
    compareNames(`${a.namespace}/${a.pod}`, `${b.namespace}/${b.pod}`),
  )) {
    if (row.egressIP === undefined) continue;
    const holders = current.get(row.egressIP) ?? new Map();
    const key = holderKey(row);
    const h = holders.get(key) ?? { sample: row, pods: [], from: row.since };
    h.pods.push(row.pod);
    if (Date.parse(row.since) < Date.parse(h.from)) h.from = row.since;
    holders.set(key, h);
    current.set(row.egressIP, holders);
  }
  const previous = new Map<string, IpHistory>();
  for (const h of input.previous) if (!previous.has(h.ip)) previous.set(h.ip, h);

  const histories: IpHistory[] = [];
  const write: string[] = [];
  const remove: string[] = [];
  for (const ip of [...new Set([...previous.keys(), ...current.keys()])].sort(compareNames)) {
    const before = previous.get(ip)?.records ?? [];
    const holders = current.get(ip) ?? new Map();
    const open = new Set<string>();
    const records: HistoryRecord[] = before.map((r) => {
      if (r.to !== undefined) return r;
      const key = holderKey(r);
      const h = holders.get(key);
      if (!h || open.has(key)) return { ...r, to: input.now }; // released (or a duplicate open record)
      open.add(key);
      return { ...r, pods: mergePods(r.pods, h.pods) };
    });
    for (const [key, h] of [...holders].sort(([a], [b]) => compareNames(a, b))) {
      if (open.has(key)) continue;
      records.push({
        namespace: h.sample.namespace,
        workload: { ...h.sample.workload },
        policy: h.sample.policy,
        from: Date.parse(h.from) <= nowMs ? h.from : input.now,
        pods: h.pods.slice(-MAX_PODS),
      });
    }
    const kept = compact(records, nowMs - input.retentionMs, maxRecords);
    if (kept.length === 0) {
      if (previous.has(ip)) remove.push(ip);
      continue;
    }
    const history = { ip, records: kept };
    histories.push(history);
    if (JSON.stringify(before) !== JSON.stringify(kept)) write.push(ip);
  }
  return { histories, write, remove };
}

function mergePods(before: readonly string[], now: readonly string[]): string[] {
  const seen = new Set(before);
  const out = [...before];
  for (const p of now) if (!seen.has(p)) out.push(p);
  return out.slice(-MAX_PODS);
}

function compact(records: HistoryRecord[], horizonMs: number, max: number): HistoryRecord[] {
  const sorted = records
    .filter((r) => r.to === undefined || Date.parse(r.to) >= horizonMs)
    .sort((a, b) => Date.parse(a.from) - Date.parse(b.from) || compareNames(holderKey(a), holderKey(b)));
  let excess = sorted.length - max;
  // Over the bound: drop the oldest closed records; open ones are the present and always stay.
  return excess <= 0
    ? sorted
    : sorted.filter((r) => {
        if (excess > 0 && r.to !== undefined) {
          excess--;
          return false;
        }
        return true;
      });
}

export type WhoAnswer =
  | { known: true; ip: string; at: string; holders: HistoryRecord[] }
  | { known: false; ip: string; at: string; reason: 'never-used' | 'not-held-then' };

/** Who held `ip` at `at` (RFC 3339): the records with from ≤ at < to (or still open). */
export function who(histories: readonly IpHistory[], ip: string, at: string): WhoAnswer {
  const t = Date.parse(at);
  const records = histories.filter((h) => h.ip === ip).flatMap((h) => h.records);
  if (records.length === 0) return { known: false, ip, at, reason: 'never-used' };
  const holders = records.filter(
    (r) => Date.parse(r.from) <= t && (r.to === undefined || t < Date.parse(r.to)),
  );
  return holders.length > 0
    ? { known: true, ip, at, holders }
    : { known: false, ip, at, reason: 'not-held-then' };
}

export type RetentionResult = { ok: true; ms: number } | { ok: false; message: string };

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_RETENTION_MS = 3660 * 86_400_000;

/** `90d`, `12h`, `30m`, `3600s`: more than 0, at most 10 years. */
export function parseRetention(text: string): RetentionResult {
  const m = /^\s*(\d{1,7})\s*([smhd])\s*$/.exec(text);
  if (!m)
    return { ok: false, message: `retention "${text}" is not a duration: give one like 90d, 12h or 30m` };
  const ms = Number(m[1]) * (UNITS[m[2] as string] as number);
  if (ms <= 0)
    return { ok: false, message: `retention "${text}" keeps no history: give more than 0, like 90d` };
  if (ms > MAX_RETENTION_MS)
    return { ok: false, message: `retention "${text}" is over 10 years: give at most 3660d` };
  return { ok: true, ms };
}

/** The object name for an IP: `ip-203-0-113-20`. */
export function historyName(ip: string): string {
  return `ip-${ip.replaceAll('.', '-')}`;
}
