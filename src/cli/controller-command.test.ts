import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { runController } from './controller-command.ts';

describe('moor controller --acl-history-retention', () => {
  it.each([
    ['0', 'is not a duration: give one like 90d'],
    ['0d', 'keeps no history'],
    ['soon', 'is not a duration'],
    ['99999d', 'at most 3660d'],
  ])('refuses %s before connecting anywhere (exit 2, the fix named)', async (value, problem) => {
    const err = await runController(['--acl-history-retention', value, '--kubeconfig', '/nonexistent']).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MoorError);
    expect(err).toMatchObject({ code: 'invalid-argument', exitCode: 2 });
    expect((err as MoorError).message).toContain('--acl-history-retention');
    expect((err as MoorError).message).toContain(problem);
    expect((err as MoorError).hint).toContain('90d');
  });
});
