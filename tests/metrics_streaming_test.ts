// The backend's streamed metrics against a direct float64 computation over the whole matrix, for
// several batch sizes, on the wasm and the native (openblas) backend, which share one heap; and
// bounded backend memory over 200,000 samples of 512-d features (wasm).
import { ok, strictEqual } from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  type Classifier,
  evaluateSource,
  hostFeatureSource,
  pinvSymmetric,
  StreamingCentroids,
  StreamingClassMoments,
  StreamingDistances,
  StreamingPredictions,
  traceOfProduct,
} from "../lib/metrics/mod.ts";

await initBackend("openblas");
tf.setBackend("wasm");

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

function closeRelative(actual: number, expected: number, rel: number, what: string): void {
  ok(Number.isFinite(expected), `${what}: reference is ${expected}`);
  ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected),
    `${what}: expected ${expected}, got ${actual} (relative error ${
      Math.abs(actual - expected) / Math.abs(expected)
    })`,
  );
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const meanOf = (values: number[]) => sum(values) / values.length;
const stdOf = (values: number[]) => {
  const m = meanOf(values);
  return Math.sqrt(meanOf(values.map((v) => (v - m) ** 2)));
};
const distance = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return Math.sqrt(s);
};

/**
 * Every metric computed directly in float64 from the whole feature matrix, by the textbook
 * formulas (docs/metrics.md), independently of the accumulators.
 */
function direct(
  features: Float32Array,
  logits: Float32Array,
  labels: Int32Array,
  originals: Int32Array,
  classifier: Classifier,
) {
  const { numClasses: K, dim: d } = classifier;
  const n = labels.length;
  const row = (i: number) => Array.from(features.subarray(i * d, (i + 1) * d));
  const mean = (indices: number[]) => {
    const m = new Array(d).fill(0);
    for (const i of indices) row(i).forEach((v, k) => (m[k] += v / indices.length));
    return m;
  };
  const byClass = Array.from(
    { length: K },
    (_, c) => [...labels.keys()].filter((i) => labels[i] === c),
  );
  const means = byClass.map(mean);
  const global = mean([...labels.keys()]);
  const sigmaW = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const diff = row(i).map((v, k) => v - means[labels[i]][k]);
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) sigmaW[a * d + b] += diff[a] * diff[b] / n;
    }
  }
  const sigmaB = new Float64Array(d * d);
  for (const m of means) {
    const diff = m.map((v, k) => v - global[k]);
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) sigmaB[a * d + b] += diff[a] * diff[b] / K;
    }
  }
  const nc1 = traceOfProduct(sigmaW, pinvSymmetric(sigmaB, d, { maxRank: K - 1 }), d) / K;
  const etf = (gram: number[][]) => {
    const norm = Math.sqrt(sum(gram.flat().map((v) => v * v)));
    return Math.sqrt(
      sum(
        gram.flatMap((r, i) =>
          r.map((v, j) => (v / norm - ((i === j ? 1 : 0) - 1 / K) / Math.sqrt(K - 1)) ** 2)
        ),
      ),
    );
  };
  const w = Array.from(
    { length: K },
    (_, c) => Array.from(classifier.weight.subarray(c * d, (c + 1) * d)),
  );
  const h = means.map((m) => m.map((v, k) => v - global[k]));
  const dot = (a: number[], b: number[]) => sum(a.map((v, k) => v * b[k]));
  const nc2 = etf(w.map((a) => w.map((b) => dot(a, b))));
  const nc3 = etf(w.map((a) => h.map((b) => dot(a, b))));
  const nc4 = Math.sqrt(sum(w.map((a, c) => (dot(a, global) - classifier.bias![c]) ** 2)));
  const variances = byClass.map((idx, c) =>
    meanOf(idx.map((i) => distance(row(i), means[c]) ** 2))
  );
  const cdnvs: number[] = [];
  for (let c = 0; c < K; c++) {
    for (let c2 = 0; c2 < K; c2++) {
      if (c !== c2) {
        cdnvs.push((variances[c] + variances[c2]) / (2 * distance(means[c], means[c2]) ** 2));
      }
    }
  }
  // Predictions, calibration (15 bins (b/15, (b+1)/15]) and nearest-class-centre agreement.
  let correct = 0;
  let agreements = 0;
  const binConfidence = new Array(15).fill(0);
  const binCorrect = new Array(15).fill(0);
  for (let i = 0; i < n; i++) {
    const z = Array.from(logits.subarray(i * K, (i + 1) * K));
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const p = e.map((v) => v / sum(e));
    const predicted = p.indexOf(Math.max(...p));
    const confidence = p[predicted];
    const bin = Math.min(14, Math.max(0, Math.ceil(confidence * 15) - 1));
    binConfidence[bin] += confidence;
    binCorrect[bin] += predicted === labels[i] ? 1 : 0;
    correct += predicted === labels[i] ? 1 : 0;
    const centreDistances = means.map((m) => distance(row(i), m));
    agreements += centreDistances.indexOf(Math.min(...centreDistances)) === predicted ? 1 : 0;
  }
  const ece = sum(binConfidence.map((c, b) => Math.abs(c - binCorrect[b]))) / n;
  // M-D.
  const isNoisy = (i: number) => labels[i] !== originals[i];
  const clean = byClass.map((idx) => idx.filter((i) => !isNoisy(i)));
  const cleanCentroids = clean.map(mean);
  const spreads = clean.map((idx, c) => stdOf(idx.map((i) => distance(row(i), cleanCentroids[c]))));
  const distanceStd = meanOf(
    byClass.map((idx, c) => stdOf(idx.map((i) => distance(row(i), means[c])))),
  );
  const memorization = [...labels.keys()].filter(isNoisy).map((i) =>
    distance(row(i), cleanCentroids[originals[i]])
  );
  const biases: number[] = [];
  for (let c = 0; c < K; c++) {
    const noisyMean = mean(byClass[c].filter(isNoisy));
    for (let j = 0; j < K; j++) {
      if (j === c) continue;
      const direction = means[j].map((v, k) => v - means[c][k]);
      biases.push(
        dot(noisyMean.map((v, k) => v - means[c][k]), direction) /
          Math.sqrt(dot(direction, direction)),
      );
    }
  }
  return {
    nc1,
    nc2,
    nc3,
    nc4,
    cdnv: meanOf(cdnvs),
    traceSigmaW: sum(Array.from({ length: d }, (_, k) => sigmaW[k * d + k])),
    top1: correct / n,
    ece,
    nccAgreement: agreements / n,
    dilation: meanOf(spreads),
    distanceStd,
    memorization: meanOf(memorization),
    corruptionBias: meanOf(biases),
  };
}

