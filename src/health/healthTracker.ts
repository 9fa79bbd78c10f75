// Connection health as Submariner's pinger judges it (spec §6.1): a probe every second; the
// loss counter resets on every reply, and more than `maxLoss` (5) losses in a row mark the
// target as failing. RTT statistics cover the last 1000 replies.
import type { ProbeResult } from '../dataplane/ping/fping-output.ts';

export interface RttStats {
  lastMs: number;
  minMs: number;
  avgMs: number;
  maxMs: number;
  stdDevMs: number;
}

export interface TargetHealth {
  target: string;
  /** 'unknown' until the first probe result. */
  state: 'ok' | 'failing' | 'unknown';
  consecutiveLosses: number;
  sent: number;
  received: number;
  rtt: RttStats | undefined;
  lastReplyAt: number | undefined;
}

const WINDOW = 1000;

export class HealthTracker {
  readonly maxLoss: number;
  private readonly targets = new Map<string, { health: TargetHealth; samples: number[] }>();

  constructor(maxLoss = 5) {
    this.maxLoss = maxLoss;
  }

  /** Track exactly these targets; others are forgotten, new ones start as unknown. */
  setTargets(targets: readonly string[]): void {
    const wanted = new Set(targets);
    for (const t of this.targets.keys()) if (!wanted.has(t)) this.targets.delete(t);
    for (const t of wanted) {
      if (!this.targets.has(t)) {
        this.targets.set(t, {
          health: {
            target: t,
            state: 'unknown',
            consecutiveLosses: 0,
            sent: 0,
            received: 0,
            rtt: undefined,
            lastReplyAt: undefined,
          },
          samples: [],
        });
      }
    }
  }

  record(result: ProbeResult, nowMs: number): void {
    const entry = this.targets.get(result.target);
    if (!entry) return;
    const h = entry.health;
    h.sent += 1;
    if (result.ok) {
      h.received += 1;
      h.consecutiveLosses = 0;
      h.lastReplyAt = nowMs;
      h.state = 'ok';
      entry.samples.push(result.rttMs);
      if (entry.samples.length > WINDOW) entry.samples.shift();
      h.rtt = stats(entry.samples, result.rttMs);
    } else {
      h.consecutiveLosses += 1;
      if (h.consecutiveLosses > this.maxLoss) h.state = 'failing';
    }
  }

  get(target: string): TargetHealth | undefined {
    const h = this.targets.get(target)?.health;
    return h ? { ...h } : undefined;
  }
}

function stats(samples: number[], last: number): RttStats {
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let sum = 0;
  for (const s of samples) {
    min = Math.min(min, s);
    max = Math.max(max, s);
    sum += s;
  }
  const avg = sum / samples.length;
  let sq = 0;
  for (const s of samples) sq += (s - avg) ** 2;
  return { lastMs: last, minMs: min, avgMs: avg, maxMs: max, stdDevMs: Math.sqrt(sq / samples.length) };
}
