// `moor agent`: run the host agent in the foreground (systemd runs it as moor-agent.service).
import { HostAgent } from '../agent/agent.ts';
import { acquireStateDirLock } from '../agent/lock.ts';
import { removePidFile, writePidFile } from '../agent/service.ts';
import { loadState, stateDir } from '../agent/state.ts';
import { ExecRunner } from '../dataplane/exec.ts';
import { parseUpstream } from '../dns/forwarder.ts';
import { renderMetrics } from '../observability/metrics.ts';
import { parseListenAddress, startMetricsServer } from '../observability/metricsServer.ts';
import { reportToSystemd } from './agent-systemd.ts';
import { boolOption, enumOption, intOption, listOption, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import { AGENT_SPEC, DEFAULT_METRICS_ADDRESS } from './specs/agent.ts';

export async function runAgent(args: string[]): Promise<number> {
  const parsed = parseCommand(AGENT_SPEC, args);
  if (boolOption(parsed, 'help')) {
    process.stdout.write(renderHelp(['agent'], AGENT_SPEC));
    return 0;
  }
  const driver = enumOption(parsed, 'wireguard-driver') as 'kernel' | 'wireguard-go' | undefined;
  const dir = stateDir(stringOption(parsed, 'state-dir'));
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const dnsListen = stringOption(parsed, 'dns-listen');
  const dns =
    dnsListen === undefined
      ? undefined
      : dnsListen === 'off'
        ? ('off' as const)
        : parseListenAddress(dnsListen, 'dns-listen');
  const dnsForward = listOption(parsed, 'dns-forward');
  for (const u of dnsForward) parseUpstream(u); // a clear error now rather than at the first query
  loadState(dir); // "not joined" or "cannot read" before the lock, which lives in the directory
  // One agent per state directory: a second one would fight the first over every peer and route.
  const lock = acquireStateDirLock(dir, 'moor agent');
  try {
    const resyncMs = intOption(parsed, 'resync') * 1000;
    const agent = new HostAgent({
      ...(dnsForward.length > 0 ? { dnsForward } : {}),
      ...(dns ? { dns: dns === 'off' ? dns : { address: dns.host, port: dns.port } } : {}),
      stateDir: dir,
      runner: new ExecRunner(),
      log,
      resyncMs,
      ...(driver ? { driver } : {}),
    });
    const metricsAt = stringOption(parsed, 'metrics-address') ?? DEFAULT_METRICS_ADDRESS;
    const metrics =
      metricsAt === 'off'
        ? undefined
        : await startMetricsServer(parseListenAddress(metricsAt, 'metrics-address'), () => {
            const st = agent.status();
            return st ? renderMetrics(st) : undefined;
          });
    writePidFile(dir);
    const systemd = reportToSystemd({ agent, dnsEnabled: dns !== 'off', resyncMs, log });
    // A signal while starting stops the agent as soon as start() is done.
    const stopped = new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    try {
      await agent.start();
      log(`agent running (pid ${process.pid})`);
      log(`${await stopped}: stopping; tunnels stay up`);
    } finally {
      systemd?.stopping();
      metrics?.close();
      await agent.stop();
      systemd?.close();
      removePidFile(dir);
    }
    return 0;
  } finally {
    lock.release();
  }
}
