// Starts wireguard-go so that it outlives the agent: its own session, output to a log file in
// the state directory. A restarted agent finds the device still up and changes nothing, so a
// restart (or an upgrade) never interrupts traffic. `moor leave` deletes the link, which ends it.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { ExitStatus, ManagedProcess, ProcessSpawner, SpawnOptions } from '../dataplane/exec.ts';

export class DetachedSpawner implements ProcessSpawner {
  private readonly logDir: string;

  constructor(logDir: string) {
    this.logDir = logDir;
  }

  spawn(argv: string[], opts: SpawnOptions = {}): ManagedProcess {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('spawn: empty argv');
    const logName = `${(file.split('/').pop() ?? 'child').replace(/[^A-Za-z0-9_.-]/g, '_')}.log`;
    const fd = openSync(join(this.logDir, logName), 'a', 0o600);
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, LC_ALL: 'C', ...opts.env },
    });
    closeSync(fd);
    child.unref();
    let status: ExitStatus | undefined;
    const exited = new Promise<ExitStatus>((resolve) => {
      child.on('error', () => {
        status ??= { code: -1, signal: null };
        resolve(status);
      });
      child.on('exit', (code, signal) => {
        status ??= { code, signal };
        resolve(status);
      });
    });
    return {
      pid: child.pid,
      argv,
      exited,
      exitStatus: () => status,
      outputTail: () => `(see ${join(this.logDir, logName)})`,
      kill: (signal = 'SIGTERM') => {
        if (status === undefined) child.kill(signal);
      },
    };
  }
}
