/**
 * Small statistics for the benchmark: medians and percentiles.
 *
 * @module
 */

/**
 * The value below which `p` percent of the samples fall (nearest rank).
 *
 * @param values The samples, in any order.
 * @param p The percentile, 0–100.
 * @returns The percentile, or `NaN` for no samples.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * The median (the mean of the two middle values for an even count).
 *
 * @param values The samples, in any order.
 * @returns The median, or `NaN` for no samples.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
