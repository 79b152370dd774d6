/**
 * Thinning of scatter points for display: a figure of thousands of points is megabytes of
 * spec and SVG, so figures show a deterministic subsample while the full data stays in the run's
 * Parquet tables (`features.parquet`).
 *
 * @module
 */

/** Default number of points a scatter shows. */
export const DISPLAY_POINTS = 1500;

/** Keeps `budget` of `n` items at an even stride: item j when floor(j budget / n) steps up. */
function strideKeeps(j: number, n: number, budget: number): boolean {
  return Math.floor((j * budget) / n) !== Math.floor(((j - 1) * budget) / n);
}

/**
 * Keeps at most `limit` points, in their order: every noisy point when they fit in half the
 * budget (they are few and the figure is about them), else an even stride of them; the clean
 * points fill the rest at an even stride. Deterministic (no random draw).
 *
 * @example
 * ```ts
 * const points = Array.from({ length: 10 }, (_, i) => ({ noisy: i === 3, i }));
 * thinPoints(points, 4).map((p) => p.i); // [0, 3, 4, 7]
 * ```
 */
export function thinPoints<T extends { noisy: boolean }>(
  points: T[],
  limit: number = DISPLAY_POINTS,
): T[] {
  if (points.length <= limit) return points;
  const noisyCount = points.filter((p) => p.noisy).length;
  const cleanCount = points.length - noisyCount;
  const noisyBudget = Math.min(noisyCount, Math.max(Math.floor(limit / 2), limit - cleanCount));
  const cleanBudget = Math.min(cleanCount, limit - noisyBudget);
  let noisySeen = 0;
  let cleanSeen = 0;
  return points.filter((p) =>
    p.noisy
      ? strideKeeps(noisySeen++, noisyCount, noisyBudget)
      : strideKeeps(cleanSeen++, cleanCount, cleanBudget)
  );
}
