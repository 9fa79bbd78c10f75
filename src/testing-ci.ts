// Tests that need a kernel feature or a binary skip on a developer machine that lacks it, but
// never under CI (CI=true): there a missing tool must fail the run instead of hiding a test.
// Only tests import this file.

/** Pass to `skipIf`: true only when the requirement is missing AND this is not CI. */
export function skipOutsideCi(missing: boolean | string | undefined): boolean {
  return Boolean(missing) && !process.env.CI;
}
