/**
 * Memorization-dilation (M-D) measures computed from the two accumulation passes (docs/metrics.md#memorization-dilation).
 *
 * Conventions: variances and standard deviations are population ones (divide by the count).
 * An undefined scalar (no samples to measure it on) is NaN; an undefined vector is `null`.
 * Class averages are taken over the classes where the per-class value is defined.
 *
 * @module
 */

import type { Centroids, ScalarMoments } from "./statistics.ts";

/**
 * What {@linkcode memorizationDilationMeasures} reads from a completed second pass: a snapshot
 * of the compute backend's streaming distances (`streaming.ts`), or the tests' host oracle.
 */
export interface DistanceStatistics {
  /** The first pass's centroids that distances are taken to. */
  readonly centroids: Centroids;
  /** Per label c: moments of ‖h - m_c‖ over samples labelled c. */
  readonly distanceToClassMean: ScalarMoments[];
  /** Per label c: moments of ‖h - u_c‖ over clean samples labelled c (std = dilation). */
  readonly cleanDistance: ScalarMoments[];
  /** Per label c: moments of ‖h - u_o‖ over noisy samples labelled c (o = original label). */
  readonly memorizationByLabel: ScalarMoments[];
  /** Per original class o: moments of ‖h - u_o‖ over noisy samples whose original label is o. */
  readonly memorizationByOriginal: ScalarMoments[];
  /** Noisy samples whose original class has no clean centroid (left out of memorization). */
  noisyWithoutCleanCentroid: number;
}

/** Distances of a group of noisy samples to the clean centroid of their original class. */
export interface MemorizationStats {
  /** Number of noisy samples measured. */
  count: number;
  /** Sum of the distances (what the reference's four-class helper reports); 0 when empty. */
  sum: number;
  /** Mean distance; NaN when empty. */
  mean: number;
  /** Population standard deviation of the distances; NaN when empty. */
  std: number;
}

/** M-D measures of one class c (c = training label unless a field says otherwise). */
export interface ClassMemorizationDilation {
  /** The class c. */
  label: number;
  /** Number of samples labelled c. */
  count: number;
  /** Number of clean samples labelled c. */
  cleanCount: number;
  /** Number of noisy samples labelled c. */
  noisyCount: number;
  /** m_c: mean of the samples labelled c; `null` when none. */
  classMean: Float64Array | null;
  /** Mean of ‖h - m_c‖ over samples labelled c. */
  distanceMean: number;
  /** Population variance of ‖h - m_c‖ over samples labelled c. */
  distanceVariance: number;
  /** Population standard deviation of ‖h - m_c‖ over samples labelled c. */
  distanceStd: number;
  /** u_c: mean of the clean samples labelled c; `null` when none. */
  cleanCentroid: Float64Array | null;
  /** Mean of ‖h - u_c‖ over the clean samples labelled c. */
  cleanDistanceMean: number;
  /** The dilation of class c: population std of ‖h - u_c‖ over the clean samples labelled c. */
  cleanSpread: number;
  /** Mean of ‖h - u_c‖² over the clean samples labelled c. */
  cleanMeanSquare: number;
  /** Mean of the noisy samples labelled c; `null` when none. */
  noisyMean: Float64Array | null;
  /** noisyCentroids[o] = C[c][o]: mean of noisy samples labelled c with original o; else `null`. */
  noisyCentroids: (Float64Array | null)[];
  /**
   * corruptionBias[j] = B[c][j] = (noisyMean - m_c) · (m_j - m_c) / ‖m_j - m_c‖: how far the
   * noisy samples of c sit toward class j. NaN for j = c, when c has no noisy samples, when class
   * j is empty, or when m_j = m_c.
   */
  corruptionBias: number[];
  /** Memorization of the noisy samples labelled c (distance to u_o, o = their original class). */
  memorization: MemorizationStats;
  /** Memorization of the noisy samples whose ORIGINAL class is c (distance to u_c). */
  memorizationOfOriginalClass: MemorizationStats;
}

/** The result of {@linkcode memorizationDilationMeasures}. */
export interface MemorizationDilationResult {
  /** Number of classes K. */
  numClasses: number;
  /** Feature dimension d. */
  dim: number;
  /** Per-class measures, indexed by class. */
  classes: ClassMemorizationDilation[];
  /** Number of samples. */
  numSamples: number;
  /** Number of clean samples. */
  numClean: number;
  /** Number of noisy samples (including those without a clean centroid to measure against). */
  numNoisy: number;
  /** Noisy samples whose original class has no clean centroid, left out of memorization. */
  numNoisyWithoutCleanCentroid: number;
  /** Dilation: mean over classes of `cleanSpread`. */
  dilation: number;
  /** Mean over classes of `cleanMeanSquare`. */
  cleanMeanSquare: number;
  /** Mean over classes of `distanceMean`. */
  distanceMean: number;
  /** Mean over classes of `distanceVariance`. */
  distanceVariance: number;
  /** Mean over classes of `distanceStd`. */
  distanceStd: number;
  /** Mean over all defined B[c][j] (c ≠ j). */
  corruptionBias: number;
  /** Memorization per sample: mean distance over ALL measured noisy samples; NaN if none. */
  memorizationPerSample: number;
  /** Memorization per class: mean over labels c of `classes[c].memorization.mean`; NaN if none. */
  memorizationPerClass: number;
  /** Sum of the distances over all measured noisy samples (0 if none). */
  memorizationSum: number;
  /**
   * Mean over pairs of classes c < c' of ‖u_c - u_c'‖ (clean centroids; NaN with fewer than two):
   * the feature scale that makes dilation and memorization comparable across losses.
   */
  cleanCentroidDistance: number;
}

