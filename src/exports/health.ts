// Local readiness of exported services: a TCP connect to 127.0.0.1:<port> within 1 s, or nothing
// ("none": always ready). The loop re-reads the store each round, so exports added or removed by
// `moor export`/`unexport` while the agent runs are picked up, and it publishes only when an
// export's readiness changes (or was never published by this process, or the last try failed):
// remote CoreDNS then stops answering with this host while its service is down (spec §4.5).
import { connect } from 'node:net';
import type { ExportPublisher } from './publisher.ts';
import { exportKey, healthPort, type StoredExport } from './store.ts';

export const HEALTH_CHECK_TIMEOUT_MS = 1_000;
export const DEFAULT_HEALTH_INTERVAL_MS = 5_000;
const LOOPBACK = '127.0.0.1';

/** True when a TCP connection to host:port opens within the timeout. */
export function checkTcp(
  port: number,
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
  host = LOOPBACK,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The export's readiness now, by its health setting. */
export function checkExportHealth(exp: Pick<StoredExport, 'health' | 'ports'>): Promise<boolean> {
  const port = healthPort(exp);
  return port === undefined ? Promise.resolve(true) : checkTcp(port);
}

/** setTimeout/clearTimeout, injectable so unit tests step the loop by hand. */
export interface LoopTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: LoopTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ExportHealthLoopOptions {
  publisher: Pick<ExportPublisher, 'publish'>;
  /** The desired exports; read every round. */
  loadExports: () => readonly StoredExport[];
  intervalMs?: number;
  check?: (exp: StoredExport) => Promise<boolean>;
  timers?: LoopTimers;
  now?: () => number;
  log?: (line: string) => void;
}

export interface ExportHealthStatus {
  name: string;
  namespace: string;
  /** Last local check; undefined before the first. */
  ready: boolean | undefined;
  /** Readiness that is on the broker, as far as this loop published it. */
  published: boolean | undefined;
  lastCheckedAt: number | undefined;
  lastError: string | undefined;
}

export class ExportHealthLoop {
  private readonly options: ExportHealthLoopOptions;
  private readonly intervalMs: number;
  private readonly timers: LoopTimers;
  private readonly check: (exp: StoredExport) => Promise<boolean>;
  private readonly now: () => number;
  private readonly entries = new Map<string, ExportHealthStatus>();
  private timer: unknown;
  private running = false;
  private inFlight: Promise<void> | undefined;

  constructor(options: ExportHealthLoopOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
    this.timers = options.timers ?? realTimers;
    this.check = options.check ?? checkExportHealth;
    this.now = options.now ?? Date.now;
  }

  /** Checks at once, then every interval; a round never overlaps the previous one. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops scheduling and waits for a round in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  status(): ExportHealthStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e }));
  }

  /** One round: check every stored export, publish those whose readiness changed. */
  async tick(): Promise<void> {
    let exports: readonly StoredExport[];
    try {
      exports = this.options.loadExports();
    } catch (err) {
      this.log(`exports: ${message(err)}`);
      return;
    }
    const keys = new Set(exports.map((e) => exportKey(e.name, e.namespace)));
    for (const key of this.entries.keys()) if (!keys.has(key)) this.entries.delete(key);
    const results = await Promise.all(exports.map((e) => this.check(e).catch(() => false)));
    for (const [index, exp] of exports.entries()) {
      const ready = results[index] === true;
      const key = exportKey(exp.name, exp.namespace);
      const entry = this.entries.get(key) ?? {
        name: exp.name,
        namespace: exp.namespace,
        ready: undefined,
        published: undefined,
        lastCheckedAt: undefined,
        lastError: undefined,
      };
      this.entries.set(key, entry);
      entry.ready = ready;
      entry.lastCheckedAt = this.now();
      if (entry.published === ready) continue;
      try {
        await this.options.publisher.publish(exp, { ready });
        if (entry.published !== undefined) this.log(`export ${key}: ${ready ? 'ready' : 'NOT ready'}`);
        entry.published = ready;
        entry.lastError = undefined;
      } catch (err) {
        // Left unpublished, so the next round tries again.
        entry.published = undefined;
        entry.lastError = message(err);
        this.log(`export ${key}: publishing readiness ${ready} failed: ${entry.lastError}`);
      }
    }
  }

  private schedule(ms: number): void {
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.tick().finally(() => {
        this.inFlight = undefined;
        if (this.running) this.schedule(this.intervalMs);
      });
    }, ms);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
