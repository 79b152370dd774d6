/**
 * Reading a curve given by points: piecewise-linear interpolation (how one loss's dilation or
 * test accuracy is read off at the memorization another loss reached) and, outside the measured
 * range, the bounds a nondecreasing curve allows (its monotone envelope).
 *
 * @module
 */

/** A point of a curve y(x). */
export interface CurvePoint {
  x: number;
  y: number;
}

/**
 * The value at `x` of the piecewise-linear curve through `points` (sorted by x here; points with
 * the same x are averaged; non-finite points are left out). NaN when `x` lies outside the range
 * of the points' x: the curve says nothing there, and extrapolating it would be a guess.
 *
 * @example
 * ```ts
 * interpolateAlong([{ x: 0, y: 0 }, { x: 2, y: 4 }], 1.5); // 3
 * interpolateAlong([{ x: 0, y: 0 }, { x: 2, y: 4 }], 3); // NaN (outside)
 * ```
 */
export function interpolateAlong(points: CurvePoint[], x: number): number {
  if (!Number.isFinite(x)) return NaN;
  const byX = new Map<number, number[]>();
  for (const p of points) {
    if (Number.isFinite(p.x) && Number.isFinite(p.y)) byX.set(p.x, [...(byX.get(p.x) ?? []), p.y]);
  }
  const curve = [...byX.entries()]
    .map(([px, ys]) => ({ x: px, y: ys.reduce((a, b) => a + b, 0) / ys.length }))
    .sort((a, b) => a.x - b.x);
  if (curve.length === 0 || x < curve[0].x || x > curve[curve.length - 1].x) return NaN;
  for (let i = 0; i < curve.length; i++) {
    if (curve[i].x === x) return curve[i].y;
    if (curve[i].x > x) {
      const [a, b] = [curve[i - 1], curve[i]];
      return a.y + ((x - a.x) / (b.x - a.x)) * (b.y - a.y);
    }
  }
  return NaN;
}

/**
 * Bounds of a nondecreasing curve's value at `x` from its measured points, by the monotone
 * envelope: at least the largest y of the points at or below x (running maximum from below), at
 * most the smallest y of the points at or above it (running minimum from above); -Infinity /
 * Infinity where there is no such point, and both infinite for a non-finite x. Non-finite points
 * are left out. Measured curves are noisy: a point below x may lie higher than one above it, and
 * the envelope then gives low > high, which says the data contradict the monotone assumption
 * there (a caller's conservative decision stays conservative).
 *
 * @example
 * ```ts
 * monotoneBounds([{ x: 0, y: 1 }, { x: 3, y: 2 }, { x: 4, y: 2.5 }], 5); // { low: 2.5, high: Infinity }
 * monotoneBounds([{ x: 1, y: 3 }, { x: 2, y: 2 }, { x: 4, y: 5 }], 3); // { low: 3, high: 5 }
 * ```
 */
export function monotoneBounds(points: CurvePoint[], x: number): { low: number; high: number } {
  if (!Number.isFinite(x)) return { low: -Infinity, high: Infinity };
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const below = finite.filter((p) => p.x <= x).map((p) => p.y);
  const above = finite.filter((p) => p.x >= x).map((p) => p.y);
  return { low: Math.max(-Infinity, ...below), high: Math.min(Infinity, ...above) };
}
