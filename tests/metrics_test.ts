import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  CentroidAccumulator,
  ClassMoments,
  DistanceAccumulator,
  memorizationDilation,
  nc1,
} from "./metrics_oracle.ts";
import {
  type FeatureBatch,
  identity,
  matMul,
  memorizationDilationMeasures,
  neuralCollapse1,
  pinvSymmetric,
  ScalarMoments,
  symmetricEigen,
  transpose,
} from "../lib/metrics/mod.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

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

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function close(actual: number, expected: number, rel = 1e-12, abs = 1e-12, what = ""): void {
  ok(
    Math.abs(actual - expected) <= abs + rel * Math.abs(expected),
    `${what} expected ${expected}, got ${actual}`,
  );
}

function closeArray(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel = 1e-12,
  abs = 1e-12,
  what = "",
): void {
  strictEqual(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    close(actual[i], expected[i], rel, abs, `${what}[${i}]`);
  }
}

/** Relative closeness of matrices in max-norm, scaled by the larger max entry. */
function closeMatrix(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number): void {
  strictEqual(actual.length, expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    ok(
      Math.abs(actual[i] - expected[i]) <= rel * scale,
      `[${i}] expected ${expected[i]}, got ${actual[i]}`,
    );
  }
}

function batchOf(
  points: number[][],
  labels: number[],
  originalLabels?: number[],
): FeatureBatch {
  return {
    features: Float64Array.from(points.flat()),
    labels: Int32Array.from(labels),
    originalLabels: originalLabels ? Int32Array.from(originalLabels) : undefined,
  };
}

/** Splits a batch into consecutive batches of `size` samples. */
function split(batch: FeatureBatch, size: number): FeatureBatch[] {
  const n = batch.labels.length;
  const d = batch.features.length / n;
  const out: FeatureBatch[] = [];
  for (let start = 0; start < n; start += size) {
    const end = Math.min(n, start + size);
    out.push({
      features: batch.features.slice(start * d, end * d),
      labels: batch.labels.slice(start, end),
      originalLabels: batch.originalLabels?.slice(start, end),
    });
  }
  return out;
}

/** Independent reference eigen-solver for the tests: cyclic Jacobi, values only. */
function jacobiEigenvalues(a: Float64Array, n: number): number[] {
  const m = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (m[p][q] === 0) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p];
          const mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k];
          const mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
      }
    }
  }
  return m.map((row, i) => row[i]).sort((x, y) => y - x);
}

/** Independent pinv of a symmetric PSD matrix for the tests: Jacobi with vectors. */
function jacobiPinv(a: Float64Array, n: number): Float64Array {
  const m = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += m[p][p] ** 2;
      for (let q = p + 1; q < n; q++) off += m[p][q] ** 2;
    }
    if (off <= 1e-32 * diag) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (m[p][q] === 0) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p];
          const mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k];
          const mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = m.map((row, i) => row[i]);
  const cutoff = Math.max(...values.map(Math.abs)) * n * Number.EPSILON;
  const out = new Float64Array(n * n);
  values.forEach((lambda, k) => {
    if (Math.abs(lambda) <= cutoff) return;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) out[i * n + j] += (v[i][k] * v[j][k]) / lambda;
    }
  });
  return out;
}

/** Independent, whole-matrix float64 NC1: direct two-pass formulas of docs/metrics.md#neural-collapse. */
function directNc1(features: ArrayLike<number>, labels: ArrayLike<number>, K: number, d: number) {
  const n = labels.length;
  const counts = new Array(K).fill(0);
  const means = Array.from({ length: K }, () => new Array(d).fill(0));
  const globalMean = new Array(d).fill(0);
  for (let i = 0; i < n; i++) {
    counts[labels[i]]++;
    for (let k = 0; k < d; k++) {
      means[labels[i]][k] += features[i * d + k];
      globalMean[k] += features[i * d + k] / n;
    }
  }
  for (let c = 0; c < K; c++) for (let k = 0; k < d; k++) means[c][k] /= counts[c];
  const sigmaW = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        sigmaW[a * d + b] += (features[i * d + a] - means[labels[i]][a]) *
          (features[i * d + b] - means[labels[i]][b]) / n;
      }
    }
  }
  const sigmaB = new Float64Array(d * d);
  for (let c = 0; c < K; c++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        sigmaB[a * d + b] += (means[c][a] - globalMean[a]) * (means[c][b] - globalMean[b]) / K;
      }
    }
  }
  const inv = jacobiPinv(sigmaB, d);
  let tr = 0;
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) tr += sigmaW[a * d + b] * inv[b * d + a];
  return { nc1: tr / K, sigmaW, sigmaB, means, globalMean };
}

