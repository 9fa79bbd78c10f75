// Assertions on what the moor CLI prints when it refuses something: exactly one "moor:" line
// naming the problem, a "fix:" line, and never a stack frame.
import { expect } from 'vitest';

export function expectOneMessage(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  const errors = lines.filter((l) => l.startsWith('moor:'));
  expect(errors, stderr).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(
    lines.some((l) => l.trim().startsWith('fix:')),
    stderr,
  ).toBe(true);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
}
