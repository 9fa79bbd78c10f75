// The agent's status document: written atomically to <state-dir>/status.json after every change
// and once a second, read by `moor status` and `moor show connections`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from '../dataplane/secret-file.ts';
import type { Rejection } from '../plan/host.ts';
import type { ConnectionStatus } from './connectionStatus.ts';

export type { Rejection };

export const STATUS_FILE = 'status.json';

export interface AgentStatus {
  version: 1;
  updatedAt: string;
  pid: number;
  clusterId: string;
  addresses: string[];
  interface: { name: string; driver: string; publicKey: string; listenPort: number; mtu: number | null };
  broker: {
    server: string;
    namespace: string;
    synced: boolean;
    lastError: string | null;
    /** When the current broker outage began; null while the broker answers. */
    unreachableSince?: string | null;
    /** Where the members come from: the live broker, or the last accepted snapshot (before the
     * broker has been listed after a start). */
    serving?: 'broker' | 'snapshot' | 'none';
    /** When the snapshot was saved (its age is what `moor status` shows). */
    snapshotSavedAt?: string | null;
  };
  /** `published` stays true through an outage: it is the last state the broker confirmed. */
  registration: {
    published: boolean;
    endpointName: string | null;
    lastError: string | null;
    confirmedAt?: string | null;
  };
  connections: ConnectionStatus[];
  rejected: Rejection[];
  /** Failures of the last reconcile (empty when everything applied). */
  applyErrors: string[];
  counters: {
    reconciles: number;
    applyErrors: number;
    rejectedEndpoints: number;
    /** Failures by reconcile phase (wireguard, link, address, route, publish, dns, ...). */
    errorsByPhase?: Record<string, number>;
  };
  /** The host agent's clusterset DNS (absent on gateways or when disabled). */
  dns?: {
    listen: string;
    ready: boolean;
    services: number;
    problems: number;
    brokerError: string | null;
    /** savedAt of the snapshot answers come from, before the broker is listed after a start. */
    fromSnapshot?: string | null;
    resolver: { kind: string; summary: string; instructions: string } | null;
    /** Every member's egress names (EgressMapSummary objects); objects not trusted by name (code). */
    egress?: {
      ready: boolean;
      clusters: number;
      egressIPs: number;
      ignored: string[];
      /** The broker refuses a list this needs (403: which permission, and the fix). */
      accessError?: string | null;
    };
  };
  /** The host's own exported services. */
  exports?: Array<{ name: string; namespace: string; ready: boolean | null }>;
}

export function writeStatus(stateDir: string, status: AgentStatus): void {
  writeSecretFile(join(stateDir, STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`);
}

export function readStatus(stateDir: string): AgentStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, STATUS_FILE), 'utf8')) as AgentStatus;
  } catch {
    return undefined;
  }
}