/** Random labelled features: K Gaussian clusters in d dims around well-separated means. */
function randomProblem(seed: number, n: number, K: number, d: number, noiseRate = 0) {
  const random = rng(seed);
  const centers = Array.from(
    { length: K },
    () => Array.from({ length: d }, () => 5 * gaussian(random)),
  );
  const features = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const originalLabels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = Math.floor(random() * K);
    originalLabels[i] = o;
    labels[i] = random() < noiseRate ? Math.floor(random() * K) : o;
    for (let k = 0; k < d; k++) features[i * d + k] = 10 + centers[o][k] + gaussian(random);
  }
  return { features, labels, originalLabels };
}

// ---------------------------------------------------------------------------------------------
// Linear algebra

Deno.test("pinvSymmetric: known matrices", () => {
  // Invertible: [[2,1],[1,2]]^-1 = (1/3) [[2,-1],[-1,2]].
  closeArray(pinvSymmetric(Float64Array.from([2, 1, 1, 2]), 2), [2 / 3, -1 / 3, -1 / 3, 2 / 3]);
  // Singular diagonal: diag(2, 0) -> diag(1/2, 0).
  closeArray(pinvSymmetric(Float64Array.from([2, 0, 0, 0]), 2), [0.5, 0, 0, 0]);
  // Singular rank one: 11ᵀ has eigenvalue 2 on 1/√2 (1, 1), so pinv = 11ᵀ / 4.
  closeArray(pinvSymmetric(Float64Array.from([1, 1, 1, 1]), 2), [0.25, 0.25, 0.25, 0.25]);
  // Rank one in 3-D: v vᵀ with v = (1, 2, 2), ‖v‖² = 9 -> pinv = v vᵀ / 81.
  const v = [1, 2, 2];
  const vvT = Float64Array.from(v.flatMap((a) => v.map((b) => a * b)));
  closeArray(pinvSymmetric(vvT, 3), Array.from(vvT, (x) => x / 81));
  // Zero matrix -> zero matrix.
  closeArray(pinvSymmetric(new Float64Array(9), 3), new Array(9).fill(0));
  // Identity -> identity.
  closeArray(pinvSymmetric(identity(4), 4), identity(4));
  // Rank cap: diag(4, 2, 1) with maxRank 2 inverts only 4 and 2.
  closeArray(pinvSymmetric(Float64Array.from([4, 0, 0, 0, 2, 0, 0, 0, 1]), 3, { maxRank: 2 }), [
    0.25,
    0,
    0,
    0,
    0.5,
    0,
    0,
    0,
    0,
  ]);
  // Relative cutoff: diag(1, 1e-10) with rtol 1e-8 drops 1e-10.
  closeArray(pinvSymmetric(Float64Array.from([1, 0, 0, 1e-10]), 2, { rtol: 1e-8 }), [1, 0, 0, 0]);
});

Deno.test("pinvSymmetric: Moore-Penrose conditions on random low-rank PSD matrices", () => {
  const random = rng(7);
  for (const [d, rank] of [[6, 3], [20, 5], [50, 49]]) {
    const b = new Float64Array(d * d); // d×rank factor padded to d×d
    for (let i = 0; i < d; i++) for (let j = 0; j < rank; j++) b[i * d + j] = gaussian(random);
    const a = matMul(b, transpose(b, d), d); // rank-`rank` PSD
    const p = pinvSymmetric(a, d);
    closeMatrix(matMul(matMul(a, p, d), a, d), a, 1e-10); // A A⁺ A = A
    closeMatrix(matMul(matMul(p, a, d), p, d), p, 1e-8); // A⁺ A A⁺ = A⁺
    closeMatrix(p, transpose(p, d), 1e-12); // A⁺ symmetric
    closeMatrix(p, jacobiPinv(a, d), 1e-8); // agrees with an independent implementation
  }
});

