// Starting and stopping the agent: through systemd when the host runs it and the unit is
// installed, otherwise by the PID file the agent writes, so `moor leave` works either way.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExecRunner } from '../dataplane/exec.ts';
import { processCommandLine, stopProcess } from '../dataplane/host/processes.ts';
import { SystemctlUnits, type SystemdUnits } from '../dataplane/host/systemd.ts';
import { writeSecretFile } from '../dataplane/secret-file.ts';
import { stopLockHolder } from './lock.ts';

export const AGENT_UNIT = 'moor-agent.service';
const PID_FILE = 'agent.pid';

function systemUnits(): SystemdUnits {
  return new SystemctlUnits(new ExecRunner());
}

/** Enable and start the agent unit, or say how to start the agent by hand. */
export async function startAgentService(stateDir: string, units = systemUnits()): Promise<string> {
  if (await units.hasUnit(AGENT_UNIT)) {
    await units.enableNow(AGENT_UNIT);
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
export async function stopAgent(stateDir: string, timeoutMs = 10_000, units = systemUnits()): Promise<void> {
  if (await units.hasUnit(AGENT_UNIT)) await units.disableNow(AGENT_UNIT);
  // The agent holding the state directory's lock is the one that runs on it.
  await stopLockHolder(stateDir, timeoutMs);
  let pid: number;
  try {
    pid = Number(readFileSync(join(stateDir, PID_FILE), 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isMoorAgent(pid)) return;
  await stopProcess(pid, timeoutMs);
}

/** Guard against a stale PID file pointing at an unrelated process. */
function isMoorAgent(pid: number): boolean {
  const cmdline = processCommandLine(pid)?.join(' ') ?? '';
  return cmdline.includes('moor') && cmdline.includes('agent');
}
