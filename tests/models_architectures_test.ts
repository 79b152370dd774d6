/**
 * Large-scale models on the deterministic WASM backend: parameter counts equal to the PyTorch
 * reference architectures, forward shapes, the convolution's custom gradient against a direct
 * float64 computation, the frozen simplex-ETF classifier, LayerNorm in the MLP and the summary.
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { Random } from "../lib/data/random.ts";
import {
  buildModel,
  conv2d,
  FOUR_CLASS_SLOTS,
  Mlp,
  type ModelOptions,
  modelSummary,
  quadrantFrame,
  ResNet,
  simplexEtf,
  Vgg,
} from "../lib/models/mod.ts";
import { Sgd } from "../lib/optim/mod.ts";

await initBackend("wasm");

const base: ModelOptions = {
  model: "resnet18",
  classes: 10,
  bias: true,
  seed: 6,
};

function close(actual: number, expected: number, tolerance: number, what: string): void {
  ok(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected}, got ${actual}`);
}

Deno.test("parameter counts equal the PyTorch reference architectures", () => {
  // torchvision resnet18(num_classes=10): 11,689,512 - 513,000 (fc 512x1000+1000) + 5,130.
  // --SOTA swaps the 7x7x3x64 stem (9,408) for a 3x3x3x64 one (1,728): 7,680 fewer.
  // VGG-11 with BN: convolutions with bias 9,220,480 + BN 5,504 + Linear(512, 10) 5,130.
  // MLP depth 9 width 2048 BN, 2 classes: 6,293,504 + 7 x 4,196,352 + 4,098 (to 2 features)
  // + BN 8 x 4,096 + 4 + classifier 6.
  const cases: [Partial<ModelOptions>, number][] = [
    [{ model: "resnet18" }, 11_181_642],
    [{ model: "resnet18", SOTA: true }, 11_173_962],
    [{ model: "resnet34" }, 21_289_802],
    [{ model: "resnet50" }, 23_528_522],
    [{ model: "vgg11" }, 9_231_114],
    [{ model: "vgg11_nobn" }, 9_231_114 - 5_504],
    [{ model: "MLP", classes: 2, width: 2048, depth: 9, use_bn: true }, 35_704_844],
  ];
  for (const [options, expected] of cases) {
    const model = buildModel({ ...base, ...options });
    equal(model.parameterCount(), expected, JSON.stringify(options));
    model.dispose();
  }
});

Deno.test("ResNet-18 and VGG-11 forward shapes, batch statistics and fixdim", () => {
  for (const options of [{ model: "resnet18" }, { model: "vgg11" }] as Partial<ModelOptions>[]) {
    const model = buildModel({ ...base, ...options });
    const [features, logits, stats] = tf.tidy(() => {
      const out = model.forward(tf.randomNormal([3, 3072], 0, 1, "float32", 1), true);
      return [out.features.shape, out.logits.shape, out.batchStats.length];
    });
    deepEqual(features, [3, 512]);
    deepEqual(logits, [3, 10]);
    // ResNet-18: stem 1 + 8 blocks x 2 + 3 downsamples = 20 BN layers; VGG-11: 8 convolutions.
    equal(stats, options.model === "resnet18" ? 20 : 8);
    model.dispose();
  }
  const fixed = new ResNet({
    depth: 18,
    classes: 4,
    bias: true,
    sota: true,
    etfClassifier: false,
    fixdim: true,
  }, 1);
  const shape = tf.tidy(() => fixed.forward(tf.zeros([2, 3072]), false).features.shape);
  deepEqual(shape, [2, 4]);
  equal(fixed.config.featureDim, 4);
  fixed.dispose();
});

/** Direct float64 convolution (NHWC, [k, k, in, out], symmetric zero padding). */
function directConv(
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  k: number,
  out: number,
  stride: number,
  pad: number,
) {
  const [n, h, wd, c] = xs;
  const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
  const wo = Math.floor((wd + 2 * pad - k) / stride) + 1;
  const y = new Float64Array(n * ho * wo * out);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        for (let o = 0; o < out; o++) {
          let sum = 0;
          for (let a = 0; a < k; a++) {
            for (let e = 0; e < k; e++) {
              const r = i * stride + a - pad;
              const q = j * stride + e - pad;
              if (r < 0 || r >= h || q < 0 || q >= wd) continue;
              for (let ci = 0; ci < c; ci++) {
                sum += x[((b * h + r) * wd + q) * c + ci] * w[((a * k + e) * c + ci) * out + o];
              }
            }
          }
          y[((b * ho + i) * wo + j) * out + o] = sum;
        }
      }
    }
  }
  return { y, shape: [n, ho, wo, out] };
}

