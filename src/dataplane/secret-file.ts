// Handing a secret to a program as a file path. `wg` reads keys with fopen(path), and node's
// child stdio is a socketpair, which /dev/stdin cannot open (ENXIO) — so secrets go into a 0600
// file inside a fresh 0700 directory, preferably on tmpfs (/dev/shm: never written to disk),
// which is removed as soon as the command has finished, whatever happened.
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function secretBaseDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

/** Run `fn` with the paths of files holding `secrets` (in order); the files are gone afterwards. */
export async function withSecretFiles<T>(secrets: string[], fn: (paths: string[]) => Promise<T>): Promise<T> {
  if (secrets.length === 0) return fn([]);
  const dir = await mkdtemp(join(secretBaseDir(), 'moor-secret-'));
  try {
    const paths: string[] = [];
    for (const [i, secret] of secrets.entries()) {
      const path = join(dir, `${i}.key`);
      await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      paths.push(path);
    }
    return await fn(paths);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Atomic 0600 write (temp file, then rename): a reader never sees half a file, a crash leaves
 * the old one. */
export function writeSecretFile(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600); // mode is masked by umask on create
  renameSync(tmp, path);
}
