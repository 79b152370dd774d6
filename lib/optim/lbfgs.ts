/**
 * L-BFGS with a strong-Wolfe line search, following torch.optim.LBFGS step for step (its
 * defaults: max_iter 20 iterations and max_eval 25 evaluations per step, tolerance_grad 1e-7,
 * tolerance_change 1e-9; line search c1 1e-4, c2 0.9, at most 25 evaluations, cubic
 * interpolation). tfjs has no L-BFGS. The parameters are one flat float32 vector on the host;
 * inner products accumulate in float64.
 *
 * @module
 */

/** Loss and gradient of the objective at a point (the closure of torch's LBFGS). */
export type Objective = (x: Float32Array) => { loss: number; gradient: Float32Array };

/** Settings (torch's names in camelCase). */
export interface LbfgsOptions {
  /** Step length scale (torch `lr`, default 1). */
  lr?: number;
  /** Iterations per {@link Lbfgs.step} (default 20). */
  maxIter?: number;
  /** Objective evaluations per step (default maxIter * 1.25). */
  maxEval?: number;
  /** Stop when the largest gradient entry is at most this (default 1e-7). */
  toleranceGrad?: number;
  /** Stop when the step or the loss changes by less (default 1e-9). */
  toleranceChange?: number;
  /** Curvature pairs kept (the reference's `--history_size`, default 10). */
  historySize?: number;
  /** `strong_wolfe` (default) or `none` (fixed step lr). */
  lineSearch?: "strong_wolfe" | "none";
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function maxAbs(a: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]));
  return max;
}

/** x + t d, as a new vector. */
function along(x: Float32Array, t: number, d: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + t * d[i];
  return out;
}

/**
 * Minimizer of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to `bounds`
 * (default: between x1 and x2); the midpoint when the cubic has no minimizer.
 *
 * @example
 * ```ts
 * cubicInterpolate(0, 1, -2, 1, 0, 0); // minimizer of a cubic through the two points
 * ```
 */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: [number, number],
): number {
  const [low, high] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minimum = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minimum, low), high);
  }
  return (low + high) / 2;
}

/** Result of {@link strongWolfe}. */
export interface LineSearchResult {
  loss: number;
  gradient: Float32Array;
  t: number;
  evaluations: number;
}

/**
 * Line search along d from x for a step t satisfying the strong Wolfe conditions
 * f(x + t d) <= f + c1 t g.d and |g(x + t d).d| <= -c2 g.d (bracketing, then zoom by cubic
 * interpolation), as torch's `_strong_wolfe`.
 *
 * @example
 * ```ts
 * declare const objective: Objective, x: Float32Array, d: Float32Array;
 * declare const loss: number, gradient: Float32Array;
 * declare function dot(a: Float32Array, b: Float32Array): number;
 * const { t } = strongWolfe(objective, x, 1, d, loss, gradient, dot(gradient, d));
 * ```
 */
export function strongWolfe(
  objective: Objective,
  x: Float32Array,
  tInitial: number,
  d: Float32Array,
  f: number,
  g: Float32Array,
  gtd: number,
  { c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9, maxLineSearch = 25 } = {},
): LineSearchResult {
  let t = tInitial;
  const dNorm = maxAbs(d);
  let { loss: fNew, gradient: gNew } = objective(along(x, t, d));
  let evaluations = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0;
  let fPrev = f;
  let gPrev = g;
  let gtdPrev = gtd;
  let done = false;
  let iteration = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: Float32Array[] = [];
  let bracketGtd: number[] = [];
  while (iteration < maxLineSearch) {
    if (fNew > f + c1 * t * gtd || (iteration > 1 && fNew >= fPrev)) {
      [bracket, bracketF, bracketG, bracketGtd] = [
        [tPrev, t],
        [fPrev, fNew],
        [gPrev, gNew],
        [gtdPrev, gtdNew],
      ];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bracketF, bracketG] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bracketF, bracketG, bracketGtd] = [
        [tPrev, t],
        [fPrev, fNew],
        [gPrev, gNew],
        [gtdPrev, gtdNew],
      ];
      break;
    }
    // Extrapolate.
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const previous = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = previous;
    fPrev = fNew;
    gPrev = gNew;
    gtdPrev = gtdNew;
    ({ loss: fNew, gradient: gNew } = objective(along(x, t, d)));
    evaluations += 1;
    gtdNew = dot(gNew, d);
    iteration += 1;
  }
  if (iteration === maxLineSearch) {
    [bracket, bracketF, bracketG] = [[0, t], [f, fNew], [g, gNew]];
  }
  // Zoom: shrink the bracket until the strong Wolfe conditions hold.
  let insufficientProgress = false;
  let [low, high] = bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && iteration < maxLineSearch) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = cubicInterpolate(
      bracket[0],
      bracketF[0],
      bracketGtd[0],
      bracket[1],
      bracketF[1],
      bracketGtd[1],
    );
    // Keep t away from the bracket's ends unless progress stalls.
    const top = Math.max(...bracket);
    const bottom = Math.min(...bracket);
    const eps = 0.1 * (top - bottom);
    if (Math.min(top - t, t - bottom) < eps) {
      if (insufficientProgress || t >= top || t <= bottom) {
        t = Math.abs(t - top) < Math.abs(t - bottom) ? top - eps : bottom + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    ({ loss: fNew, gradient: gNew } = objective(along(x, t, d)));
    evaluations += 1;
    gtdNew = dot(gNew, d);
    iteration += 1;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[low]) {
      bracket[high] = t;
      bracketF[high] = fNew;
      bracketG[high] = gNew;
      bracketGtd[high] = gtdNew;
      [low, high] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true;
      } else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        bracket[high] = bracket[low];
        bracketF[high] = bracketF[low];
        bracketG[high] = bracketG[low];
        bracketGtd[high] = bracketGtd[low];
      }
      bracket[low] = t;
      bracketF[low] = fNew;
      bracketG[low] = gNew;
      bracketGtd[low] = gtdNew;
    }
  }
  return { loss: bracketF[low], gradient: bracketG[low], t: bracket[low], evaluations };
}

