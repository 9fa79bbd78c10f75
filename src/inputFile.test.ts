import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MoorError } from './errors.ts';
import { readInputFile } from './inputFile.ts';

const base = mkdtempSync(join(tmpdir(), 'moor-input-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const options = { what: 'test file', maxBytes: 1000, hint: 'give a good file' };

function failure(path: string): MoorError {
  try {
    readInputFile(path, options);
  } catch (err) {
    if (err instanceof MoorError) return err;
    throw err;
  }
  throw new Error('it read the file');
}

describe('readInputFile', () => {
  it('reads a regular file', () => {
    writeFileSync(join(base, 'ok'), 'hello');
    expect(readInputFile(join(base, 'ok'), options).toString()).toBe('hello');
  });

  it('gives one clear error for every bad kind of path', () => {
    mkdirSync(join(base, 'dir'));
    writeFileSync(join(base, 'empty'), '');
    writeFileSync(join(base, 'huge'), '');
    truncateSync(join(base, 'huge'), 10 * 2 ** 30); // sparse: 10 GiB that would never be read
    execFileSync('mkfifo', [join(base, 'fifo')]);
    writeFileSync(join(base, 'file'), 'x');
    const cases: Array<[string, RegExp]> = [
      [join(base, 'missing'), /does not exist/],
      [join(base, 'dir'), /is a directory, not a file/],
      [join(base, 'empty'), /is empty/],
      [join(base, 'huge'), /is larger than 1000 bytes/],
      [join(base, 'fifo'), /is not a regular file/], // and opening it does not wait for a writer
      ['/dev/zero', /is not a regular file/],
      [join(base, 'file', 'below'), /not a directory \(ENOTDIR\)/],
    ];
    for (const [path, message] of cases) {
      const err = failure(path);
      expect(err.message).toMatch(message);
      expect(err.message).toContain(path);
      expect(err.hint).toBeTruthy();
    }
  });
});
