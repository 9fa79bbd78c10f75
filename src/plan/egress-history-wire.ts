// The one reader and writer of EgressIPHistory objects (k8s/egress/crds/egressiphistories.yaml).
// A record the reader cannot use is skipped and counted; an object whose name does not match its
// IP is refused (it would answer for the wrong address).
import { tryParseIpv4 } from '../net/ipv4.ts';
import { type HistoryRecord, historyName, type IpHistory } from './egress-history.ts';

export const HISTORY_KIND = 'EgressIPHistory';
export const HISTORY_API_VERSION = 'egress.moor.io/v1alpha1';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const time = (v: unknown): string | undefined => {
  const s = str(v);
  return s !== undefined && !Number.isNaN(Date.parse(s)) ? s : undefined;
};

export type HistoryRead =
  | { ok: true; history: IpHistory; skippedRecords: number }
  | { ok: false; name: string; problem: string };

export function historyObject(h: IpHistory): Json {
  return {
    apiVersion: HISTORY_API_VERSION,
    kind: HISTORY_KIND,
    metadata: { name: historyName(h.ip) },
    ip: h.ip,
    records: h.records,
  };
}

export function readHistory(o: unknown): HistoryRead {
  const name = isObj(o) && isObj(o.metadata) ? str(o.metadata.name) : undefined;
  if (!isObj(o) || !name) return { ok: false, name: '?', problem: 'EgressIPHistory without metadata.name' };
  const ip = str(o.ip);
  if (!ip || !tryParseIpv4(ip).ok) return { ok: false, name, problem: 'ip is not an IPv4 address' };
  if (historyName(ip) !== name)
    return { ok: false, name, problem: `name does not match ip ${ip} (want ${historyName(ip)})` };
  const records: HistoryRecord[] = [];
  let skipped = 0;
  for (const r of Array.isArray(o.records) ? o.records : []) {
    const rec = readRecord(r);
    if (rec) records.push(rec);
    else skipped++;
  }
  return { ok: true, history: { ip, records }, skippedRecords: skipped };
}

function readRecord(r: unknown): HistoryRecord | undefined {
  if (!isObj(r) || !isObj(r.workload)) return undefined;
  const namespace = str(r.namespace);
  const kind = str(r.workload.kind);
  const wname = str(r.workload.name);
  const policy = str(r.policy);
  const from = time(r.from);
  if (!namespace || !kind || !wname || !policy || !from) return undefined;
  const rec: HistoryRecord = {
    namespace,
    workload: { kind, name: wname },
    policy,
    from,
    pods: Array.isArray(r.pods) ? r.pods.filter((p): p is string => typeof p === 'string') : [],
  };
  if (r.to !== undefined) {
    const to = time(r.to);
    if (!to || Date.parse(to) < Date.parse(from)) return undefined;
    rec.to = to;
  }
  return rec;
}
