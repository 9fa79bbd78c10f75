// Long-lived processes of a test run (etcd, kube-apiserver, wireguard-go, moor agents): started in
// their own process group, optionally inside a namespace, logging to a file in the run directory,
// tagged with MOOR_TEST_RUN so the run's sweep finds them whatever happens to this process.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNamespace } from './exec.ts';
import type { TestRun } from './run.ts';

export interface ProcessOptions {
  ns?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export class RunningProcess {
  readonly name: string;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(name: string, child: ChildProcess, logFile: string) {
    this.name = name;
    this.child = child;
    this.logFile = logFile;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The last lines of the log, for error messages. */
  tail(lines = 30): string {
    return this.log().trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Stop the whole process group: SIGTERM, then SIGKILL after a grace period. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.exited;
  }

  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is gone
    }
  }

  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited.then(() => this.exitInfo!);
  }
}

export function startProcess(
  run: TestRun,
  name: string,
  argv: string[],
  options: ProcessOptions = {},
): RunningProcess {
  const logFile = join(run.dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const [cmd, ...args] = inNamespace(options.ns, argv);
  if (!cmd) throw new Error(`startProcess ${name}: empty argv`);
  const child = spawn(cmd, args, {
    detached: true, // own process group: a Ctrl-C on the terminal reaches the harness, which stops it
    stdio: ['ignore', fd, fd],
    cwd: options.cwd,
    env: { ...process.env, ...options.env, MOOR_TEST_RUN: run.id },
  });
  closeSync(fd);
  const proc = new RunningProcess(name, child, logFile);
  run.defer(() => proc.stop());
  return proc;
}

/** Poll `check` until it returns a value, the process dies, or the timeout passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; process?: RunningProcess } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    if (options.process && !options.process.running) {
      throw new Error(`${what}: ${options.process.name} exited early\n${options.process.tail()}`);
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      const log = options.process ? `\n--- ${options.process.name} log ---\n${options.process.tail()}` : '';
      throw new Error(`timed out waiting for ${what}${detail}${log}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
