/**
 * Holm's step-down correction of a family of p-values: the family-wise error stays at most
 * alpha without assuming anything about how the tests depend on each other, and it rejects at
 * least as much as Bonferroni.
 *
 * @module
 */

/**
 * Holm-adjusted p-values, in the order given: sort the m p-values ascending, multiply the i-th
 * smallest (i from 1) by m - i + 1, carry the running maximum and cap at 1. A hypothesis is
 * rejected at family-wise level alpha when its adjusted p is at most alpha. A NaN p-value (a test
 * that could not be computed) still counts in m, as the least significant, and stays NaN: an
 * undecidable member never makes the others look more significant.
 *
 * @example
 * ```ts
 * holmAdjust([0.01, 0.04, 0.03]); // [0.03, 0.06, 0.06]
 * ```
 */
export function holmAdjust(pValues: number[]): number[] {
  const m = pValues.length;
  const order = pValues
    .map((p, index) => ({ p: Number.isNaN(p) ? Infinity : p, index }))
    .sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m).fill(NaN);
  let runningMax = 0;
  order.forEach(({ p, index }, i) => {
    if (!Number.isFinite(p)) return;
    runningMax = Math.max(runningMax, Math.min(1, (m - i) * p));
    adjusted[index] = runningMax;
  });
  return adjusted;
}
