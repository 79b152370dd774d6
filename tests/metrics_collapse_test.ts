// Closed-form cases and invariances of the NC, calibration and M-D measures, on the host
// reference accumulators and on the backend's streaming accumulators (wasm).
import { ok, strictEqual, throws } from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  type Classifier,
  etfDistance,
  evaluateSource,
  type FeatureBatch,
  hostFeatureSource,
  type MemorizationDilationResult,
  neuralCollapseMeasures,
  predictionMeasures,
  StreamingClassMoments,
  StreamingPredictions,
} from "../lib/metrics/mod.ts";
import { ClassMoments, memorizationDilation } from "./metrics_oracle.ts";

await initBackend("wasm");

function close(actual: number, expected: number, tolerance: number, what: string): void {
  ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${what}: expected ${expected}, got ${actual}`,
  );
}

/** Deterministic uniform [0, 1) generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows as a flat array. */
const flat = (rows: number[][]) => rows.flat();

/** Streamed class statistics of host rows, in batches of `batch`. */
async function streamedStats(rows: number[][], labels: number[], k: number, batch = 2) {
  const moments = new StreamingClassMoments(k, rows[0].length);
  for (let start = 0; start < rows.length; start += batch) {
    const x = tf.tensor2d(rows.slice(start, start + batch));
    moments.add(x, Int32Array.from(labels.slice(start, start + batch)));
    x.dispose();
  }
  const stats = await moments.read();
  moments.dispose();
  return stats;
}

// A simplex ETF of K = 4 classes in d = 5: μ_c - μ_G = e_c - 1/4 (first 4 coordinates), 0 in the
// fifth; μ_G = (1, 2, 3, 4, 5). Its Gram matrix is I - 11ᵀ/4, the ETF target up to scale.
const K = 4;
const D = 5;
const GLOBAL = [1, 2, 3, 4, 5];
const ETF_MEANS = Array.from(
  { length: K },
  (_, c) => GLOBAL.map((g, k) => g + (k < K ? (k === c ? 1 : 0) - 1 / K : 0)),
);
const ETF_CENTRED = ETF_MEANS.map((m) => m.map((v, k) => v - GLOBAL[k]));
/** Every class collapsed onto its mean, 3 samples each. */
const COLLAPSED_ROWS = ETF_MEANS.flatMap((m) => [m, m, m]);
const COLLAPSED_LABELS = ETF_MEANS.flatMap((_, c) => [c, c, c]);
const ETF_CLASSIFIER: Classifier = {
  numClasses: K,
  dim: D,
  weight: Float64Array.from(flat(ETF_CENTRED)),
  bias: null,
};

Deno.test("collapsed features on a simplex ETF with W = centred means: NC1-NC3, CDNV, equinorm are 0", async () => {
  const host = neuralCollapseMeasures(
    new ClassMoments(K, D).add({
      features: Float64Array.from(flat(COLLAPSED_ROWS)),
      labels: Int32Array.from(COLLAPSED_LABELS),
    }),
    ETF_CLASSIFIER,
  );
  const streamed = neuralCollapseMeasures(
    await streamedStats(COLLAPSED_ROWS, COLLAPSED_LABELS, K, 5),
    ETF_CLASSIFIER,
  );
  for (
    const [name, result, tolerance] of [["host", host, 1e-12], [
      "streamed",
      streamed,
      1e-6,
    ]] as const
  ) {
    close(result.nc1, 0, tolerance, `${name} NC1`);
    close(result.cdnv, 0, tolerance, `${name} CDNV`);
    close(result.nc2, 0, tolerance, `${name} NC2`);
    close(result.nc2Means, 0, tolerance, `${name} NC2 of the means`);
    close(result.nc3, 0, tolerance, `${name} NC3`);
    close(result.equinormMeans, 0, tolerance, `${name} equinorm of the means`);
    close(result.equinormClassifier, 0, tolerance, `${name} equinorm of W`);
    close(result.equiangularityMeans, 0, tolerance, `${name} equiangularity`);
    close(result.maxAngleMeans, 0, tolerance, `${name} max-angle`);
    close(result.selfDuality, 0, tolerance, `${name} self-duality`);
    // NC4 = ‖W μ_G - 0‖: W μ_G = (e_c - 1/4)·(1, 2, 3, 4) = c + 1 - 10/4 = c - 1.5.
    close(
      result.nc4,
      Math.sqrt(1.5 ** 2 + 0.5 ** 2 + 0.5 ** 2 + 1.5 ** 2),
      tolerance,
      `${name} NC4`,
    );
    close(result.traceSigmaW, 0, tolerance, `${name} trace Σ_W`);
    // trace Σ_B = (1/K) Σ_c ‖e_c - 1/4‖² = 3/4.
    close(result.traceSigmaB, 0.75, tolerance, `${name} trace Σ_B`);
  }
});

Deno.test("NC4 is ‖W μ_G - b‖, 0 when b = W μ_G", () => {
  // Class 0 at (2, 4), class 1 at (4, 4): μ_G = (3, 4). W = I, b = (1, -1): W μ_G - b = (2, 5).
  const stats = new ClassMoments(2, 2).add({
    features: new Float64Array([2, 4, 4, 4]),
    labels: Int32Array.from([0, 1]),
  });
  const classifier = (bias: number[]): Classifier => ({
    numClasses: 2,
    dim: 2,
    weight: Float64Array.from([1, 0, 0, 1]),
    bias: Float64Array.from(bias),
  });
  close(neuralCollapseMeasures(stats, classifier([1, -1])).nc4, Math.sqrt(29), 1e-14, "NC4");
  close(neuralCollapseMeasures(stats, classifier([3, 4])).nc4, 0, 1e-14, "NC4 at b = W μ_G");
});

Deno.test("CDNV of a hand-worked 1-D example", () => {
  // Class 0 at {0, 2}: mean 1, variance E‖h - μ‖² = 1. Class 1 at {10, 14}: mean 12, variance 4.
  // CDNV = (1 + 4) / (2 · 11²) = 5/242 for both ordered pairs.
  const result = neuralCollapseMeasures(
    new ClassMoments(2, 1).add({
      features: new Float64Array([0, 2, 10, 14]),
      labels: Int32Array.from([0, 0, 1, 1]),
    }),
  );
  close(result.cdnv, 5 / 242, 1e-15, "CDNV");
  close(result.cdnvMatrix[1], 5 / 242, 1e-15, "CDNV[0][1]");
  ok(Number.isNaN(result.cdnvMatrix[0]), "diagonal is NaN");
  close(result.classVariances[1], 4, 1e-15, "class variance");
  ok(Number.isNaN(result.nc2), "classifier measures are NaN without a classifier");
});

Deno.test("invariances: NC1 and CDNV unchanged by scaling features; NC2 unchanged by scaling W", async () => {
  const random = rng(11);
  const n = 300;
  const d = 6;
  const k = 3;
  const rows = Array.from(
    { length: n },
    (_, i) => Array.from({ length: d }, (_, j) => (i % k) * (j % 2) + random()),
  );
  const labels = rows.map((_, i) => i % k);
  const weight = Float64Array.from({ length: k * d }, () => random() - 0.5);
  const classifier: Classifier = { numClasses: k, dim: d, weight, bias: null };
  const scaledClassifier = { ...classifier, weight: weight.map((w) => 5.5 * w) };
  const measure = (scale: number) =>
    neuralCollapseMeasures(
      new ClassMoments(k, d).add({
        features: Float64Array.from(flat(rows), (v) => v * scale),
        labels: Int32Array.from(labels),
      }),
      scale === 1 ? classifier : scaledClassifier,
    );
  const base = measure(1);
  const scaled = measure(7.25);
  close(scaled.nc1, base.nc1, 1e-10, "NC1 under scaling");
  close(scaled.cdnv, base.cdnv, 1e-10, "CDNV under scaling");
  close(scaled.nc2, base.nc2, 1e-12, "NC2 under scaling W");
  close(scaled.nc3, base.nc3, 1e-10, "NC3 under scaling W and H");
  ok(base.nc1 > 0.01 && base.nc2 > 0.01, "the random case is far from collapse");
  // The same on the backend's streamed statistics.
  const streamedBase = neuralCollapseMeasures(await streamedStats(rows, labels, k, 64));
  const streamedScaled = neuralCollapseMeasures(
    await streamedStats(rows.map((r) => r.map((v) => 7.25 * v)), labels, k, 64),
  );
  close(streamedScaled.nc1, streamedBase.nc1, 1e-6, "streamed NC1 under scaling");
});

Deno.test("etfDistance: 0 for any positive multiple of the ETF Gram, NaN for K < 2", () => {
  close(
    etfDistance(Float64Array.from([3, -1.5, -1.5, -1.5, 3, -1.5, -1.5, -1.5, 3]), 3),
    0,
    1e-15,
    "K=3",
  );
  // Identity Gram for K = 2: G/‖G‖ = I/√2, target (I - 11ᵀ/2) = [[.5, -.5], [-.5, .5]];
  // difference entries ±(1/√2 - 1/2) on the diagonal and 1/2 off it.
  const expected = Math.sqrt(2 * (1 / Math.SQRT2 - 0.5) ** 2 + 2 * 0.25);
  close(etfDistance(Float64Array.from([1, 0, 0, 1]), 2), expected, 1e-15, "I for K=2");
  ok(Number.isNaN(etfDistance(Float64Array.from([1]), 1)));
});

// ---------------------------------------------------------------------------------------------
// Memorization-dilation: a hand-worked two-class example, host and streamed.
//
// Label 0: clean (0,0), (2,0), (1,3) [original 0]; noisy (7,1) [original 1].
// Label 1: clean (6,0), (8,0) [original 1]; noisy (0,2) [original 0].
// Class means m_0 = (10/4, 4/4) = (2.5, 1), m_1 = (14/3, 2/3).
// Clean centroids u_0 = (1, 1), u_1 = (7, 0).
// Clean distances: class 0: √2, √2, 2; class 1: 1, 1.
// Memorization: (7,1) to u_1 = 1; (0,2) to u_0 = √2.
// Corruption bias B[0][1] = (noisy mean_0 - m_0)·(m_1 - m_0)/‖m_1 - m_0‖
//   = (4.5, 0)·(13/6, -1/3) / (√173/6) = 58.5/√173;
// B[1][0] = (-14/3, 4/3)·(-13/6, 1/3) / (√173/6) = (95/9)·6/√173 = 190/(3√173).
const MD_ROWS = [[0, 0], [2, 0], [1, 3], [7, 1], [6, 0], [8, 0], [0, 2]];
const MD_LABELS = [0, 0, 0, 0, 1, 1, 1];
const MD_ORIGINALS = [0, 0, 0, 1, 1, 1, 0];

/** Population mean and std of listed values. */
function meanStd(values: number[]): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return [mean, Math.sqrt(variance)];
}

function checkHandWorkedMd(md: MemorizationDilationResult, tolerance: number, name: string) {
  const c = (what: string, actual: number, expected: number) =>
    close(actual, expected, tolerance, `${name} ${what}`);
  const [clean0Mean, clean0Std] = meanStd([Math.SQRT2, Math.SQRT2, 2]);
  c("clean distance mean 0", md.classes[0].cleanDistanceMean, clean0Mean);
  c("clean spread 0", md.classes[0].cleanSpread, clean0Std);
  c("clean mean square 0", md.classes[0].cleanMeanSquare, 8 / 3);
  c("clean spread 1", md.classes[1].cleanSpread, 0);
  c("clean mean square 1", md.classes[1].cleanMeanSquare, 1);
  c("dilation", md.dilation, clean0Std / 2);
  c("mean clean mean square", md.cleanMeanSquare, (8 / 3 + 1) / 2);
  // Distances to the class means.
  const [d0Mean, d0Std] = meanStd([Math.sqrt(7.25), Math.sqrt(1.25), 2.5, 4.5]);
  const [d1Mean, d1Std] = meanStd([Math.sqrt(20 / 9), Math.sqrt(104 / 9), Math.sqrt(212 / 9)]);
  c("distance mean 0", md.classes[0].distanceMean, d0Mean);
  c("distance std 0", md.classes[0].distanceStd, d0Std);
  c("distance variance 1", md.classes[1].distanceVariance, d1Std ** 2);
  c("distance std (mean)", md.distanceStd, (d0Std + d1Std) / 2);
  c("distance mean (mean)", md.distanceMean, (d0Mean + d1Mean) / 2);
  // Means and centroids.
  c("m_0.x", md.classes[0].classMean![0], 2.5);
  c("m_1.x", md.classes[1].classMean![0], 14 / 3);
  c("u_0.y", md.classes[0].cleanCentroid![1], 1);
  c("u_1.x", md.classes[1].cleanCentroid![0], 7);
  c("C[0][1].x", md.classes[0].noisyCentroids[1]![0], 7);
  c("C[1][0].y", md.classes[1].noisyCentroids[0]![1], 2);
  strictEqual(md.classes[0].noisyCentroids[0], null);
  // Corruption bias and memorization.
  c("B[0][1]", md.classes[0].corruptionBias[1], 58.5 / Math.sqrt(173));
  c("B[1][0]", md.classes[1].corruptionBias[0], 190 / (3 * Math.sqrt(173)));
  c("corruption bias (mean)", md.corruptionBias, (58.5 + 190 / 3) / Math.sqrt(173) / 2);
  c("memorization per sample", md.memorizationPerSample, (1 + Math.SQRT2) / 2);
  c("memorization per class", md.memorizationPerClass, (1 + Math.SQRT2) / 2);
  c("memorization sum", md.memorizationSum, 1 + Math.SQRT2);
  c("memorization label 1", md.classes[1].memorization.mean, Math.SQRT2);
  c("memorization of original class 1", md.classes[1].memorizationOfOriginalClass.mean, 1);
  strictEqual(md.numNoisy, 2);
  strictEqual(md.numClean, 5);
}

Deno.test("M-D hand-worked 2-class example: every quantity, host and streamed", async () => {
  const batch: FeatureBatch = {
    features: Float64Array.from(flat(MD_ROWS)),
    labels: Int32Array.from(MD_LABELS),
    originalLabels: Int32Array.from(MD_ORIGINALS),
  };
  checkHandWorkedMd(memorizationDilation([batch], 2), 1e-12, "host");
  for (const batchSize of [1, 3, 7]) {
    const metrics = await evaluateSource(
      hostFeatureSource({
        features: Float32Array.from(flat(MD_ROWS)),
        logits: new Float32Array(2 * MD_ROWS.length),
        labels: Int32Array.from(MD_LABELS),
        originalLabels: Int32Array.from(MD_ORIGINALS),
      }, batchSize),
      { numClasses: 2, dim: 2, weight: Float64Array.from([1, 0, 0, 1]), bias: null },
    );
    checkHandWorkedMd(metrics.memorizationDilation, 1e-6, `streamed (batch ${batchSize})`);
  }
});

Deno.test("M-D four-class variant: latent classes (label > 1) are the noisy samples", async () => {
  // Labels 0, 1 clean: (0,0), (2,0) [0]; (6,0), (6,2) [1]. Latent label 2 (of class 0): (1,4);
  // latent label 3 (of class 1): (7,5). u_0 = (1,0), u_1 = (6,1). Memorization: (1,4) to u_0 = 4,
  // (7,5) to u_1 = √17; the reference's four-class helper reports their sum 4 + √17.
  const rows = [[0, 0], [2, 0], [6, 0], [6, 2], [1, 4], [7, 5]];
  const labels = Int32Array.from([0, 0, 1, 1, 2, 3]);
  const originals = Int32Array.from([0, 0, 1, 1, 0, 1]);
  const isNoisy = (label: number) => label > 1;
  const host = memorizationDilation(
    [{ features: Float64Array.from(flat(rows)), labels, originalLabels: originals }],
    4,
    { isNoisy },
  );
  const streamed = (await evaluateSource(
    hostFeatureSource({
      features: Float32Array.from(flat(rows)),
      logits: new Float32Array(4 * rows.length),
      labels,
      originalLabels: originals,
    }, 4),
    { numClasses: 4, dim: 2, weight: new Float64Array(8), bias: null },
    { isNoisy },
  )).memorizationDilation;
  for (
    const [name, md, tolerance] of [["host", host, 1e-12], ["streamed", streamed, 1e-6]] as const
  ) {
    close(md.memorizationSum, 4 + Math.sqrt(17), tolerance, `${name} memorization sum`);
    close(md.memorizationPerSample, (4 + Math.sqrt(17)) / 2, tolerance, `${name} per sample`);
    close(md.dilation, 0, tolerance, `${name} dilation (two equidistant clean points per class)`);
    strictEqual(md.numNoisy, 2);
    close(md.classes[2].noisyCentroids[0]![1], 4, tolerance, `${name} C[2][0].y`);
    close(md.classes[3].noisyCentroids[1]![0], 7, tolerance, `${name} C[3][1].x`);
    close(md.classes[0].memorizationOfOriginalClass.mean, 4, tolerance, `${name} of original 0`);
    ok(Number.isNaN(md.classes[2].cleanSpread), "a latent class has no clean samples");
  }
});

// ---------------------------------------------------------------------------------------------
// Accuracy and calibration.

async function predictions(logits: number[][], labels: number[], topK?: number) {
  const accumulator = new StreamingPredictions(logits[0].length, { topK });
  const x = tf.tensor2d(logits);
  accumulator.add(x, Int32Array.from(labels));
  x.dispose();
  const stats = await accumulator.read();
  accumulator.dispose();
  return predictionMeasures(stats);
}

Deno.test("ECE of a perfectly calibrated toy is 0", async () => {
  // Four samples at confidence 0.75 (logits ln 3, 0), three correct: accuracy 0.75 in that bin.
  // Two at confidence 0.5 (tie: argmax picks class 0), one correct: accuracy 0.5.
  const result = await predictions(
    [[Math.log(3), 0], [Math.log(3), 0], [Math.log(3), 0], [Math.log(3), 0], [0, 0], [0, 0]],
    [0, 0, 0, 1, 0, 1],
  );
  close(result.ece, 0, 1e-6, "ECE");
  close(result.top1, 4 / 6, 1e-12, "top-1");
  strictEqual(result.binCounts[11], 4); // 0.75 in (11/15, 12/15]
  strictEqual(result.binCounts[7], 2); // 0.5 in (7/15, 8/15]
});

Deno.test("ECE of a miscalibrated toy matches the hand computation; top-k", async () => {
  // Four samples at confidence 0.9 (logits ln 9, 0), two correct: |0.9 - 0.5| with weight 4/6.
  // Two at confidence 0.75, both correct: |0.75 - 1| with weight 2/6.
  // ECE = (4·0.4 + 2·0.25)/6 = 0.35.
  const result = await predictions(
    [[Math.log(9), 0], [Math.log(9), 0], [Math.log(9), 0], [Math.log(9), 0], [Math.log(3), 0], [
      Math.log(3),
      0,
    ]],
    [0, 0, 1, 1, 0, 0],
  );
  close(result.ece, 0.35, 1e-6, "ECE");
  close(result.binConfidence[13], 0.9, 1e-6, "mean confidence of bin 13");
  close(result.binAccuracy[13], 0.5, 1e-12, "accuracy of bin 13");
  strictEqual(result.topK, 2); // min(5, K)
  // Top-2 of three classes: logits (3, 2, 1) with label 1 is wrong at top-1, right at top-2.
  const top = await predictions([[3, 2, 1], [3, 2, 1], [1, 2, 3]], [1, 2, 2], 2);
  close(top.top1, 1 / 3, 1e-12, "top-1");
  close(top.topKAccuracy, 2 / 3, 1e-12, "top-2");
});

Deno.test("evaluateSource rejects labels outside [0, K) and mismatched shapes", async () => {
  const classifier: Classifier = { numClasses: 2, dim: 2, weight: new Float64Array(4), bias: null };
  const source = (labels: number[]) =>
    hostFeatureSource({
      features: new Float32Array(2 * labels.length),
      logits: new Float32Array(2 * labels.length),
      labels: Int32Array.from(labels),
    });
  let error: unknown;
  await evaluateSource(source([0, 2]), classifier).catch((e) => (error = e));
  ok(error instanceof RangeError && /labels\[1\] = 2 outside \[0, 2\)/.test(error.message));
  throws(() =>
    hostFeatureSource({
      features: new Float32Array(3),
      logits: new Float32Array(4),
      labels: Int32Array.from([0, 1]),
    })
  );
  strictEqual(tf.memory().numTensors, 0, "nothing leaks on errors");
});
