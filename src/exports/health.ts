// Local readiness of exported services: a TCP connect to 127.0.0.1:<port> within 1 s, or nothing
// ("none": always ready). The loop re-reads the store each round, so exports added or removed by
// `moor export`/`unexport` while the agent runs are picked up, and it publishes only when an
// export's readiness changes (or was never published by this process, or the last try failed):
// remote CoreDNS then stops answering with this host while its service is down (spec §4.5).
import { connect } from 'node:net';
import { type Clock, systemClock } from '../reconcile/clock.ts';
import { ReconcileLoop } from '../reconcile/loop.ts';
import { OutcomeBuilder, type ReconcileOutcome } from '../reconcile/outcome.ts';
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

export interface ExportHealthLoopOptions {
  publisher: Pick<ExportPublisher, 'publish'>;
  /** The desired exports; read every round. */
  loadExports: () => readonly StoredExport[];
  intervalMs?: number;
  check?: (exp: StoredExport) => Promise<boolean>;
  clock?: Clock;
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

/** Rounds on the shared ReconcileLoop: at start, then every interval, never overlapping; a
 * failed publish is an error of phase "exports" (logged once, retried next round). */
export class ExportHealthLoop {
  private readonly options: ExportHealthLoopOptions;
  private readonly check: (exp: StoredExport) => Promise<boolean>;
  private readonly clock: Clock;
  private readonly loop: ReconcileLoop;
  private readonly entries = new Map<string, ExportHealthStatus>();

  constructor(options: ExportHealthLoopOptions) {
    this.options = options;
    this.check = options.check ?? checkExportHealth;
    this.clock = options.clock ?? systemClock;
    this.loop = new ReconcileLoop({
      name: 'exports',
      clock: this.clock,
      debounceMs: 0,
      resyncMs: options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS,
      log: (line) => this.options.log?.(line),
      reconcile: () => this.tick(),
    });
  }

  /** Checks at once, then every interval; a round never overlaps the previous one. */
  start(): void {
    this.loop.start();
  }

  /** Stops scheduling and waits for a round in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  status(): ExportHealthStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e }));
  }

  /** One round: check every stored export, publish those whose readiness changed. */
  async tick(): Promise<ReconcileOutcome> {
    const out = new OutcomeBuilder();
    let exports: readonly StoredExport[];
    try {
      exports = this.options.loadExports();
    } catch (err) {
      return out.fail('exports', err, 'store').build();
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
      entry.lastCheckedAt = this.clock.now();
      if (entry.published === ready) continue;
      try {
        await this.options.publisher.publish(exp, { ready });
        out.applied1(`export ${key}: ${ready ? 'ready' : 'NOT ready'}`);
        entry.published = ready;
        entry.lastError = undefined;
      } catch (err) {
        // Left unpublished, so the next round tries again.
        entry.published = undefined;
        entry.lastError = message(err);
        out.fail('exports', err, `${key} readiness ${ready}`);
      }
    }
    return out.build();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
