// state.json: what `moor join` writes reads back; every damaged field is named with its file;
// an unreadable state directory is "permission denied", not "not joined".
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type HostState, hasState, loadState, saveState } from './state.ts';

const root = mkdtempSync(join(tmpdir(), 'moor-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.member-token-secret.sig';
/** The shape src/agent/join.ts writes. */
function joinedState(): HostState {
  return {
    version: 1,
    clusterId: 'vm1',
    broker: {
      server: 'https://10.99.0.2:6443',
      namespace: 'submariner-k8s-broker',
      caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      insecure: false,
      token: TOKEN,
    },
    psk: 'psk-string-from-broker-info',
    serviceDiscovery: true,
    customDomains: [],
    addresses: ['100.70.0.1'],
    addressClaims: ['moor-address-100-70-0-1'],
    privateIp: '192.168.77.2',
    privateIpDetected: true,
    publicIp: '',
    natEnabled: false,
    port: 4500,
    interfaceName: 'moor0',
    hostname: 'vm1',
    credential: {
      serviceAccount: 'cluster-vm1',
      roleBinding: 'cluster-vm1',
      tokenSecret: 'cluster-vm1-token',
    },
  };
}

let n = 0;
function dirWith(content: string | object): string {
  const dir = join(root, `s${n++}`);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'state.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

function loadError(dir: string): Error {
  try {
    loadState(dir);
  } catch (err) {
    return err as Error;
  }
  throw new Error('loadState did not fail');
}

describe('state.json', () => {
  it('reads back what join writes, and files from before privateIpDetected existed', () => {
    const dir = join(root, 'saved');
    saveState(dir, joinedState());
    expect(loadState(dir)).toEqual(joinedState());
    const old: Partial<HostState> = joinedState();
    delete old.privateIpDetected;
    expect(loadState(dirWith(old))).toEqual(old);
  });

  it('keeps fields a newer moor may have added', () => {
    expect(loadState(dirWith({ ...joinedState(), futureField: { x: 1 } }))).toMatchObject({
      futureField: { x: 1 },
    });
  });

  const broken: [string, (s: Record<string, unknown>) => void, string][] = [
    [
      'a missing token',
      (s) => delete (s.broker as Record<string, unknown>).token,
      'broker.token: is missing',
    ],
    [
      'an empty token',
      (s) => ((s.broker as Record<string, unknown>).token = ''),
      'broker.token: must not be empty',
    ],
    ['a port as text', (s) => (s.port = '4500'), 'port: Invalid input: expected number, received string'],
    ['a bad address', (s) => (s.addresses = ['100.70.0.300']), 'addresses.0: must be an IPv4 address'],
    ['another version', (s) => (s.version = 2), 'version: must be 1'],
    ['a bad cluster ID', (s) => (s.clusterId = 'VM_1'), 'clusterId: '],
    [
      'a broker that is not a URL',
      (s) => ((s.broker as Record<string, unknown>).server = 'broker:6443'),
      'broker.server: must be a URL like https://broker:6443',
    ],
    [
      'a bad interface name',
      (s) => (s.interfaceName = 'a-very-long-interface'),
      'interfaceName: must be an interface name',
    ],
  ];
  for (const [what, breakIt, field] of broken) {
    it(`${what}: names the file and the field, never the secret`, () => {
      const s = joinedState() as unknown as Record<string, unknown>;
      breakIt(s);
      const dir = dirWith(s);
      const err = loadError(dir);
      expect(err.message).toContain(`${join(dir, 'state.json')} is not a moor state file: ${field}`);
      expect(err.message).not.toContain(TOKEN);
      expect((err as { hint?: string }).hint).toMatch(/moor leave/);
    });
  }

  it('invalid JSON: the parser message (which quotes the file) is not shown', () => {
    const dir = dirWith(`{"broker": {"token": "${TOKEN}"`);
    const err = loadError(dir);
    expect(err.message).toBe(`${join(dir, 'state.json')} is not valid JSON`);
  });

  it('no state: not joined; a directory in place of the file: says so', () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expect(hasState(empty)).toBe(false);
    expect(loadError(empty).message).toMatch(/has not joined a clusterset/);
    const dir = join(root, 'dirfile');
    mkdirSync(join(dir, 'state.json'), { recursive: true });
    expect(loadError(dir).message).toMatch(/state\.json is a directory/);
  });

  it('an unreadable state directory is "permission denied" with the fix, for loadState and hasState', () => {
    const dir = join(root, 'locked');
    saveState(dir, joinedState());
    chmodSync(root, 0o755);
    // Root reads everything, so read as nobody (a 0700 root directory is what a user meets).
    const script = `import { hasState, loadState } from ${JSON.stringify(join(import.meta.dirname, 'state.ts'))};
for (const f of [() => hasState(process.argv[1]), () => loadState(process.argv[1])]) {
  try { f(); console.log('no error'); } catch (e) { console.log(e.message + ' | ' + e.hint); }
}`;
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--input-type=module',
        '-e',
        script,
        dir,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toBe(
        `cannot read the state directory ${dir}: permission denied (EACCES) | run moor as root, or make ${dir} accessible to this user`,
      );
      expect(line).not.toMatch(/not joined/);
    }
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toContain(TOKEN); // untouched
  });
});
