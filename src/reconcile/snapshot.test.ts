import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSnapshotStore, isObjectLists } from './snapshot.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'moor-snapshot-test-'));
  dirs.push(d);
  return d;
}
const lists = isObjectLists('clusters', 'endpoints');

describe('FileSnapshotStore', () => {
  it('writes 0600 atomically, only when the content changes, and reads it back', () => {
    const d = dir();
    const logs: string[] = [];
    const store = new FileSnapshotStore(d, (l) => logs.push(l));
    const data = { clusters: [{ metadata: { name: 'east' } }], endpoints: [] };
    store.save('members', data, new Date('2026-12-01T08:00:00Z'));
    const path = join(d, 'snapshot-members.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const mtime = statSync(path).mtimeMs;
    store.save('members', structuredClone(data), new Date('2026-12-01T09:00:00Z'));
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(readFileSync(path, 'utf8')).toContain('"savedAt":"2026-12-01T08:00:00.000Z"');
    const again = new FileSnapshotStore(d, (l) => logs.push(l)).load('members', lists);
    expect(again).toEqual({ savedAt: '2026-12-01T08:00:00.000Z', data });
    expect(logs).toEqual([]);
  });

  it('ignores a missing file quietly and a broken or foreign one with a reason', () => {
    const d = dir();
    const logs: string[] = [];
    const store = new FileSnapshotStore(d, (l) => logs.push(l));
    expect(store.load('members', lists)).toBeUndefined();
    expect(logs).toEqual([]);
    for (const text of ['{"format":1,"savedAt":"x","data":{"clusters":"no"}}', 'not json', '{"format":2}']) {
      writeFileSync(join(d, 'snapshot-members.json'), text);
      expect(store.load('members', lists)).toBeUndefined();
    }
    expect(logs).toHaveLength(3);
    expect(logs[0]).toMatch(
      /ignoring the saved broker snapshot .*snapshot-members.json.*rewritten after the next broker list/,
    );
  });
});
