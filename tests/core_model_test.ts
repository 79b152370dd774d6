/**
 * Model, losses and optimizer on the deterministic WASM backend: MLP shapes, parameter count,
 * forward pass and batch norm checked against a host (float64) re-computation from the model's
 * own weights, CE / LS values and gradients worked by hand, SGD with momentum and coupled
 * weight decay worked by hand, the learning-rate schedule, accuracy and chunked prediction.
 */
import { deepEqual, equal, notDeepEqual, ok, rejects, throws } from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { Random } from "../lib/data/random.ts";
import type { Split } from "../lib/data/mod.ts";
import { crossEntropy, labelSmoothing, lossFor } from "../lib/losses/mod.ts";
import { Mlp, type MlpConfig } from "../lib/models/mod.ts";
import { accuracy, predict, Sgd, stepDecayLr, trainModel } from "../lib/training/mod.ts";

await initBackend("wasm");

// ---------------------------------------------------------------------------------------------
// Helpers

function close(actual: number, expected: number, tolerance: number, what = ""): void {
  ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} +- ${tolerance}, got ${actual}`,
  );
}

function closeArray(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what = "",
) {
  equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], tol, `${what}[${i}]`);
}

type Matrix = number[][];

function matVec(x: Matrix, w: Matrix, b?: number[]): Matrix {
  // x: n x in, w: in x out (the model's storage layout), b: out.
  return x.map((row) =>
    w[0].map((_, j) => row.reduce((s, v, k) => s + v * w[k][j], 0) + (b ? b[j] : 0))
  );
}

const relu = (m: Matrix): Matrix => m.map((r) => r.map((v) => Math.max(0, v)));

function batchNormTrain(m: Matrix): { out: Matrix; mean: number[]; variance: number[] } {
  // PyTorch training-mode BN with gamma 1, beta 0: biased batch variance, eps 1e-5.
  const n = m.length;
  const mean = m[0].map((_, j) => m.reduce((s, r) => s + r[j], 0) / n);
  const variance = m[0].map((_, j) => m.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n);
  return {
    out: m.map((r) => r.map((v, j) => (v - mean[j]) / Math.sqrt(variance[j] + 1e-5))),
    mean,
    variance,
  };
}

function smallConfig(overrides: Partial<MlpConfig> = {}): MlpConfig {
  return {
    inputSize: 5,
    width: 7,
    depth: 3,
    classes: 3,
    featureDim: 3,
    actFn: "relu",
    useBn: false,
    bias: true,
    ...overrides,
  };
}

function randomInputs(rows: number, cols: number, seed: number): Matrix {
  const rng = new Random(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
}

function weightsOf(model: Mlp) {
  return {
    hidden: model.hidden.map((layer) => ({
      w: layer.weight.arraySync() as Matrix,
      b: layer.bias?.arraySync() as number[] | undefined,
    })),
    classifier: {
      w: model.classifier.weight.arraySync() as Matrix,
      b: model.classifier.bias?.arraySync() as number[] | undefined,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MLP

Deno.test("Mlp: the paper's MLP (depth 9, width 2048, BN, 2 classes) has 35,704,844 parameters", () => {
  // PyTorch count (weights + biases + BN affine; running stats are buffers, not parameters):
  //   Linear(3072, 2048) + BN(2048):       3072*2048 + 2048 + 2*2048 =  6,297,600
  //   7 x [Linear(2048, 2048) + BN(2048)]: 7 * (2048*2048 + 2048 + 4096) = 29,403,136
  //   Linear(2048, 2) + BN(2):              2048*2 + 2 + 2*2     =      4,102
  //   classifier Linear(2, 2):              2*2 + 2              =          6
  //   total                                                        = 35,704,844
  const model = new Mlp({
    inputSize: 3072,
    width: 2048,
    depth: 9,
    classes: 2,
    featureDim: 2,
    actFn: "relu",
    useBn: true,
    bias: true,
  }, 42);
  try {
    equal(model.parameterCount(), 35_704_844);
    equal(model.hidden.length, 9);
    deepEqual(model.hidden[0].weight.shape, [3072, 2048]);
    deepEqual(model.hidden[8].weight.shape, [2048, 2]);
    deepEqual(model.classifier.weight.shape, [2, 2]);
    equal(model.norms.filter((n) => n !== undefined).length, 9);
    // The saved state adds the running statistics: 2 * (8 * 2048 + 2) buffers.
    const stateSize = model.state().reduce((s, p) => s + p.variable.size, 0);
    equal(stateSize, 35_704_844 + 2 * (8 * 2048 + 2));
  } finally {
    model.dispose();
  }
});

Deno.test("Mlp: shapes, parameter names and counts of a small MLP", () => {
  // inputSize 5, width 7, depth 3, K = P = 3, no BN:
  //   fc0 5x7 + 7, fc1 7x7 + 7, fc2 7x3 + 3, classifier 3x3 + 3 = 42 + 56 + 24 + 12 = 134.
  const model = new Mlp(smallConfig(), 1);
  try {
    equal(model.parameterCount(), 134);
    deepEqual(model.trainable().map((p) => p.name), [
      "fc0.weight",
      "fc0.bias",
      "fc1.weight",
      "fc1.bias",
      "fc2.weight",
      "fc2.bias",
      "classifier.weight",
      "classifier.bias",
    ]);
    const x = tf.tensor2d(randomInputs(4, 5, 3));
    const out = model.forward(x, false);
    deepEqual(out.features.shape, [4, 3]);
    deepEqual(out.logits.shape, [4, 3]);
    equal(out.batchStats.length, 0);
    tf.dispose([x, out.features, out.logits]);
  } finally {
    model.dispose();
  }
  // With BN: each hidden layer and the feature layer (activation not none) get BN.
  const bn = new Mlp(smallConfig({ useBn: true }), 1);
  try {
    equal(bn.parameterCount(), 134 + 2 * (7 + 7 + 3));
    ok(bn.trainable().some((p) => p.name === "bn2.weight"));
    deepEqual(
      bn.state().slice(-2).map((p) => p.name),
      ["bn2.running_mean", "bn2.running_var"],
    );
  } finally {
    bn.dispose();
  }
  // With BN and no activation: the feature layer has no BN (docs/reference.md#models).
  const linear = new Mlp(smallConfig({ useBn: true, actFn: "none" }), 1);
  try {
    equal(linear.norms[2], undefined);
    equal(linear.parameterCount(), 134 + 2 * (7 + 7));
  } finally {
    linear.dispose();
  }
});

Deno.test("Mlp: initialisation is PyTorch's uniform(+-1/sqrt(fan_in)), fixed by the seed", () => {
  const config = smallConfig({ inputSize: 3072, width: 64, depth: 2 });
  const a = new Mlp(config, 6);
  const b = new Mlp(config, 6);
  const c = new Mlp(config, 7);
  try {
    const w0 = a.hidden[0].weight.dataSync() as Float32Array;
    deepEqual(w0, b.hidden[0].weight.dataSync());
    notDeepEqual(w0, c.hidden[0].weight.dataSync());
    const bound = 1 / Math.sqrt(3072);
    ok(w0.every((v) => Math.abs(v) <= bound));
    // Variance of U(-b, b) is b^2/3; with n = 196608 draws the sample variance is within
    // 4 * sqrt(Var(w^2) / n) = 4 * sqrt(4 b^4 / 45 / n).
    const n = w0.length;
    const variance = w0.reduce((s, v) => s + v * v, 0) / n;
    close(variance, bound ** 2 / 3, 4 * Math.sqrt((4 * bound ** 4) / 45 / n), "init variance");
    ok(a.hidden[1].weight.dataSync().every((v) => Math.abs(v) <= 1 / Math.sqrt(64)));
    ok(a.classifier.weight.dataSync().every((v) => Math.abs(v) <= 1 / Math.sqrt(3)));
  } finally {
    [a, b, c].forEach((m) => m.dispose());
  }
});

Deno.test("Mlp: forward pass equals a float64 recomputation from its weights; ReLU features >= 0", () => {
  const model = new Mlp(smallConfig(), 3);
  try {
    const xs = randomInputs(6, 5, 4);
    const x = tf.tensor2d(xs);
    const out = model.forward(x, true);
    const W = weightsOf(model);
    // relu(relu(relu(x W0 + b0) W1 + b1) W2 + b2) = features; features Wc + bc = logits.
    let h = xs;
    for (const layer of W.hidden) h = relu(matVec(h, layer.w, layer.b));
    const logits = matVec(h, W.classifier.w, W.classifier.b);
    closeArray(out.features.dataSync(), h.flat(), 1e-5, "features");
    closeArray(out.logits.dataSync(), logits.flat(), 1e-5, "logits");
    ok(out.features.dataSync().every((v) => v >= 0));
    tf.dispose([x, out.features, out.logits]);
  } finally {
    model.dispose();
  }
  // Sigmoid features lie in (0, 1); without activation they can be negative.
  for (const actFn of ["sigmoid", "none"] as const) {
    const m = new Mlp(smallConfig({ actFn }), 3);
    const x = tf.tensor2d(randomInputs(20, 5, 5));
    const { features, logits } = m.forward(x, false);
    const f = features.dataSync();
    if (actFn === "sigmoid") ok(f.every((v) => v > 0 && v < 1));
    else ok(f.some((v) => v < 0));
    tf.dispose([x, features, logits]);
    m.dispose();
  }
});

Deno.test("Mlp: batch norm uses batch statistics in training, running ones in evaluation", () => {
  const model = new Mlp(smallConfig({ depth: 2, useBn: true }), 8);
  try {
    const xs = randomInputs(5, 5, 9);
    const x = tf.tensor2d(xs);
    const W = weightsOf(model);
    // Training mode: Linear -> BN (batch mean, biased variance) -> ReLU, twice; then classifier.
    const z0 = matVec(xs, W.hidden[0].w, W.hidden[0].b);
    const bn0 = batchNormTrain(z0);
    const z1 = matVec(relu(bn0.out), W.hidden[1].w, W.hidden[1].b);
    const bn1 = batchNormTrain(z1);
    const features = relu(bn1.out);
    const train = model.forward(x, true);
    closeArray(train.features.dataSync(), features.flat(), 1e-4, "train features");
    closeArray(
      train.logits.dataSync(),
      matVec(features, W.classifier.w, W.classifier.b).flat(),
      1e-4,
      "train logits",
    );
    equal(train.batchStats.length, 2);
    equal(train.batchStats[0].count, 5);
    closeArray(train.batchStats[0].mean.dataSync(), bn0.mean, 1e-5, "batch mean");
    closeArray(train.batchStats[0].variance.dataSync(), bn0.variance, 1e-5, "batch variance");

    // Evaluation mode before any update: running mean 0, var 1, so BN is v / sqrt(1 + 1e-5).
    const scale = 1 / Math.sqrt(1 + 1e-5);
    const e0 = relu(z0.map((r) => r.map((v) => v * scale)));
    const e1 = relu(matVec(e0, W.hidden[1].w, W.hidden[1].b).map((r) => r.map((v) => v * scale)));
    const evalOut = model.forward(x, false);
    closeArray(evalOut.features.dataSync(), e1.flat(), 1e-5, "eval features");

    // Running statistics as PyTorch: momentum 0.1, unbiased variance (n/(n-1) = 5/4).
    model.updateRunningStats(train.batchStats);
    const norm = model.norms[0]!;
    closeArray(norm.runningMean.dataSync(), bn0.mean.map((m) => 0.1 * m), 1e-5, "running mean");
    closeArray(
      norm.runningVar.dataSync(),
      bn0.variance.map((v) => 0.9 + 0.1 * v * 5 / 4),
      1e-5,
      "running var",
    );
    tf.dispose([x, train.features, train.logits, evalOut.features, evalOut.logits]);
    train.batchStats.forEach((s) => tf.dispose([s.mean, s.variance]));
  } finally {
    model.dispose();
  }
});

Deno.test("Mlp: --no-bias gives a classifier without bias", () => {
  const withBias = new Mlp(smallConfig(), 2);
  const noBias = new Mlp(smallConfig({ bias: false }), 2);
  try {
    equal(noBias.classifier.bias, undefined);
    ok(!noBias.trainable().some((p) => p.name === "classifier.bias"));
    // The hidden layers keep their biases; only the K classifier biases go.
    ok(noBias.trainable().some((p) => p.name === "fc0.bias"));
    equal(noBias.parameterCount(), withBias.parameterCount() - 3);
    // logits = features Wc exactly.
    const xs = randomInputs(4, 5, 1);
    const x = tf.tensor2d(xs);
    const { features, logits } = noBias.forward(x, false);
    const f = features.arraySync() as Matrix;
    closeArray(
      logits.dataSync(),
      matVec(f, noBias.classifier.weight.arraySync() as Matrix).flat(),
      1e-6,
      "logits",
    );
    tf.dispose([x, features, logits]);
  } finally {
    withBias.dispose();
    noBias.dispose();
  }
});

Deno.test("Mlp: load() restores a saved state; a missing tensor is an error", () => {
  const source = new Mlp(smallConfig({ useBn: true }), 1);
  const target = new Mlp(smallConfig({ useBn: true }), 2);
  try {
    const x = tf.tensor2d(randomInputs(3, 5, 7));
    const stats = source.forward(x, true);
    source.updateRunningStats(stats.batchStats);
    const values = new Map(
      source.state().map((p) => [p.name, p.variable.dataSync() as Float32Array]),
    );
    target.load(values);
    const a = source.forward(x, false);
    const b = target.forward(x, false);
    deepEqual(b.logits.dataSync(), a.logits.dataSync());
    values.delete("bn1.running_var");
    throws(() => target.load(values), /bn1\.running_var/);
    tf.dispose([x, stats.features, stats.logits, a.features, a.logits, b.features, b.logits]);
    stats.batchStats.forEach((s) => tf.dispose([s.mean, s.variance]));
  } finally {
    source.dispose();
    target.dispose();
  }
});

// ---------------------------------------------------------------------------------------------
// Losses

function lossValue(fn: (l: tf.Tensor2D, y: tf.Tensor1D) => tf.Scalar, logits: Matrix, y: number[]) {
  return tf.tidy(() => fn(tf.tensor2d(logits), tf.tensor1d(y, "int32")).dataSync()[0]);
}

Deno.test("losses: CE and LS on logits [[2, 0]], label 0, by hand", () => {
  // p0 = e^2/(e^2 + 1) = 1/(1 + e^-2), p1 = e^-2/(1 + e^-2).
  // CE = -log p0 = log(1 + e^-2) = 0.126928.
  const ce = Math.log(1 + Math.exp(-2));
  close(lossValue(crossEntropy, [[2, 0]], [0]), ce, 1e-6, "CE");
  close(ce, 0.126928, 1e-6, "hand value");
  // LS alpha 0.1, K = 2: q = [0.9 + 0.05, 0.05] = [0.95, 0.05];
  // loss = -(0.95 log p0 + 0.05 log p1) = 0.95 ce + 0.05 (2 + ce) = ce + 0.1 = 0.226928.
  const ls = -(0.95 * Math.log(1 / (1 + Math.exp(-2))) +
    0.05 * Math.log(Math.exp(-2) / (1 + Math.exp(-2))));
  close(ls, ce + 0.1, 1e-12, "LS identity");
  close(lossValue(labelSmoothing(0.1), [[2, 0]], [0]), ls, 1e-6, "LS");
  // Label 1: CE = -log p1 = 2 + ce.
  close(lossValue(crossEntropy, [[2, 0]], [1]), 2 + ce, 1e-5, "CE label 1");
  // alpha 0 is CE; lossFor picks by name.
  close(lossValue(labelSmoothing(0), [[2, 0]], [0]), ce, 1e-6, "LS(0)");
  close(lossValue(lossFor({ loss: "LS", ls_alpha: 0.1 }), [[2, 0]], [0]), ls, 1e-6, "lossFor LS");
  close(lossValue(lossFor({ loss: "CrossEntropy", ls_alpha: 0.1 }), [[2, 0]], [0]), ce, 1e-6);
  throws(() => lossFor({ loss: "Foo" as "LS", ls_alpha: 0 }), /Foo/);
});

Deno.test("losses: a 3-class batch, CE and LS, batch mean", () => {
  // Row 1: logits [1, 2, 3], label 2. log-sum-exp = 3 + L with L = log(1 + e^-1 + e^-2)
  //   = log(1.503215) = 0.407606, so CE_1 = L.
  // Row 2: logits [0, 0, 0], label 1: p = 1/3, CE_2 = log 3 = 1.098612.
  // CE = (L + log 3) / 2 = 0.753109.
  const L = Math.log(1 + Math.exp(-1) + Math.exp(-2));
  close(L, 0.407606, 1e-6, "L");
  const logits = [[1, 2, 3], [0, 0, 0]];
  close(lossValue(crossEntropy, logits, [2, 1]), (L + Math.log(3)) / 2, 1e-6, "CE");
  // LS alpha 0.3, K = 3: q = 0.7 onehot + 0.1.
  // Row 1: -log p = [2 + L, 1 + L, L]; loss = 0.7 L + 0.1 (3 + 3L) = L + 0.3 = 0.707606.
  // Row 2: every -log p_k = log 3 and q sums to 1: loss = log 3.
  // LS = (L + 0.3 + log 3) / 2 = 0.903109.
  close(lossValue(labelSmoothing(0.3), logits, [2, 1]), (L + 0.3 + Math.log(3)) / 2, 1e-6, "LS");
});

Deno.test("losses: the CE gradient is (softmax - onehot) / batch", () => {
  // d/dz of mean CE over a batch of 1 with z = [2, 0], y = 0: [p0 - 1, p1] = [-s, s] with
  // s = e^-2 / (1 + e^-2) = 0.119203.
  const s = Math.exp(-2) / (1 + Math.exp(-2));
  const grad = tf.tidy(() =>
    tf.grad((z: tf.Tensor) => crossEntropy(z as tf.Tensor2D, tf.tensor1d([0], "int32")))(
      tf.tensor2d([[2, 0]]),
    ).dataSync()
  );
  closeArray(grad, [-s, s], 1e-6, "grad");
  // Batch of 2 identical rows: each row's gradient halves.
  const grad2 = tf.tidy(() =>
    tf.grad((z: tf.Tensor) => crossEntropy(z as tf.Tensor2D, tf.tensor1d([0, 0], "int32")))(
      tf.tensor2d([[2, 0], [2, 0]]),
    ).dataSync()
  );
  closeArray(grad2, [-s / 2, s / 2, -s / 2, s / 2], 1e-6, "grad2");
});

// ---------------------------------------------------------------------------------------------
// Optimizer and schedule

Deno.test("Sgd: two steps with momentum 0.9 and coupled weight decay, by hand", () => {
  // theta0 = [1, -2], wd = 0.1.
  // Step 1 (lr 0.5), g1 = [0.5, 0.5]: d1 = g1 + 0.1 theta0 = [0.6, 0.3]; the momentum buffer
  //   starts as d1 (PyTorch): v1 = [0.6, 0.3]; theta1 = theta0 - 0.5 v1 = [0.7, -2.15].
  // Step 2 (lr 0.1), g2 = [-1, 2]: d2 = g2 + 0.1 theta1 = [-0.93, 1.785];
  //   v2 = 0.9 v1 + d2 = [0.54 - 0.93, 0.27 + 1.785] = [-0.39, 2.055];
  //   theta2 = theta1 - 0.1 v2 = [0.739, -2.3555].
  const theta = tf.variable(tf.tensor1d([1, -2]));
  const sgd = new Sgd(0.1);
  equal(sgd.momentum, 0.9);
  const g1 = tf.tensor1d([0.5, 0.5]);
  sgd.step(new Map([[theta, g1]]), 0.5);
  closeArray(theta.dataSync(), [0.7, -2.15], 1e-6, "theta1");
  const g2 = tf.tensor1d([-1, 2]);
  sgd.step(new Map([[theta, g2]]), 0.1);
  closeArray(theta.dataSync(), [0.739, -2.3555], 1e-6, "theta2");
  sgd.dispose();
  tf.dispose([theta, g1, g2]);

  // Without weight decay, plain momentum: theta = 3, g = 1 twice, lr 1:
  //   v1 = 1, theta1 = 2; v2 = 0.9 + 1 = 1.9, theta2 = 0.1.
  const t = tf.variable(tf.tensor1d([3]));
  const plain = new Sgd(0);
  const one = tf.tensor1d([1]);
  plain.step(new Map([[t, one]]), 1);
  plain.step(new Map([[t, one]]), 1);
  closeArray(t.dataSync(), [0.1], 1e-6, "no decay");
  plain.dispose();
  tf.dispose([t, one]);
});

Deno.test("stepDecayLr: lr * gamma^floor(epoch / patience)", () => {
  const config = { lr: 0.1, gamma: 0.1, patience: 40 };
  close(stepDecayLr(config, 0), 0.1, 1e-15);
  close(stepDecayLr(config, 39), 0.1, 1e-15);
  close(stepDecayLr(config, 40), 0.01, 1e-15);
  close(stepDecayLr(config, 85), 0.001, 1e-15);
  close(stepDecayLr({ lr: 0.2, gamma: 0.5, patience: 3 }, 7), 0.05, 1e-15); // 0.2 * 0.5^2
  equal(stepDecayLr({ lr: 0.2, gamma: 0.5, patience: 3 }, 2), 0.2);
});

// ---------------------------------------------------------------------------------------------
// Accuracy, prediction, the training loop

Deno.test("accuracy: top-1 against labels, first index wins ties", () => {
  equal(accuracy(new Float32Array([2, 0, 0, 1]), Int32Array.from([0, 0]), 2), 0.5);
  // 3 classes: argmax rows = [2, 0, 1 (tie 1/2 -> 1)].
  const logits = new Float32Array([0, 1, 5, 3, 2, 1, 0, 4, 4]);
  equal(accuracy(logits, Int32Array.from([2, 0, 1]), 3), 1);
  equal(accuracy(logits, Int32Array.from([2, 0, 2]), 3), 2 / 3);
  ok(Number.isNaN(accuracy(new Float32Array(0), new Int32Array(0), 2)));
});

Deno.test("predict: chunked evaluation equals one forward pass", async () => {
  const model = new Mlp(smallConfig({ useBn: true }), 4);
  try {
    const count = 2345; // three chunks of at most 1000
    const inputs = Float32Array.from(randomInputs(count, 5, 10).flat());
    const { features, logits, featureDim, classes } = await predict(model, inputs, count);
    equal(featureDim, 3);
    equal(classes, 3);
    equal(features.length, count * 3);
    const x = tf.tensor2d(inputs, [count, 5]);
    const whole = model.forward(x, false);
    closeArray(features, whole.features.dataSync(), 1e-6, "features");
    closeArray(logits, whole.logits.dataSync(), 1e-6, "logits");
    tf.dispose([x, whole.features, whole.logits]);
  } finally {
    model.dispose();
  }
});

function syntheticSplit(count: number, seed: number): Split {
  // Two Gaussian blobs in 5-D at +-1.5 on every axis: linearly separable with margin.
  const rng = new Random(seed);
  const labels = Int32Array.from({ length: count }, (_, i) => i % 2);
  const inputs = Float32Array.from(
    { length: count * 5 },
    (_, j) => (labels[Math.floor(j / 5)] ? 1.5 : -1.5) + 0.5 * rng.normal(),
  );
  return {
    inputs,
    labels,
    originalLabels: labels,
    sourceIndex: Int32Array.from({ length: count }, (_, i) => i),
    count,
  };
}

Deno.test("trainModel: learns a separable problem; history follows the lr schedule", async () => {
  const model = new Mlp(smallConfig({ classes: 2, featureDim: 2, useBn: true }), 5);
  const empty = { ...syntheticSplit(0, 1) };
  try {
    const lines: string[] = [];
    const seen: number[] = [];
    const history = await trainModel({
      model,
      loss: crossEntropy,
      train: syntheticSplit(201, 1), // 201 = 6 batches of 32 + 9
      validation: empty,
      test: syntheticSplit(100, 2),
      config: {
        epochs: 4,
        batch_size: 32,
        lr: 0.1,
        weight_decay: 5e-4,
        patience: 2,
        gamma: 0.5,
        seed: 3,
      },
      progress: false,
      log: (line) => lines.push(line),
      onEpoch: (record) => {
        seen.push(record.epoch);
      },
    });
    deepEqual(history.map((h) => h.epoch), [1, 2, 3, 4]);
    deepEqual(seen, [1, 2, 3, 4]);
    deepEqual(history.map((h) => h.lr), [0.1, 0.1, 0.05, 0.05]);
    ok(history.every((h) => h.val_acc === null));
    equal(lines.length, 4);
    ok(lines[0].startsWith("epoch 1/4"), lines[0]);
    ok(history[3].train_loss < history[0].train_loss, "loss falls");
    equal(history[3].test_acc, 1);
    ok(history[3].train_acc > 0.95);
  } finally {
    model.dispose();
  }
});

Deno.test("trainModel: divergence is an error telling to lower --lr", async () => {
  const model = new Mlp(smallConfig({ classes: 2, featureDim: 2 }), 5);
  try {
    await rejects(
      trainModel({
        model,
        loss: crossEntropy,
        train: syntheticSplit(64, 1),
        validation: syntheticSplit(0, 1),
        test: syntheticSplit(10, 2),
        config: {
          epochs: 5,
          batch_size: 8,
          lr: 1e30,
          weight_decay: 0,
          patience: 10,
          gamma: 1,
          seed: 1,
        },
        progress: false,
      }),
      /diverged.*lower --lr/,
    );
  } finally {
    model.dispose();
  }
});
