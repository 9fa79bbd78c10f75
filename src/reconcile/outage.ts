// Says an outage once, then a periodic summary while it lasts, then once that it is over — not a
// line per failed retry. `since` is what status documents show.
import type { Clock } from './clock.ts';

export class OutageReporter {
  readonly #what: string;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #summaryMs: number;
  #since: number | undefined;
  #lastLogAt = 0;
  #failures = 0;
  #lastMessage = '';

  constructor(o: { what: string; clock: Clock; log: (line: string) => void; summaryMs?: number }) {
    this.#what = o.what;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#summaryMs = o.summaryMs ?? 300_000;
  }

  /** When the current outage began; undefined while everything works. */
  get since(): number | undefined {
    return this.#since;
  }

  failed(message: string): void {
    const now = this.#clock.now();
    this.#failures += 1;
    this.#lastMessage = message;
    if (this.#since === undefined) {
      this.#since = now;
      this.#lastLogAt = now;
      this.#log(
        `${this.#what} unreachable: ${message}; keeping the last known state and retrying with backoff`,
      );
      return;
    }
    if (now - this.#lastLogAt >= this.#summaryMs) {
      this.#lastLogAt = now;
      this.#log(
        `${this.#what} still unreachable after ${formatDuration(now - this.#since)} (${this.#failures} failed attempts; last: ${this.#lastMessage})`,
      );
    }
  }

  recovered(): void {
    if (this.#since === undefined) return;
    this.#log(`${this.#what} reachable again after ${formatDuration(this.#clock.now() - this.#since)}`);
    this.#since = undefined;
    this.#failures = 0;
  }
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
