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

  it('stop disables the unit and leaves a stale PID file of another program alone', async () => {
    const dir = stateDir();
    // PID 1 is never an agent; a PID file pointing at it must not get it signalled.
    writeFileSync(join(dir, 'agent.pid'), '1\n');
    const units = new FakeUnits(true);
    await stopAgent(dir, 100, units);
    expect(units.calls).toEqual([`has ${AGENT_UNIT}`, `disable ${AGENT_UNIT}`]);
  });
});
