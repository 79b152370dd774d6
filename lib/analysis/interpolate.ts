/**
 * Reading a curve given by points: piecewise-linear interpolation (how one loss's dilation or
 * test accuracy is read off at the memorization another loss reached) and, outside the measured
 * range, the bounds a nondecreasing curve allows.
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
 * Bounds of a nondecreasing curve's value at `x` from its measured points: at least the y of the
 * nearest point at or below x, at most the y of the nearest point at or above it (-Infinity /
 * Infinity where there is none). Non-finite points are left out.
 *
 * @example
 * ```ts
 * monotoneBounds([{ x: 0, y: 1 }, { x: 3, y: 2 }, { x: 4, y: 2.5 }], 5); // { low: 2.5, high: Infinity }
 * ```
 */
export function monotoneBounds(points: CurvePoint[], x: number): { low: number; high: number } {
  if (!Number.isFinite(x)) return { low: -Infinity, high: Infinity };
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const below = finite.filter((p) => p.x <= x).sort((a, b) => b.x - a.x)[0];
  const above = finite.filter((p) => p.x >= x).sort((a, b) => a.x - b.x)[0];
  return { low: below?.y ?? -Infinity, high: above?.y ?? Infinity };
}
