// The old LeaderElector shape (client-go style callbacks, seconds) on top of HaMember, for
// singletons that hold no addresses (`moor controller`) and for code written against
// src/k8s/leaderElection.ts, which this replaces: the same config, now with fencing on a timer,
// aborted requests, and optional heartbeats. Change the import path and nothing else.
import { hostname } from 'node:os';
import type { KubeRestClient } from '../k8s/rest.ts';
import type { Clock } from '../reconcile/clock.ts';
import { monotonicClock } from './clock.ts';
import { KubeLease } from './kubeLease.ts';
import { HaMember } from './member.ts';
import type { HeartbeatPort, LeasePort } from './ports.ts';
import { timingsFor } from './timings.ts';

export interface LeaderElectionConfig {
  client: KubeRestClient;
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationS: number;
  renewDeadlineS: number;
  retryPeriodS: number;
  onStartedLeading: () => void | Promise<void>;
  /** Drop whatever is shared FIRST. */
  onStoppedLeading: () => void | Promise<void>;
  log: (line: string) => void;
  heartbeats?: HeartbeatPort;
  /** Tests: another Lease store and clock. */
  lease?: LeasePort;
  clock?: Clock;
}

export class LeaderElector {
  readonly identity: string;
  private readonly member: HaMember;

  constructor(c: LeaderElectionConfig) {
    this.identity = c.identity ?? `${hostname()}-moor-gateway`;
    this.member = new HaMember({
      identity: this.identity,
      lease: c.lease ?? new KubeLease(c.client, c.namespace, c.name),
      heartbeats: c.heartbeats,
      clock: c.clock ?? monotonicClock,
      timings: {
        ...timingsFor({
          leaseDurationMs: c.leaseDurationS * 1000,
          renewDeadlineMs: c.renewDeadlineS * 1000,
          renewIntervalMs: c.retryPeriodS * 1000,
        }),
        pollIntervalMs: c.retryPeriodS * 1000,
      },
      activate: async () => {
        await c.onStartedLeading();
      },
      deactivate: async () => {
        await c.onStoppedLeading();
      },
      log: (l) => c.log(`lease ${c.namespace}/${c.name}: ${l}`),
    });
  }

  get isLeader(): boolean {
    return this.member.active;
  }

  start(): void {
    this.member.start();
  }

  /** Stop campaigning; a leader steps down (onStoppedLeading) and releases the lease. */
  stop(): Promise<void> {
    return this.member.stop();
  }
}