Deno.test("conv2d's custom gradients equal the derivatives of a direct convolution", () => {
  // Loss L = sum(conv(x, w) * G) for a fixed random G, so dL/dx[p] = sum over outputs of
  // G times the weight that multiplies x[p], and dL/dw similarly: computed here by finite
  // differences of the float64 direct convolution (exact for a linear map, up to rounding).
  const rng = new Random(3);
  for (const [size, k, stride, pad] of [[6, 3, 1, 1], [7, 3, 2, 1], [8, 1, 2, 0], [9, 7, 2, 3]]) {
    const xs = [2, size, size, 3];
    const out = 4;
    const x = Float32Array.from({ length: 2 * size * size * 3 }, () => rng.normal());
    const w = Float32Array.from({ length: k * k * 3 * out }, () => rng.normal());
    const { y, shape } = directConv(x, xs, w, k, out, stride, pad);
    const g = Float32Array.from({ length: y.length }, () => rng.normal());
    const value = tf.tidy(() =>
      conv2d(
        tf.tensor4d(x, xs as [number, number, number, number]),
        tf.tensor4d(w, [k, k, 3, out]),
        stride,
        pad,
      ).shape
    );
    deepEqual(value, shape, "output shape");
    const [dx, dw] = tf.tidy(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), tf.tensor(g, shape)))
      )([tf.tensor4d(x, xs as [number, number, number, number]), tf.tensor4d(w, [k, k, 3, out])])
        .map((t) => t.dataSync())
    );
    const loss = (xx: Float32Array, ww: Float32Array) =>
      directConv(xx, xs, ww, k, out, stride, pad).y.reduce((s, v, i) => s + v * g[i], 0);
    for (const index of [0, 5, x.length - 1, Math.floor(x.length / 2)]) {
      const plus = x.slice();
      plus[index] += 1;
      close(dx[index], loss(plus, w) - loss(x, w), 1e-3, `dx[${index}] k${k} s${stride}`);
    }
    for (const index of [0, 7, w.length - 1]) {
      const plus = w.slice();
      plus[index] += 1;
      close(dw[index], loss(x, plus) - loss(x, w), 1e-3, `dw[${index}] k${k} s${stride}`);
    }
  }
});

/** One SGD step (lr 0.1, weight decay 5e-4) of every trainable parameter on a random batch. */
function sgdStepOnRandomBatch(model: Mlp | Vgg, rows: number, seed: number): void {
  const variables = model.trainable().map((p) => p.variable);
  const { grads, value } = tf.variableGrads(
    () =>
      tf.sum(
        tf.square(model.forward(tf.randomNormal([rows, 3072], 0, 1, "float32", seed), true).logits),
      ) as tf.Scalar,
    variables,
  );
  const sgd = new Sgd(5e-4);
  sgd.step(new Map(variables.map((v) => [v, grads[v.name]])), 0.1);
  tf.dispose([value, ...Object.values(grads)]);
  sgd.dispose();
}

