// Test helpers for the DNS code: hand-built packets, and the Lighthouse object builders the
// broker reader's tests use too.
export * from '../broker/lighthouseTesting.ts';

/** Hex with optional whitespace and `|` separators, for readable hand-built packets. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/[\s|]/g, ''), 'hex');
}