/**
 * L-BFGS over a flat parameter vector. State (curvature pairs, last direction and step) carries
 * over between {@link Lbfgs.step} calls, as in torch.
 *
 * @example
 * ```ts
 * const lbfgs = new Lbfgs({ historySize: 10 });
 * const x = new Float32Array([3, -2]);
 * lbfgs.step(x, (p) => ({ loss: p[0] ** 2 + p[1] ** 2, gradient: p.map((v) => 2 * v) }));
 * // x is now close to [0, 0]
 * ```
 */
export class Lbfgs {
  /** Step length scale; a schedule may change it between steps. */
  lr: number;
  readonly maxIter: number;
  readonly maxEval: number;
  readonly toleranceGrad: number;
  readonly toleranceChange: number;
  readonly historySize: number;
  readonly lineSearch: "strong_wolfe" | "none";
  /** Iterations over all steps. */
  iterations = 0;
  /** Objective evaluations over all steps. */
  evaluations = 0;
  #direction?: Float32Array;
  #t = 0;
  #oldDirections: Float32Array[] = [];
  #oldSteps: Float32Array[] = [];
  #rho: number[] = [];
  #hDiag = 1;
  #previousGradient?: Float32Array;

  constructor(options: LbfgsOptions = {}) {
    this.lr = options.lr ?? 1;
    this.maxIter = options.maxIter ?? 20;
    this.maxEval = options.maxEval ?? Math.floor(this.maxIter * 1.25);
    this.toleranceGrad = options.toleranceGrad ?? 1e-7;
    this.toleranceChange = options.toleranceChange ?? 1e-9;
    this.historySize = options.historySize ?? 10;
    this.lineSearch = options.lineSearch ?? "strong_wolfe";
  }

  /**
   * Run up to `maxIter` iterations from `x` (updated in place); returns the loss at the
   * starting point, as torch's step returns the closure's first loss.
   */
  step(x: Float32Array, objective: Objective): number {
    let { loss, gradient } = objective(x);
    const originalLoss = loss;
    let currentEvaluations = 1;
    this.evaluations += 1;
    if (maxAbs(gradient) <= this.toleranceGrad) return originalLoss;
    let d = this.#direction;
    let t = this.#t;
    let iteration = 0;
    while (iteration < this.maxIter) {
      iteration += 1;
      this.iterations += 1;
      if (this.iterations === 1) {
        d = gradient.map((v) => -v);
        this.#oldDirections = [];
        this.#oldSteps = [];
        this.#rho = [];
        this.#hDiag = 1;
      } else {
        // Curvature pair from the last step; skipped when not positive enough.
        const y = gradient.map((v, i) => v - this.#previousGradient![i]);
        const s = d!.map((v) => v * t);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (this.#oldDirections.length === this.historySize) {
            this.#oldDirections.shift();
            this.#oldSteps.shift();
            this.#rho.shift();
          }
          this.#oldDirections.push(y);
          this.#oldSteps.push(s);
          this.#rho.push(1 / ys);
          this.#hDiag = ys / dot(y, y);
        }
        // Two-loop recursion: d = -H g.
        const count = this.#oldDirections.length;
        const alpha = new Array<number>(count);
        const q = gradient.map((v) => -v);
        for (let i = count - 1; i >= 0; i--) {
          alpha[i] = dot(this.#oldSteps[i], q) * this.#rho[i];
          const yi = this.#oldDirections[i];
          for (let j = 0; j < q.length; j++) q[j] -= alpha[i] * yi[j];
        }
        const r = q.map((v) => v * this.#hDiag);
        for (let i = 0; i < count; i++) {
          const beta = dot(this.#oldDirections[i], r) * this.#rho[i];
          const si = this.#oldSteps[i];
          for (let j = 0; j < r.length; j++) r[j] += si[j] * (alpha[i] - beta);
        }
        d = r;
      }
      this.#previousGradient = gradient.slice();
      const previousLoss = loss;
      // First step ever: scale by the gradient's L1 norm; then the step length lr.
      let l1 = 0;
      for (let i = 0; i < gradient.length; i++) l1 += Math.abs(gradient[i]);
      t = this.iterations === 1 ? Math.min(1, 1 / l1) * this.lr : this.lr;
      const gtd = dot(gradient, d!);
      if (gtd > -this.toleranceChange) break; // not a descent direction
      let lineEvaluations: number;
      if (this.lineSearch === "strong_wolfe") {
        const found = strongWolfe(objective, x, t, d!, loss, gradient, gtd);
        ({ loss, gradient, t } = found);
        lineEvaluations = found.evaluations;
        x.set(along(x, t, d!));
      } else {
        x.set(along(x, t, d!));
        lineEvaluations = 0;
        if (iteration !== this.maxIter) {
          ({ loss, gradient } = objective(x));
          lineEvaluations = 1;
        }
      }
      currentEvaluations += lineEvaluations;
      this.evaluations += lineEvaluations;
      if (iteration === this.maxIter) break;
      if (currentEvaluations >= this.maxEval) break;
      if (maxAbs(gradient) <= this.toleranceGrad) break;
      if (maxAbs(d!) * Math.abs(t) <= this.toleranceChange) break;
      if (Math.abs(loss - previousLoss) < this.toleranceChange) break;
    }
    this.#direction = d;
    this.#t = t;
    return originalLoss;
  }
}
