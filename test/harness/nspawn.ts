// A Debian 12 root booted with real systemd (systemd-nspawn --boot) inside a network namespace
// the test created, so `systemctl start moor-agent` runs the shipped unit: notify, watchdog and
// hardening as on a real host. Commands enter the container through nsenter (no machined here).
// Cleanup (registered on the TestRun) halts the container, kills it if it hangs, and removes
// the root directory; the container's processes die with its PID namespace.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ExecResult, exec } from './exec.ts';
import { waitFor } from './process.ts';
import type { TestRun } from './run.ts';

const REPO = join(import.meta.dirname, '..', '..');

/** The cached Debian 12 root tar (scripts/debootstrap-root.sh builds it once). */
export function debianRootTar(profile: 'install' | 'image' = 'install'): string {
  return execFileSync('bash', [join(REPO, 'scripts', 'debootstrap-root.sh'), profile], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** A fresh root from the cached tar, in /tmp (too big for the run's /dev/shm directory). */
export function freshRoot(run: TestRun): string {
  const dir = join('/tmp', `moor-nspawn-${run.id}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  run.defer(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('tar', ['-C', dir, '-xf', debianRootTar()]);
  return dir;
}

/** Run a shell command in the root without booting it (host network: apt reaches the mirror). */
export function inRoot(root: string, script: string, timeoutMs = 300_000): Promise<ExecResult> {
  return exec(
    [
      'systemd-nspawn',
      '--quiet',
      '--pipe',
      '--register=no',
      '--keep-unit',
      '-D',
      root,
      '-E',
      'DEBIAN_FRONTEND=noninteractive',
      '/bin/sh',
      '-c',
      script,
    ],
    { timeoutMs },
  );
}

export class BootedRoot {
  readonly root: string;
  private readonly child: ChildProcess;
  private exited = false;
  /** The container's PID 1 as the host sees it. */
  private init = 0;

  private constructor(root: string, child: ChildProcess) {
    this.root = root;
    this.child = child;
    child.once('exit', () => {
      this.exited = true;
    });
  }

  /** Boot `root` with systemd inside network namespace `netns`; resolves once systemd is up. */
  static async boot(run: TestRun, root: string, netns: string): Promise<BootedRoot> {
    const child = spawn(
      'systemd-nspawn',
      [
        '--boot',
        '--register=no',
        '--keep-unit',
        '--console=pipe',
        // Keep the root's resolv.conf (the test points it at the local dnsmasq).
        '--resolv-conf=off',
        `--machine=moor-${run.id}`,
        `--network-namespace-path=/run/netns/${netns}`,
        // nspawn grants CAP_NET_ADMIN only with --private-network; a host needs it (the unit's
        // bounding set keeps it for the agent).
        '--capability=CAP_NET_ADMIN',
        '--bind=/dev/net/tun',
        '-D',
        root,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // The console (stdout) and nspawn's own messages, last 64 kB: the boot's story on a timeout.
    let output = '';
    const keep = (d: string) => {
      output = (output + d).slice(-65_536);
    };
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
    const booted = new BootedRoot(root, child);
    run.defer(() => booted.halt());
    // nspawn forks an outer child that clones the container's init and then exits. Only a
    // process that is PID 1 in its own PID namespace is the init: entering the short-lived
    // outer child would fail every command after it is gone.
    booted.init = await waitFor(
      'the container init',
      () => {
        if (booted.exited) throw new Error(`systemd-nspawn --boot exited: ${output.trim()}`);
        return descendants(child.pid ?? 0).find(isNamespaceInit);
      },
      { timeoutMs: 60_000 },
    );
    let state = '';
    try {
      await waitFor(
        'systemd in the container to finish booting',
        async () => {
          if (booted.exited) throw new Error(`systemd-nspawn --boot exited: ${output.trim()}`);
          const r = await booted.sh('systemctl is-system-running');
          state = `${r.stdout.trim()} ${r.stderr.trim()}`.trim();
          return ['running', 'degraded'].includes(r.stdout.trim()) ? true : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 500 },
      );
    } catch (err) {
      const jobs = await booted.sh('systemctl list-jobs --no-pager; systemctl --failed --no-pager', 20_000);
      throw new Error(
        `${err instanceof Error ? err.message : String(err)} (last state: ${state || 'none'})\n` +
          `--- jobs ---\n${jobs.stdout}${jobs.stderr}\n--- console ---\n${output.slice(-8000)}`,
      );
    }
    return booted;
  }

  /** A shell command inside the booted container (all its namespaces). */
  sh(script: string, timeoutMs = 120_000): Promise<ExecResult> {
    return exec(['nsenter', '-t', String(this.init), '-a', '/bin/sh', '-c', script], {
      timeoutMs,
      allowFail: true,
    });
  }

  /** `systemctl show` properties of a unit. */
  async show(unit: string, props: string[]): Promise<Record<string, string>> {
    const r = await this.sh(`systemctl show ${unit} -p ${props.join(',')}`);
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  async halt(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM'); // nspawn asks the container's systemd to power off
    const deadline = Date.now() + 30_000;
    while (!this.exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

function readChildren(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  if (!pid || !existsSync(path)) return [];
  try {
    return readFileSync(path, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // exited between the check and the read
  }
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const kid of readChildren(pid)) out.push(kid, ...descendants(kid));
  return out;
}

/** True for a process that is PID 1 of a PID namespace nested in ours (NSpid: <host pid> … 1). */
function isNamespaceInit(pid: number): boolean {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('NSpid:'));
    const ids = line?.split(/\s+/).slice(1).filter(Boolean) ?? [];
    return ids.length > 1 && ids[ids.length - 1] === '1';
  } catch {
    return false;
  }
}
