// Prometheus lines for one HA member.
import type { HaStatus } from './member.ts';

export function renderHaMetrics(s: HaStatus): string {
  const lines = [
    '# HELP moor_ha_leader 1 while this member holds the group role (Lease and addresses).',
    '# TYPE moor_ha_leader gauge',
    `moor_ha_leader ${s.role === 'leader' ? 1 : 0}`,
    '# HELP moor_ha_valid_for_seconds Leader: time left before it must have renewed the Lease.',
    '# TYPE moor_ha_valid_for_seconds gauge',
    `moor_ha_valid_for_seconds ${(s.validForMs / 1000).toFixed(3)}`,
    '# HELP moor_ha_became_leader_total Times this member took the role.',
    '# TYPE moor_ha_became_leader_total counter',
    `moor_ha_became_leader_total ${s.transitions}`,
  ];
  if (s.leaderHeartbeatAgeMs !== undefined)
    lines.push(
      '# HELP moor_ha_leader_heartbeat_age_seconds Standby: time since the last heartbeat of the leader.',
      '# TYPE moor_ha_leader_heartbeat_age_seconds gauge',
      `moor_ha_leader_heartbeat_age_seconds ${(s.leaderHeartbeatAgeMs / 1000).toFixed(3)}`,
    );
  return `${lines.join('\n')}\n`;
}
