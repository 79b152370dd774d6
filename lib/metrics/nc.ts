/**
 * Neural-collapse measures computed from accumulated {@linkcode ClassStatistics} (docs/metrics.md#neural-collapse).
 *
 * @module
 */

import type { ClassStatistics } from "./statistics.ts";
import {
  pinvCutoff,
  type PinvOptions,
  pinvSymmetric,
  symmetricEigen,
  trace,
  traceOfProduct,
} from "./linalg.ts";

/** The result of {@linkcode neuralCollapse1}. Matrices are d×d row-major `Float64Array`s. */
export interface NeuralCollapse1Result {
  /**
   * NC1 = trace(Σ_W pinv(Σ_B)) / K', K' = number of classes with samples; NaN when K' < 2
   * (between-class scatter is undefined with a single class).
   */
  nc1: number;
  /** Σ_W = (1/N) Σ_i (h_i - μ_{y_i})(h_i - μ_{y_i})ᵀ. */
  sigmaW: Float64Array;
  /** Σ_B = (1/K') Σ_{c present} (μ_c - μ_G)(μ_c - μ_G)ᵀ. */
  sigmaB: Float64Array;
  /** μ_c per class; `null` for classes without samples. */
  classMeans: (Float64Array | null)[];
  /** μ_G = mean of all features (weighted by the real class counts). */
  globalMean: Float64Array;
  /** trace(Σ_W). */
  traceSigmaW: number;
  /** trace(Σ_B). */
  traceSigmaB: number;
  /** N_c per class, as seen. */
  classCounts: number[];
  /** N = Σ_c N_c. */
  numSamples: number;
  /** K' = number of classes with at least one sample (the K used in Σ_B and NC1). */
  numClassesPresent: number;
  /** Feature dimension d. */
  dim: number;
}

/**
 * NC1 and the covariances behind it, from class moments (docs/metrics.md#neural-collapse) read from
 * the compute backend (`streaming.ts`):
 * Σ_W = (1/N) Σ_i (h_i - μ_{y_i})(h_i - μ_{y_i})ᵀ, Σ_B = (1/K) Σ_c (μ_c - μ_G)(μ_c - μ_G)ᵀ,
 * NC1 = trace(Σ_W pinv(Σ_B)) / K.
 *
 * Uses the counts actually seen, not fixed per-dataset counts. **Empty classes** (N_c = 0) are
 * excluded: K in Σ_B and in NC1 is K' = the number of classes with samples, and their class mean
 * is `null`. With K' < 2, `nc1` is NaN. With no samples at all this throws.
 * The pseudo-inverse uses {@linkcode pinvSymmetric}'s cutoff (eigenvalues <= max|λ|·d·ε count as
 * zero, overridable through `options.rtol`) and inverts at most K' - 1 eigenvalues, the most
 * Σ_B can have since Σ_c N_c (μ_c - μ_G) = 0 (override through `options.maxRank`).
 * NC1 is invariant to scaling the features.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { StreamingClassMoments } from "./streaming.ts";
 * const moments = new StreamingClassMoments(2, 2);
 * moments.add(tf.tensor2d([[0, 0], [2, 2], [4, 0], [4, 1], [4, 2]]), Int32Array.from([0, 0, 1, 1, 1]));
 * neuralCollapse1(await moments.read()).nc1; // 10/117 ≈ 0.0855
 * ```
 */