Deno.test("ETF classifier: W W^T is proportional to I - 11^T/K and the weight stays frozen", () => {
  // simplexEtf: rows of norm 1 ((1/K)||W||_F^2 = 1 with equal rows), inner products -1/(K-1),
  // i.e. W W^T = K/(K-1) (I - 11^T/K); padded columns are 0.
  const K = 4;
  const etf = simplexEtf(K, 6);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      let dot = 0;
      for (let p = 0; p < 6; p++) dot += etf[i * 6 + p] * etf[j * 6 + p];
      close(dot, (K / (K - 1)) * ((i === j ? 1 : 0) - 1 / K), 1e-12, `WW^T[${i}][${j}]`);
    }
    close(etf[i * 6 + 4] + etf[i * 6 + 5], 0, 0, "padding");
  }
  const model = new Vgg({
    depth: 11,
    batchNorm: true,
    classes: K,
    bias: true,
    etfClassifier: true,
    fixdim: false,
  }, 2);
  ok(!model.trainable().some((p) => p.variable === model.classifier.weight), "not trainable");
  equal(
    model.parameterCount(),
    model.trainable().reduce((s, p) => s + p.variable.size, 0) + 512 * K,
  );
  const before = model.classifier.weight.dataSync().slice();
  // One SGD step on every trainable parameter leaves the classifier weight as it was.
  sgdStepOnRandomBatch(model, 2, 4);
  deepEqual(Array.from(model.classifier.weight.dataSync()), Array.from(before));
  // Stored P x K: its transpose's first K columns are the ETF.
  const stored = model.classifier.weight.arraySync() as number[][];
  close(stored[1][2], simplexEtf(K, 512)[2 * 512 + 1], 1e-6, "stored layout");
  model.dispose();
});

Deno.test("MLP classifier_init etf: the classifier starts at the simplex ETF and is trained", () => {
  const options: ModelOptions = {
    model: "MLP",
    classes: 2,
    bias: true,
    seed: 3,
    width: 16,
    depth: 3,
    use_bn: true,
  };
  const fromEtf = buildModel({ ...options, classifier_init: "etf" }) as Mlp;
  const fromDefault = buildModel(options) as Mlp;
  // Stored P x K: entry [p][k] is W[k][p]; for K = 2 the rows are +-(1, -1)/sqrt(2).
  const etf = simplexEtf(2, 2);
  const stored = fromEtf.classifier.weight.arraySync() as number[][];
  for (let k = 0; k < 2; k++) {
    for (let p = 0; p < 2; p++) close(stored[p][k], etf[k * 2 + p], 1e-7, `W[${k}][${p}]`);
  }
  close(Math.abs(stored[0][0]), Math.SQRT1_2, 1e-7, "row norm 1");
  ok(fromEtf.trainable().some((p) => p.variable === fromEtf.classifier.weight), "trainable");
  // Only the classifier's start differs: the hidden layers are drawn from the same seed.
  deepEqual(
    Array.from(fromEtf.hidden[0].weight.dataSync()),
    Array.from(fromDefault.hidden[0].weight.dataSync()),
  );
  ok(
    Math.abs((fromDefault.classifier.weight.arraySync() as number[][])[0][0] - stored[0][0]) > 1e-6,
    "the default start is not the ETF",
  );
  // One SGD step moves it (unlike --ETF_fc, which keeps it fixed).
  sgdStepOnRandomBatch(fromEtf, 4, 5);
  ok(
    Math.abs((fromEtf.classifier.weight.arraySync() as number[][])[0][0] - stored[0][0]) > 1e-6,
    "trained",
  );
  fromEtf.dispose();
  fromDefault.dispose();
  throws(
    () => buildModel({ ...base, classifier_init: "etf" }),
    /--classifier_init applies to the MLP/,
  );
});

