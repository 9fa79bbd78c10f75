// Starting and stopping the agent: through systemd when the host runs it and the unit is
// installed, otherwise by the PID file the agent writes, so `moor leave` works either way.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExecRunner } from '../dataplane/exec.ts';
import { stopLockHolder } from './lock.ts';
import { writeSecretFile } from './state.ts';

export const AGENT_UNIT = 'moor-agent.service';
const PID_FILE = 'agent.pid';

async function systemdHasUnit(): Promise<boolean> {
  if (!existsSync('/run/systemd/system')) return false;
  const r = await new ExecRunner().run(['systemctl', 'cat', AGENT_UNIT], { allowNonZeroExit: true });
  return r.code === 0;
}

/** Enable and start the agent unit, or say how to start the agent by hand. */
export async function startAgentService(stateDir: string): Promise<string> {
  if (await systemdHasUnit()) {
    await new ExecRunner().run(['systemctl', 'enable', '--now', AGENT_UNIT]);
    return `started ${AGENT_UNIT}`;
  }
  return `no systemd unit ${AGENT_UNIT} here: start the agent with \`moor agent --state-dir ${stateDir}\``;
}

export function writePidFile(stateDir: string): void {
  writeSecretFile(join(stateDir, PID_FILE), `${process.pid}\n`);
}

export function removePidFile(stateDir: string): void {
  const path = join(stateDir, PID_FILE);
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
  } catch {
    // not there
  }
}

/** Stop a running agent (systemd unit or PID file) and wait until it has exited. */
export async function stopAgent(stateDir: string, timeoutMs = 10_000): Promise<void> {
  if (await systemdHasUnit()) {
    await new ExecRunner().run(['systemctl', 'disable', '--now', AGENT_UNIT], { allowNonZeroExit: true });
  }
  // The agent holding the state directory's lock is the one that runs on it.
  await stopLockHolder(stateDir, timeoutMs);
  let pid: number;
  try {
    pid = Number(readFileSync(join(stateDir, PID_FILE), 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isMoorAgent(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
}

/** Guard against a stale PID file pointing at an unrelated process. */
function isMoorAgent(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('moor') && cmdline.includes('agent');
  } catch {
    return false;
  }
}
