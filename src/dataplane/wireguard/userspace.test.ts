import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ExitStatus, ManagedProcess } from '../exec.ts';
import { ScriptedRunner } from '../fake-runner.ts';
import { UserspaceWireGuard } from './userspace.ts';

function exitedProcess(argv: string[], output: string): ManagedProcess {
  const status: ExitStatus = { code: 1, signal: null };
  return {
    pid: 4242,
    argv,
    exited: Promise.resolve(status),
    exitStatus: () => status,
    outputTail: () => output,
    kill: () => {},
  };
}

describe('UserspaceWireGuard', () => {
  test('a wireguard-go that dies during start is reported with its last output', async () => {
    const runner = new ScriptedRunner().expect(['ip', '-j', 'link', 'show', 'dev', 'wgx0'], {
      code: 1,
      stderr: 'Device "wgx0" does not exist.',
    });
    const spawned: string[][] = [];
    const both = Object.assign(runner, {
      spawn: (argv: string[]) => {
        spawned.push(argv);
        return exitedProcess(
          argv,
          'ERROR: (wgx0) 2024/11/23 Failed to create TUN device: no such file or directory\n',
        );
      },
    });
    const wg = new UserspaceWireGuard(both, { socketDir: mkdtempSync(join(tmpdir(), 'moor-wg-test-')) });
    await expect(wg.createInterface('wgx0')).rejects.toMatchObject({
      code: 'system',
      message: expect.stringMatching(/wireguard-go for wgx0 exited during start \(exit code 1\)/),
      hint: expect.stringMatching(/Failed to create TUN device/),
    });
    expect(spawned).toEqual([['wireguard-go', '-f', 'wgx0']]);
    expect(wg.children()).toEqual([]);
    runner.assertDone();
  });

  test('refuses to create over an existing link', async () => {
    const runner = new ScriptedRunner().expect(['ip', '-j', 'link', 'show', 'dev', 'wgx0'], { stdout: '[]' });
    const both = Object.assign(runner, {
      spawn: (): ManagedProcess => {
        throw new Error('must not spawn');
      },
    });
    await expect(new UserspaceWireGuard(both).createInterface('wgx0')).rejects.toThrow(/already exists/);
  });
});
