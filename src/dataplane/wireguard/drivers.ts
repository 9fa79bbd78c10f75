// WireGuard drivers by name (practices §8): a registry that fails loudly with the valid names,
// and detection that prefers the kernel module and falls back to wireguard-go. The detected
// choice is meant to be recorded and shown in status, not re-detected on every reconcile.
import { randomBytes } from 'node:crypto';
import { MoorError } from '../../errors.ts';
import { type CommandRunner, commandFailureOf, type ProcessSpawner } from '../exec.ts';
import { KernelWireGuard } from './kernel.ts';
import type { WireGuardBasic, WireGuardDriverName } from './types.ts';
import { UserspaceWireGuard, type UserspaceWireGuardOptions } from './userspace.ts';

export interface WireGuardDriverContext {
  runner: CommandRunner;
  /** Needed by drivers that run a daemon (wireguard-go). */
  spawner?: ProcessSpawner;
  userspace?: UserspaceWireGuardOptions;
}

export type WireGuardDriverFactory = (ctx: WireGuardDriverContext) => WireGuardBasic;

const drivers = new Map<string, WireGuardDriverFactory>();

export function registerWireGuardDriver(name: string, factory: WireGuardDriverFactory): void {
  drivers.set(name, factory);
}

export function wireGuardDriverNames(): string[] {
  return [...drivers.keys()].sort();
}

export function createWireGuardDriver(name: string, ctx: WireGuardDriverContext): WireGuardBasic {
  const factory = drivers.get(name);
  if (!factory) {
    throw new MoorError('invalid-argument', `unsupported WireGuard driver "${name}"`, {
      hint: `supported drivers: ${wireGuardDriverNames().join(', ')}`,
    });
  }
  return factory(ctx);
}

registerWireGuardDriver('kernel', (ctx) => new KernelWireGuard(ctx.runner));
registerWireGuardDriver('wireguard-go', (ctx) => {
  const spawner = ctx.spawner;
  if (!spawner) {
    throw new MoorError('internal', 'the wireguard-go driver needs a process spawner');
  }
  const both: CommandRunner & ProcessSpawner = {
    run: (argv, opts) => ctx.runner.run(argv, opts),
    spawn: (argv, opts) => spawner.spawn(argv, opts),
  };
  return new UserspaceWireGuard(both, ctx.userspace);
});

export interface DetectedWireGuardDriver {
  driver: WireGuardDriverName;
  reason: string;
}

export interface DetectOptions {
  /** Name of the throw-away link used to probe the kernel (random by default). */
  probeName?: string;
}

/** Probe in the runner's namespace: create and delete a wireguard link (this also autoloads
 * the module, which a /sys/module check would miss), else look for wireguard-go. */
export async function detectWireGuardDriver(
  runner: CommandRunner,
  opts: DetectOptions = {},
): Promise<DetectedWireGuardDriver> {
  const wg = await runner.run(['wg', '--version'], { allowNonZeroExit: true }).catch((err: unknown) => err);
  if (!isOk(wg)) {
    throw new MoorError('system', 'the `wg` tool (wireguard-tools) is not available', {
      hint: 'install wireguard-tools',
      cause: wg,
    });
  }
  const probe = opts.probeName ?? `moorprobe${randomBytes(3).toString('hex')}`;
  const add = await runner
    .run(['ip', 'link', 'add', probe, 'type', 'wireguard'], { allowNonZeroExit: true })
    .catch((err: unknown) => err);
  if (isOk(add)) {
    await runner.run(['ip', 'link', 'del', probe]);
    return { driver: 'kernel', reason: 'the kernel accepts links of type wireguard' };
  }
  const kernelWhy = describe(add);
  const go = await runner
    .run(['wireguard-go', '--version'], { allowNonZeroExit: true })
    .catch((err: unknown) => err);
  if (isOk(go)) {
    return { driver: 'wireguard-go', reason: `no kernel WireGuard (${kernelWhy}); using wireguard-go` };
  }
  throw new MoorError(
    'system',
    `no WireGuard implementation: kernel (${kernelWhy}), wireguard-go (${describe(go)})`,
    {
      hint: 'load the wireguard kernel module (modprobe wireguard) or install wireguard-go',
    },
  );
}

function isOk(r: unknown): boolean {
  return typeof r === 'object' && r !== null && (r as { code?: unknown }).code === 0 && !(r instanceof Error);
}

function describe(r: unknown): string {
  if (r instanceof Error) return (commandFailureOf(r)?.stderr.trim() || r.message).split('\n')[0] ?? '';
  const res = r as { code: number; stderr: string };
  return `exit ${res.code}: ${res.stderr.trim().split('\n')[0] ?? ''}`;
}
