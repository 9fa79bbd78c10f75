// Bundles each entry point with esbuild. Bundling matters: importing @kubernetes/client-node
// unbundled costs ~135 MB RSS and ~0.5 s at start; bundled it is ~80 MB and ~0.2 s.
// dist/moor.mjs (ESM) is what tests and `npm run smoke` run; dist/moor.cjs is the same code as
// CommonJS, the input of the single executable (scripts/build-sea.ts): Node 24's SEA loader runs
// CommonJS only.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { type BuildOptions, build } from 'esbuild';

const entries = [{ in: 'src/cli/main.ts', out: 'moor' }];

/** The commit the build is made from, printed by `moor --version` ("unknown" outside git). */
function commit(): string {
  if (process.env.MOOR_COMMIT) return process.env.MOOR_COMMIT;
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

const common: BuildOptions = {
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node24',
  metafile: true,
  legalComments: 'linked',
  define: { __MOOR_COMMIT__: JSON.stringify(commit()) },
  logLevel: 'warning',
};

const result = await build({
  ...common,
  outExtension: { '.js': '.mjs' },
  format: 'esm',
  sourcemap: 'linked',
  // Some CommonJS dependencies call require(); give the ESM bundle a real one.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __moorCreateRequire } from 'node:module'; const require = __moorCreateRequire(import.meta.url);",
  },
});
await build({ ...common, outExtension: { '.js': '.cjs' }, format: 'cjs', metafile: false });
await writeFile('dist/meta.json', JSON.stringify(result.metafile));
console.log(`built ${entries.map((e) => `dist/${e.out}.mjs, dist/${e.out}.cjs`).join(', ')}`);