export function neuralCollapse1(
  moments: ClassStatistics,
  options: PinvOptions = {},
): NeuralCollapse1Result {
  const { numClasses: K, dim: d } = moments;
  const numSamples = moments.totalCount;
  if (!(numSamples > 0)) throw new Error("neuralCollapse1: no samples were accumulated");

  const classCounts: number[] = [];
  const classMeans: (Float64Array | null)[] = [];
  const globalMean = new Float64Array(d);
  let numClassesPresent = 0;
  for (let c = 0; c < K; c++) {
    const count = moments.classCount(c);
    const mean = moments.classMean(c);
    classCounts.push(count);
    classMeans.push(mean);
    if (mean === null) continue;
    numClassesPresent++;
    for (let k = 0; k < d; k++) globalMean[k] += (count / numSamples) * mean[k];
  }

  const sigmaW = moments.withinClassScatter();
  for (let k = 0; k < sigmaW.length; k++) sigmaW[k] /= numSamples;

  const sigmaB = new Float64Array(d * d);
  const centered = new Float64Array(d);
  for (const mean of classMeans) {
    if (mean === null) continue;
    for (let k = 0; k < d; k++) centered[k] = mean[k] - globalMean[k];
    for (let i = 0; i < d; i++) {
      const ci = centered[i] / numClassesPresent;
      for (let j = 0; j < d; j++) sigmaB[i * d + j] += ci * centered[j];
    }
  }

  // Σ_c N_c (μ_c - μ_G) = 0, so Σ_B has rank <= K' - 1 exactly; capping the inverted rank keeps
  // rounding noise in its null space from being inverted (the reference uses svds(Σ_B, K - 1)).
  const maxRank = numClassesPresent - 1;
  const present = classMeans.filter((mean): mean is Float64Array => mean !== null);
  const nc1 = numClassesPresent < 2
    ? NaN
    : (numClassesPresent < d
      ? traceWithPinvOfMeans(sigmaW, present, globalMean, d, { maxRank, ...options })
      : traceOfProduct(sigmaW, pinvSymmetric(sigmaB, d, { maxRank, ...options }), d)) /
      numClassesPresent;

  return {
    nc1,
    sigmaW,
    sigmaB,
    classMeans,
    globalMean,
    traceSigmaW: trace(sigmaW, d),
    traceSigmaB: trace(sigmaB, d),
    classCounts,
    numSamples,
    numClassesPresent,
    dim: d,
  };
}

/**
 * trace(Σ_W pinv(Σ_B)) for Σ_B = C Cᵀ / K' with C the d×K' matrix of centred class means,
 * without decomposing the d×d Σ_B: its nonzero eigenpairs are those of the K'×K' matrix
 * G = Cᵀ C / K' (G u = λ u gives Σ_B (C u) = λ (C u), and ‖C u‖² = K' λ for a unit u). So
 * pinv(Σ_B) = Σ_k w_k w_kᵀ / λ_k with w_k = C u_k / √(K' λ_k), and the trace is
 * Σ_k w_kᵀ Σ_W w_k / λ_k. The eigenvalues kept are those {@linkcode pinvSymmetric} keeps for the
 * d×d matrix (the same cutoff relative to d, at most `maxRank`): O(K' d²) instead of O(d³).
 */
function traceWithPinvOfMeans(
  sigmaW: Float64Array,
  means: Float64Array[],
  globalMean: Float64Array,
  d: number,
  options: PinvOptions,
): number {
  const k = means.length;
  const centred = means.map((mean) => mean.map((value, i) => value - globalMean[i]));
  const gram = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += centred[a][i] * centred[b][i];
      gram[a * k + b] = dot / k;
    }
  }
  const { values, vectors } = symmetricEigen(gram, k);
  const cutoff = pinvCutoff(values, d, options.rtol);
  const byMagnitude = Array.from({ length: k }, (_, j) => j)
    .sort((x, y) => Math.abs(values[y]) - Math.abs(values[x]))
    .slice(0, Math.max(0, Math.min(k, options.maxRank ?? k)));
  let total = 0;
  const w = new Float64Array(d);
  for (const j of byMagnitude) {
    const lambda = values[j];
    if (!(lambda > cutoff)) continue; // Σ_B is positive semi-definite
    const scale = 1 / Math.sqrt(k * lambda);
    w.fill(0);
    for (let a = 0; a < k; a++) {
      const weight = vectors[a * k + j] * scale;
      for (let i = 0; i < d; i++) w[i] += weight * centred[a][i];
    }
    let quadratic = 0;
    for (let i = 0; i < d; i++) {
      let row = 0;
      for (let m = 0; m < d; m++) row += sigmaW[i * d + m] * w[m];
      quadratic += w[i] * row;
    }
    total += quadratic / lambda;
  }
  return total;
}
