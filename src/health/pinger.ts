// Health of every member's cable: a PingPort (fping, behind the dataplane) feeds the tracker.
import type { PingPort, PingPortOptions } from '../dataplane/ping/types.ts';
import type { Clock } from '../reconcile/clock.ts';
import { HealthTracker } from './healthTracker.ts';

export type PingPortFactory = (options: PingPortOptions) => PingPort;

export class HealthMonitor {
  readonly tracker: HealthTracker;
  readonly #port: PingPort;

  constructor(o: { ping: PingPortFactory; clock: Clock; maxLoss?: number; log?: (line: string) => void }) {
    this.tracker = new HealthTracker(o.maxLoss ?? 5);
    this.#port = o.ping({
      onResult: (r) => this.tracker.record(r, o.clock.now()),
      ...(o.log ? { log: o.log } : {}),
    });
  }

  /** Ping `targets` from `source` (our clusterset address, so replies come back through the tunnel). */
  update(targets: readonly string[], source: string | undefined): void {
    const sorted = [...new Set(targets)].sort();
    this.tracker.setTargets(sorted);
    this.#port.set(sorted, source);
  }

  stop(): void {
    this.#port.stop();
  }
}
