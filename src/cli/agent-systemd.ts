// The host agent under systemd (Type=notify): READY=1 when HostAgent.ready resolves, STATUS=
// from the status document once a second, and WATCHDOG=1 at half of WatchdogSec while the
// reconcile loop keeps completing runs (HostAgent.onReconciled). Does nothing without
// $NOTIFY_SOCKET (a foreground run, the tests' agents).
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
    // A healthy loop completes a reconcile at least every resync period.
    maxSilenceMs: 2 * o.resyncMs + 10_000,
    log: o.log,
  });
  let ready = false;
  void o.agent.ready.then(() => {
    ready = true;
    reporter.update(o.agent.status(), ready);
  });
  const unsubscribe = o.agent.onReconciled(() => reporter.reconciled());
  const timers = [setInterval(() => reporter.update(o.agent.status(), ready), 1_000)];
  if (watchdogMs !== undefined) timers.push(setInterval(() => reporter.watchdog(), watchdogMs));
  reporter.update(undefined, false);
  return {
    stopping() {
      reporter.stopping();
    },
    close() {
      for (const t of timers) clearInterval(t);
      unsubscribe();
      socket.close();
    },
  };
}
