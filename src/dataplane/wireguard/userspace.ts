// wireguard-go: a supervised long-lived child per interface, configured with the same `wg` tool.
// Its control socket lives in /var/run/wireguard/<name>.sock, a directory that every network
// namespace shares, so interface names must be unique on the machine, not just in a namespace:
// we refuse to start when a live socket of that name exists rather than let two devices fight.
// A child that dies takes its link with it; the next reconcile sees the device missing and
// creates it again (level-triggered repair instead of a restart loop here).
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MoorError } from '../../errors.ts';
import {
  type CommandRunner,
  commandFailureOf,
  type ExitStatus,
  type ManagedProcess,
  type ProcessSpawner,
} from '../exec.ts';
import { assertInterfaceName } from '../names.ts';
import { WgConfiguredDriver } from './wg-configured.ts';

export interface UserspaceWireGuardOptions {
  binary?: string;
  socketDir?: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** wireguard-go's LOG_LEVEL: "error" keeps its output (and our tail buffer) quiet. */
  logLevel?: 'silent' | 'error' | 'verbose';
}

export interface UserspaceChildStatus {
  name: string;
  pid: number | undefined;
  exit: ExitStatus | undefined;
  outputTail: string;
}

const POLL_MS = 20;

export class UserspaceWireGuard extends WgConfiguredDriver {
  readonly driver = 'wireguard-go' as const;
  readonly #runner: CommandRunner & ProcessSpawner;
  readonly #binary: string;
  readonly #socketDir: string;
  readonly #startTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #logLevel: string;
  readonly #children = new Map<string, ManagedProcess>();

  constructor(runner: CommandRunner & ProcessSpawner, opts: UserspaceWireGuardOptions = {}) {
    super(runner);
    this.#runner = runner;
    this.#binary = opts.binary ?? 'wireguard-go';
    this.#socketDir = opts.socketDir ?? '/var/run/wireguard';
    this.#startTimeoutMs = opts.startTimeoutMs ?? 5_000;
    this.#stopTimeoutMs = opts.stopTimeoutMs ?? 3_000;
    this.#logLevel = opts.logLevel ?? 'error';
  }

  socketPath(name: string): string {
    return join(this.#socketDir, `${name}.sock`);
  }

  async createInterface(name: string): Promise<void> {
    assertInterfaceName(name);
    const old = this.#children.get(name);
    if (old) await this.#stop(name, old, false);
    if (await this.#linkExists(name)) {
      throw new MoorError('system', `interface ${name} already exists`, {
        hint: 'delete it first or reuse it; moor adopts an existing device instead of creating one',
      });
    }
    if (await socketIsLive(this.socketPath(name))) {
      throw new MoorError('system', `wireguard-go socket ${this.socketPath(name)} is in use`, {
        hint: 'another wireguard-go (possibly in another network namespace) uses this name; names must be unique on the machine',
      });
    }
    const child = this.#runner.spawn([this.#binary, '-f', name], {
      env: { LOG_LEVEL: this.#logLevel, WG_PROCESS_FOREGROUND: '1' },
    });
    this.#children.set(name, child);
    try {
      await this.#waitReady(name, child);
    } catch (err) {
      await this.#stop(name, child, false);
      throw err;
    }
  }

  async #waitReady(name: string, child: ManagedProcess): Promise<void> {
    const deadline = Date.now() + this.#startTimeoutMs;
    while (Date.now() < deadline) {
      const exit = child.exitStatus();
      if (exit) {
        throw new MoorError(
          'system',
          `wireguard-go for ${name} exited during start (${describeExit(exit)})`,
          {
            hint:
              child.outputTail().trim().split('\n').slice(-3).join(' | ') ||
              'run `wireguard-go -f <name>` by hand',
          },
        );
      }
      // wireguard-go creates the TUN link before the socket, so the socket means both are there;
      // the link check confirms it is in the namespace we run in.
      if (existsSync(this.socketPath(name)) && (await this.#linkExists(name))) return;
      await sleep(POLL_MS);
    }
    throw new MoorError(
      'system',
      `wireguard-go for ${name} did not become ready in ${this.#startTimeoutMs} ms`,
      {
        hint: 'check that /dev/net/tun exists and that we run as root',
      },
    );
  }

  async deleteInterface(name: string): Promise<void> {
    assertInterfaceName(name);
    const child = this.#children.get(name);
    try {
      // wireguard-go exits by itself when its TUN link goes away; this also works for a device
      // started by an earlier agent process that we merely adopted.
      await this.#runner.run(['ip', 'link', 'del', name]);
    } catch (err) {
      const missing = /Cannot find device|does not exist/.test(commandFailureOf(err)?.stderr ?? '');
      if (!missing) throw err;
      if (!child)
        throw new MoorError('not-found', `WireGuard interface ${name} does not exist`, { cause: err });
    }
    if (child) await this.#stop(name, child, true);
  }

  /** Stop every child we started (their links go with them). For shutdown and test cleanup. */
  async close(): Promise<void> {
    await Promise.all([...this.#children].map(([name, child]) => this.#stop(name, child, false)));
  }

  children(): UserspaceChildStatus[] {
    return [...this.#children].map(([name, c]) => ({
      name,
      pid: c.pid,
      exit: c.exitStatus(),
      outputTail: c.outputTail(),
    }));
  }

  /** `expectExit`: the link is already gone, so give the child a moment to notice by itself. */
  async #stop(name: string, child: ManagedProcess, expectExit: boolean): Promise<void> {
    if (!child.exitStatus()) {
      if (!expectExit || !(await exitsWithin(child, this.#stopTimeoutMs / 3))) {
        child.kill('SIGTERM');
        if (!(await exitsWithin(child, this.#stopTimeoutMs))) {
          child.kill('SIGKILL');
          await child.exited;
        }
      }
    }
    if (this.#children.get(name) === child) this.#children.delete(name);
  }

  async #linkExists(name: string): Promise<boolean> {
    const r = await this.#runner.run(['ip', '-j', 'link', 'show', 'dev', name], { allowNonZeroExit: true });
    return r.code === 0;
  }
}

async function exitsWithin(child: ManagedProcess, ms: number): Promise<boolean> {
  if (child.exitStatus()) return true;
  const cancel = new AbortController();
  const timer = sleep(ms, false, { signal: cancel.signal }).catch(() => false);
  const exited = await Promise.race([child.exited.then(() => true), timer]);
  cancel.abort();
  return exited;
}

function describeExit(e: ExitStatus): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}

/** True when something accepts connections on the UNIX socket (a stale file is not live). */
export function socketIsLive(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const done = (live: boolean): void => {
      sock.destroy();
      resolve(live);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(1_000, () => done(false));
  });
}
