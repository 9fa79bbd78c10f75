// Removing the host's dataplane on `moor leave`: stop the agent, then delete the WireGuard
// interface. Its addresses and routes go with it; wireguard-go exits when its link is deleted.
import { existsSync, rmSync } from 'node:fs';
import type { CommandRunner } from '../dataplane/exec.ts';
import { stopAgent } from './service.ts';
import type { HostState } from './state.ts';

export async function teardownHost(state: HostState, runner: CommandRunner, stateDir: string): Promise<void> {
  await stopAgent(stateDir);
  const link = await runner.run(['ip', 'link', 'show', 'dev', state.interfaceName], {
    allowNonZeroExit: true,
  });
  if (link.code === 0) await runner.run(['ip', 'link', 'del', 'dev', state.interfaceName]);
  // A wireguard-go that died uncleanly leaves its socket; a stale one would block the next join.
  const socket = `/var/run/wireguard/${state.interfaceName}.sock`;
  for (let i = 0; i < 50 && existsSync(socket); i += 1) await new Promise((r) => setTimeout(r, 20));
  rmSync(socket, { force: true });
}
