// Running programs: the one place where the dataplane spawns processes. Everything goes through
// argv (never a shell), output is bounded, every run has a timeout, and failures become MoorErrors
// that name the command, its exit code and its stderr, so a log line is enough to reproduce them.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { MoorError } from '../errors.ts';

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. Secrets go here, never into argv. */
  input?: string;
  timeoutMs?: number;
  /** Return the result of a non-zero exit instead of throwing (for probes). */
  allowNonZeroExit?: boolean;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Short-lived commands. Implementations: ExecRunner (real), ScriptedRunner (test fake). */
export interface CommandRunner {
  run(argv: string[], opts?: RunOptions): Promise<CommandResult>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Own session and no pipes to us, so the child outlives this process; output goes to logFile. */
  detached?: { logFile: string };
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/** A long-lived child such as wireguard-go. Its output is drained continuously (a full pipe would
 * block the child) and only the last few KiB are kept for error messages. */
export interface ManagedProcess {
  readonly pid: number | undefined;
  readonly argv: readonly string[];
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  exitStatus(): ExitStatus | undefined;
  outputTail(): string;
  kill(signal?: NodeJS.Signals): void;
}

/** Long-lived children; kept apart from CommandRunner so fakes of the latter stay one method. */
export interface ProcessSpawner {
  spawn(argv: string[], opts?: SpawnOptions): ManagedProcess;
}

/** Why a command failed; found as `cause` of the MoorError that `run` throws. */
export class CommandFailure extends Error {
  readonly argv: readonly string[];
  /** Exit code, or -1 when the program did not run to completion (not found, timeout, killed). */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  constructor(argv: readonly string[], exitCode: number, stdout: string, stderr: string, message: string) {
    super(message);
    this.name = 'CommandFailure';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

/** The CommandFailure behind an error thrown by a CommandRunner, if that is what it is. */
export function commandFailureOf(err: unknown): CommandFailure | undefined {
  if (err instanceof CommandFailure) return err;
  if (err instanceof MoorError && err.cause instanceof CommandFailure) return err.cause;
  return undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const OUTPUT_TAIL_BYTES = 8 * 1024;

export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Build the MoorError for a failed command (also used by fakes, so errors look the same). */
export function commandError(
  argv: readonly string[],
  exitCode: number,
  stdout: string,
  stderr: string,
  what?: string,
): MoorError {
  const detail = stderr.trim() || stdout.trim();
  const shown = formatArgv(argv);
  const message =
    what !== undefined
      ? `command ${what}: ${shown}`
      : `command failed (exit ${exitCode}): ${shown}${detail ? `: ${firstLines(detail, 5)}` : ''}`;
  const failure = new CommandFailure(argv, exitCode, stdout, stderr, message);
  return new MoorError('system', message, {
    cause: failure,
    hint: hintFor(argv, exitCode, detail),
  });
}

function hintFor(argv: readonly string[], exitCode: number, detail: string): string {
  const program = argv[0] === 'ip' && argv[1] === 'netns' && argv[2] === 'exec' ? argv[4] : argv[0];
  if (exitCode === -1 && /ENOENT|not found/i.test(detail)) {
    return `install "${program}" or add it to PATH`;
  }
  if (/Operation not permitted|Permission denied/i.test(detail)) {
    return 'run as root or with CAP_NET_ADMIN';
  }
  return `run "${formatArgv(argv)}" by hand to see the full error`;
}

function firstLines(text: string, n: number): string {
  const lines = text.split('\n');
  return lines.length <= n ? text : `${lines.slice(0, n).join('\n')}\n…`;
}

export interface ExecRunnerOptions {
  defaultTimeoutMs?: number;
  maxOutputBytes?: number;
}

/** The real runner on node:child_process. LC_ALL=C keeps the messages we match on stable. */
export class ExecRunner implements CommandRunner, ProcessSpawner {
  readonly #timeoutMs: number;
  readonly #maxOutputBytes: number;

  constructor(opts: ExecRunnerOptions = {}) {
    this.#timeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxOutputBytes = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  }

  run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.reject(new MoorError('internal', 'run: empty argv'));
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    return new Promise((resolve, reject) => {
      const child = execFile(
        file,
        args,
        {
          encoding: 'utf8',
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: this.#maxOutputBytes,
          env: { ...process.env, LC_ALL: 'C' },
          windowsHide: true,
        },
        (err, stdout, stderr) => {
          if (!err) return resolve({ stdout, stderr, code: 0 });
          const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
          if (typeof e.code === 'number') {
            if (opts.allowNonZeroExit) return resolve({ stdout, stderr, code: e.code });
            return reject(commandError(argv, e.code, stdout, stderr));
          }
          if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            return reject(commandError(argv, -1, '', '', `output exceeded ${this.#maxOutputBytes} bytes`));
          }
          if (e.killed)
            return reject(commandError(argv, -1, stdout, stderr, `timed out after ${timeoutMs} ms`));
          return reject(commandError(argv, -1, stdout, `${e.code ?? ''} ${e.message}`.trim()));
        },
      );
      // Close stdin even without input so nothing ever waits for a terminal.
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input ?? '');
    });
  }

  spawn(argv: string[], opts: SpawnOptions = {}): ManagedProcess {
    return spawnManaged(argv, opts);
  }
}

function spawnManaged(argv: string[], opts: SpawnOptions): ManagedProcess {
  const [file, ...args] = argv;
  if (file === undefined) throw new MoorError('internal', 'spawn: empty argv');
  const env = { ...process.env, LC_ALL: 'C', ...opts.env };
  let tail = '';
  let child: ChildProcess;
  if (opts.detached) {
    const fd = openSync(opts.detached.logFile, 'a', 0o600);
    child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    child.unref();
    tail = `(output in ${opts.detached.logFile})`;
  } else {
    child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  }
  const keep = (chunk: string): void => {
    tail = (tail + chunk).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('error', (err) => {
      keep(`${err.message}\n`);
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
    outputTail: () => tail,
    kill: (signal = 'SIGTERM') => {
      if (status === undefined) child.kill(signal);
    },
  };
}

export const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Runs everything inside network namespace `ns` via `ip netns exec` (which execs the program,
 * so the pid of a spawned child is the program itself and can be signalled directly). */
export function namespacedRunner(
  ns: string,
  base: CommandRunner & ProcessSpawner,
): CommandRunner & ProcessSpawner;
export function namespacedRunner(ns: string, base: CommandRunner): CommandRunner;
export function namespacedRunner(
  ns: string,
  base: CommandRunner & Partial<ProcessSpawner>,
): CommandRunner & Partial<ProcessSpawner> {
  if (!NETNS_NAME.test(ns)) throw new MoorError('invalid-argument', `invalid network namespace name "${ns}"`);
  const prefix = ['ip', 'netns', 'exec', ns];
  const runner: CommandRunner & Partial<ProcessSpawner> = {
    run: (argv, opts) => base.run([...prefix, ...argv], opts),
  };
  const spawnInBase = base.spawn?.bind(base);
  if (spawnInBase) runner.spawn = (argv, opts) => spawnInBase([...prefix, ...argv], opts);
  return runner;
}
