import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareStateDir } from './stateDir.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'moor-statedir-'));
  dirs.push(d);
  return d;
}

describe('prepareStateDir', () => {
  it('creates missing directories 0700 and reports the topmost one it created', () => {
    const base = scratch();
    const r = prepareStateDir(join(base, 'a', 'b', 'c'), { probe: true });
    expect(r.created).toBe(join(base, 'a'));
    expect(statSync(r.dir).mode & 0o777).toBe(0o700);
    expect(prepareStateDir(r.dir, { probe: true }).created).toBeUndefined();
  });

  it.each([
    ['/proc/moor-state', /on proc, a kernel pseudo file system/],
    ['/proc/self/moor/state', /on proc/],
    ['/sys/moor', /on sysfs/],
  ])('refuses %s at once (Node loops forever on mkdir -p there)', (path, message) => {
    expect(() => prepareStateDir(path, { probe: true })).toThrow(message);
  });

  it('refuses a file, a path through a file, and a foreign non-empty directory', () => {
    const base = scratch();
    const file = join(base, 'file');
    writeFileSync(file, 'x');
    expect(() => prepareStateDir(file)).toThrow(/it is a file, not a directory/);
    expect(() => prepareStateDir(join(file, 'sub'))).toThrow(/is a file, not a directory/);
    const shared = join(base, 'shared');
    mkdirSync(shared);
    writeFileSync(join(shared, 'something'), 'x');
    chmodSync(shared, 0o755);
    expect(() => prepareStateDir(shared, { probe: true })).toThrow(/not a moor state directory/);
    expect(statSync(shared).mode & 0o777).toBe(0o755); // left as it was
    chmodSync(shared, 0o700); // private: what an earlier join leaves
    expect(prepareStateDir(shared, { probe: true }).created).toBeUndefined();
    expect(existsSync(join(shared, 'something'))).toBe(true);
  });
});
