import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SystemdUnits } from '../dataplane/host/systemd.ts';
import { AGENT_UNIT, startAgentService, stopAgent } from './service.ts';

class FakeUnits implements SystemdUnits {
  readonly calls: string[] = [];
  readonly #installed: boolean;
  constructor(installed: boolean) {
    this.#installed = installed;
  }
  async hasUnit(unit: string): Promise<boolean> {
    this.calls.push(`has ${unit}`);
    return this.#installed;
  }
  async enableNow(unit: string): Promise<void> {
    this.calls.push(`enable ${unit}`);
  }
  async disableNow(unit: string): Promise<void> {
    this.calls.push(`disable ${unit}`);
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'moor-service-'));
  dirs.push(dir);
  return dir;
}

describe('agent service', () => {
  it('starts the systemd unit when it is installed', async () => {
    const units = new FakeUnits(true);
    expect(await startAgentService('/var/lib/moor', units)).toBe(`started ${AGENT_UNIT}`);
    expect(units.calls).toEqual([`has ${AGENT_UNIT}`, `enable ${AGENT_UNIT}`]);
  });

  it('without the unit it says how to start the agent by hand', async () => {
    const units = new FakeUnits(false);
    expect(await startAgentService('/srv/moor', units)).toContain('moor agent --state-dir /srv/moor');
    expect(units.calls).toEqual([`has ${AGENT_UNIT}`]);
  });

  it('stop disables the unit and ignores a stale PID file', async () => {
    const dir = stateDir();
    // A PID that names no running agent (here: no process at all) is never signalled.
    writeFileSync(join(dir, 'agent.pid'), `${2 ** 22 + 12345}\n`);
    const units = new FakeUnits(true);
    await stopAgent(dir, 100, units);
    expect(units.calls).toEqual([`has ${AGENT_UNIT}`, `disable ${AGENT_UNIT}`]);
  });

  it('stop ends the agent its PID file names, and waits until it has exited', async () => {
    const dir = stateDir();
    const script = 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)';
    const agent = spawn(process.execPath, ['-e', script, 'moor', 'agent'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise((resolve) => agent.once('exit', (_code, signal) => resolve(signal)));
    await new Promise((resolve) => agent.stdout?.once('data', resolve));
    writeFileSync(join(dir, 'agent.pid'), `${agent.pid}\n`);
    await stopAgent(dir, 5_000, new FakeUnits(false));
    expect(await exited).toBe('SIGTERM');
  });
});