Deno.test("symmetricEigen: reconstruction, orthonormality, agreement with Jacobi", () => {
  const random = rng(11);
  for (const d of [1, 2, 3, 10, 64]) {
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) a[i * d + j] = a[j * d + i] = gaussian(random);
    }
    const { values, vectors } = symmetricEigen(a, d);
    for (let k = 1; k < d; k++) ok(values[k - 1] >= values[k], "descending");
    const scaled = vectors.map((x, idx) => x * values[idx % d]); // V diag(λ)
    closeMatrix(matMul(scaled, transpose(vectors, d), d), a, 1e-12);
    closeMatrix(matMul(transpose(vectors, d), vectors, d), identity(d), 1e-12);
    closeArray(values, jacobiEigenvalues(a, d), 1e-9, 1e-9);
  }
  // Known: [[2,1],[1,2]] has eigenvalues 3 and 1.
  closeArray(symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2).values, [3, 1]);
});

// ---------------------------------------------------------------------------------------------
// NC1

Deno.test("NC1 is 0 on perfectly collapsed features", () => {
  const means = [[1, 2, 3], [-4, 0, 2], [0.5, 7, -1]];
  const points: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 30; i++) {
    points.push(means[i % 3]);
    labels.push(i % 3);
  }
  for (const size of [1, 7, 30]) {
    const result = nc1(split(batchOf(points, labels), size), 3);
    ok(Math.abs(result.nc1) < 1e-20, `nc1 = ${result.nc1}`);
    ok(result.traceSigmaW < 1e-25);
    ok(result.traceSigmaB > 1);
  }
});

Deno.test("NC1 hand-checked on a 2-D, 2-class example with unequal counts", () => {
  // Class 0: (0,0), (2,2)        -> μ0 = (1, 1), deviations ±(1, 1).
  // Class 1: (4,0), (4,1), (4,2) -> μ1 = (4, 1), deviations (0,-1), (0,0), (0,1).
  // N = 5, μG = (2·(1,1) + 3·(4,1)) / 5 = (2.8, 1).
  // Σ_W = (1/5)(2·[[1,1],[1,1]] + 2·[[0,0],[0,1]]) = [[0.4, 0.4], [0.4, 0.8]].
  // μ0 - μG = (-1.8, 0), μ1 - μG = (1.2, 0): Σ_B = (1/2)(3.24 + 1.44) e1e1ᵀ = [[2.34, 0], [0, 0]].
  // pinv(Σ_B) = [[1/2.34, 0], [0, 0]], trace(Σ_W pinv Σ_B) = 0.4 / 2.34, NC1 = 0.2/2.34 = 10/117.
  const batch = batchOf([[0, 0], [2, 2], [4, 0], [4, 1], [4, 2]], [0, 0, 1, 1, 1]);
  const result = nc1([batch], 2);
  close(result.nc1, 10 / 117);
  closeArray(result.sigmaW, [0.4, 0.4, 0.4, 0.8]);
  closeArray(result.sigmaB, [2.34, 0, 0, 0]);
  closeArray(result.globalMean, [2.8, 1]);
  closeArray(result.classMeans[0]!, [1, 1]);
  closeArray(result.classMeans[1]!, [4, 1]);
  close(result.traceSigmaW, 1.2);
  close(result.traceSigmaB, 2.34);
  deepStrictEqual(result.classCounts, [2, 3]);
  strictEqual(result.numSamples, 5);
  strictEqual(result.numClassesPresent, 2);
});

Deno.test("NC1 with K = 2 matches the rank-one closed form on random 2-D data", () => {
  // Σ_B = λ v vᵀ (rank one), so NC1 = (vᵀ Σ_W v / λ) / 2, whatever rounding does elsewhere.
  for (const seed of [31, 32, 33, 34]) {
    const { features, labels } = randomProblem(seed, 57, 2, 2);
    const r = nc1([{ features, labels }], 2);
    const delta = [0, 1].map((k) => r.classMeans[1]![k] - r.classMeans[0]![k]);
    const [n0, n1] = r.classCounts;
    // μ0 - μG = -n1/N δ, μ1 - μG = n0/N δ  =>  λ = (n0² + n1²)/(2N²) ‖δ‖².
    const norm2 = delta[0] ** 2 + delta[1] ** 2;
    const lambda = ((n0 ** 2 + n1 ** 2) / (2 * (n0 + n1) ** 2)) * norm2;
    const [a, b, , c] = r.sigmaW;
    const vSv = (a * delta[0] ** 2 + 2 * b * delta[0] * delta[1] + c * delta[1] ** 2) / norm2;
    close(r.nc1, vSv / lambda / 2, 1e-9);
  }
});

