// Where the test API server binaries are: built by scripts/build-kube-binaries.sh into a cache
// outside the repo, keyed by Kubernetes version.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const K8S_VERSION = process.env.MOOR_K8S_VERSION ?? 'v1.35.4';

export function kubeBinary(name: 'kube-apiserver' | 'kube-controller-manager'): string {
  const cacheRoot =
    process.env.MOOR_TEST_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'moor-test');
  const path = join(cacheRoot, `kubernetes-${K8S_VERSION}`, name);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run scripts/build-kube-binaries.sh (npm test does it first)`);
  }
  return path;
}
