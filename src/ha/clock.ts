// The HA module measures intervals only, so its clock must never jump: wall time can step under
// NTP, which would shorten or stretch a fencing deadline. performance.now() is monotonic.
import type { Clock } from '../reconcile/clock.ts';

const origin = performance.timeOrigin;

export const monotonicClock: Clock = {
  now: () => origin + performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
