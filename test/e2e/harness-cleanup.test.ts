// The harness removes every namespace, link, socket and process of a run in every outcome:
// a failing test, an interrupted run (SIGINT), and a run killed outright (reaped by the next).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exec } from '../harness/exec.ts';
import { waitFor } from '../harness/process.ts';
import { leftovers, reapDeadRuns } from '../harness/run.ts';

const scratch = mkdtempSync(join(tmpdir(), 'moor-cleanup-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const nothingLeft = { namespaces: [], links: [], processes: [], sockets: [] };

function startHold(report: string) {
  const child = spawn(process.execPath, ['test/fixtures/child-run/hold.ts'], {
    env: { ...process.env, MOOR_CHILD_REPORT: report },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('test harness cleanup', () => {
  it('cleans up after a child test run whose test fails', async () => {
    const report = join(scratch, 'failing.id');
    const r = await exec(['npx', 'vitest', 'run', '--config', 'test/fixtures/child-run/vitest.config.ts'], {
      allowFail: true,
      timeoutMs: 120_000,
      env: { ...process.env, MOOR_CHILD_REPORT: report },
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/1 failed/);
    const id = readFileSync(report, 'utf8');
    expect(id).toMatch(/^[0-9a-z]{5}$/);
    expect(leftovers(id)).toEqual(nothingLeft);
  });

  it('cleans up when the run is interrupted with SIGINT', async () => {
    const report = join(scratch, 'sigint.id');
    const hold = startHold(report);
    await waitFor('child topology', () => (hold.output().includes('ready') ? true : undefined), {
      timeoutMs: 60_000,
    });
    const id = readFileSync(report, 'utf8');
    expect(leftovers(id).namespaces.length).toBeGreaterThan(0); // it really built something
    expect(leftovers(id).processes.length).toBeGreaterThan(0);
    hold.child.kill('SIGINT');
    expect(await hold.exited).toBe(130);
    expect(leftovers(id)).toEqual(nothingLeft);
  });

  it('reaps a run whose process was killed outright', async () => {
    const report = join(scratch, 'sigkill.id');
    const hold = startHold(report);
    await waitFor('child topology', () => (hold.output().includes('ready') ? true : undefined), {
      timeoutMs: 60_000,
    });
    const id = readFileSync(report, 'utf8');
    hold.child.kill('SIGKILL');
    await hold.exited;
    expect(leftovers(id).namespaces.length).toBeGreaterThan(0); // SIGKILL left it all behind
    expect(reapDeadRuns()).toContain(id);
    expect(leftovers(id)).toEqual(nothingLeft);
  });
});
