// What `moor --version` prints: the release, the commit it was built from, and the Node.js
// runtime (inside the single executable that is the Node the binary was built with).

export const VERSION = '0.1.0';

/** Set by scripts/build.ts (esbuild `define`); absent when the sources run directly. */
declare const __MOOR_COMMIT__: string | undefined;

export function buildCommit(): string {
  return typeof __MOOR_COMMIT__ === 'string' ? __MOOR_COMMIT__ : 'source';
}

export function versionLine(): string {
  return `moor ${VERSION} (commit ${buildCommit()}, node ${process.version})\n`;
}
