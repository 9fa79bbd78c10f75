// Deterministic ordering for canonical output: plain code-unit order, unlike localeCompare,
// is the same on every machine and matches Array.prototype.sort() on strings.
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
