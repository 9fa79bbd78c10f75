// The host agent under systemd (Type=notify): feeds the agent's status to the SystemdReporter
// once a second and pings the watchdog at half of WatchdogSec. Does nothing without
// $NOTIFY_SOCKET (a foreground run, the tests' agents).
//
// Until the reconciler core lands, loop progress is read from the status document's reconcile
// counter and readiness waits for the engine's firstSync; with the core this should subscribe to
// ReconcileLoop.onReconciled and await HostAgent.ready instead.
import type { HostAgent } from '../agent/agent.ts';
import { openNotifySocket, watchdogIntervalMs } from '../observability/sdNotify.ts';
import { SystemdReporter } from '../observability/systemd.ts';

export interface SystemdHandle {
  stopping(): void;
  close(): void;
}

export function reportToSystemd(o: {
  agent: HostAgent;
  dnsEnabled: boolean;
  resyncMs: number;
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}): SystemdHandle | undefined {
  const env = o.env ?? process.env;
  const path = env.NOTIFY_SOCKET;
  if (!path) return undefined;
  let socket: ReturnType<typeof openNotifySocket>;
  try {
    socket = openNotifySocket(path);
  } catch (err) {
    o.log(`systemd: cannot notify: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  const watchdogMs = watchdogIntervalMs(env);
  const reporter = new SystemdReporter({
    socket,
    dnsEnabled: o.dnsEnabled,
    watchdogMs,
    // A healthy loop starts a reconcile at least every resync period.
    maxSilenceMs: 2 * o.resyncMs + 10_000,
    log: o.log,
  });
  let synced = false;
  void o.agent.engine.firstSync.then(() => {
    synced = true;
    reporter.update(o.agent.engine.status(), synced);
  });
  const timers = [setInterval(() => reporter.update(o.agent.engine.status(), synced), 1_000)];
  if (watchdogMs !== undefined) timers.push(setInterval(() => reporter.watchdog(), watchdogMs));
  reporter.update(undefined, false);
  return {
    stopping() {
      reporter.stopping();
    },
    close() {
      for (const t of timers) clearInterval(t);
      socket.close();
    },
  };
}