const BACKEND_BATCH_SIZES = [
  ...[1, 37, 256, 1500].map((size) => ["wasm", size] as const),
  ...[37, 1500].map((size) => ["openblas", size] as const),
];

Deno.test("streamed metrics equal a direct float64 computation to 1e-6 relative, for several batch sizes, on wasm and openblas", async () => {
  const random = rng(2024);
  const n = 1500;
  const d = 12;
  const K = 3;
  const originals = Int32Array.from({ length: n }, () => Math.floor(random() * K));
  const labels = originals.map((o) => (random() < 0.25 ? Math.floor(random() * K) : o));
  // Features offset from the origin (3 + ...), class structure in some coordinates, and noise:
  // far from collapse, and an offset that would cost digits without the streamed shift.
  const features = Float32Array.from({ length: n * d }, (_, t) => {
    const i = Math.floor(t / d);
    const k = t % d;
    return 3 + labels[i] * ((k % 3) - 1) * 0.8 + random();
  });
  const logits = Float32Array.from({ length: n * K }, () => 4 * random() - 2);
  const classifier: Classifier = {
    numClasses: K,
    dim: d,
    weight: Float64Array.from({ length: K * d }, () => random() - 0.5),
    bias: Float64Array.from({ length: K }, () => random()),
  };
  const expected = direct(features, logits, labels, originals, classifier);
  for (const [backend, batchSize] of BACKEND_BATCH_SIZES) {
    tf.setBackend(backend);
    const m = await evaluateSource(
      hostFeatureSource({ features, logits, labels, originalLabels: originals }, batchSize),
      classifier,
    ).finally(() => tf.setBackend("wasm"));
    const check = (what: string, actual: number, reference: number) =>
      closeRelative(actual, reference, 1e-6, `${what} (${backend}, batch ${batchSize})`);
    check("NC1", m.collapse.nc1, expected.nc1);
    check("NC2", m.collapse.nc2, expected.nc2);
    check("NC3", m.collapse.nc3, expected.nc3);
    check("NC4", m.collapse.nc4, expected.nc4);
    check("CDNV", m.collapse.cdnv, expected.cdnv);
    check("trace Σ_W", m.collapse.traceSigmaW, expected.traceSigmaW);
    check("top-1", m.predictions.top1, expected.top1);
    check("ECE", m.predictions.ece, expected.ece);
    check("NCC agreement", m.nccAgreement, expected.nccAgreement);
    check("dilation", m.memorizationDilation.dilation, expected.dilation);
    check("distance std", m.memorizationDilation.distanceStd, expected.distanceStd);
    check("memorization", m.memorizationDilation.memorizationPerSample, expected.memorization);
    check("corruption bias", m.memorizationDilation.corruptionBias, expected.corruptionBias);
  }
  strictEqual(tf.memory().numTensors, 0, "the evaluation frees every tensor");
});