Deno.test("NC1 is unchanged by scaling all features", () => {
  const { features, labels } = randomProblem(3, 200, 4, 6);
  const base = nc1([{ features, labels }], 4).nc1;
  for (const scale of [1e-3, 0.5, 7, 1e4]) {
    const scaled = Float64Array.from(features, (x) => x * scale);
    close(nc1([{ features: scaled, labels }], 4).nc1, base, 1e-10);
  }
});

Deno.test("NC1 streamed over batches equals a direct whole-matrix computation", () => {
  for (const [seed, n, K, d] of [[1, 101, 3, 5], [2, 64, 10, 12], [5, 40, 5, 2]]) {
    const { features, labels } = randomProblem(seed, n, K, d);
    const direct = directNc1(features, labels, K, d);
    for (const size of [1, 7, n]) {
      const result = nc1(split({ features, labels }, size), K);
      close(result.nc1, direct.nc1, 1e-9, 0, `nc1 (batch ${size})`);
      closeMatrix(result.sigmaW, direct.sigmaW, 1e-9);
      closeMatrix(result.sigmaB, direct.sigmaB, 1e-9);
      closeArray(result.globalMean, direct.globalMean, 1e-9);
      direct.means.forEach((mean, c) => closeArray(result.classMeans[c]!, mean, 1e-9));
    }
  }
});

Deno.test("ClassMoments: merge equals sequential add; reset empties", () => {
  const { features, labels } = randomProblem(9, 90, 3, 4);
  const parts = split({ features, labels }, 13);
  const sequential = new ClassMoments(3, 4);
  parts.forEach((part) => sequential.add(part));
  const left = new ClassMoments(3, 4);
  const right = new ClassMoments(3, 4);
  parts.forEach((part, i) => (i % 2 ? left : right).add(part));
  const merged = left.merge(right);
  closeMatrix(merged.withinClassScatter(), sequential.withinClassScatter(), 1e-12);
  close(neuralCollapse1(merged).nc1, neuralCollapse1(sequential).nc1, 1e-12);
  merged.reset();
  strictEqual(merged.totalCount, 0);
  throws(() => neuralCollapse1(merged), /no samples/);
});

Deno.test("NC1: empty classes are excluded from K; fewer than two classes gives NaN", () => {
  // Same as the hand-checked example, with classes 0 and 1 relabelled 0 and 2 of K = 3.
  const batch = batchOf([[0, 0], [2, 2], [4, 0], [4, 1], [4, 2]], [0, 0, 2, 2, 2]);
  const result = nc1([batch], 3);
  strictEqual(result.numClassesPresent, 2);
  strictEqual(result.classMeans[1], null);
  deepStrictEqual(result.classCounts, [2, 0, 3]);
  close(result.nc1, 10 / 117);
  const single = nc1([batchOf([[0, 0], [1, 1]], [1, 1])], 3);
  ok(Number.isNaN(single.nc1));
  throws(() => nc1([], 2), /dimension/);
  throws(() => nc1([batchOf([[0, 0]], [2])], 2), /outside/);
  throws(() => nc1([{ features: new Float32Array(3), labels: new Int32Array(2) }], 2));
});

// ---------------------------------------------------------------------------------------------
// Memorization-dilation

