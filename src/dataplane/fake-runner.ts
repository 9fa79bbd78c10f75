// A strict scripted CommandRunner for unit tests: every call must match the next expectation in
// order, anything else throws "unexpected invocation" (like Tailscale's fakeOS), and
// `assertDone()` fails when an expected call never happened (like undici's
// assertNoPendingInterceptors).
import { type CommandResult, type CommandRunner, commandError, formatArgv, type RunOptions } from './exec.ts';

export type ArgMatcher = string | RegExp;

export interface ScriptedReply {
  stdout?: string;
  stderr?: string;
  code?: number;
}

interface Expectation {
  argv: ArgMatcher[];
  reply: ScriptedReply;
}

export interface RecordedRun {
  argv: string[];
  input: string | undefined;
}

export class ScriptedRunner implements CommandRunner {
  readonly calls: RecordedRun[] = [];
  readonly #pending: Expectation[] = [];

  /** Expect `argv` next; reply with `reply` (exit code 0 and empty output by default). */
  expect(argv: ArgMatcher[], reply: ScriptedReply = {}): this {
    this.#pending.push({ argv, reply });
    return this;
  }

  async run(argv: string[], opts: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ argv: [...argv], input: opts.input });
    const next = this.#pending[0];
    if (next === undefined || !matches(next.argv, argv)) {
      const wanted = next ? showMatchers(next.argv) : '(nothing)';
      throw new Error(`ScriptedRunner: unexpected invocation: ${formatArgv(argv)}; expected ${wanted}`);
    }
    this.#pending.shift();
    const result = {
      stdout: next.reply.stdout ?? '',
      stderr: next.reply.stderr ?? '',
      code: next.reply.code ?? 0,
    };
    if (result.code !== 0 && !opts.allowNonZeroExit) {
      throw commandError(argv, result.code, result.stdout, result.stderr);
    }
    return result;
  }

  assertDone(): void {
    if (this.#pending.length > 0) {
      const list = this.#pending.map((e) => showMatchers(e.argv)).join('; ');
      throw new Error(`ScriptedRunner: ${this.#pending.length} expected call(s) never happened: ${list}`);
    }
  }
}

function matches(expected: ArgMatcher[], argv: string[]): boolean {
  if (expected.length !== argv.length) return false;
  return expected.every((m, i) => {
    const actual = argv[i] ?? '';
    return typeof m === 'string' ? m === actual : new RegExp(`^(?:${m.source})$`, m.flags).test(actual);
  });
}

function showMatchers(argv: ArgMatcher[]): string {
  return argv.map((m) => (typeof m === 'string' ? m : `/${m.source}/`)).join(' ');
}
