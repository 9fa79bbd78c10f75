// The harness runs dist/moor.mjs (the esbuild bundle, as shipped). Rebuild it when it is missing
// or older than any source it is built from, so the benchmark never measures stale code.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');
const BUNDLE = join(REPO, 'dist', 'moor.mjs');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export type BundleState = { built: boolean; stale: boolean; error?: string };

/** Build the bundle if missing or stale. A failed rebuild over an existing bundle is reported,
 * not fatal: the benchmark then measures the previous build and says so. */
export function ensureBundle(log: (line: string) => void): BundleState {
  const inputs = Math.max(
    newestMtime(join(REPO, 'src')),
    statSync(join(REPO, 'package-lock.json')).mtimeMs,
    statSync(join(REPO, 'scripts', 'build.ts')).mtimeMs,
  );
  const have = existsSync(BUNDLE) ? statSync(BUNDLE).mtimeMs : 0;
  if (have >= inputs) {
    log('dist/moor.mjs is up to date');
    return { built: false, stale: false };
  }
  log(have === 0 ? 'dist/moor.mjs is missing: building' : 'dist/moor.mjs is stale: rebuilding');
  const r = spawnSync('npx', ['node', 'scripts/build.ts'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) {
    log(r.stdout.trim());
    return { built: true, stale: false };
  }
  const error = (r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(0, 8).join('\n');
  if (!existsSync(BUNDLE)) throw new Error(`building dist/moor.mjs failed:\n${error}`);
  log(`WARNING: rebuilding dist/moor.mjs failed; measuring the previous (stale) bundle\n${error}`);
  return { built: false, stale: true, error };
}
