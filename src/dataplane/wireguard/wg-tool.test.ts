import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
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

describe('WgTool.setPeers', () => {
  const keys = (n: number): string[] => Array.from({ length: n }, () => generateKeyPair().publicKey);

  test('one run for the batch; one 0600 file per distinct preshared key, all removed afterwards', async () => {
    const r = new SecretCapturingRunner();
    const [p1, p2, p3, p4] = keys(4);
    const [k1, k2] = [generatePresharedKey(), generatePresharedKey()];
    const modes: number[] = [];
    const capture: CommandRunner = {
      async run(argv) {
        for (const a of argv) if (a.includes('moor-secret-')) modes.push(statSync(a).mode & 0o777);
        for (const a of argv) if (a.includes('moor-secret-')) modes.push(statSync(dirname(a)).mode & 0o777);
        return r.run(argv);
      },
    };
    await new WgTool(capture).setPeers('wg0', [
      { publicKey: p1 ?? '', settings: { presharedKey: k1, allowedIPs: ['10.1.0.0/16'] } },
      { publicKey: p2 ?? '', settings: { presharedKey: k2, endpoint: '10.99.0.2:4500' } },
      { publicKey: p3 ?? '', settings: { presharedKey: k1, persistentKeepalive: 25 } },
      { publicKey: p4 ?? '', settings: { presharedKey: null } },
    ]);
    expect(r.seen).toHaveLength(1);
    const argv = r.seen[0]?.argv ?? [];
    const [f1, f2] = [argv[6] ?? '', argv[12] ?? ''];
    expect(argv).toEqual([
      'wg',
      'set',
      'wg0',
      ...['peer', p1, 'preshared-key', f1, 'allowed-ips', '10.1.0.0/16'],
      ...['peer', p2, 'preshared-key', f2, 'endpoint', '10.99.0.2:4500'],
      ...['peer', p3, 'preshared-key', f1, 'persistent-keepalive', '25'],
      ...['peer', p4, 'preshared-key', '/dev/null'],
    ]);
    expect(f1).not.toBe(f2);
    expect(r.seen[0]?.files).toEqual({ [f1]: `${k1}\n`, [f2]: `${k2}\n` });
    expect(argv.join(' ')).not.toContain(k1);
    expect(new Set(modes)).toEqual(new Set([0o600, 0o700]));
    expect(existsSync(f1) || existsSync(f2) || existsSync(dirname(f1))).toBe(false);
  });

  test('250 peers: runs of 100, 100 and 50 in order', async () => {
    const r = new SecretCapturingRunner();
    const peers = keys(250).map((publicKey, i) => ({
      publicKey,
      settings: { allowedIPs: [`10.${i >> 8}.${i & 255}.0/24`] },
    }));
    await new WgTool(r).setPeers('wg0', peers);
    const runs = r.seen.map((s) => s.argv.filter((a) => a === 'peer').length);
    expect(runs).toEqual([100, 100, 50]);
    const sent = r.seen.flatMap((s) => s.argv.filter((_a, i) => s.argv[i - 1] === 'peer'));
    expect(sent).toEqual(peers.map((p) => p.publicKey));
    expect(r.seen.every((s) => s.argv.slice(0, 3).join(' ') === 'wg set wg0')).toBe(true);
  });

  test('long allowed-IP lists split a run before argv gets large', async () => {
    const r = new SecretCapturingRunner();
    // 2,000 prefixes ≈ 30 KB per peer: the 256 KiB budget allows 8 of them per run.
    const prefixes = Array.from({ length: 2000 }, (_v, i) => `10.${i >> 8}.${i & 255}.0/24`);
    await new WgTool(r).setPeers(
      'wg0',
      keys(20).map((publicKey) => ({ publicKey, settings: { allowedIPs: prefixes } })),
    );
    const runs = r.seen.map((s) => s.argv.filter((a) => a === 'peer').length);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(20);
    expect(runs.length).toBeGreaterThan(1);
    for (const s of r.seen) expect(s.argv.join(' ').length).toBeLessThan(256 * 1024);
  });

  test('nothing to set runs nothing; bad input anywhere in the batch runs nothing', async () => {
    const r = new ScriptedRunner();
    const wg = new WgTool(r);
    await wg.setPeers('wg0', []);
    const good = keys(150).map((publicKey) => ({ publicKey, settings: {} }));
    await expect(
      wg.setPeers('wg0', [...good, { publicKey: peer, settings: { endpoint: 'gw.example:4500' } }]),
    ).rejects.toThrow(/no host names/);
    expect(r.calls).toEqual([]);
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
