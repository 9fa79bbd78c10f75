// Running the moor binary (the esbuild bundle, as shipped) inside a host of the topology.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecResult } from './exec.ts';
import type { RunningProcess } from './process.ts';
import type { Host } from './topology.ts';

export const MOOR_BUNDLE = join(import.meta.dirname, '..', '..', 'dist', 'moor.mjs');

function bundle(): string {
  if (!existsSync(MOOR_BUNDLE))
    throw new Error(`${MOOR_BUNDLE} is missing: run \`npm run build\` (npm test does)`);
  return MOOR_BUNDLE;
}

export function moor(
  host: Host,
  args: string[],
  options: { stateDir?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  return host.exec([process.execPath, bundle(), ...args], {
    allowFail: true,
    timeoutMs: options.timeoutMs ?? 60_000,
    env: { ...process.env, ...(options.stateDir ? { MOOR_STATE_DIR: options.stateDir } : {}) },
  });
}

export function startMoor(host: Host, name: string, args: string[], stateDir?: string): RunningProcess {
  return host.spawn(
    name,
    [process.execPath, bundle(), ...args],
    stateDir ? { env: { MOOR_STATE_DIR: stateDir } } : {},
  );
}
