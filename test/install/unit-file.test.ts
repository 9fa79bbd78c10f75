// The shipped unit as systemd reads it: `systemd-analyze verify` prints nothing, and its
// exposure (`systemd-analyze security --offline`) stays "OK" or better (≤ 3.9). ExecStart points
// at /bin/true for the check: verify needs the binary to exist, and this machine has no
// /usr/bin/moor (the package install test verifies the unit in place).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'moor-unit-'));
const unit = join(dir, 'moor-agent.service');
writeFileSync(
  unit,
  readFileSync(join(REPO, 'systemd', 'moor-agent.service'), 'utf8').replace(
    'ExecStart=/usr/bin/moor',
    'ExecStart=/bin/true',
  ),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('systemd/moor-agent.service', () => {
  it('verifies clean', () => {
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('has an exposure of OK or better', () => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], {
      encoding: 'utf8',
    });
    const m = /Overall exposure level for moor-agent\.service: (\d+\.\d+) (\w+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m?.[1])).toBeLessThanOrEqual(3.9);
    expect(['SAFE', 'OK']).toContain(m?.[2]);
  });

  it('keeps the properties the package relies on', () => {
    const text = readFileSync(join(REPO, 'systemd', 'moor-agent.service'), 'utf8');
    for (const line of [
      'Type=notify',
      'KillMode=process',
      'WatchdogSec=30',
      'ConditionPathExists=/var/lib/moor/state.json',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });
});
