import { describe, expect, it } from 'vitest';
import { PRODUCTION_TIMINGS, safetyMargin, validateTimings } from './timings.ts';

describe('HA timings', () => {
  it('accepts the production defaults', () => {
    expect(validateTimings(PRODUCTION_TIMINGS)).toBe(PRODUCTION_TIMINGS);
  });
  it.each([
    [
      { requestTimeoutMs: 500 },
      /request timeout 500 ms \+ renew interval 200 ms exceeds the renew deadline 600 ms/,
    ],
    [{ releaseBudgetMs: 600 }, /release budget/],
    [{ leaseDurationMs: 600 }, /not below the lease duration/],
    [{ heartbeatTimeoutMs: 100 }, /heartbeat timeout/],
    [{ renewIntervalMs: 0 }, /positive/],
    [{ clockMarginMs: Number.NaN }, /clockMarginMs is NaN/],
  ])('rejects %o', (over, msg) => {
    expect(() => validateTimings({ ...PRODUCTION_TIMINGS, ...over })).toThrow(msg);
  });
  it('grows the margin with the interval by the drift rate', () => {
    expect(safetyMargin(PRODUCTION_TIMINGS, 0)).toBe(50);
    expect(safetyMargin(PRODUCTION_TIMINGS, 15_000)).toBe(65);
  });
});
