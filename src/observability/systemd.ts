// What the host agent tells systemd (Type=notify): READY=1 once the tunnel interface, its
// routes and the clusterset DNS listener are up; a STATUS= line with the connection count
// whenever it changes; WATCHDOG=1 only while the reconcile loop makes progress, so a wedged
// loop (or a stopped process) is killed and restarted by WatchdogSec. Readiness is a pure
// function of HostAgent.ready and the status document; the reporter only remembers what it sent.
import type { NotifySocket } from './sdNotify.ts';

/** The fields of the agent's status document (src/cables/status.ts) the STATUS line uses. */
export interface ReadinessInput {
  interface: { name: string };
  broker: { synced: boolean; lastError: string | null; serving?: 'broker' | 'snapshot' | 'none' };
  connections: ReadonlyArray<{ status: string }>;
  applyErrors: readonly string[];
  dns?: { listen: string };
}

export interface Readiness {
  ready: boolean;
  /** One line for `systemctl status` (STATUS=). */
  status: string;
}

/**
 * `agentReady`: HostAgent.ready resolved: the tunnel interface, its addresses and routes and the
 * DNS listener are up (from the broker, or from the saved snapshot while the broker is down).
 * The status document only words the STATUS line.
 */
export function readiness(
  st: ReadinessInput | undefined,
  dnsEnabled: boolean,
  agentReady: boolean,
): Readiness {
  if (!agentReady) {
    if (!st) return { ready: false, status: 'starting' };
    if (!st.broker.synced && st.broker.serving !== 'snapshot') {
      const why = st.broker.lastError ? `: ${st.broker.lastError}` : '';
      return { ready: false, status: `waiting for the broker${why}` };
    }
    const pending = st.applyErrors[0] ? `: ${st.applyErrors[0]}` : '';
    return { ready: false, status: `setting up ${st.interface.name}${pending}` };
  }
  if (!st) return { ready: true, status: 'ready' };
  // HostAgent.ready has been seen resolving after a failed DNS bind (the port taken by a local
  // resolver); READY=1 promises the listener, so it is checked here as well.
  if (dnsEnabled && !st.dns?.listen) {
    const why = st.applyErrors.find((e) => e.startsWith('dns'));
    return { ready: false, status: `waiting for the clusterset DNS listener${why ? `: ${why}` : ''}` };
  }
  const connected = st.connections.filter((c) => c.status === 'connected').length;
  const dns = dnsEnabled && st.dns?.listen ? `; DNS on ${st.dns.listen}` : '';
  const outage = st.broker.serving === 'snapshot' ? '; broker unreachable, serving the last snapshot' : '';
  const errors = st.applyErrors.length > 0 ? `; ${st.applyErrors.length} apply error(s)` : '';
  return {
    ready: true,
    status: `${connected}/${st.connections.length} connections up on ${st.interface.name}${dns}${outage}${errors}`,
  };
}

export interface SystemdReporterOptions {
  socket: NotifySocket;
  dnsEnabled: boolean;
  /** Half of WatchdogSec (watchdogIntervalMs), or undefined without a watchdog. */
  watchdogMs: number | undefined;
  /** The loop is wedged when no reconcile completed for this long (> the resync period). */
  maxSilenceMs: number;
  now?: () => number;
  log: (line: string) => void;
}

/** Call update() with each fresh status (once a second), reconciled() after every completed
 * reconcile, and watchdog() every watchdogMs. */
export class SystemdReporter {
  private readonly o: SystemdReporterOptions;
  private readonly now: () => number;
  private sentReady = false;
  private lastStatus = '';
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

  /** The reconcile loop completed a run: it is not wedged. */
  reconciled(): void {
    this.lastProgress = this.now();
  }

  update(st: ReadinessInput | undefined, agentReady: boolean): void {
    const r = readiness(st, this.o.dnsEnabled, agentReady);
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

  /** WATCHDOG=1 while reconciles keep completing; withheld (and said once) when they stop. */
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
