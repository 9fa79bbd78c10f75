// Turns dist/moor.cjs into one executable, dist/moor: Node 24's single executable application
// (the Node binary this project runs on, with the bundle injected as a blob by postject). The
// native part of sd_notify (koffi's koffi.node) cannot live inside the blob: it is copied beside
// the binary as dist/koffi.node, and packages install it to /usr/lib/moor/ (see
// src/observability/native.ts for the lookup).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const dist = 'dist';
const out = join(dist, 'moor');
const blob = join(dist, 'moor.blob');
const config = join(dist, 'sea-config.json');

statSync(join(dist, 'moor.cjs')); // npm run build first
mkdirSync(dist, { recursive: true });
writeFileSync(
  config,
  JSON.stringify({
    main: join(dist, 'moor.cjs'),
    output: blob,
    disableExperimentalSEAWarning: true,
    // V8's code cache for the bundle: start-up compiles nothing (see bench "single executable").
    useCodeCache: true,
  }),
);
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });
rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
// Node's symbols are 18 MB of the 127 MB; packages must ship stripped binaries anyway (lintian).
execFileSync('strip', ['--strip-all', out]);
const require = createRequire(import.meta.url);
const postject = join(require.resolve('postject/package.json'), '..', 'dist', 'cli.js');
execFileSync(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL], {
  // postject warns about every .note section of the stripped ELF it cannot name; harmless.
  stdio: 'ignore',
});
copyFileSync(require.resolve('@koromix/koffi-linux-x64/linux_x64/koffi.node'), join(dist, 'koffi.node'));
rmSync(blob);
rmSync(config);
const mb = (p: string) => (statSync(p).size / 1e6).toFixed(1);
console.log(
  `built ${out} (${mb(out)} MB) and ${join(dist, 'koffi.node')} (${mb(join(dist, 'koffi.node'))} MB)`,
);
