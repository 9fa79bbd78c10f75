// The broker, registration and DNS lines of `moor status`, true during an outage: the state the
// broker last confirmed, how long it has not answered, and whether the agent serves from the
// snapshot it saved (after a restart with the broker down).
import type { AgentStatus } from '../cables/status.ts';
import { ago } from './table.ts';

export function brokerLine(s: AgentStatus, now: number): string {
  const b = s.broker;
  const where = `${b.server} namespace ${b.namespace}`;
  const snapshot =
    b.serving === 'snapshot'
      ? `; SERVING FROM SNAPSHOT saved ${ago(b.snapshotSavedAt ?? null, now)} (not listed since the agent started; nothing is removed until it is)`
      : b.serving === 'none' && !b.synced
        ? '; no snapshot yet: the kernel state is kept as it is'
        : '';
  if (b.lastError) {
    const since = b.unreachableSince ? ` since ${ago(b.unreachableSince, now)}` : '';
    return `${where}: UNREACHABLE${since}: ${b.lastError}${snapshot || '; using the last list'}`;
  }
  return `${where}: ${b.synced ? 'watching' : 'connecting'}${snapshot}`;
}

export function registrationLine(s: AgentStatus, now: number): string {
  const r = s.registration;
  if (r.published) {
    const confirmed = r.confirmedAt ? `, last confirmed ${ago(r.confirmedAt, now)}` : '';
    const failing = r.lastError ? `; re-asserting fails: ${r.lastError}` : '';
    return `published${r.endpointName ? ` as ${r.endpointName}` : ''}${confirmed}${failing}`;
  }
  if (!s.broker.synced && !r.lastError) return 'pending (waiting for the broker)';
  return `NOT PUBLISHED${r.lastError ? `: ${r.lastError}` : ''}`;
}

export function dnsLine(d: NonNullable<AgentStatus['dns']>, now: number): string {
  const state = d.fromSnapshot
    ? `serving from the snapshot saved ${ago(d.fromSnapshot, now)}`
    : d.ready
      ? 'serving'
      : 'waiting for the broker';
  return `${d.listen} ${state}, ${d.services} services${d.problems ? `, ${d.problems} bad objects skipped` : ''}${d.brokerError ? ` (broker: ${d.brokerError})` : ''}`;
}

export function egressLine(e: NonNullable<NonNullable<AgentStatus['dns']>['egress']>): string {
  const refused = e.accessError ? `; the broker refuses: ${e.accessError}` : '';
  if (!e.ready) return `waiting for the broker${refused}`;
  const ignored = e.ignored.length ? `; ignored: ${e.ignored.join(', ')}` : '';
  return `${e.egressIPs} egress IPs of ${e.clusters} clusters${ignored}${refused}`;
}
