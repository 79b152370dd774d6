/**
 * Losses of docs/reference.md#losses-and-optimization on the WASM backend: gradients of LS, LR, MSE and the separated
 * decay terms against central finite differences of float64 host re-implementations, LR's
 * zero region, and worked values.
 */
import { equal, ok } from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { Random } from "../lib/data/random.ts";
import {
  labelRelaxation,
  labelRelaxationTarget,
  labelSmoothing,
  lossFor,
  meanSquaredError,
  separatedDecay,
} from "../lib/losses/mod.ts";

await initBackend("wasm");

function close(actual: number, expected: number, tolerance: number, what: string): void {
  ok(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected}, got ${actual}`);
}

const N = 4;
const K = 3;
const rng = new Random(17);
const logits = Array.from({ length: N * K }, () => 2 * rng.normal());
const labels = [0, 2, 1, 2];

function softmax(z: number[]): number[] {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
const rows = (z: number[]) => Array.from({ length: N }, (_, i) => z.slice(i * K, (i + 1) * K));

/** Gradient of `f` (host float64) by central differences with step h. */
function numericGradient(f: (z: number[]) => number, z: number[], h = 1e-5): number[] {
  return z.map((_, i) => {
    const plus = z.slice();
    const minus = z.slice();
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

/** The library loss's gradient with respect to the logits. */
function libraryGradient(loss: (z: tf.Tensor2D, y: tf.Tensor1D) => tf.Scalar, z: number[]) {
  return tf.tidy(() => {
    const y = tf.tensor1d(labels, "int32");
    return Array.from(
      tf.grad((t: tf.Tensor) => loss(t as tf.Tensor2D, y))(tf.tensor2d(z, [N, K])).dataSync(),
    );
  });
}

function libraryValue(loss: (z: tf.Tensor2D, y: tf.Tensor1D) => tf.Scalar, z: number[]) {
  return tf.tidy(() => loss(tf.tensor2d(z, [N, K]), tf.tensor1d(labels, "int32")).dataSync()[0]);
}

Deno.test("LS: value and gradient against finite differences", () => {
  const alpha = 0.1;
  // loss = mean_i -sum_k q_ik log p_ik, q = (1 - alpha) onehot + alpha / K.
  const host = (z: number[]) =>
    rows(z).reduce((s, r, i) => {
      const p = softmax(r);
      return s -
        p.reduce(
          (t, pk, k) => t + ((k === labels[i] ? 1 - alpha : 0) + alpha / K) * Math.log(pk),
          0,
        );
    }, 0) / N;
  close(libraryValue(labelSmoothing(alpha), logits), host(logits), 1e-5, "value");
  const numeric = numericGradient(host, logits);
  libraryGradient(labelSmoothing(alpha), logits).forEach((g, i) =>
    close(g, numeric[i], 1e-5, `d[${i}]`)
  );
});

Deno.test("LR: value and gradient (target held constant) against finite differences; zero where p_y > 1 - alpha", () => {
  const alpha = 0.1;
  // The target r is a constant (computed at the evaluation point): the gradient is that of
  // KL(r || p(z)) with r fixed, so the host function takes r as given.
  const target = tf.tidy(() =>
    Array.from(
      labelRelaxationTarget(tf.tensor2d(logits, [N, K]), tf.tensor1d(labels, "int32"), alpha)
        .dataSync(),
    )
  );
  // r_y = 1 - alpha, the rest alpha p_k / sum_{j != y} p_j.
  rows(logits).forEach((r, i) => {
    const p = softmax(r);
    const rest = p.reduce((s, v, k) => s + (k === labels[i] ? 0 : v), 0);
    p.forEach((pk, k) =>
      close(
        target[i * K + k],
        k === labels[i] ? 1 - alpha : alpha * pk / rest,
        1e-6,
        `r[${i}][${k}]`,
      )
    );
  });
  const active = rows(logits).map((r, i) => softmax(r)[labels[i]] <= 1 - alpha);
  ok(active.some((a) => a), "some samples not yet relaxed");
  const host = (z: number[]) =>
    rows(z).reduce((s, r, i) => {
      if (!active[i]) return s;
      const p = softmax(r);
      return s + p.reduce((t, pk, k) => {
        const rk = target[i * K + k];
        return t + (rk > 0 ? rk * (Math.log(rk) - Math.log(pk)) : 0);
      }, 0);
    }, 0) / N;
  close(libraryValue(labelRelaxation(alpha), logits), host(logits), 1e-5, "value");
  const numeric = numericGradient(host, logits);
  libraryGradient(labelRelaxation(alpha), logits).forEach((g, i) =>
    close(g, numeric[i], 1e-5, `d[${i}]`)
  );

  // Confident correct logits: p_y = e^5 / (e^5 + 2) = 0.987 > 0.9 for every sample: loss 0,
  // gradient 0.
  const confident = labels.flatMap((y) => [0, 1, 2].map((k) => (k === y ? 5 : 0)));
  equal(libraryValue(labelRelaxation(alpha), confident), 0);
  ok(libraryGradient(labelRelaxation(alpha), confident).every((g) => g === 0));
  // Worked value: logits [0, 0], y = 0, alpha 0.1: p = [0.5, 0.5], r = [0.9, 0.1],
  // KL = 0.9 ln 1.8 + 0.1 ln 0.2 = 0.368064.
  const worked = tf.tidy(() =>
    labelRelaxation(0.1)(tf.tensor2d([[0, 0]]), tf.tensor1d([0], "int32")).dataSync()[0]
  );
  close(worked, 0.9 * Math.log(1.8) + 0.1 * Math.log(0.2), 1e-6, "worked");
});

Deno.test("MSE: mean over all entries of (z - onehot)^2, gradient against finite differences", () => {
  const host = (z: number[]) =>
    z.reduce((s, v, j) => s + (v - (labels[Math.floor(j / K)] === j % K ? 1 : 0)) ** 2, 0) /
    (N * K);
  close(libraryValue(meanSquaredError, logits), host(logits), 1e-5, "value");
  const numeric = numericGradient(host, logits);
  libraryGradient(lossFor({ loss: "MSE", ls_alpha: 0.1 }), logits).forEach((g, i) =>
    close(g, numeric[i], 1e-5, `d[${i}]`)
  );
  // [[1, 1]] with y = 0: ((1 - 1)^2 + (1 - 0)^2) / 2 = 0.5.
  close(
    tf.tidy(() => meanSquaredError(tf.tensor2d([[1, 1]]), tf.tensor1d([0], "int32")).dataSync()[0]),
    0.5,
    1e-7,
    "worked",
  );
});

Deno.test("separated decay: (wd/2)(||W||^2 + ||b||^2) + (fd/2)||H||^2 and its gradients", () => {
  const wd = 0.05;
  const fd = 0.02;
  const h = Array.from({ length: 6 }, () => rng.normal());
  const w = Array.from({ length: 6 }, () => rng.normal());
  const b = [0.3, -0.7, 1.1];
  const host = (hh: number[], ww: number[], bb: number[]) =>
    (wd / 2) * (ww.reduce((s, v) => s + v * v, 0) + bb.reduce((s, v) => s + v * v, 0)) +
    (fd / 2) * hh.reduce((s, v) => s + v * v, 0);
  const [value, dh, dw, db] = tf.tidy(() => {
    const f = (hh: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      separatedDecay(hh as tf.Tensor2D, { weight: ww, bias: bb }, wd, fd);
    const args = [tf.tensor2d(h, [2, 3]), tf.tensor2d(w, [3, 2]), tf.tensor1d(b)];
    const grads = tf.grads(f)(args);
    return [
      f(args[0], args[1], args[2]).dataSync()[0],
      ...grads.map((g) => Array.from(g.dataSync())),
    ] as [number, number[], number[], number[]];
  });
  close(value, host(h, w, b), 1e-5, "value");
  numericGradient((x) => host(x, w, b), h).forEach((g, i) => close(dh[i], g, 1e-5, `dH[${i}]`));
  numericGradient((x) => host(h, x, b), w).forEach((g, i) => close(dw[i], g, 1e-5, `dW[${i}]`));
  numericGradient((x) => host(h, w, x), b).forEach((g, i) => close(db[i], g, 1e-5, `db[${i}]`));
});
