// A TestRun owns every namespace, link, process and file a test creates. Names carry a short
// unique run id, so runs are parallel-safe, and cleanup finds everything by that id:
//   namespaces  moor-<id>-<host>      links/wireguard  m<id><kind><n>
// Cleanup runs on normal teardown, on SIGINT/SIGTERM and at process exit. A run that died hard
// (SIGKILL) is reaped by the next TestRun: each run leaves a manifest naming its owner PID.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execSync } from './exec.ts';

const MANIFEST_DIR = '/run/moor-test';
const WG_SOCKET_DIR = '/var/run/wireguard';
/** Per-namespace files that `ip netns exec` bind-mounts over /etc (see Host.setResolvConf). */
export const NETNS_ETC = '/etc/netns';

export interface RunManifest {
  id: string;
  pid: number;
  dir: string;
}

const live = new Set<TestRun>();
let handlersInstalled = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    for (const run of live) run.cleanupSync();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const run of live) run.cleanupSync();
  });
}

export class TestRun {
  readonly id: string;
  /** Scratch directory for keys, configs and logs; removed at cleanup unless MOOR_KEEP_TEST_DIR is set. */
  readonly dir: string;
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private counter = 0;
  private cleaned = false;

  private constructor(id: string, dir: string) {
    this.id = id;
    this.dir = dir;
  }

  static start(): TestRun {
    if (process.getuid?.() !== 0) {
      throw new Error('the end-to-end harness needs root (network namespaces); run the tests as root');
    }
    reapDeadRuns();
    // 5 base-36 chars: short enough for 15-char interface names, ample against collisions.
    const id = BigInt(`0x${randomBytes(4).toString('hex')}`)
      .toString(36)
      .padStart(5, '0')
      .slice(-5);
    // /dev/shm keeps etcd's fsyncs and the many small files of a run off the disk.
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const dir = mkdtempSync(join(base, `moor-test-${id}-`));
    mkdirSync(MANIFEST_DIR, { recursive: true });
    const manifest: RunManifest = { id, pid: process.pid, dir };
    writeFileSync(join(MANIFEST_DIR, `${id}.json`), JSON.stringify(manifest));
    const run = new TestRun(id, dir);
    live.add(run);
    installHandlers();
    return run;
  }

  nsName(host: string): string {
    return `moor-${this.id}-${host}`;
  }

  /** A machine-wide unique interface name (≤ 15 chars). kind: one letter, e.g. 'v' veth, 'w' wireguard. */
  ifName(kind: string): string {
    this.counter += 1;
    return `m${this.id}${kind}${this.counter}`;
  }

  /** Register a cleanup step; steps run in reverse order of registration. */
  defer(step: () => Promise<void> | void): void {
    this.cleanups.push(step);
  }

  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    const errors: unknown[] = [];
    while (this.cleanups.length > 0) {
      const step = this.cleanups.pop()!;
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    this.cleanupSync();
    if (errors.length > 0)
      throw new AggregateError(errors, `test run ${this.id}: ${errors.length} cleanup steps failed`);
  }

  /** The id-based sweep: correct even when the registered steps never ran. */
  cleanupSync(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    live.delete(this);
    sweepRun(this.id);
    if (!process.env.MOOR_KEEP_TEST_DIR) rmSync(this.dir, { recursive: true, force: true });
    rmSync(join(MANIFEST_DIR, `${this.id}.json`), { force: true });
  }
}

/** What a run with this id left on the machine; the tests assert this is empty after cleanup. */
export function leftovers(id: string): {
  namespaces: string[];
  links: string[];
  processes: number[];
  sockets: string[];
} {
  const namespaces = listNamespaces().filter((n) => n.startsWith(`moor-${id}-`));
  const links = execSync(['ip', '-o', 'link', 'show'])
    .stdout.split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((n) => n.startsWith(`m${id}`));
  const sockets = existsSync(WG_SOCKET_DIR)
    ? readdirSync(WG_SOCKET_DIR).filter((f) => f.startsWith(`m${id}`))
    : [];
  return { namespaces, links, processes: processesOfRun(id), sockets };
}

function listNamespaces(): string[] {
  return execSync(['ip', 'netns', 'list'])
    .stdout.split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}

/** PIDs whose command line or environment marks them as belonging to the run. */
function processesOfRun(id: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.includes(`MOOR_TEST_RUN=${id}\0`)) pids.push(Number(entry));
    } catch {
      // the process went away, or is not ours to read
    }
  }
  return pids;
}

function sweepRun(id: string): void {
  const namespaces = listNamespaces().filter((n) => n.startsWith(`moor-${id}-`));
  // Processes first: a namespace outlives its deletion while a process holds it.
  const pids = new Set(processesOfRun(id));
  for (const ns of namespaces) {
    for (const pid of execSync(['ip', 'netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean))
      pids.add(Number(pid));
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  waitForExit([...pids], 5_000);
  for (const ns of namespaces) execSync(['ip', 'netns', 'del', ns]);
  // Per-namespace /etc files (Host.setResolvConf) outlive `ip netns del`.
  if (existsSync(NETNS_ETC)) {
    for (const d of readdirSync(NETNS_ETC))
      if (d.startsWith(`moor-${id}-`)) rmSync(join(NETNS_ETC, d), { recursive: true, force: true });
  }
  for (const link of leftovers(id).links) execSync(['ip', 'link', 'del', link]);
  if (existsSync(WG_SOCKET_DIR)) {
    for (const f of readdirSync(WG_SOCKET_DIR))
      if (f.startsWith(`m${id}`)) unlinkSync(join(WG_SOCKET_DIR, f));
  }
}

function waitForExit(pids: number[], timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (const pid of pids) {
    while (existsSync(`/proc/${pid}`) && Date.now() < deadline) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '';
      if (stat.startsWith('Z')) break; // a zombie holds nothing; its parent reaps it
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/** Remove what runs whose owner process is gone left behind (a SIGKILLed test worker). */
export function reapDeadRuns(): string[] {
  if (!existsSync(MANIFEST_DIR)) return [];
  const reaped: string[] = [];
  for (const file of readdirSync(MANIFEST_DIR)) {
    if (!file.endsWith('.json')) continue;
    let manifest: RunManifest;
    try {
      manifest = JSON.parse(readFileSync(join(MANIFEST_DIR, file), 'utf8')) as RunManifest;
    } catch {
      continue;
    }
    if (existsSync(`/proc/${manifest.pid}`)) continue;
    sweepRun(manifest.id);
    rmSync(manifest.dir, { recursive: true, force: true });
    rmSync(join(MANIFEST_DIR, file), { force: true });
    reaped.push(manifest.id);
  }
  return reaped;
}
