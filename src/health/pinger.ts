// Pings every member's health-check IP once a second with one fping process for all targets
// (a ping process per member would cost ~1 MB each at a thousand members). The process is
// restarted only when the target set or source address changes.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseFpingLine } from './fpingOutput.ts';
import { HealthTracker } from './healthTracker.ts';

export interface PingerOptions {
  intervalMs?: number;
  maxLoss?: number;
  binary?: string;
  log?: (line: string) => void;
}

export class Pinger {
  readonly tracker: HealthTracker;
  private readonly options: PingerOptions;
  private child: ChildProcess | undefined;
  private key = '';
  private stopped = false;

  constructor(options: PingerOptions = {}) {
    this.options = options;
    this.tracker = new HealthTracker(options.maxLoss ?? 5);
  }

  /** Ping `targets` from `source` (our clusterset address, so replies come back through the tunnel). */
  update(targets: readonly string[], source: string | undefined): void {
    const sorted = [...new Set(targets)].sort();
    const key = `${source ?? ''}|${sorted.join(',')}`;
    this.tracker.setTargets(sorted);
    if (key === this.key && this.child) return;
    this.key = key;
    this.kill();
    if (sorted.length === 0 || this.stopped) return;
    const interval = String(this.options.intervalMs ?? 1000);
    const argv = [
      '-l',
      '-p',
      interval,
      '-t',
      String(Math.min(Number(interval), 1000) - 100),
      ...(source ? ['-S', source] : []),
      ...sorted,
    ];
    const child = spawn(this.options.binary ?? 'fping', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const onLine = (line: string) => {
      const result = parseFpingLine(line);
      if (result) this.tracker.record(result, Date.now());
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.on('error', (err) =>
      this.options.log?.(`health checks disabled: cannot run fping: ${err.message}`),
    );
    child.on('exit', (code) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (!this.stopped) {
        this.options.log?.(`fping exited (${code}); restarting in 1 s`);
        setTimeout(() => {
          if (!this.stopped && !this.child) {
            const k = this.key;
            this.key = '';
            const [src, list] = k.split('|');
            this.update(list ? list.split(',') : [], src || undefined);
          }
        }, 1000).unref();
      }
    });
  }

  stop(): void {
    this.stopped = true;
    this.kill();
  }

  private kill(): void {
    const c = this.child;
    this.child = undefined;
    c?.kill('SIGTERM');
  }
}