/*
 * Hand-worked M-D example, 2 classes in 2-D (l = training label, o = original label):
 *   p1 (0, 0)  l0 o0 clean        p5 (6, 0)  l1 o1 clean
 *   p2 (2, 0)  l0 o0 clean        p6 (6, 3)  l1 o1 clean
 *   p3 (1, 3)  l0 o0 clean        p7 (6, 6)  l1 o1 clean
 *   p4 (9, 7)  l0 o1 NOISY        p8 (4, 5)  l1 o0 NOISY
 *                                 p9 (1, -1) l1 o0 NOISY
 * Clean centroids: u0 = (3, 3)/3 = (1, 1); u1 = (18, 9)/3 = (6, 3).
 * Clean distances: class 0: √2, √2, 2 -> mean (2√2 + 2)/3, mean square (2+2+4)/3 = 8/3,
 *   variance 8/3 - (2√2+2)²/9 = (12 - 8√2)/9 = 4(√2-1)²/9, spread = 2(√2 - 1)/3.
 *   class 1: 3, 0, 3 -> mean 2, mean square 6, variance 2, spread √2.
 * Dilation = (2(√2 - 1)/3 + √2) / 2.
 * Memorization (distance to the clean centroid of the ORIGINAL class):
 *   p4 to u1: (3, 4) -> 5;  p8 to u0: (3, 4) -> 5;  p9 to u0: (0, -2) -> 2.
 *   by label: class 0 [5] (mean 5, sum 5), class 1 [5, 2] (mean 3.5, sum 7, std 1.5).
 *   by original: class 1 [5], class 0 [5, 2]. All noisy: 12/3 = 4; over classes (5+3.5)/2 = 4.25.
 * Class means: m0 = (12, 10)/4 = (3, 2.5); m1 = (23, 13)/5 = (4.6, 2.6).
 *   ‖h - m0‖²: 15.25, 7.25, 4.25, 56.25 -> mean square 20.75.
 *   ‖h - m1‖²: 8.72, 2.12, 13.52, 6.12, 25.92 -> mean square 11.28.
 * Noisy means: class 0: (9, 7); class 1: ((4+1)/2, (5-1)/2) = (2.5, 2).
 *   C[0][1] = (9, 7), C[1][0] = (2.5, 2), C[0][0] = C[1][1] = null.
 * Corruption bias, m1 - m0 = (1.6, 0.1), ‖·‖ = √2.57:
 *   B[0][1] = ((9,7) - (3,2.5)) · (1.6,0.1)/√2.57 = (6·1.6 + 4.5·0.1)/√2.57 = 10.05/√2.57;
 *   B[1][0] = ((2.5,2) - (4.6,2.6)) · (-1.6,-0.1)/√2.57 = (3.36 + 0.06)/√2.57 = 3.42/√2.57.
 */
const handPoints = [[0, 0], [2, 0], [1, 3], [9, 7], [6, 0], [6, 3], [6, 6], [4, 5], [1, -1]];
const handLabels = [0, 0, 0, 0, 1, 1, 1, 1, 1];
const handOriginals = [0, 0, 0, 1, 1, 1, 1, 0, 0];

function distanceStats(squares: number[]) {
  const distances = squares.map(Math.sqrt);
  const mean = distances.reduce((a, b) => a + b, 0) / distances.length;
  const meanSquare = squares.reduce((a, b) => a + b, 0) / squares.length;
  return { mean, variance: meanSquare - mean * mean };
}

