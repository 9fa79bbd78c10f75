// `moor agent`: run the host agent in the foreground (systemd runs it as moor-agent.service).
import { HostAgent } from '../agent/agent.ts';
import { removePidFile, writePidFile } from '../agent/service.ts';
import { stateDir } from '../agent/state.ts';
import { ExecRunner } from '../dataplane/exec.ts';
import { parseUpstream } from '../dns/forwarder.ts';
import { MoorError } from '../errors.ts';
import { renderMetrics } from '../observability/metrics.ts';
import { parseListenAddress, startMetricsServer } from '../observability/metricsServer.ts';
import { reportToSystemd } from './agent-systemd.ts';
import { boolOption, intOption, listOption, parseCommandArgs, stringOption } from './args.ts';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9476';

export const AGENT_HELP = `Usage: moor agent [options]

Run the host agent in the foreground: keep this host's registration on the broker, one
WireGuard peer and the routes per clusterset member, and health checks. Stopping it leaves the
tunnels up; \`moor leave\` removes them.

Options:
  --state-dir DIR            state written by \`moor join\` (default /var/lib/moor, or $MOOR_STATE_DIR)
  --resync SECONDS           full reconcile period (default 30)
  --wireguard-driver NAME    kernel or wireguard-go (default: kernel when available)
  --metrics-address H:P      Prometheus /metrics (default ${DEFAULT_METRICS_ADDRESS}; "off" disables)
  --dns-listen H:P           clusterset DNS server (default <clusterset address>:53; "off" disables)
  --dns-forward IP[:PORT]    forward names outside the clusterset zones there (repeatable;
                             default: answer them REFUSED)
`;

export async function runAgent(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'agent',
    args,
    {
      'state-dir': { type: 'string' },
      resync: { type: 'string' },
      'wireguard-driver': { type: 'string' },
      'metrics-address': { type: 'string' },
      'dns-listen': { type: 'string' },
      'dns-forward': { type: 'string', multiple: true },
    },
    0,
  );
  if (boolOption(parsed, 'help')) {
    process.stdout.write(AGENT_HELP);
    return 0;
  }
  const driver = stringOption(parsed, 'wireguard-driver');
  if (driver !== undefined && driver !== 'kernel' && driver !== 'wireguard-go') {
    throw new MoorError('invalid-argument', `--wireguard-driver ${driver} is not supported`, {
      hint: 'use kernel or wireguard-go',
    });
  }
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
  const resyncMs = intOption(parsed, 'resync', 30, 1, 3600) * 1000;
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
          const st = agent.engine.status();
          return st ? renderMetrics(st) : undefined;
        });
  writePidFile(dir);
  const systemd = reportToSystemd({ agent, dnsEnabled: dns !== 'off', resyncMs, log });
  await agent.start();
  log(`agent running (pid ${process.pid})`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping; tunnels stay up`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  systemd?.stopping();
  metrics?.close();
  await agent.stop();
  systemd?.close();
  removePidFile(dir);
  return 0;
}
