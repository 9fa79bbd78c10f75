// What the host agent tells systemd (Type=notify): READY=1 once the tunnel interface, its
// routes and the clusterset DNS listener are up; a STATUS= line with the connection count
// whenever it changes; WATCHDOG=1 only while the reconcile loop makes progress, so a wedged
// loop (or a stopped process) is killed and restarted by WatchdogSec. Readiness is a pure
// function of the status document; the reporter only remembers what it already sent.
import type { NotifySocket } from './sdNotify.ts';

/** The fields of the agent's status document (src/cables/status.ts) readiness depends on. */
export interface ReadinessInput {
  interface: { name: string };
  broker: { synced: boolean; lastError: string | null };
  connections: ReadonlyArray<{ status: string }>;
  applyErrors: readonly string[];
  counters: { reconciles: number };
  dns?: { listen: string; ready: boolean };
}

export interface Readiness {
  ready: boolean;
  /** One line for `systemctl status` (STATUS=). */
  status: string;
}

/** Errors of the last reconcile that mean the tunnel or its routes are not in place. */
const DATAPLANE_ERROR = /^(wireguard|link|address|route)\b/;

/**
 * `synced` is true once a whole reconcile ran on a listed broker snapshot (the engine's
 * firstSync): status documents are also refreshed between reconciles, so the broker flag alone
 * could announce a device whose reconcile threw half-way.
 */
export function readiness(st: ReadinessInput | undefined, dnsEnabled: boolean, synced = true): Readiness {
  if (!st) return { ready: false, status: 'starting: no reconcile yet' };
  if (!st.broker.synced || !synced) {
    const why = st.broker.lastError ? `: ${st.broker.lastError}` : '';
    return { ready: false, status: `waiting for the broker${why}` };
  }
  const broken = st.applyErrors.find((e) => DATAPLANE_ERROR.test(e));
  if (broken) return { ready: false, status: `tunnel ${st.interface.name} not ready: ${broken}` };
  if (dnsEnabled && !st.dns?.listen)
    return { ready: false, status: 'waiting for the clusterset DNS listener' };
  const connected = st.connections.filter((c) => c.status === 'connected').length;
  const dns = dnsEnabled && st.dns ? `; DNS on ${st.dns.listen}` : '';
  const errors = st.applyErrors.length > 0 ? `; ${st.applyErrors.length} apply error(s)` : '';
  return {
    ready: true,
    status: `${connected}/${st.connections.length} connections up on ${st.interface.name}${dns}${errors}`,
  };
}

export interface SystemdReporterOptions {
  socket: NotifySocket;
  dnsEnabled: boolean;
  /** Half of WatchdogSec (watchdogIntervalMs), or undefined without a watchdog. */
  watchdogMs: number | undefined;
  /** The loop is wedged when it has not started a reconcile for this long (> the resync period). */
  maxSilenceMs: number;
  now?: () => number;
  log: (line: string) => void;
}

/** Call update() with each fresh status (once a second) and watchdog() every watchdogMs. */
export class SystemdReporter {
  private readonly o: SystemdReporterOptions;
  private readonly now: () => number;
  private sentReady = false;
  private lastStatus = '';
  private reconciles = -1;
  private lastProgress: number;
  private withheld = false;
  private failed = false;

  constructor(o: SystemdReporterOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.lastProgress = this.now();
  }

  get ready(): boolean {
    return this.sentReady;
  }

  update(st: ReadinessInput | undefined, synced = true): void {
    if (st && st.counters.reconciles !== this.reconciles) {
      this.reconciles = st.counters.reconciles;
      this.lastProgress = this.now();
    }
    const r = readiness(st, this.o.dnsEnabled, synced);
    const lines: string[] = [];
    if (r.ready && !this.sentReady) lines.push('READY=1');
    if (r.status !== this.lastStatus) lines.push(`STATUS=${r.status}`);
    if (lines.length === 0) return;
    if (this.send(lines)) {
      if (r.ready && !this.sentReady) this.o.log(`systemd: ready (${r.status})`);
      this.sentReady ||= r.ready;
      this.lastStatus = r.status;
    }
  }

  /** WATCHDOG=1 while reconciles keep starting; withheld (and said once) when they stop. */
  watchdog(): void {
    const silent = this.now() - this.lastProgress;
    if (silent > this.o.maxSilenceMs) {
      if (!this.withheld) {
        this.o.log(`systemd: no reconcile for ${Math.round(silent / 1000)} s; withholding WATCHDOG=1`);
      }
      this.withheld = true;
      return;
    }
    this.withheld = false;
    this.send(['WATCHDOG=1']);
  }

  stopping(): void {
    this.send(['STOPPING=1', 'STATUS=stopping; tunnels stay up']);
  }

  private send(lines: string[]): boolean {
    try {
      this.o.socket.send(`${lines.join('\n')}\n`);
      this.failed = false;
      return true;
    } catch (err) {
      if (!this.failed) this.o.log(`systemd: ${err instanceof Error ? err.message : String(err)}`);
      this.failed = true;
      return false;
    }
  }
}
