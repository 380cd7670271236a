/** Small statistics for benchmark samples. */

/** The median of `values` (NaN for none); failed samples (NaN) are left out. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A number with its unit prefix, e.g. 1.23M, 456k, 7.8. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "–";
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 100) return String(Math.round(value));
  return value.toFixed(1);
}
