/**
 * Optimizers and schedules: SGD and Adam updates with coupled weight decay worked by hand, state
 * export/import reproducing the next step, L-BFGS minimizing a convex quadratic, and the step
 * and multistep schedules.
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import {
  Adam,
  cubicInterpolate,
  Lbfgs,
  learningRateAt,
  parseDecayType,
  Sgd,
} from "../lib/optim/mod.ts";
import { Sgd as SgdFromTraining, stepDecayLr } from "../lib/training/mod.ts";

await initBackend("wasm");

function close(actual: number, expected: number, tolerance: number, what: string): void {
  ok(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected}, got ${actual}`);
}

Deno.test("SGD: momentum 0.9 with weight decay added to the gradient, by hand", async () => {
  equal(SgdFromTraining, Sgd, "lib/training re-exports lib/optim's Sgd");
  // theta = 1, wd = 0.1, lr = 0.5, gradients 2 then 3.
  // Step 1: g' = 2 + 0.1 * 1 = 2.1; v = 2.1; theta = 1 - 0.5 * 2.1 = -0.05.
  // Step 2: g' = 3 + 0.1 * -0.05 = 2.995; v = 0.9 * 2.1 + 2.995 = 4.885;
  //         theta = -0.05 - 0.5 * 4.885 = -2.4925.
  const theta = tf.variable(tf.tensor1d([1]));
  const sgd = new Sgd(0.1);
  sgd.step(new Map([[theta, tf.tensor1d([2])]]), 0.5);
  close(theta.dataSync()[0], -0.05, 1e-7, "step 1");
  const saved = await sgd.exportState([{ name: "theta", variable: theta }]);
  deepEqual(saved.map((t) => t.name), ["theta/momentum_buffer"]);
  sgd.step(new Map([[theta, tf.tensor1d([3])]]), 0.5);
  close(theta.dataSync()[0], -2.4925, 1e-6, "step 2");
  // A fresh optimizer with the saved buffer repeats step 2 exactly.
  theta.assign(tf.tensor1d([-0.05]));
  const restored = new Sgd(0.1);
  restored.importState(
    [{ name: "theta", variable: theta }],
    new Map(saved.map((t) => [t.name, t.values])),
  );
  restored.step(new Map([[theta, tf.tensor1d([3])]]), 0.5);
  close(theta.dataSync()[0], -2.4925, 1e-6, "restored step 2");
  sgd.dispose();
  restored.dispose();
  theta.dispose();
});

Deno.test("Adam: coupled weight decay and bias correction, by hand", async () => {
  // theta = 1, wd = 0.1, lr = 0.01, gradient 2 twice; betas 0.9 / 0.999, eps 1e-8.
  // Step 1: g' = 2.1; m = 0.21; v = 0.001 * 4.41 = 0.00441; m_hat = 2.1; v_hat = 4.41;
  //         theta = 1 - 0.01 * 2.1 / (2.1 + 1e-8) = 0.99.
  // Step 2: g' = 2 + 0.099 = 2.099; m = 0.9 * 0.21 + 0.1 * 2.099 = 0.3989;
  //         v = 0.999 * 0.00441 + 0.001 * 2.099^2 = 0.00881148...;
  //         m_hat = 0.3989 / 0.19; v_hat = v / (1 - 0.999^2); theta = 0.99 - 0.01 m_hat / (sqrt(v_hat) + eps).
  const theta = tf.variable(tf.tensor1d([1]));
  const adam = new Adam(0.1);
  adam.step(new Map([[theta, tf.tensor1d([2])]]), 0.01);
  close(theta.dataSync()[0], 0.99, 1e-6, "step 1");
  adam.step(new Map([[theta, tf.tensor1d([2])]]), 0.01);
  const m = 0.9 * 0.21 + 0.1 * 2.099;
  const v = 0.999 * 0.00441 + 0.001 * 2.099 ** 2;
  const expected = 0.99 - 0.01 * (m / 0.19) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
  close(theta.dataSync()[0], expected, 1e-6, "step 2");
  deepEqual(
    (await adam.exportState([{ name: "theta", variable: theta }])).map((t) => t.name),
    ["theta/exp_avg", "theta/exp_avg_sq", "theta/step"],
  );
  adam.dispose();
  theta.dispose();
});

Deno.test("L-BFGS with strong-Wolfe line search minimizes a convex quadratic to tolerance", () => {
  // f(x) = 1/2 x^T A x - b^T x, A symmetric positive definite (condition number ~100), minimum
  // at A^-1 b; with history 5 < dimension 8 and 20 iterations per step.
  const n = 8;
  const A = Array.from(
    { length: n },
    (_, i) =>
      Array.from(
        { length: n },
        (_, j) => (i === j ? 1 + (99 * i) / (n - 1) : 0.3 / (1 + Math.abs(i - j))),
      ),
  );
  const b = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const objective = (x: Float32Array) => {
    const ax = A.map((row) => row.reduce((s, a, j) => s + a * x[j], 0));
    const loss = 0.5 * ax.reduce((s, v, i) => s + v * x[i], 0) -
      b.reduce((s, v, i) => s + v * x[i], 0);
    return { loss, gradient: Float32Array.from(ax, (v, i) => v - b[i]) };
  };
  const lbfgs = new Lbfgs({ historySize: 5 });
  const x = new Float32Array(n);
  for (let step = 0; step < 5; step++) lbfgs.step(x, objective);
  const gradientNorm = Math.sqrt(objective(x).gradient.reduce((s, g) => s + g * g, 0));
  // From ||grad f(0)|| = ||b|| = 1.9 to below 1e-3 (float32 parameters, as torch's, limit it).
  ok(gradientNorm < 1e-3, `gradient norm ${gradientNorm}`);
  // The exact minimizer from Gaussian elimination.
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const solution = new Array<number>(n);
  for (let r = n - 1; r >= 0; r--) {
    solution[r] = (M[r][n] - M[r].slice(r + 1, n).reduce((s, v, k) =>
      s + v * solution[r + 1 + k], 0)) / M[r][r];
  }
  // ||x - x*|| <= ||grad|| / lambda_min(A), lambda_min >= 0.4 here.
  solution.forEach((v, i) => close(x[i], v, 3e-3, `x[${i}]`));
  ok(lbfgs.evaluations <= 5 * 25, "at most max_eval evaluations per step");
  // Cubic interpolation is exact on a quadratic: f(t) = (t - 2)^2 through t = 0 and 3.
  close(cubicInterpolate(0, 4, -4, 3, 1, 2), 2, 1e-12, "cubic interpolate");
});

Deno.test("schedules: step decay and multistep step_a_b_..., per epoch", () => {
  const config = { lr: 0.1, gamma: 0.1, patience: 40 };
  close(stepDecayLr(config, 39), 0.1, 1e-15, "step 39");
  close(learningRateAt(config, 45), 0.01, 1e-15, "step 45");
  // step_2_5: epochs 0, 1 at 0.1; 2..4 at 0.01; from 5 at 0.001 (torch MultiStepLR).
  const multistep = { ...config, decay_type: "step_2_5" };
  deepEqual(
    [0, 1, 2, 4, 5, 9].map((e) => Number(learningRateAt(multistep, e).toPrecision(6))),
    [0.1, 0.1, 0.01, 0.01, 0.001, 0.001],
  );
  deepEqual(parseDecayType("step_100_150"), { kind: "multistep", milestones: [100, 150] });
  throws(() => parseDecayType("step_5_2"), /increase/);
  throws(() => parseDecayType("cosine"), /step_a_b/);
});
