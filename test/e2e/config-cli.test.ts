// The config file through the shipped bundle: `moor config check` and a command reading the
// file. Each bad file gives one `moor:` line naming file:line, the key and what is allowed (plus
// the fix), never a stack trace, and a non-zero exit; flags override the file.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { MOOR_BUNDLE } from '../harness/moor.ts';

const dir = mkdtempSync('/dev/shm/moor-config-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function moor(args: string[], env: Record<string, string> = {}) {
  const clean = { ...process.env };
  delete clean.MOOR_CONFIG;
  delete clean.MOOR_STATE_DIR;
  try {
    const r = await promisify(execFile)(process.execPath, [MOOR_BUNDLE, ...args], {
      env: { ...clean, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Exactly one error line (and its fix line); no stack trace. */
function oneMessage(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines.filter((l) => l.startsWith('moor: '))).toHaveLength(1);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^ {2}fix: /);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0] ?? '';
}

describe('moor config check', () => {
  it('accepts a valid file and the packaged default', async () => {
    const ok = write(
      'ok.yaml',
      'state-dir: /var/lib/moor\nagent:\n  resync: 60\n  dns-forward: [10.0.0.53]\n',
    );
    const r = await moor(['config', 'check', ok]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`${ok}: valid (3 values set)\n`);
    const packaged = await moor([
      'config',
      'check',
      join(import.meta.dirname, '../../packaging/config.yaml'),
    ]);
    expect(packaged.code).toBe(0);
  });

  const bad: [string, string, RegExp][] = [
    [
      'malformed.yaml',
      'agent:\n  resync: 30\n   dns-listen: x\n',
      /malformed\.yaml:\d+:\d+: not valid YAML: /,
    ],
    [
      'unknown.yaml',
      'agent:\n  resync: 30\n  resyncc: 40\n',
      /unknown\.yaml:3: unknown key "agent\.resyncc" \(did you mean "resync"\?\); allowed in agent: resync, /,
    ],
    [
      'type.yaml',
      'join:\n  port: "4500"\n',
      /type\.yaml:2: join\.port: "4500" \(a string\) is not allowed; allowed: a whole number from 1 to 65535$/,
    ],
  ];
  for (const [name, text, pattern] of bad) {
    it(`${name}: one clear message and a non-zero exit`, async () => {
      const path = write(name, text);
      const r = await moor(['config', 'check', path]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(oneMessage(r.stderr)).toMatch(
        new RegExp(`^moor: ${path.replace(/[.]/g, '\\.').replace(/\/[^/]+$/, '')}/${pattern.source}`),
      );
    });
  }

  it('a missing file named on the command line, in --config or in $MOOR_CONFIG', async () => {
    const missing = join(dir, 'missing.yaml');
    for (const r of [
      await moor(['config', 'check', missing]),
      await moor(['status', '--config', missing]),
      await moor(['agent'], { MOOR_CONFIG: missing }),
    ]) {
      expect(r.code).not.toBe(0);
      expect(oneMessage(r.stderr)).toBe(`moor: config file ${missing} does not exist`);
      expect(r.stderr).toMatch(
        /\n {2}fix: it was named by (the command line|--config|\$MOOR_CONFIG): create it/,
      );
    }
  });

  it('a bad file stops a command before it does anything', async () => {
    const path = write('agent-bad.yaml', 'agent:\n  wireguard-driver: boringtun\n');
    const r = await moor(['agent', '--state-dir', join(dir, 'never-created')], { MOOR_CONFIG: path });
    expect(r.code).toBe(1);
    expect(oneMessage(r.stderr)).toBe(
      `moor: ${path}:2: agent.wireguard-driver: "boringtun" (a string) is not allowed; allowed: one of kernel, wireguard-go`,
    );
  });
});

describe('flags override the file', () => {
  function stateWithConnection(name: string, clusterId: string): string {
    const state = join(dir, name);
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'status.json'), JSON.stringify({ connections: [{ clusterId }] }));
    return state;
  }

  it('state-dir from the file, unless --state-dir is given', async () => {
    const fromFile = stateWithConnection('state-file', 'from-file');
    const fromFlag = stateWithConnection('state-flag', 'from-flag');
    const config = write('state.yaml', `state-dir: ${fromFile}\n`);
    const viaFile = await moor(['show', 'connections', '-o', 'json', '--config', config]);
    expect(viaFile.code).toBe(0);
    expect(JSON.parse(viaFile.stdout)).toEqual([{ clusterId: 'from-file' }]);
    const viaFlag = await moor([
      'show',
      'connections',
      '-o',
      'json',
      '--config',
      config,
      '--state-dir',
      fromFlag,
    ]);
    expect(JSON.parse(viaFlag.stdout)).toEqual([{ clusterId: 'from-flag' }]);
  });
});
