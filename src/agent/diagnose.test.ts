// The bundle writer against scripted programs (tar is real): what a program prints is scrubbed
// even when it leaks a key, a failing or missing program is reported rather than fatal, and the
// bundle is 0600.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CommandResult, type CommandRunner, ExecRunner, type RunOptions } from '../dataplane/index.ts';
import { MoorError } from '../errors.ts';
import { writeSupportBundle } from './diagnose.ts';
import { type HostState, savePrivateKey, saveState } from './state.ts';

const root = mkdtempSync(join(tmpdir(), 'moor-diagnose-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PRIVATE_KEY = 'SFj0m2ZzBmhm5yY1rDZqDeDBrlRJnRIdi8TUNZ+kTE0=';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbHVzdGVyLXZtMSJ9.c2lnbmF0dXJlc2lnbmF0dXJl';
const PSK = 'bm90LXJlYWxseS1hLXBzay1idXQtbG9uZy1lbm91Z2g=';

class ScriptedPrograms implements CommandRunner {
  readonly seen: string[][] = [];
  readonly #tar = new ExecRunner();
  async run(argv: string[], opts?: RunOptions): Promise<CommandResult> {
    this.seen.push(argv);
    if (argv[0] === 'tar') return this.#tar.run(argv, opts);
    const line = argv.join(' ');
    if (line.includes('wg show moor0'))
      // as if WG_HIDE_KEYS were ignored: the writer must still not let the key through
      return {
        code: 0,
        stderr: '',
        stdout: `interface: moor0\n  private key: ${PRIVATE_KEY}\n  listening port: 4500\n`,
      };
    if (argv[0] === 'nft') return { code: 1, stdout: '', stderr: 'Operation not permitted\n' };
    if (argv[0] === 'resolvectl')
      throw new MoorError('system', 'command failed (exit -1): resolvectl status: ENOENT');
    if (line.includes('show connections')) return { code: 0, stderr: '', stdout: '[{"clusterId":"east"}]\n' };
    return { code: 0, stderr: '', stdout: `output of ${line} with Bearer ${TOKEN}\n` };
  }
}

describe('writeSupportBundle', () => {
  it('scrubs program output, reports what failed, and writes a private tar.gz', async () => {
    const stateDir = join(root, 'state');
    saveState(stateDir, {
      version: 1,
      clusterId: 'vm1',
      broker: { server: 'https://10.99.0.2:6443', namespace: 'ns', caPem: '', insecure: false, token: TOKEN },
      psk: PSK,
      serviceDiscovery: false,
      customDomains: [],
      addresses: ['100.70.0.1'],
      addressClaims: [],
      privateIp: '10.99.3.2',
      publicIp: '',
      natEnabled: false,
      port: 4500,
      interfaceName: 'moor0',
      hostname: 'vm1',
      credential: { serviceAccount: 'cluster-vm1', roleBinding: 'rb', tokenSecret: 'secret' },
    } satisfies HostState);
    savePrivateKey(stateDir, PRIVATE_KEY);
    writeFileSync(join(stateDir, 'wireguard-go.log'), `${'x\n'.repeat(50)}last line psk ${PSK}\n`);
    const programs = new ScriptedPrograms();
    const output = join(root, 'out', 'b.tar.gz');
    const result = await writeSupportBundle(
      { stateDir, output, logLines: 10, moorArgv: ['/usr/bin/moor'], version: '0.1.0' },
      programs,
    );
    expect(statSync(output).mode & 0o777).toBe(0o600);
    const unpacked = join(root, 'unpacked');
    execFileSync('mkdir', ['-p', unpacked]);
    execFileSync('tar', ['-xzf', output, '-C', unpacked]);
    const read = (f: string) => readFileSync(join(unpacked, 'b', f), 'utf8');
    const all = result.files.map(read).join('\n');
    for (const secret of [PRIVATE_KEY, TOKEN, PSK, Buffer.from(PRIVATE_KEY, 'base64').toString('hex')])
      expect(all).not.toContain(secret);
    expect(read('system/wg-show.txt')).toContain('private key: [REDACTED wireguard private key]');
    expect(read('moor/connections.json')).toBe('[{"clusterId":"east"}]\n'); // JSON stays JSON
    expect(read('moor/status.txt')).toMatch(/^# \/usr\/bin\/moor status --state-dir \S+\n/);
    expect(read('logs/wireguard-go.log')).toMatch(
      /^… \(41 earlier lines left out\)\n(x\n){9}last line psk \[REDACTED clusterset psk\]\n$/,
    );
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^system\/nft-ruleset\.txt: # exit 1 # stderr: Operation not permitted/),
        expect.stringMatching(/^system\/resolvectl-status\.txt: # failed: .*ENOENT/),
      ]),
    );
    expect(read('README.txt')).toMatch(/Could not be collected:\n(- .*\n)*- system\/nft-ruleset\.txt/);
    expect(readdirSync(join(root, 'out'))).toEqual(['b.tar.gz']); // the work directory is gone
    expect(programs.seen.some((a) => a.join(' ') === 'env WG_HIDE_KEYS=always wg show moor0')).toBe(true);
    expect(programs.seen.some((a) => a.includes('dump'))).toBe(false);
  });
});