Deno.test("MLP classifier_init etf with 2 features for 4 classes: rows over the quadrant, twins adjacent", () => {
  const model = buildModel({
    model: "MLP",
    classes: 4,
    feature_dim: 2,
    bias: true,
    seed: 3,
    width: 16,
    depth: 3,
    use_bn: true,
    classifier_init: "etf",
  }) as Mlp;
  const stored = model.classifier.weight.arraySync() as number[][]; // P x K
  const frame = quadrantFrame(4, FOUR_CLASS_SLOTS);
  // Class 0 at 0 degrees, its latent class 2 at 30, class 3 at 60, its original class 1 at 90.
  const degrees = [0, 90, 30, 60];
  for (let k = 0; k < 4; k++) {
    const [x, y] = [stored[0][k], stored[1][k]];
    close(x, frame[2 * k], 1e-7, `W[${k}][0]`);
    close(y, frame[2 * k + 1], 1e-7, `W[${k}][1]`);
    close(Math.hypot(x, y), 1, 1e-6, `row ${k} unit norm`);
    close(Math.atan2(y, x), degrees[k] * Math.PI / 180, 1e-6, `row ${k} at ${degrees[k]} degrees`);
  }
  // Each original class c is next to its latent class c + 2.
  for (const c of [0, 1]) equal(Math.abs(FOUR_CLASS_SLOTS[c] - FOUR_CLASS_SLOTS[c + 2]), 1);
  model.dispose();
  // Without an order, class k takes sector k; an order must be a permutation of the classes.
  const natural = quadrantFrame(4);
  for (let k = 0; k < 4; k++) {
    close(Math.atan2(natural[2 * k + 1], natural[2 * k]), (Math.PI / 2) * k / 3, 1e-9, `k ${k}`);
  }
  throws(() => quadrantFrame(4, [0, 1, 1, 2]), /slots must order the 4 classes/);
  throws(() => quadrantFrame(4, [0, 1, 2]), /slots must order the 4 classes/);
  // The fixed ETF classifier (--ETF_fc) has no such fallback.
  throws(
    () =>
      buildModel({ model: "MLP", classes: 4, feature_dim: 2, bias: true, seed: 3, ETF_fc: true }),
    /needs at least 4 features/,
  );
});

Deno.test("MLP LayerNorm normalizes each sample; summary lists layers and totals", () => {
  const model = new Mlp({
    inputSize: 3072,
    width: 8,
    depth: 2,
    classes: 3,
    featureDim: 3,
    actFn: "none",
    useBn: false,
    useLayerNorm: true,
    bias: false,
  }, 1);
  // actFn none: the hidden layer is LayerNorm-ed (not the feature layer), no activation.
  const hidden = tf.tidy(() => {
    const x = tf.randomNormal([5, 3072], 0, 1, "float32", 9);
    const h = tf.matMul(x, model.hidden[0].weight);
    return tf.add(h, model.hidden[0].bias!);
  });
  const rows = hidden.arraySync() as number[][];
  hidden.dispose();
  ok(model.state().some((p) => p.name === "ln0.weight"));
  ok(!model.state().some((p) => p.name === "ln1.weight"), "feature layer without act: no norm");
  // Recompute LayerNorm on the host: what follows (the feature layer) receives it.
  const expected = rows.map((r) => {
    const mean = r.reduce((s, v) => s + v, 0) / r.length;
    const variance = r.reduce((s, v) => s + (v - mean) ** 2, 0) / r.length;
    return r.map((v) => (v - mean) / Math.sqrt(variance + 1e-5));
  });
  const w1 = model.hidden[1].weight.arraySync() as number[][];
  const b1 = model.hidden[1].bias!.arraySync() as number[];
  const features = tf.tidy(() =>
    model.forward(tf.randomNormal([5, 3072], 0, 1, "float32", 9), false).features.arraySync()
  ) as number[][];
  features.forEach((row, i) =>
    row.forEach((v, j) =>
      close(v, expected[i].reduce((s, h, p) => s + h * w1[p][j], 0) + b1[j], 1e-3, `f[${i}][${j}]`)
    )
  );
  const summary = modelSummary(buildModel({ ...base, model: "resnet18" }));
  ok(summary.includes("Conv2d-1"), summary);
  ok(summary.includes("[-1, 64, 16, 16]"), summary);
  ok(summary.includes("Total params: 11,181,642"), summary);
  model.dispose();
});
