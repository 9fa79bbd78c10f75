import { describe, expect, test } from 'vitest';
import { ScriptedRunner } from '../fake-runner.ts';
import { createWireGuardDriver, detectWireGuardDriver, wireGuardDriverNames } from './drivers.ts';
import { KernelWireGuard } from './kernel.ts';
import { UserspaceWireGuard } from './userspace.ts';

const WG_VERSION = ['wg', '--version'];
const PROBE_ADD = ['ip', 'link', 'add', /moorprobe[0-9a-f]{6}/, 'type', 'wireguard'];

describe('detectWireGuardDriver', () => {
  test('prefers the kernel and removes its probe link', async () => {
    const r = new ScriptedRunner()
      .expect(WG_VERSION, { stdout: 'wireguard-tools v1.0.20210914' })
      .expect(PROBE_ADD)
      .expect(['ip', 'link', 'del', /moorprobe[0-9a-f]{6}/]);
    expect(await detectWireGuardDriver(r)).toMatchObject({ driver: 'kernel' });
    r.assertDone();
    expect(r.calls[1]?.argv[3]).toBe(r.calls[2]?.argv[3]);
  });

  test('falls back to wireguard-go when the kernel has no wireguard link type', async () => {
    const r = new ScriptedRunner()
      .expect(WG_VERSION)
      .expect(PROBE_ADD, { code: 2, stderr: 'Error: Unknown device type.\n' })
      .expect(['wireguard-go', '--version'], { stdout: 'wireguard-go v0.0.20220316' });
    const d = await detectWireGuardDriver(r);
    expect(d).toEqual({ driver: 'wireguard-go', reason: expect.stringContaining('Unknown device type') });
    r.assertDone();
  });

  test('fails with both reasons when there is neither', async () => {
    const r = new ScriptedRunner()
      .expect(WG_VERSION)
      .expect(PROBE_ADD, { code: 2, stderr: 'Error: Unknown device type.' })
      .expect(['wireguard-go', '--version'], { code: 127, stderr: 'not found' });
    await expect(detectWireGuardDriver(r)).rejects.toMatchObject({
      code: 'system',
      message: expect.stringMatching(
        /kernel \(exit 2: Error: Unknown device type.\), wireguard-go \(exit 127: not found\)/,
      ),
      hint: expect.stringMatching(/modprobe wireguard/),
    });
  });

  test('needs the wg tool in any case', async () => {
    const r = new ScriptedRunner().expect(WG_VERSION, { code: 127, stderr: 'wg: not found' });
    await expect(detectWireGuardDriver(r)).rejects.toThrow(/wireguard-tools/);
  });
});

describe('driver registry', () => {
  test('creates drivers by name', () => {
    const runner = new ScriptedRunner();
    expect(createWireGuardDriver('kernel', { runner })).toBeInstanceOf(KernelWireGuard);
    const spawner = {
      spawn: () => {
        throw new Error('not in this test');
      },
    };
    expect(createWireGuardDriver('wireguard-go', { runner, spawner })).toBeInstanceOf(UserspaceWireGuard);
  });

  test('an unknown name lists the valid ones', () => {
    expect(wireGuardDriverNames()).toEqual(expect.arrayContaining(['kernel', 'wireguard-go']));
    expect(() => createWireGuardDriver('wg-magic', { runner: new ScriptedRunner() })).toThrow(
      expect.objectContaining({
        code: 'invalid-argument',
        hint: expect.stringContaining('kernel, wireguard-go'),
      }),
    );
  });
});
