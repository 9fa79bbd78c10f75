import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { CommandResult, CommandRunner } from '../exec.ts';
import { ScriptedRunner } from '../fake-runner.ts';
import { KernelWireGuard } from './kernel.ts';
import { generateKeyPair, generatePresharedKey } from './keys.ts';
import { WgTool } from './wg-tool.ts';

const peer = generateKeyPair().publicKey;

/** Records argv and the content of any secret file while the command "runs". */
class SecretCapturingRunner implements CommandRunner {
  readonly seen: { argv: string[]; files: Record<string, string> }[] = [];
  async run(argv: string[]): Promise<CommandResult> {
    const files: Record<string, string> = {};
    for (const a of argv) if (a.includes('moor-secret-')) files[a] = readFileSync(a, 'utf8');
    this.seen.push({ argv, files });
    return { stdout: '', stderr: '', code: 0 };
  }
}

describe('WgTool command lines', () => {
  test('private key goes through a 0600 temp file that is removed afterwards', async () => {
    const r = new SecretCapturingRunner();
    const { privateKey } = generateKeyPair();
    await new WgTool(r).setInterface('wg0', { privateKey, listenPort: 4500, fwmark: 0 });
    const [call] = r.seen;
    const path = call?.argv[4] ?? '';
    expect(call?.argv).toEqual([
      'wg',
      'set',
      'wg0',
      'private-key',
      path,
      'listen-port',
      '4500',
      'fwmark',
      'off',
    ]);
    expect(call?.argv.join(' ')).not.toContain(privateKey);
    expect(call?.files[path]).toBe(`${privateKey}\n`);
    expect(existsSync(path)).toBe(false);
  });

  test('setPeer: psk via file, canonical endpoint and prefixes, keepalive off as "off"', async () => {
    const r = new SecretCapturingRunner();
    const psk = generatePresharedKey();
    await new WgTool(r).setPeer('wg0', peer, {
      presharedKey: psk,
      endpoint: '[FD99::2]:4500',
      allowedIPs: ['10.99.2.5/24', 'fd00::1/64'],
      persistentKeepalive: 0,
    });
    const argv = r.seen[0]?.argv ?? [];
    expect(argv).toEqual([
      'wg',
      'set',
      'wg0',
      'peer',
      peer,
      'preshared-key',
      argv[6],
      'endpoint',
      '[fd99::2]:4500',
      'allowed-ips',
      '10.99.2.0/24,fd00::/64',
      'persistent-keepalive',
      'off',
    ]);
    expect(Object.values(r.seen[0]?.files ?? {})).toEqual([`${psk}\n`]);
  });

  test('removing a psk uses /dev/null; empty allowed IPs clear the list', async () => {
    const r = new ScriptedRunner().expect([
      'wg',
      'set',
      'wg0',
      'peer',
      peer,
      'preshared-key',
      '/dev/null',
      'allowed-ips',
      '',
    ]);
    await new WgTool(r).setPeer('wg0', peer, { presharedKey: null, allowedIPs: [] });
    r.assertDone();
  });

  test('bad input never reaches a command', async () => {
    const r = new ScriptedRunner();
    const wg = new WgTool(r);
    await expect(wg.setPeer('wg0', 'nope', {})).rejects.toThrow(/not a WireGuard key/);
    await expect(wg.setPeer('wg0', peer, { endpoint: 'gw.example:4500' })).rejects.toThrow(/no host names/);
    await expect(wg.setPeer('-wg0', peer, {})).rejects.toThrow(/not a valid interface name/);
    await expect(wg.setInterface('wg0', { listenPort: 70000 })).rejects.toThrow(/listen port/);
    expect(r.calls).toEqual([]);
  });

  test('showDump: a missing device is undefined, other failures throw', async () => {
    const r = new ScriptedRunner()
      .expect(['wg', 'show', 'wg0', 'dump'], {
        code: 1,
        stderr: 'Unable to access interface: No such device\n',
      })
      .expect(['wg', 'show', 'wg0', 'dump'], {
        code: 1,
        stderr: 'Unable to access interface: Protocol not supported\n',
      })
      .expect(['wg', 'show', 'wg0', 'dump'], { code: 1, stderr: 'Operation not permitted\n' });
    const wg = new WgTool(r);
    expect(await wg.showDump('wg0')).toBeUndefined();
    expect(await wg.showDump('wg0')).toBeUndefined();
    await expect(wg.showDump('wg0')).rejects.toThrow(/Operation not permitted/);
  });
});

describe('KernelWireGuard links', () => {
  test('create and delete; deleting a missing link is not-found', async () => {
    const r = new ScriptedRunner()
      .expect(['ip', 'link', 'add', 'wg0', 'type', 'wireguard'])
      .expect(['ip', 'link', 'del', 'wg0'])
      .expect(['ip', 'link', 'del', 'wg0'], { code: 1, stderr: 'Cannot find device "wg0"' });
    const k = new KernelWireGuard(r);
    await k.createInterface('wg0');
    await k.deleteInterface('wg0');
    await expect(k.deleteInterface('wg0')).rejects.toMatchObject({ code: 'not-found' });
    r.assertDone();
  });
});
