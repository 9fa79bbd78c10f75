// Per-connection status as Submariner reports it (spec §3.1, §6.1): connecting until the first
// handshake; an error when the last handshake is older than 130 s or the health check is losing
// pings; connected otherwise. Pure, so the rules are unit-tested. "connected" means usable: DNS
// hands out exactly the connected members (usableForDns), so the two can never disagree.
// Submariner marks a cable as failed only after more than 5 losses; we say error after 3, the
// moment DNS stops answering with that member, because a status that says connected while its
// pings are lost is not true.
import type { RttStats, TargetHealth } from '../health/healthTracker.ts';
import type { Member } from '../plan/members.ts';

export const HANDSHAKE_TIMEOUT_S = 130;

/** Health-check pings lost in a row from which a connection is an error (and out of DNS): with a
 * ping every second this drops a failed cable within ~4 s. */
export const MAX_LOST_PINGS = 3;

export type ConnectionState = 'connected' | 'connecting' | 'error';

export interface PeerObservation {
  latestHandshake: Date | null;
  rxBytes: number;
  txBytes: number;
  endpoint: string | null;
}

export interface ConnectionStatus {
  clusterId: string;
  endpointName: string;
  cableName: string;
  endpoint: string;
  subnets: string[];
  publicKey: string;
  status: ConnectionState;
  statusMessage: string;
  lastHandshake: string | null;
  rxBytes: number;
  txBytes: number;
  healthCheckIP: string | null;
  rtt: RttStats | null;
  /** Health-check pings lost in a row right now (0 without a health check). */
  lostPings: number;
  /** When the status last changed (ms since epoch), for "dropped out within N s" guarantees. */
  since: number;
}

export function connectionStatus(
  member: Member,
  peer: PeerObservation | undefined,
  health: TargetHealth | undefined,
  nowMs: number,
): Omit<ConnectionStatus, 'since'> {
  const base = {
    clusterId: member.clusterId,
    endpointName: member.endpointName,
    cableName: member.cableName,
    endpoint: `${member.endpoint.host}:${member.endpoint.port}`,
    subnets: member.allowedIPs,
    publicKey: member.publicKey,
    lastHandshake: peer?.latestHandshake ? peer.latestHandshake.toISOString() : null,
    rxBytes: peer?.rxBytes ?? 0,
    txBytes: peer?.txBytes ?? 0,
    healthCheckIP: member.healthCheckIP ?? null,
    rtt: health?.rtt ?? null,
    lostPings: health?.consecutiveLosses ?? 0,
  };
  if (!peer) return { ...base, status: 'connecting', statusMessage: 'peer not programmed yet' };
  if (!peer.latestHandshake)
    return { ...base, status: 'connecting', statusMessage: 'waiting for the first handshake' };
  const age = (nowMs - peer.latestHandshake.getTime()) / 1000;
  if (age > HANDSHAKE_TIMEOUT_S) {
    return { ...base, status: 'error', statusMessage: `no handshake for ${Math.round(age)} s` };
  }
  if (base.lostPings >= MAX_LOST_PINGS) {
    return {
      ...base,
      status: 'error',
      statusMessage: `health check: ${base.lostPings} pings to ${member.healthCheckIP} lost in a row`,
    };
  }
  return {
    ...base,
    status: 'connected',
    statusMessage: `Rx=${base.rxBytes} Bytes, Tx=${base.txBytes} Bytes`,
  };
}

/** Whether DNS may hand out this member's services: exactly when the connection is connected. */
export function usableForDns(c: Pick<ConnectionStatus, 'status'>): boolean {
  return c.status === 'connected';
}
