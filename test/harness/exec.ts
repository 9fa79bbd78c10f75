// Command execution for the test harness: argv only (no shell), output captured, and errors that
// name the command, its exit code and stderr. `ns` runs the command inside a network namespace.
import { spawn, spawnSync } from 'node:child_process';

export interface ExecOptions {
  ns?: string;
  input?: string;
  timeoutMs?: number;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  readonly result: ExecResult;
  readonly argv: string[];
  constructor(argv: string[], result: ExecResult) {
    super(
      `command failed (exit ${result.code}): ${argv.join(' ')}\n${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = 'CommandError';
    this.argv = argv;
    this.result = result;
  }
}

export function inNamespace(ns: string | undefined, argv: string[]): string[] {
  return ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
}

export function exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const full = inNamespace(options.ns, argv);
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = full;
    if (!cmd) return reject(new Error('exec: empty argv'));
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${full.join(' ')}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && !options.allowFail) reject(new CommandError(full, result));
      else resolve(result);
    });
    child.stdin.on('error', () => undefined); // a command that exits without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Synchronous variant, for cleanup paths that run inside signal and exit handlers. */
export function execSync(argv: string[], options: Omit<ExecOptions, 'allowFail'> = {}): ExecResult {
  const full = inNamespace(options.ns, argv);
  const [cmd, ...args] = full;
  if (!cmd) throw new Error('execSync: empty argv');
  const r = spawnSync(cmd, args, {
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 15_000,
  });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}