function memorizationStats(moments: ScalarMoments): MemorizationStats {
  return {
    count: moments.count,
    sum: moments.sum,
    mean: moments.count === 0 ? NaN : moments.mean,
    std: moments.std,
  };
}

/** Mean of the non-NaN values; NaN when there are none. */
function meanOfDefined(values: number[]): number {
  const defined = values.filter((value) => !Number.isNaN(value));
  return defined.length === 0 ? NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
}

/** (a - b) · (c - b) / ‖c - b‖, NaN when c = b. */
function projectedOffset(a: Float64Array, b: Float64Array, c: Float64Array): number {
  let dot = 0;
  let norm2 = 0;
  for (let k = 0; k < a.length; k++) {
    const direction = c[k] - b[k];
    dot += (a[k] - b[k]) * direction;
    norm2 += direction * direction;
  }
  return norm2 > 0 ? dot / Math.sqrt(norm2) : NaN;
}

/** Mean distance between the defined clean centroids over pairs of classes; NaN without a pair. */
function meanCentroidDistance(centroids: (Float64Array | null)[]): number {
  const defined = centroids.filter((u): u is Float64Array => u !== null);
  const distances: number[] = [];
  for (let a = 0; a < defined.length; a++) {
    for (let b = a + 1; b < defined.length; b++) {
      distances.push(Math.hypot(...defined[a].map((value, k) => value - defined[b][k])));
    }
  }
  return meanOfDefined(distances);
}

/**
 * The M-D measures (docs/metrics.md#memorization-dilation) from a completed second pass (which holds the first pass's
 * centroids). Per class: class mean and distance statistics, clean centroid and clean spread
 * (dilation), noisy centroids, corruption bias and memorization; plus class averages and counts.
 *
 * If there are no noisy samples, every memorization mean is NaN (not 0): nothing was memorized
 * because nothing could be. Population standard deviations throughout.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/mod.ts";
 * import { StreamingCentroids, StreamingDistances } from "./streaming.ts";
 * const features = tf.tensor2d([[0, 0], [2, 0], [6, 0], [6, 6], [6, 3]]);
 * const labels = Int32Array.from([0, 0, 1, 1, 0]);
 * const originals = Int32Array.from([0, 0, 1, 1, 1]);
 * const centroids = await new StreamingCentroids(2, 2).add(features, labels, originals).read();
 * const pass2 = new StreamingDistances(centroids, centroids.classMeans);
 * pass2.add(features, tf.zeros([5, 2]), labels, originals);
 * const result = memorizationDilationMeasures(await pass2.read());
 * result.memorizationPerSample; // 0: (6, 3) sits on u_1 = (6, 3)
 * ```
 */
export function memorizationDilationMeasures(
  distances: DistanceStatistics,
): MemorizationDilationResult {
  const centroids = distances.centroids;
  const { numClasses: K, dim } = centroids;
  const classes: ClassMemorizationDilation[] = [];
  for (let c = 0; c < K; c++) {
    const classMean = centroids.classMeans[c];
    const noisyMean = centroids.noisyMeans[c];
    const corruptionBias: number[] = [];
    for (let j = 0; j < K; j++) {
      const otherMean = centroids.classMeans[j];
      corruptionBias.push(
        j === c || classMean === null || noisyMean === null || otherMean === null
          ? NaN
          : projectedOffset(noisyMean, classMean, otherMean),
      );
    }
    const toClassMean = distances.distanceToClassMean[c];
    const toCleanCentroid = distances.cleanDistance[c];
    classes.push({
      label: c,
      count: centroids.classCounts[c],
      cleanCount: centroids.cleanCounts[c],
      noisyCount: centroids.noisyCounts[c],
      classMean,
      distanceMean: toClassMean.count === 0 ? NaN : toClassMean.mean,
      distanceVariance: toClassMean.variance,
      distanceStd: toClassMean.std,
      cleanCentroid: centroids.cleanCentroids[c],
      cleanDistanceMean: toCleanCentroid.count === 0 ? NaN : toCleanCentroid.mean,
      cleanSpread: toCleanCentroid.std,
      cleanMeanSquare: toCleanCentroid.meanSquare,
      noisyMean,
      noisyCentroids: centroids.noisyCentroids[c],
      corruptionBias,
      memorization: memorizationStats(distances.memorizationByLabel[c]),
      memorizationOfOriginalClass: memorizationStats(distances.memorizationByOriginal[c]),
    });
  }

  let memorizationCount = 0;
  let memorizationSum = 0;
  for (const { memorization } of classes) {
    memorizationCount += memorization.count;
    memorizationSum += memorization.sum;
  }
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    numClasses: K,
    dim,
    classes,
    numSamples: sum(centroids.classCounts),
    numClean: sum(centroids.cleanCounts),
    numNoisy: sum(centroids.noisyCounts),
    numNoisyWithoutCleanCentroid: distances.noisyWithoutCleanCentroid,
    dilation: meanOfDefined(classes.map((s) => s.cleanSpread)),
    cleanMeanSquare: meanOfDefined(classes.map((s) => s.cleanMeanSquare)),
    distanceMean: meanOfDefined(classes.map((s) => s.distanceMean)),
    distanceVariance: meanOfDefined(classes.map((s) => s.distanceVariance)),
    distanceStd: meanOfDefined(classes.map((s) => s.distanceStd)),
    corruptionBias: meanOfDefined(classes.flatMap((s) => s.corruptionBias)),
    memorizationPerSample: memorizationCount === 0 ? NaN : memorizationSum / memorizationCount,
    memorizationPerClass: meanOfDefined(classes.map((s) => s.memorization.mean)),
    memorizationSum,
    cleanCentroidDistance: meanCentroidDistance(classes.map((s) => s.cleanCentroid)),
  };
}