Deno.test("zeroFeatureFraction counts the samples whose whole feature vector is 0, over batches", async () => {
  // ReLU-like 2-d features: some rows exactly 0 in both units (counted), some 0 in one (not).
  const random = rng(7);
  const n = 301;
  const K = 2;
  const kind = Array.from({ length: n }, () => Math.floor(random() * 3)); // 0: both off
  const features = Float32Array.from({ length: 2 * n }, (_, t) => {
    const [i, k] = [Math.floor(t / 2), t % 2];
    return kind[i] === 0 || (kind[i] === 1 && k === 0) ? 0 : 0.1 + random();
  });
  const labels = Int32Array.from({ length: n }, (_, i) => i % K);
  const logits = Float32Array.from({ length: n * K }, () => random());
  const classifier: Classifier = {
    numClasses: K,
    dim: 2,
    weight: Float64Array.from([1, -1, -1, 1]),
    bias: Float64Array.from([0, 0]),
  };
  const expected = kind.filter((k) => k === 0).length / n;
  ok(expected > 0.2 && expected < 0.5, "the fixture has both kinds of rows");
  for (const [backend, batchSize] of BACKEND_BATCH_SIZES) {
    tf.setBackend(backend);
    const m = await evaluateSource(
      hostFeatureSource({ features, logits, labels, originalLabels: labels }, batchSize),
      classifier,
    ).finally(() => tf.setBackend("wasm"));
    strictEqual(m.zeroFeatureFraction, expected, `${backend}, batch ${batchSize}`);
  }
});

Deno.test("accumulating 200,000 random 512-d samples keeps backend tensors and bytes constant", async () => {
  const K = 10;
  const d = 512;
  const batch = 1000;
  const batches = 200;
  const random = rng(5);
  const moments = new StreamingClassMoments(K, d);
  const logitMoments = new StreamingClassMoments(K, K);
  const predictions = new StreamingPredictions(K);
  const centroidPass = new StreamingCentroids(K, d);
  // The second pass needs centroids: any will do for a memory test.
  const empty = new StreamingCentroids(K, d);
  const centroids = await empty.read();
  empty.dispose();
  centroids.classMeans = centroids.classMeans.map(() => new Float64Array(d));
  centroids.cleanCentroids = centroids.cleanCentroids.map(() => new Float64Array(d));
  const distancePass = new StreamingDistances(centroids, centroids.classMeans);
  const before = tf.memory();
  let afterFirst: { numTensors: number; numBytes: number } | undefined;
  for (let b = 0; b < batches; b++) {
    const labels = Int32Array.from({ length: batch }, () => Math.floor(random() * K));
    const originals = labels.map((c) => (random() < 0.2 ? (c + 1) % K : c));
    const features = tf.randomNormal([batch, d], 0, 1, "float32", b) as tf.Tensor2D;
    const logits = tf.randomNormal([batch, K], 0, 1, "float32", 1000 + b) as tf.Tensor2D;
    moments.add(features, labels);
    logitMoments.add(logits, labels);
    predictions.add(logits, labels);
    centroidPass.add(features, labels, originals);
    distancePass.add(features, logits, labels, originals);
    tf.dispose([features, logits]);
    const { numTensors, numBytes } = tf.memory();
    if (afterFirst === undefined) afterFirst = { numTensors, numBytes };
    else {
      strictEqual(numTensors, afterFirst.numTensors, `tensor count after batch ${b + 1}`);
      strictEqual(numBytes, afterFirst.numBytes, `bytes after batch ${b + 1}`);
    }
  }
  // Nothing grew with the batches: the accumulators' state was allocated up front.
  strictEqual(afterFirst!.numTensors, before.numTensors);
  strictEqual(afterFirst!.numBytes, before.numBytes);
  const stats = await moments.read();
  strictEqual(stats.totalCount, batches * batch);
  // Standard normal features: E‖h - μ_c‖² = d per sample, so trace(Σ_W) ≈ 512.
  const traceSigmaW = Array.from({ length: d }, (_, k) => stats.withinClassScatter()[k * d + k])
    .reduce((a, b) => a + b, 0) / stats.totalCount;
  ok(Math.abs(traceSigmaW - d) < 2, `trace Σ_W = ${traceSigmaW}`);
  for (const accumulator of [moments, logitMoments, predictions, centroidPass, distancePass]) {
    accumulator.dispose();
  }
  strictEqual(tf.memory().numTensors, 0);
});
