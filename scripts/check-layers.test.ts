// The layer check on fixture trees (scripts/fixtures/layers/<case>/src): each rule must fire on
// the file that breaks it, and only there.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLayers, TEMPORARY_ALLOWLIST, type Violation } from './check-layers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => join(here, 'fixtures', 'layers', name);
const brief = (vs: Violation[]) => vs.map((v) => `${v.rule} ${v.file}`).sort();

describe('layer check', () => {
  it('passes a tree whose imports point down, with child_process only in dataplane', () => {
    expect(checkLayers(fixture('clean'), [])).toEqual([]);
  });

  it('catches upward imports: exports → agent, a daemon → another daemon, a type import upward', () => {
    const violations = checkLayers(fixture('upward'), []);
    expect(brief(violations)).toEqual([
      'upward-import src/agent/agent.ts',
      'upward-import src/exports/view.ts',
      'upward-import src/observability/metrics.ts',
    ]);
    expect(violations.find((v) => v.file === 'src/agent/agent.ts')?.message).toContain(
      'a sibling (src/gateway)',
    );
    expect(violations.find((v) => v.file === 'src/exports/view.ts')?.message).toContain(
      'imports src/agent/state.ts, a higher layer',
    );
  });

  it('catches an import cycle closed by a type import', () => {
    const violations = checkLayers(fixture('cycle'), []);
    expect(violations).toEqual([
      {
        rule: 'import-cycle',
        file: 'src/broker/lighthouse.ts',
        message: 'import cycle: src/broker/lighthouse.ts → src/broker/lighthouseRead.ts',
      },
    ]);
  });

  it('catches child_process, command lines and /etc writes outside src/dataplane', () => {
    expect(brief(checkLayers(fixture('spawn'), []))).toEqual([
      'child-process src/health/pinger.ts',
      'command-line src/gateway/vip.ts',
      'host-write src/dns/dropin.ts',
    ]);
  });

  it('names a folder that has no layer', () => {
    expect(brief(checkLayers(fixture('unknown'), []))).toEqual(['unknown-layer src/wat/thing.ts']);
  });

  it('the allowlist silences exactly its entries, and a stale entry is itself a violation', () => {
    const allow = [{ file: 'src/health/pinger.ts', rule: 'child-process' as const, why: 'core moves it' }];
    expect(brief(checkLayers(fixture('spawn'), allow))).toEqual([
      'command-line src/gateway/vip.ts',
      'host-write src/dns/dropin.ts',
    ]);
    const stale = checkLayers(fixture('clean'), allow);
    expect(stale).toHaveLength(1);
    expect(stale[0]?.message).toContain('stale allowlist entry (core moves it)');
  });

  it('the repository itself passes, with only the temporary allowlist', () => {
    expect(checkLayers(join(here, '..'))).toEqual([]);
    for (const entry of TEMPORARY_ALLOWLIST) expect(entry.why).toMatch(/^(core|ha):/);
  });

  it('`node scripts/check-layers.ts` exits non-zero on a violation (what CI runs via npm run lint)', () => {
    const script = join(here, 'check-layers.ts');
    const run = (root: string) => {
      try {
        execFileSync(process.execPath, [script, root], { stdio: 'pipe' });
        return 0;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    expect(run(fixture('upward'))).toBe(1);
    expect(run(fixture('clean'))).toBe(0);
  });
});

describe("biome's noImportCycles as configured in biome.json", () => {
  it('fails on the cycle fixture, whose cycle is closed by a type-only import', () => {
    const repo = join(here, '..');
    const config = JSON.parse(readFileSync(join(repo, 'biome.json'), 'utf8')) as {
      linter: { rules: { suspicious: { noImportCycles: unknown } } };
    };
    const rule = config.linter.rules.suspicious.noImportCycles;
    expect(rule).toEqual({ level: 'error', options: { ignoreTypes: false } });
    const dir = mkdtempSync(join(tmpdir(), 'moor-cycle-'));
    try {
      cpSync(fixture('cycle'), dir, { recursive: true });
      writeFileSync(
        join(dir, 'biome.json'),
        JSON.stringify({ linter: { rules: { recommended: false, suspicious: { noImportCycles: rule } } } }),
      );
      const biome = join(repo, 'node_modules/@biomejs/cli-linux-x64/biome');
      let output = '';
      let status = 0;
      try {
        execFileSync(biome, ['lint', '.'], { cwd: dir, stdio: 'pipe' });
      } catch (err) {
        const e = err as { status: number; stdout: Buffer; stderr: Buffer };
        status = e.status;
        output = `${e.stdout}${e.stderr}`;
      }
      expect(status).not.toBe(0);
      expect(output).toContain('lint/suspicious/noImportCycles');
      expect(output).toContain('lighthouseRead.ts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
