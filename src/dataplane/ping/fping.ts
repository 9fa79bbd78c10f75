// Pings every member's health-check IP once a second with one fping process for all targets
// (a ping process per member would cost ~1 MB each at a thousand members). The process is
// restarted only when the target set or source address changes, and after it exits.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseFpingLine } from './fping-output.ts';
import type { PingPort, PingPortOptions } from './types.ts';

export class FpingPinger implements PingPort {
  readonly #o: PingPortOptions & { binary: string };
  #child: ChildProcess | undefined;
  #targets: string[] = [];
  #source: string | undefined;
  #key = '';
  #stopped = false;
  /** Restarts since fping last ran for a while; only the first and every 60th are logged. */
  #restarts = 0;
  #startedAt = 0;

  constructor(options: PingPortOptions & { binary?: string }) {
    this.#o = { ...options, binary: options.binary ?? 'fping' };
  }

  set(targets: readonly string[], source: string | undefined): void {
    const sorted = [...new Set(targets)].sort();
    const key = `${source ?? ''}|${sorted.join(',')}`;
    if (key === this.#key && this.#child) return;
    this.#key = key;
    this.#targets = sorted;
    this.#source = source;
    this.#kill();
    if (sorted.length === 0 || this.#stopped) return;
    this.#spawn();
  }

  stop(): void {
    this.#stopped = true;
    this.#kill();
  }

  #spawn(): void {
    const interval = this.#o.intervalMs ?? 1000;
    const argv = [
      '-l',
      '-p',
      String(interval),
      '-t',
      String(Math.min(interval, 1000) - 100),
      ...(this.#source ? ['-S', this.#source] : []),
      ...this.#targets,
    ];
    const child = spawn(this.#o.binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#startedAt = Date.now();
    this.#child = child;
    const onLine = (line: string) => {
      const result = parseFpingLine(line);
      if (result) this.#o.onResult(result);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.on('error', (err) => this.#o.log?.(`health checks disabled: cannot run fping: ${err.message}`));
    child.on('exit', (code) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      if (this.#stopped) return;
      // A child that ran for a minute was healthy: its exit starts a new count.
      if (Date.now() - this.#startedAt > 60_000) this.#restarts = 0;
      if (this.#restarts % 60 === 0) {
        this.#o.log?.(
          `fping exited (${code}); restarting in 1 s${this.#restarts ? ` (${this.#restarts} restarts so far)` : ''}`,
        );
      }
      this.#restarts += 1;
      setTimeout(() => {
        if (!this.#stopped && !this.#child && this.#targets.length > 0) this.#spawn();
      }, 1000).unref();
    });
  }

  #kill(): void {
    const c = this.#child;
    this.#child = undefined;
    c?.kill('SIGTERM');
  }
}
