import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedRunner } from '../fake-runner.ts';
import { FakeNetlink } from '../netlink/fake.ts';
import { removeWireGuardInterface } from '../wireguard/remove.ts';
import { processCommandLine, processExists, stopProcess } from './processes.ts';
import { SystemctlUnits } from './systemd.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SystemctlUnits', () => {
  it('without systemd as init there is no unit, and systemctl is never run', async () => {
    const runner = new ScriptedRunner();
    expect(await new SystemctlUnits(runner, () => false).hasUnit('moor-agent.service')).toBe(false);
    expect(runner.calls).toEqual([]);
  });

  it('asks systemctl for the unit, enables and disables it', async () => {
    const runner = new ScriptedRunner()
      .expect(['systemctl', 'cat', 'moor-agent.service'], { code: 1 })
      .expect(['systemctl', 'cat', 'moor-agent.service'], { stdout: '[Unit]\n' })
      .expect(['systemctl', 'enable', '--now', 'moor-agent.service'])
      .expect(['systemctl', 'disable', '--now', 'moor-agent.service'], { code: 5 });
    const units = new SystemctlUnits(runner, () => true);
    expect(await units.hasUnit('moor-agent.service')).toBe(false);
    expect(await units.hasUnit('moor-agent.service')).toBe(true);
    await units.enableNow('moor-agent.service');
    await units.disableNow('moor-agent.service'); // not loaded: fine
    runner.assertDone();
  });
});

describe('processes', () => {
  it('reads a command line and stops a process with SIGTERM', async () => {
    const script = 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)';
    const child = spawn(process.execPath, ['-e', script, 'moor-test-marker'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const pid = child.pid ?? 0;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Until the child has run its own code, /proc may still show the parent's command line.
    await new Promise((resolve) => child.stdout?.once('data', resolve));
    expect(processCommandLine(pid)).toContain('moor-test-marker');
    await stopProcess(pid, 5_000);
    await exited;
    expect(processExists(pid)).toBe(false);
    expect(processCommandLine(pid)).toBeUndefined();
  });

  it('stopping a process that is gone is not an error', async () => {
    await expect(stopProcess(2 ** 22 + 12345, 100)).resolves.toBeUndefined();
  });
});

describe('removeWireGuardInterface', () => {
  it('deletes the link and a stale control socket', async () => {
    const socketDir = mkdtempSync(join(tmpdir(), 'moor-wg-sock-'));
    dirs.push(socketDir);
    writeFileSync(join(socketDir, 'moor0.sock'), '');
    const netlink = new FakeNetlink();
    netlink.addLink('moor0', { kind: 'wireguard' });
    netlink.addLink('eth0');
    await removeWireGuardInterface(netlink, 'moor0', socketDir);
    expect(netlink.mutatingCalls()).toEqual([{ op: 'linkDelete', args: ['moor0'] }]);
    expect((await netlink.linkList()).map((l) => l.name)).toEqual(['eth0']);
    expect(existsSync(join(socketDir, 'moor0.sock'))).toBe(false);
  });

  it('a second removal changes nothing', async () => {
    const socketDir = mkdtempSync(join(tmpdir(), 'moor-wg-sock-'));
    dirs.push(socketDir);
    const netlink = new FakeNetlink();
    await removeWireGuardInterface(netlink, 'moor0', socketDir);
    expect(netlink.mutatingCalls()).toEqual([]);
  });
});
