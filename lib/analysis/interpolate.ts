/**
 * Piecewise-linear interpolation along a curve given by points: how one loss's dilation (or test
 * accuracy) is read off at the memorization another loss reached.
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
