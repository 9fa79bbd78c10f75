// A strict in-memory PingPort: records every set, and lets the test deliver probe results.
import type { PingPort, PingPortOptions, ProbeResult } from './types.ts';

export class FakePinger implements PingPort {
  readonly calls: Array<{ targets: string[]; source: string | undefined }> = [];
  targets: string[] = [];
  source: string | undefined;
  stopped = false;
  #onResult: ((r: ProbeResult) => void) | undefined;

  /** Use as the factory: `(o) => fake.bind(o)`. */
  bind(options: PingPortOptions): this {
    this.#onResult = options.onResult;
    return this;
  }

  set(targets: readonly string[], source: string | undefined): void {
    if (this.stopped) throw new Error('FakePinger: set after stop');
    const sorted = [...new Set(targets)].sort();
    if (sorted.join(',') === this.targets.join(',') && source === this.source) return;
    this.calls.push({ targets: sorted, source });
    this.targets = sorted;
    this.source = source;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Deliver a probe result as fping would. */
  deliver(result: ProbeResult): void {
    if (!this.targets.includes(result.target))
      throw new Error(`FakePinger: ${result.target} is not a target`);
    this.#onResult?.(result);
  }
}
