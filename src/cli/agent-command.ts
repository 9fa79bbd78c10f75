// `moor agent`: run the host agent in the foreground (systemd runs it as moor-agent.service).
import { HostAgent } from '../agent/agent.ts';
import { removePidFile, writePidFile } from '../agent/service.ts';
import { stateDir } from '../agent/state.ts';
import { ExecRunner } from '../dataplane/exec.ts';
import { MoorError } from '../errors.ts';
import { boolOption, intOption, parseCommandArgs, stringOption } from './args.ts';

export const AGENT_HELP = `Usage: moor agent [options]

Run the host agent in the foreground: keep this host's registration on the broker, one
WireGuard peer and the routes per clusterset member, and health checks. Stopping it leaves the
tunnels up; \`moor leave\` removes them.

Options:
  --state-dir DIR            state written by \`moor join\` (default /var/lib/moor, or $MOOR_STATE_DIR)
  --resync SECONDS           full reconcile period (default 30)
  --wireguard-driver NAME    kernel or wireguard-go (default: kernel when available)
`;

export async function runAgent(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    'agent',
    args,
    { 'state-dir': { type: 'string' }, resync: { type: 'string' }, 'wireguard-driver': { type: 'string' } },
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
  const agent = new HostAgent({
    stateDir: dir,
    runner: new ExecRunner(),
    log,
    resyncMs: intOption(parsed, 'resync', 30, 1, 3600) * 1000,
    ...(driver ? { driver } : {}),
  });
  writePidFile(dir);
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
  await agent.stop();
  removePidFile(dir);
  return 0;
}
