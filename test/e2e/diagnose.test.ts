// `moor diagnose` on a really joined host: a broker (real API server), a Submariner-style gateway
// (the oracle) and the host's agent with wireguard-go. The bundle holds what support needs, and
// not one of the host's secrets, in any encoding, even with WG_HIDE_KEYS=never in the environment
// and a log file that quotes the token.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOracleEnv, NAT_PUBLIC_IP } from '../../bench/lib/oracle-env.ts';
import { wireguardPsk } from '../../src/broker/psk.ts';
import type { BrokerFixture } from '../harness/broker.ts';
import { MOOR_BUNDLE, moor, startMoor } from '../harness/moor.ts';
import { waitFor } from '../harness/process.ts';
import type { TestRun } from '../harness/run.ts';
import type { Topology } from '../harness/topology.ts';

let run: TestRun;
let topo: Topology;
let broker: BrokerFixture;
let stateDir: string;
let wgName: string;
let unpacked: string;
let bundleFiles: string[];

const VM_ADDRESS = '100.70.0.10';

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((n) => {
    const path = join(dir, n);
    return statSync(path).isDirectory() ? filesUnder(path, `${prefix}${n}/`) : [`${prefix}${n}`];
  });
}

beforeAll(async () => {
  // The environment of host-join.test.ts: broker API server, cluster "east" behind the oracle
  // gateway, vm1 behind a NAT router.
  const env = await buildOracleEnv();
  ({ run, topo, broker } = env);
  const { east, brokerInfo } = env;
  stateDir = join(run.dir, 'vm1-state');
  wgName = run.ifName('w');
  const vm1 = topo.host('vm1');
  const joined = await moor(vm1, [
    'join',
    brokerInfo,
    '--clusterid',
    'vm1',
    '--address',
    VM_ADDRESS,
    '--public-ip',
    NAT_PUBLIC_IP,
    '--interface',
    wgName,
    '--state-dir',
    stateDir,
    '--no-start',
  ]);
  if (joined.code !== 0) throw new Error(`moor join failed:\n${joined.stderr}`);
  startMoor(vm1, 'agent', ['agent', '--state-dir', stateDir, '--resync', '5', '--dns-listen', 'off']);
  await waitFor('vm1 Endpoint seen by east', async () =>
    (await east.syncPeers(run)).includes('vm1') ? true : undefined,
  );
  await waitFor(
    'the agent reports east connected',
    async () => {
      const r = await moor(vm1, ['show', 'connections', '-o', 'json', '--state-dir', stateDir]);
      if (r.code !== 0) return undefined;
      const conns = JSON.parse(r.stdout) as Array<{ clusterId: string; status: string }>;
      return conns.some((c) => c.clusterId === 'east' && c.status === 'connected') ? true : undefined;
    },
    { timeoutMs: 90_000 },
  );
  // A careless log line, as a future bug might write one: the bundle must scrub it too.
  const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as {
    broker: { token: string };
  };
  appendFileSync(
    join(stateDir, 'agent-debug.log'),
    `GET /apis with Authorization: Bearer ${state.broker.token}\npsk=${broker.psk}\n`,
  );

  const out = join(run.dir, 'bundle', 'support.tar.gz');
  const r = await vm1.exec(
    [process.execPath, MOOR_BUNDLE, 'diagnose', '--state-dir', stateDir, '-o', out, '--log-lines', '200'],
    { allowFail: true, env: { ...process.env, WG_HIDE_KEYS: 'never' } },
  );
  if (r.code !== 0) throw new Error(`moor diagnose failed:\n${r.stderr}`);
  expect(r.stdout).toMatch(
    new RegExp(`^wrote ${out} \\(\\d+ files, [1-9]\\d* secret occurrences redacted\\)\\n$`),
  );
  expect(statSync(out).mode & 0o777).toBe(0o600);
  unpacked = join(run.dir, 'unpacked');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', out, '-C', unpacked]);
  bundleFiles = filesUnder(unpacked);
}, 240_000);

afterAll(async () => {
  await run?.cleanup();
});

