/**
 * The least-squares line through points: how steeply one quantity grows with another (dilation
 * against memorization across noise levels: the trade-off's slope).
 *
 * @module
 */
import type { CurvePoint } from "./interpolate.ts";

/** A fitted line y = intercept + slope x. */
export interface Line {
  slope: number;
  intercept: number;
  /** Number of finite points fitted. */
  n: number;
}

/**
 * Ordinary least squares of y on x over the finite points. Slope and intercept are NaN when
 * fewer than two distinct x remain (no line is determined).
 *
 * @example
 * ```ts
 * leastSquaresLine([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]); // { slope: 2, intercept: 1, n: 3 }
 * ```
 */
export function leastSquaresLine(points: CurvePoint[]): Line {
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const n = finite.length;
  if (n < 2) return { slope: NaN, intercept: NaN, n };
  const meanX = finite.reduce((s, p) => s + p.x, 0) / n;
  const meanY = finite.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of finite) {
    sxx += (p.x - meanX) ** 2;
    sxy += (p.x - meanX) * (p.y - meanY);
  }
  if (!(sxx > 0)) return { slope: NaN, intercept: NaN, n };
  const slope = sxy / sxx;
  return { slope, intercept: meanY - slope * meanX, n };
}