Deno.test("memorization-dilation: every quantity on a hand-worked 2-class example", () => {
  const batch = batchOf(handPoints, handLabels, handOriginals);
  for (const size of [1, 4, 9]) {
    const r = memorizationDilation(split(batch, size), 2);
    const [c0, c1] = r.classes;
    strictEqual(r.numClasses, 2);
    strictEqual(r.dim, 2);
    strictEqual(r.numSamples, 9);
    strictEqual(r.numClean, 6);
    strictEqual(r.numNoisy, 3);
    strictEqual(r.numNoisyWithoutCleanCentroid, 0);
    deepStrictEqual([c0.count, c0.cleanCount, c0.noisyCount], [4, 3, 1]);
    deepStrictEqual([c1.count, c1.cleanCount, c1.noisyCount], [5, 3, 2]);

    // Class means and distances to them.
    closeArray(c0.classMean!, [3, 2.5]);
    closeArray(c1.classMean!, [4.6, 2.6]);
    const d0 = distanceStats([15.25, 7.25, 4.25, 56.25]);
    const d1 = distanceStats([8.72, 2.12, 13.52, 6.12, 25.92]);
    close(c0.distanceMean, d0.mean);
    close(c0.distanceVariance, d0.variance, 1e-10);
    close(c0.distanceStd, Math.sqrt(d0.variance), 1e-10);
    close(c1.distanceMean, d1.mean);
    close(c1.distanceVariance, d1.variance, 1e-10);
    close(r.distanceMean, (d0.mean + d1.mean) / 2);
    close(r.distanceVariance, (d0.variance + d1.variance) / 2, 1e-10);

    // Clean centroids and dilation.
    closeArray(c0.cleanCentroid!, [1, 1]);
    closeArray(c1.cleanCentroid!, [6, 3]);
    close(c0.cleanDistanceMean, (2 * Math.SQRT2 + 2) / 3);
    close(c0.cleanMeanSquare, 8 / 3);
    close(c0.cleanSpread, (2 * (Math.SQRT2 - 1)) / 3, 1e-10);
    close(c1.cleanDistanceMean, 2);
    close(c1.cleanMeanSquare, 6);
    close(c1.cleanSpread, Math.SQRT2);
    close(r.dilation, ((2 * (Math.SQRT2 - 1)) / 3 + Math.SQRT2) / 2, 1e-10);
    close(r.cleanMeanSquare, (8 / 3 + 6) / 2);

    // Noisy means and centroids.
    closeArray(c0.noisyMean!, [9, 7]);
    closeArray(c1.noisyMean!, [2.5, 2]);
    strictEqual(c0.noisyCentroids[0], null);
    closeArray(c0.noisyCentroids[1]!, [9, 7]);
    closeArray(c1.noisyCentroids[0]!, [2.5, 2]);
    strictEqual(c1.noisyCentroids[1], null);

    // Corruption bias.
    ok(Number.isNaN(c0.corruptionBias[0]));
    close(c0.corruptionBias[1], 10.05 / Math.sqrt(2.57));
    close(c1.corruptionBias[0], 3.42 / Math.sqrt(2.57));
    ok(Number.isNaN(c1.corruptionBias[1]));
    close(r.corruptionBias, (10.05 + 3.42) / 2 / Math.sqrt(2.57));

    // Memorization.
    deepStrictEqual(c0.memorization, { count: 1, sum: 5, mean: 5, std: 0 });
    strictEqual(c1.memorization.count, 2);
    close(c1.memorization.sum, 7);
    close(c1.memorization.mean, 3.5);
    close(c1.memorization.std, 1.5);
    strictEqual(c0.memorizationOfOriginalClass.count, 2);
    close(c0.memorizationOfOriginalClass.mean, 3.5);
    close(c1.memorizationOfOriginalClass.mean, 5);
    close(r.memorizationPerSample, 4);
    close(r.memorizationPerClass, 4.25);
    close(r.memorizationSum, 12);
    // Scale: the distance between the clean centroids (1, 1) and (6, 3).
    close(r.cleanCentroidDistance, Math.hypot(5, 2));
  }
});

Deno.test("memorization-dilation: no noisy samples gives NaN memorization, not 0", () => {
  const clean = handOriginals.map((_, i) => handLabels[i]);
  for (const originals of [clean, undefined]) {
    const r = memorizationDilation([batchOf(handPoints, handLabels, originals)], 2);
    strictEqual(r.numNoisy, 0);
    ok(Number.isNaN(r.memorizationPerSample));
    ok(Number.isNaN(r.memorizationPerClass));
    strictEqual(r.memorizationSum, 0);
    for (const c of r.classes) {
      strictEqual(c.memorization.count, 0);
      ok(Number.isNaN(c.memorization.mean));
      ok(Number.isNaN(c.memorization.std));
      strictEqual(c.noisyMean, null);
      ok(c.corruptionBias.every(Number.isNaN));
      deepStrictEqual(c.noisyCentroids, [null, null]);
    }
    ok(r.dilation > 0);
  }
});

