// Other processes of this host, through /proc and signals: is a PID still the program we think,
// and stopping it (SIGTERM, then SIGKILL after a deadline).
import { existsSync, readFileSync } from 'node:fs';

/** The command line of `pid` as NUL-separated words; undefined when there is no such process. */
export function processCommandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((w) => w !== '');
  } catch {
    return undefined;
  }
}

export function processExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** SIGTERM, wait up to `timeoutMs` for the process to exit, then SIGKILL. */
export async function stopProcess(pid: number, timeoutMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // gone already
  }
  const deadline = Date.now() + timeoutMs;
  while (processExists(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (processExists(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited just now
    }
  }
}
