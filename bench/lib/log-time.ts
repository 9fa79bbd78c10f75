// moor logs one line per change, stamped with an ISO time (ms). These helpers find when a change
// was logged; moor logs WireGuard changes after the whole device reconcile, so a logged time is
// an upper bound of when the change took effect.
import type { RunningProcess } from '../../test/harness/process.ts';

/** Wall-clock ms of the first log line containing `text` at or after `since`. */
export function loggedAt(proc: RunningProcess, text: string, since: number): number | undefined {
  for (const line of proc.log().split('\n')) {
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(line);
    if (!m || !(m[2] ?? '').includes(text)) continue;
    const t = Date.parse(m[1] ?? '');
    if (t >= since - 1) return t; // the log has ms resolution
  }
  return undefined;
}

/** The log's abbreviation of a WireGuard peer change, e.g. "set-peer AbCdEfGh…". */
export const setPeerText = (publicKey: string) => `set-peer ${publicKey.slice(0, 8)}…`;
