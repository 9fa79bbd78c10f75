// The config file: each kind of bad file gives one message naming file:line, the key and what
// is allowed; flags override file values, the file overrides built-in defaults.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { intOption, listOption, parseCommand, stringOption } from './args.ts';
import { checkConfigText, didYouMean, loadConfig } from './config-file.ts';
import { AGENT_SPEC } from './specs/agent.ts';
import { JOIN_SPEC } from './specs/join.ts';
import { STATUS_SPEC } from './specs/status.ts';

const dir = mkdtempSync(join(tmpdir(), 'moor-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const savedEnv = { MOOR_CONFIG: process.env.MOOR_CONFIG, MOOR_STATE_DIR: process.env.MOOR_STATE_DIR };
afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

let n = 0;
function file(text: string): string {
  const path = join(dir, `config-${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function problems(text: string): string[] {
  const r = checkConfigText('/etc/moor/config.yaml', text);
  if (!('problems' in r)) throw new Error('expected problems');
  return r.problems;
}

function loadError(path: string | undefined): MoorError {
  try {
    loadConfig(path);
  } catch (err) {
    if (err instanceof MoorError) return err;
    throw err;
  }
  throw new Error('loadConfig did not fail');
}

describe('config file problems: one message each, naming file:line, key and what is allowed', () => {
  it('malformed YAML', () => {
    const p = problems('agent:\n  resync: 30\n  dns-forward: [10.0.0.53\nstate-dir: /x\n');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^\/etc\/moor\/config\.yaml:\d+:\d+: not valid YAML: /);
  });

  it('an unknown key, with a did-you-mean and the allowed keys', () => {
    const p = problems('state-dir: /var/lib/moor\nagent:\n  resync: 30\n  metrics-adress: 127.0.0.1:9000\n');
    expect(p).toEqual([
      '/etc/moor/config.yaml:4: unknown key "agent.metrics-adress" (did you mean "metrics-address"?); allowed in agent: resync, wireguard-driver, metrics-address, dns-listen, dns-forward',
    ]);
    expect(problems('stat-dir: /x\n')).toEqual([
      '/etc/moor/config.yaml:1: unknown key "stat-dir" (did you mean "state-dir"?); allowed at the top level: state-dir, join, leave, agent, gateway, controller, node-agent, egress-gateway, diagnose',
    ]);
    expect(problems('colour: blue\n')[0]).not.toMatch(/did you mean/);
  });

  it('a key in the wrong place, or one that only a flag can give', () => {
    expect(problems('resync: 30\n')).toEqual([
      '/etc/moor/config.yaml:1: unknown top-level key "resync": it belongs in a command section (agent:, gateway:, controller:, node-agent:, egress-gateway:)',
    ]);
    expect(problems('agent:\n  state-dir: /x\n')[0]).toMatch(
      /:2: agent\.state-dir: "state-dir" is a top-level key .*move it out of agent:/,
    );
    expect(problems('join:\n  clusterid: vm1\n')[0]).toMatch(
      /:2: join\.clusterid: "clusterid" cannot be set in the config file, only as the flag --clusterid/,
    );
  });

  it('a wrong type or value says what is allowed', () => {
    expect(problems('agent:\n  resync: thirty\n')).toEqual([
      '/etc/moor/config.yaml:2: agent.resync: "thirty" (a string) is not allowed; allowed: a whole number from 1 to 3600',
    ]);
    expect(problems('join:\n  port: 70000\n')[0]).toBe(
      '/etc/moor/config.yaml:2: join.port: 70000 (a number) is not allowed; allowed: a whole number from 1 to 65535',
    );
    expect(problems('\n\nagent:\n  wireguard-driver: boringtun\n')[0]).toBe(
      '/etc/moor/config.yaml:4: agent.wireguard-driver: "boringtun" (a string) is not allowed; allowed: one of kernel, wireguard-go',
    );
    expect(problems('agent:\n  dns-forward: 10.0.0.53\n')[0]).toMatch(
      /:2: agent\.dns-forward: "10\.0\.0\.53" \(a string\) is not allowed; allowed: a list of: an IPv4 address/,
    );
    expect(problems('agent:\n  dns-forward: [10.0.0.53, 5]\n')[0]).toMatch(
      /:2: agent\.dns-forward\.1: 5 \(a number\) is not allowed; allowed: an IPv4 address with an optional :PORT/,
    );
    expect(problems('join:\n  pool:\n')[0]).toMatch(
      /:2: join\.pool: no value given; allowed: an IPv4 CIDR like 10\.42\.0\.0\/16$/,
    );
    expect(problems('- a\n- b\n')[0]).toMatch(/:1: \(top level\): the file must be a mapping/);
    expect(problems('agent: 5\n')[0]).toMatch(/:1: agent: section agent must be a mapping/);
  });

  it('addresses, CIDRs and listen addresses are checked as their flags are', () => {
    expect(problems('agent:\n  metrics-address: localhost\n')).toEqual([
      '/etc/moor/config.yaml:2: agent.metrics-address: "localhost" (a string) is not allowed; allowed: HOST:PORT like 127.0.0.1:9476, or "off"',
    ]);
    expect(
      checkConfigText('c', 'agent:\n  metrics-address: "off"\n  dns-listen: 127.0.0.1:5353\n'),
    ).toHaveProperty('data');
    expect(problems('join:\n  pool: 100.70.0.0/33\n')[0]).toMatch(
      /:2: join\.pool: .*allowed: an IPv4 CIDR like 10\.42\.0\.0\/16$/,
    );
    expect(problems('agent:\n  dns-forward:\n    - 10.0.0.53\n    - dns.example\n')[0]).toMatch(
      /:4: agent\.dns-forward\.1: "dns\.example" \(a string\) is not allowed; allowed: an IPv4 address with an optional :PORT/,
    );
    expect(problems('gateway:\n  cluster-cidr: [10.42.0.0/16, nope]\n')[0]).toMatch(
      /:2: gateway\.cluster-cidr\.1: "nope"/,
    );
  });

  it('an empty file or one with only comments sets nothing', () => {
    expect(checkConfigText('c.yaml', '')).toEqual({ data: {} });
    expect(checkConfigText('c.yaml', '# nothing\n')).toEqual({ data: {} });
  });

  it('a missing file is an error only when it was named', () => {
    expect(loadConfig(undefined)).toMatchObject({ found: false, data: {} }); // /etc/moor/config.yaml absent here
    const err = loadError(join(dir, 'nope.yaml'));
    expect(err.message).toBe(`config file ${join(dir, 'nope.yaml')} does not exist`);
    expect(err.hint).toMatch(/^it was named by --config: create it/);
    expect(err.exitCode).not.toBe(0);
    process.env.MOOR_CONFIG = join(dir, 'nope.yaml');
    expect(loadError(undefined).hint).toMatch(/^it was named by \$MOOR_CONFIG/);
    expect(loadError(dir).message).toMatch(/is a directory/);
    expect(loadError('/dev/zero').message).toMatch(/is not a regular file/);
    // --config '' runs without a file, whatever $MOOR_CONFIG says.
    expect(loadConfig('')).toMatchObject({ found: false, data: {} });
  });

  it('a bad file fails the command with the file:line message and the check command as the fix', () => {
    const path = file('agent:\n  resync: 0\n');
    const err = loadError(path);
    expect(err.message).toBe(
      `${path}:2: agent.resync: 0 (a number) is not allowed; allowed: a whole number from 1 to 3600`,
    );
    expect(err.hint).toContain(`moor config check ${path}`);
    expect(() => parseCommand(AGENT_SPEC, ['--config', path])).toThrow(/agent\.resync/);
    // --help still works, so the user can read what is allowed.
    expect(parseCommand(AGENT_SPEC, ['--config', path, '--help']).values.help).toBe(true);
  });

  it('did-you-mean only for near misses', () => {
    expect(didYouMean('prot', ['port', 'pool'])).toBe(' (did you mean "port"?)');
    expect(didYouMean('xyz', ['port', 'pool'])).toBe('');
  });
});

describe('precedence: flag, then environment, then file, then built-in default', () => {
  const path = file(
    'state-dir: /srv/moor-from-file\njoin:\n  port: 4600\n  interface: wg-file\nagent:\n  resync: 90\n  dns-forward: [10.0.0.53, 10.0.0.54]\n',
  );

  it('file values apply when no flag is given', () => {
    const p = parseCommand(JOIN_SPEC, ['--config', path, 'b.subm']);
    expect(intOption(p, 'port')).toBe(4600);
    expect(stringOption(p, 'interface')).toBe('wg-file');
    expect(stringOption(p, 'state-dir')).toBe('/srv/moor-from-file');
    expect(stringOption(p, 'pool')).toBe('100.70.0.0/16'); // built-in default
    expect(p.sources).toMatchObject({ port: 'config', interface: 'config', pool: 'default' });
    const a = parseCommand(AGENT_SPEC, ['--config', path]);
    expect(intOption(a, 'resync')).toBe(90);
    expect(listOption(a, 'dns-forward')).toEqual(['10.0.0.53', '10.0.0.54']);
  });

  it('flags override the file', () => {
    const p = parseCommand(JOIN_SPEC, [
      '--config',
      path,
      'b.subm',
      '--port',
      '4700',
      '--state-dir',
      '/tmp/s',
    ]);
    expect(intOption(p, 'port')).toBe(4700);
    expect(stringOption(p, 'state-dir')).toBe('/tmp/s');
    expect(p.sources).toMatchObject({ port: 'flag', 'state-dir': 'flag', interface: 'config' });
    const a = parseCommand(AGENT_SPEC, ['--config', path, '--dns-forward', '10.1.1.1', '--resync', '5']);
    expect(listOption(a, 'dns-forward')).toEqual(['10.1.1.1']);
    expect(intOption(a, 'resync')).toBe(5);
  });

  it('$MOOR_CONFIG names the file; $MOOR_STATE_DIR beats the file, a flag beats both', () => {
    process.env.MOOR_CONFIG = path;
    expect(stringOption(parseCommand(STATUS_SPEC, []), 'state-dir')).toBe('/srv/moor-from-file');
    process.env.MOOR_STATE_DIR = '/run/env-state';
    expect(stringOption(parseCommand(STATUS_SPEC, []), 'state-dir')).toBe('/run/env-state');
    expect(stringOption(parseCommand(STATUS_SPEC, ['--state-dir', '/x']), 'state-dir')).toBe('/x');
  });
});
