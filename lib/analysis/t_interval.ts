/**
 * Student's t distribution, the t confidence interval of a mean and the one-sample t-test of
 * "mean = 0", in float64, without dependencies: what the paired comparison over seeds reports.
 *
 * @module
 */

/** log Gamma(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  const coefficients = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let sum = coefficients[0];
  for (let i = 1; i < coefficients.length; i++) sum += coefficients[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the incomplete beta function (modified Lentz), for x < (a+1)/(a+b+2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let result = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    // Even step.
    let term = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + term * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + term / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    result *= d * c;
    // Odd step.
    term = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + term * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + term / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    result *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return result;
}

/**
 * The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1.
 *
 * @example
 * ```ts
 * regularizedBeta(0.5, 2, 2); // 0.5 (symmetric)
 * ```
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  // The continued fraction converges fast on one side; use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a).
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * The cumulative distribution function of Student's t with `df` degrees of freedom.
 *
 * @example
 * ```ts
 * studentTCdf(0, 3); // 0.5
 * ```
 */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (0 < p < 1), by bisection on the
 * CDF to float64 precision.
 *
 * @example
 * ```ts
 * studentTQuantile(0.975, 2); // 4.3027 = (2p - 1) / sqrt(2p(1 - p)), the closed form for df = 2
 * ```
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`a quantile needs 0 < p < 1, got ${p}`);
  if (!(df > 0)) throw new Error(`Student's t needs df > 0, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-14 * high; i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** A t confidence interval of a mean, with the two-sided t-test of mean = 0. */
export interface TInterval {
  /** Number of values (non-finite ones are left out). */
  n: number;
  /** Their mean (NaN when n = 0). */
  mean: number;
  /** Their sample standard deviation (n - 1 in the denominator; NaN when n < 2). */
  std: number;
  /** Lower and upper end: mean -/+ t_{(1+level)/2, n-1} std / sqrt(n) (NaN when n < 2). */
  low: number;
  high: number;
  /** The confidence level, e.g. 0.95. */
  level: number;
  /** t statistic of mean = 0: mean / (std / sqrt(n)) (NaN when n < 2 or all values are 0). */
  t: number;
  /**
   * Two-sided p-value of mean = 0: 2 P(T_{n-1} > |t|); 0 when the values agree exactly on a
   * non-zero mean, 1 when they are all 0, NaN when n < 2.
   */
  p: number;
}

/**
 * The t confidence interval of the mean of `values` (finite ones; e.g. paired differences over
 * seeds), at `level` (default 0.95), and the two-sided t-test of mean = 0. Non-finite values are
 * left out of n: a caller that must not lose a seed checks n against its count (the comparison
 * does, and calls such a row inconclusive).
 *
 * @example
 * ```ts
 * tInterval([1, 2, 3]); // mean 2, std 1, low 2 - 4.3027 / sqrt(3), high 2 + 4.3027 / sqrt(3)
 * ```
 */
export function tInterval(values: number[], level = 0.95): TInterval {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  const mean = n === 0 ? NaN : finite.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, std: NaN, low: NaN, high: NaN, level, t: NaN, p: NaN };
  const std = Math.sqrt(finite.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const standardError = std / Math.sqrt(n);
  const half = studentTQuantile((1 + level) / 2, n - 1) * standardError;
  if (standardError === 0) {
    return { n, mean, std, low: mean, high: mean, level, t: NaN, p: mean === 0 ? 1 : 0 };
  }
  const t = mean / standardError;
  // Two-sided tail 2 P(T > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2), without cancellation.
  const df = n - 1;
  const p = Math.min(1, regularizedBeta(df / (df + t * t), df / 2, 0.5));
  return { n, mean, std, low: mean - half, high: mean + half, level, t, p };
}
