import { describe, expect, test } from 'vitest';
import { MoorError } from '../errors.ts';
import { commandFailureOf, ExecRunner, namespacedRunner } from './exec.ts';
import { ScriptedRunner } from './fake-runner.ts';

describe('ExecRunner', () => {
  const runner = new ExecRunner();

  test('runs argv without a shell and passes stdin', async () => {
    expect(await runner.run(['cat'], { input: 'a $HOME; b' })).toEqual({
      stdout: 'a $HOME; b',
      stderr: '',
      code: 0,
    });
    expect((await runner.run(['echo', '$(id)'])).stdout).toBe('$(id)\n');
  });

  test('a non-zero exit becomes a system MoorError naming command, exit code and stderr', async () => {
    const err = await runner.run(['ls', '/nonexistent-moor-path']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MoorError);
    const m = err as MoorError;
    expect(m.code).toBe('system');
    expect(m.message).toMatch(/^command failed \(exit 2\): ls \/nonexistent-moor-path: .*No such file/);
    expect(m.hint).toBeTruthy();
    expect(commandFailureOf(err)).toMatchObject({ exitCode: 2, argv: ['ls', '/nonexistent-moor-path'] });
  });

  test('allowNonZeroExit returns the code instead', async () => {
    expect((await runner.run(['false'], { allowNonZeroExit: true })).code).toBe(1);
  });

  test('a missing program says what to install', async () => {
    const err = (await runner.run(['moor-no-such-program']).catch((e: unknown) => e)) as MoorError;
    expect(err.message).toMatch(/moor-no-such-program/);
    expect(err.hint).toMatch(/install "moor-no-such-program"/);
  });

  test('timeouts kill the child', async () => {
    const started = Date.now();
    const err = (await runner.run(['sleep', '5'], { timeoutMs: 100 }).catch((e: unknown) => e)) as MoorError;
    expect(err.message).toMatch(/timed out after 100 ms: sleep 5/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('output is bounded', async () => {
    const small = new ExecRunner({ maxOutputBytes: 1000 });
    await expect(small.run(['head', '-c', '5000', '/dev/zero'])).rejects.toThrow(
      /output exceeded 1000 bytes/,
    );
  });

  test('spawn keeps a tail of the output and reports the exit', async () => {
    const p = runner.spawn(['sh', '-c', 'echo hello; sleep 10']);
    await new Promise((r) => setTimeout(r, 100));
    expect(p.exitStatus()).toBeUndefined();
    p.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(p.outputTail()).toBe('hello\n');
  });
});

describe('namespacedRunner', () => {
  test('prefixes ip netns exec and forwards options', async () => {
    const base = new ScriptedRunner().expect(['ip', 'netns', 'exec', 'moordp-abc123', 'wg', 'show']);
    await namespacedRunner('moordp-abc123', base).run(['wg', 'show'], { input: 'x' });
    expect(base.calls).toEqual([
      { argv: ['ip', 'netns', 'exec', 'moordp-abc123', 'wg', 'show'], input: 'x' },
    ]);
    base.assertDone();
  });

  test('has spawn only when the base has it', () => {
    expect('spawn' in namespacedRunner('n1', new ScriptedRunner())).toBe(false);
    expect(typeof (namespacedRunner('n1', new ExecRunner()) as { spawn?: unknown }).spawn).toBe('function');
  });

  test('refuses namespace names that could be options', () => {
    expect(() => namespacedRunner('-all', new ScriptedRunner())).toThrow(/invalid network namespace/);
  });
});

describe('ScriptedRunner', () => {
  test('is strict about order and content, and about calls that never came', async () => {
    const r = new ScriptedRunner().expect(['a', /b+/]).expect(['c'], { code: 3, stderr: 'boom' });
    await expect(r.run(['c'])).rejects.toThrow(/unexpected invocation: c; expected a \/b\+\//);
    await r.run(['a', 'bbb']);
    expect(() => r.assertDone()).toThrow(/1 expected call/);
    await expect(r.run(['c'])).rejects.toThrow(/exit 3.*boom/);
    r.assertDone();
  });
});
