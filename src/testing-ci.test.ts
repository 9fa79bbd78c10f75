import { afterEach, describe, expect, it } from 'vitest';
import { skipOutsideCi } from './testing-ci.ts';

describe('skipOutsideCi', () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it('skips a test whose requirement is missing on a developer machine', () => {
    delete process.env.CI;
    expect(skipOutsideCi('/usr/bin/wg missing')).toBe(true);
    expect(skipOutsideCi(undefined)).toBe(false);
  });

  it('never skips under CI, so a missing tool fails the run', () => {
    process.env.CI = 'true';
    expect(skipOutsideCi('/usr/bin/wg missing')).toBe(false);
    expect(skipOutsideCi(true)).toBe(false);
  });
});