Deno.test("memorization-dilation: streamed batches and merged accumulators agree", () => {
  const { features, labels, originalLabels } = randomProblem(21, 150, 4, 3, 0.3);
  const whole = memorizationDilation([{ features, labels, originalLabels }], 4);
  ok(whole.numNoisy > 10);
  for (const size of [1, 7]) {
    const r = memorizationDilation(split({ features, labels, originalLabels }, size), 4);
    close(r.dilation, whole.dilation, 1e-9);
    close(r.memorizationPerSample, whole.memorizationPerSample, 1e-9);
    close(r.memorizationPerClass, whole.memorizationPerClass, 1e-9);
    close(r.distanceStd, whole.distanceStd, 1e-9);
    close(r.corruptionBias, whole.corruptionBias, 1e-9);
  }

  // Merge halves in both passes.
  const parts = split({ features, labels, originalLabels }, 20);
  const [a, b] = [new CentroidAccumulator(4, 3), new CentroidAccumulator(4, 3)];
  parts.forEach((part, i) => (i % 2 ? a : b).add(part));
  const centroids = a.merge(b).centroids();
  const [da, db] = [new DistanceAccumulator(centroids), new DistanceAccumulator(centroids)];
  parts.forEach((part, i) => (i % 2 ? da : db).add(part));
  const merged = memorizationDilationMeasures(da.merge(db));
  close(merged.dilation, whole.dilation, 1e-9);
  close(merged.memorizationPerSample, whole.memorizationPerSample, 1e-9);

  // Direct check of the per-sample memorization and of one clean spread.
  const cleanSums = Array.from({ length: 4 }, () => [0, 0, 0, 0]); // x, y, z, count
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== originalLabels[i]) continue;
    for (let k = 0; k < 3; k++) cleanSums[labels[i]][k] += features[i * 3 + k];
    cleanSums[labels[i]][3]++;
  }
  const u = cleanSums.map((s) => [s[0] / s[3], s[1] / s[3], s[2] / s[3]]);
  const dist = (i: number, c: number) =>
    Math.hypot(
      features[i * 3] - u[c][0],
      features[i * 3 + 1] - u[c][1],
      features[i * 3 + 2] - u[c][2],
    );
  let sum = 0;
  let count = 0;
  const spread0: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== originalLabels[i]) {
      sum += dist(i, originalLabels[i]);
      count++;
    } else if (labels[i] === 0) spread0.push(dist(i, 0));
  }
  close(whole.memorizationPerSample, sum / count, 1e-9);
  const mean0 = spread0.reduce((x, y) => x + y, 0) / spread0.length;
  const var0 = spread0.reduce((x, y) => x + (y - mean0) ** 2, 0) / spread0.length;
  close(whole.classes[0].cleanSpread, Math.sqrt(var0), 1e-9);

  da.reset();
  strictEqual(da.cleanDistance[0].count, 0);
  a.reset();
  strictEqual(a.centroids().classMeans[0], null);
});

Deno.test("memorization-dilation: custom noise rule (four-class problem: noisy when label > 1)", () => {
  // Originals 0/1; labels 2 and 3 are the latent classes of 0 and 1.
  const points = [[0, 0], [2, 0], [6, 0], [6, 6], [1, 4], [6, 7]];
  const labels = [0, 0, 1, 1, 2, 3];
  const originals = [0, 0, 1, 1, 0, 1];
  const r = memorizationDilation([batchOf(points, labels, originals)], 4, {
    isNoisy: (label) => label > 1,
  });
  strictEqual(r.numNoisy, 2);
  // (1, 4) to u0 = (1, 0): 4; (6, 7) to u1 = (6, 3): 4.
  close(r.classes[2].memorization.mean, 4);
  close(r.classes[3].memorization.mean, 4);
  closeArray(r.classes[2].noisyCentroids[0]!, [1, 4]);
  close(r.memorizationPerSample, 4);
  ok(Number.isNaN(r.classes[2].cleanSpread)); // no clean samples labelled 2
  close(r.dilation, 0); // classes 0 and 1: two points each, equidistant from their centroid
});

Deno.test("memorization-dilation: noisy samples without a clean centroid are counted apart", () => {
  // Class 1 has no clean samples, so the noisy sample of original class 1 cannot be measured.
  const r = memorizationDilation([batchOf([[0, 0], [2, 0], [5, 5]], [0, 0, 0], [0, 0, 1])], 2);
  strictEqual(r.numNoisy, 1);
  strictEqual(r.numNoisyWithoutCleanCentroid, 1);
  ok(Number.isNaN(r.memorizationPerSample));
  strictEqual(r.classes[1].cleanCentroid, null);
  ok(Number.isNaN(r.classes[1].distanceMean));
  ok(Number.isNaN(r.classes[0].corruptionBias[1])); // m_1 undefined
});

Deno.test("ScalarMoments: population statistics, merge and sums", () => {
  const values = [3, 1, 4, 1, 5, 9, 2, 6];
  const all = new ScalarMoments();
  values.forEach((x) => all.add(x));
  const mean = values.reduce((a, b) => a + b) / values.length; // 31/8
  const variance = values.reduce((a, x) => a + (x - mean) ** 2, 0) / values.length;
  close(all.mean, mean);
  close(all.variance, variance);
  close(all.sum, 31);
  close(all.sumOfSquares, values.reduce((a, x) => a + x * x, 0));
  const [left, right] = [new ScalarMoments(), new ScalarMoments()];
  values.forEach((x, i) => (i < 3 ? left : right).add(x));
  close(left.merge(right).variance, variance);
  ok(Number.isNaN(new ScalarMoments().std));
});
