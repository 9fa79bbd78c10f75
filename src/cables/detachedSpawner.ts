// Starts wireguard-go so that it outlives the agent: its own session, output to a log file in
// the state directory. A restarted agent finds the device still up and changes nothing, so a
// restart (or an upgrade) never interrupts traffic. `moor leave` deletes the link, which ends it.
import { join } from 'node:path';
import {
  ExecRunner,
  type ManagedProcess,
  type ProcessSpawner,
  type SpawnOptions,
} from '../dataplane/exec.ts';

export class DetachedSpawner implements ProcessSpawner {
  private readonly logDir: string;
  private readonly runner = new ExecRunner();

  constructor(logDir: string) {
    this.logDir = logDir;
  }

  spawn(argv: string[], opts: SpawnOptions = {}): ManagedProcess {
    const program = (argv[0]?.split('/').pop() ?? 'child').replace(/[^A-Za-z0-9_.-]/g, '_');
    return this.runner.spawn(argv, { ...opts, detached: { logFile: join(this.logDir, `${program}.log`) } });
  }
}