const read = (name: string) => readFileSync(join(unpacked, 'support', name), 'utf8');

describe('moor diagnose', () => {
  it('contains no secret of the host, in any encoding', () => {
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as {
      broker: { token: string; caPem: string };
      psk: string;
    };
    const privateKey = readFileSync(join(stateDir, 'wireguard.key'), 'utf8').trim();
    const wgPsk = wireguardPsk(state.psk);
    const b64hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
    const secrets: Record<string, string> = {
      'member token': state.broker.token,
      'admin token (broker-info)': broker.adminToken,
      'clusterset PSK': state.psk,
      'WireGuard PSK': wgPsk,
      'WireGuard PSK (hex)': b64hex(wgPsk),
      'private key': privateKey,
      'private key (hex)': b64hex(privateKey),
      'member token signature': state.broker.token.split('.')[2] ?? '',
    };
    for (const line of state.broker.caPem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')))
      secrets[`CA line ${line.slice(0, 8)}`] = line;
    expect(state.psk).toBe(broker.psk);
    expect(Object.keys(secrets).length).toBeGreaterThan(8);
    for (const [what, value] of Object.entries(secrets)) {
      expect(value.length, what).toBeGreaterThan(20);
      // grep -r -F: exit 1 means no match in any file of the unpacked bundle.
      let found = '';
      try {
        found = execFileSync('grep', ['-r', '-l', '-F', '--', value, unpacked], { encoding: 'utf8' });
      } catch (err) {
        expect((err as { status: number }).status, what).toBe(1);
      }
      expect(found, `${what} found in`).toBe('');
    }
  });

  it('holds status, connections, wg show without keys, routes, rules, nft, resolver, versions and logs', () => {
    for (const f of [
      'README.txt',
      'versions.txt',
      'moor/status.txt',
      'moor/status.json',
      'moor/connections.json',
      'system/wg-show.txt',
      'system/ip-route.txt',
      'system/ip-rule.txt',
      'system/ip-addr.txt',
      'system/nft-ruleset.txt',
      'system/resolver.txt',
      'state/state.json',
      'state/files.txt',
      'logs/wireguard-go.log', // the agent's wireguard-go output (empty while all is well)
      'logs/agent-debug.log',
    ])
      expect(bundleFiles).toContain(`support/${f}`);
    const connections = JSON.parse(read('moor/connections.json')) as Array<{
      clusterId: string;
      status: string;
    }>;
    expect(connections.find((c) => c.clusterId === 'east')?.status).toBe('connected');
    expect(read('moor/status.txt')).toMatch(/cluster ID: +vm1/);
    const wg = read('system/wg-show.txt');
    expect(wg).toContain(`interface: ${wgName}`);
    expect(wg).toContain('private key: (hidden)');
    expect(wg).toContain('preshared key: (hidden)');
    expect(wg).toMatch(/endpoint: 10\.99\.1\.2:\d+/);
    expect(wg).toMatch(/latest handshake: /);
    expect(read('system/ip-route.txt')).toMatch(new RegExp(`10\\.10\\.0\\.0/16 dev ${wgName}`));
    expect(read('system/ip-rule.txt')).toMatch(/from all lookup main/);
    expect(read('versions.txt')).toMatch(/^moor \d+\.\d+\.\d+\n\nnode 24\./);
    expect(read('versions.txt')).toMatch(/wireguard-go v?\d/);
    const state = JSON.parse(read('state/state.json')) as Record<string, unknown>;
    expect(state).toMatchObject({ clusterId: 'vm1', addresses: [VM_ADDRESS], interfaceName: wgName });
    expect(state.psk).toMatch(/^\[REDACTED, \d+ characters\]$/);
    expect(read('logs/agent-debug.log')).toBe(
      'GET /apis with Authorization: Bearer [REDACTED broker token]\npsk=[REDACTED clusterset psk]\n',
    );
  });

  it('left the state directory as it was', () => {
    expect(readdirSync(stateDir)).toContain('state.json');
    expect(readFileSync(join(stateDir, 'state.json'), 'utf8')).toMatch(/"token": "ey/);
  });
});
