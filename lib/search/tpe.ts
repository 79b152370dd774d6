/**
 * The Bayesian optimizer of `deno task search`: a Tree-structured Parzen Estimator (TPE). The
 * trials seen so far are split into the best quarter ("good") and the rest ("bad"); each side
 * gets a kernel density per dimension (Gaussians on the unit scale plus a uniform prior; a
 * smoothed histogram for choices); candidates are drawn from the good density and the one with
 * the largest good/bad density ratio is proposed - the point with the largest expected
 * improvement under that model. No npm package offers this, so it is implemented here.
 *
 * @module
 */
import type { Random } from "../data/random.ts";
import {
  type Dimension,
  fromUnit,
  type Params,
  sampleSpace,
  type SearchSpace,
  toUnit,
} from "./space.ts";

/** A finished trial as the optimizer sees it: its parameters and objective (higher is better). */
export interface Observation {
  params: Params;
  value: number;
}

/** Options of {@link proposeTpe}. */
export interface TpeOptions {
  /** Share of observations counted as good (default 0.25). */
  gamma?: number;
  /** Candidates drawn from the good density (default 24). */
  candidates?: number;
  /** Below this many observations, draw from the space instead (default 5). */
  startup?: number;
}

/**
 * Error function (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7).
 *
 * @example
 * ```ts
 * erf(1); // 0.84270...
 * ```
 */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-x * x));
}

/**
 * Kernel density on [0, 1]: equal-weight Gaussians truncated to [0, 1] plus a uniform prior. Each
 * Gaussian is as wide as the larger gap to its neighbours (the interval ends count as
 * neighbours), but at least 1/min(100, n + 1): few points give wide kernels (exploration), many
 * points narrow ones.
 */
export class UnitDensity {
  readonly centers: number[];
  readonly sigmas: number[];

  /**
   * @example
   * ```ts
   * const density = new UnitDensity([0.2, 0.3]);
   * density.pdf(0.25) > density.pdf(0.9); // true
   * ```
   */
  constructor(centers: number[]) {
    this.centers = centers;
    const sorted = [...centers].sort((a, b) => a - b);
    const minSigma = 1 / Math.min(100, centers.length + 1);
    this.sigmas = centers.map((c) => {
      const at = sorted.indexOf(c);
      const left = at > 0 ? sorted[at - 1] : 0;
      const right = at < sorted.length - 1 ? sorted[at + 1] : 1;
      return Math.min(1, Math.max(minSigma, c - left, right - c));
    });
  }

  /** Probability density at u in [0, 1]. */
  pdf(u: number): number {
    let sum = 1; // the uniform prior
    this.centers.forEach((c, i) => {
      const s = this.sigmas[i];
      const mass = 0.5 * (erf((1 - c) / (s * Math.SQRT2)) - erf((0 - c) / (s * Math.SQRT2)));
      sum += Math.exp(-0.5 * ((u - c) / s) ** 2) / (s * Math.sqrt(2 * Math.PI) * mass);
    });
    return sum / (this.centers.length + 1);
  }

  /** One draw: a uniformly chosen component, then (for a Gaussian) rejection to [0, 1]. */
  sample(rng: Random): number {
    const k = rng.integer(this.centers.length + 1);
    if (k === this.centers.length) return rng.uniform();
    for (let tries = 0; tries < 100; tries++) {
      const u = this.centers[k] + this.sigmas[k] * rng.normal();
      if (u >= 0 && u <= 1) return u;
    }
    return this.centers[k];
  }
}

/** Smoothed histogram over a choice's indices (each count plus one). */
function choiceProbabilities(
  dim: Extract<Dimension, { type: "choice" }>,
  params: Params[],
  flag: string,
) {
  const counts = dim.values.map(() => 1);
  for (const p of params) counts[dim.values.indexOf(p[flag])] += 1;
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / total);
}

function pickIndex(probabilities: number[], rng: Random): number {
  let u = rng.uniform();
  for (let i = 0; i < probabilities.length; i++) {
    u -= probabilities[i];
    if (u < 0) return i;
  }
  return probabilities.length - 1;
}

/**
 * Propose the next trial's parameters from the observations so far (deterministic for a given
 * generator state).
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * import { referenceSpace } from "./space.ts";
 * const observations = [{ params: { lr: 0.01, gamma: 0.1 }, value: 0.9 }];
 * proposeTpe(referenceSpace("CrossEntropy"), observations, new Random(3));
 * ```
 */
export function proposeTpe(
  space: SearchSpace,
  observations: Observation[],
  rng: Random,
  options: TpeOptions = {},
): Params {
  const { gamma = 0.25, candidates = 24, startup = 5 } = options;
  const usable = observations.filter((o) => Number.isFinite(o.value));
  if (usable.length < Math.max(startup, 2)) return sampleSpace(space, rng);
  const sorted = [...usable].sort((a, b) => b.value - a.value);
  const nGood = Math.max(1, Math.ceil(gamma * sorted.length));
  const good = sorted.slice(0, nGood).map((o) => o.params);
  const bad = sorted.slice(nGood).map((o) => o.params);

  const models = Object.entries(space).map(([flag, dim]) => {
    if (dim.type === "choice") {
      const l = choiceProbabilities(dim, good, flag);
      const g = choiceProbabilities(dim, bad, flag);
      return {
        flag,
        draw: () => pickIndex(l, rng),
        logRatio: (i: number) => Math.log(l[i]) - Math.log(g[i]),
        value: (i: number) => dim.values[i],
      };
    }
    const l = new UnitDensity(good.map((p) => toUnit(dim, p[flag])));
    const g = new UnitDensity(bad.map((p) => toUnit(dim, p[flag])));
    return {
      flag,
      draw: () => l.sample(rng),
      logRatio: (u: number) => Math.log(l.pdf(u)) - Math.log(g.pdf(u)),
      value: (u: number) => fromUnit(dim, u),
    };
  });

  let best: Params | undefined;
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    const points = models.map((m) => m.draw());
    const score = models.reduce((sum, m, i) => sum + m.logRatio(points[i]), 0);
    if (score > bestScore) {
      bestScore = score;
      best = Object.fromEntries(models.map((m, i) => [m.flag, m.value(points[i])]));
    }
  }
  return best!;
}
