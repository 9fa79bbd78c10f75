// The health-check port: ping a set of addresses continuously and report each probe.
import type { ProbeResult } from './fping-output.ts';

export type { ProbeResult };

export interface PingPort {
  /** Ping `targets` from `source` about once per interval, replacing the previous set; an empty
   * set stops pinging. Calling it again with the same set and source changes nothing. */
  set(targets: readonly string[], source: string | undefined): void;
  stop(): void;
}

export interface PingPortOptions {
  onResult: (result: ProbeResult) => void;
  log?: (line: string) => void;
  intervalMs?: number;
}
