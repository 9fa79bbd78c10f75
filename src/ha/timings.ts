// The timings of an HA group, with production defaults chosen for a sub-second failover (see
// docs/decisions.md, "Gateway HA"), and the relations between them that the fencing argument
// needs. A violation is a configuration error, reported before anything starts.
import { MoorError } from '../errors.ts';

export interface HaTimings {
  /** The leader writes the Lease this often. */
  renewIntervalMs: number;
  /** A leader that has not renewed within this long (from the SEND time of its last successful
   * renewal) drops its addresses, whatever its requests are doing. */
  renewDeadlineMs: number;
  /** Every API request is aborted after this long; must leave room for one retry before the deadline. */
  requestTimeoutMs: number;
  /** The leader starts stepping down this long before its deadline: the budget for dropping addresses. */
  releaseBudgetMs: number;
  /** leaseDurationSeconds written to the Lease: what a member without heartbeat evidence waits
   * (client-go semantics: the record unchanged for this long by the observer's own clock). */
  leaseDurationMs: number;
  /** A standby reads the Lease this often while heartbeats are healthy. */
  pollIntervalMs: number;
  /** Every member sends a heartbeat this often. */
  heartbeatIntervalMs: number;
  /** No leader heartbeat for this long: the standby checks whether it may take over. */
  heartbeatTimeoutMs: number;
  /** Added to every proof of expiry: timer lateness and clock rate error. */
  clockMarginMs: number;
  /** Clock rate error allowed, in parts per million of the interval measured. */
  clockDriftPpm: number;
}

export const PRODUCTION_TIMINGS: HaTimings = {
  renewIntervalMs: 200,
  renewDeadlineMs: 600,
  requestTimeoutMs: 350,
  releaseBudgetMs: 100,
  leaseDurationMs: 15_000,
  pollIntervalMs: 2_000,
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 300,
  clockMarginMs: 50,
  clockDriftPpm: 1_000,
};

/** The egress gateway's defaults: egress IPs are what external firewalls trust, and the goal is
 * a failover under 500 ms. The fencing floor is renew deadline + margin − (up to) one renew
 * interval after the death, so a shorter deadline and interval buy ~250 ms for twice the Lease
 * writes of a cable gateway group (10 PUTs/s per group; docs/decisions.md "Gateway HA"). */
export const EGRESS_TIMINGS: HaTimings = {
  ...PRODUCTION_TIMINGS,
  renewIntervalMs: 100,
  renewDeadlineMs: 350,
  requestTimeoutMs: 200,
  releaseBudgetMs: 80,
  heartbeatIntervalMs: 50,
  heartbeatTimeoutMs: 150,
};

/** Throws a MoorError naming the first relation the timings break. */
export function validateTimings(t: HaTimings): HaTimings {
  const fail = (what: string) => {
    throw new MoorError('invalid-argument', `HA timings: ${what}`, {
      hint: 'keep request timeout < renew deadline − renew interval, release budget < renew deadline, renew deadline < lease duration, heartbeat interval < heartbeat timeout',
    });
  };
  for (const [k, v] of Object.entries(t)) if (!Number.isFinite(v) || v < 0) fail(`${k} is ${v}`);
  if (t.renewIntervalMs <= 0 || t.heartbeatIntervalMs <= 0) fail('intervals must be positive');
  if (t.requestTimeoutMs + t.renewIntervalMs > t.renewDeadlineMs)
    fail(
      `request timeout ${t.requestTimeoutMs} ms + renew interval ${t.renewIntervalMs} ms exceeds the renew deadline ${t.renewDeadlineMs} ms`,
    );
  if (t.releaseBudgetMs >= t.renewDeadlineMs)
    fail(`release budget ${t.releaseBudgetMs} ms is not below the renew deadline ${t.renewDeadlineMs} ms`);
  if (t.renewDeadlineMs + t.clockMarginMs >= t.leaseDurationMs)
    fail(`renew deadline ${t.renewDeadlineMs} ms is not below the lease duration ${t.leaseDurationMs} ms`);
  if (t.heartbeatTimeoutMs <= t.heartbeatIntervalMs)
    fail(
      `heartbeat timeout ${t.heartbeatTimeoutMs} ms is not above the interval ${t.heartbeatIntervalMs} ms`,
    );
  return t;
}

/** How much later than `bound` a proof of expiry holds, for an interval of `elapsedMs`. */
export function safetyMargin(t: HaTimings, elapsedMs: number): number {
  return t.clockMarginMs + Math.ceil((Math.max(0, elapsedMs) * t.clockDriftPpm) / 1e6);
}

/** Production timings with another renew deadline, renew interval and lease duration; the
 * request timeout and release budget follow (room for one retry before the deadline). */
export function timingsFor(o: {
  renewDeadlineMs: number;
  renewIntervalMs: number;
  leaseDurationMs: number;
}): HaTimings {
  return validateTimings({
    ...PRODUCTION_TIMINGS,
    ...o,
    requestTimeoutMs: Math.max(100, o.renewDeadlineMs - o.renewIntervalMs - 50),
    releaseBudgetMs: Math.min(PRODUCTION_TIMINGS.releaseBudgetMs, Math.floor(o.renewDeadlineMs / 4)),
  });
}
