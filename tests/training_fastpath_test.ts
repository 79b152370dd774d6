/**
 * The training loop's fast path: no tensor leaks across epochs, and the reference's second
 * eval-mode forward pass per batch only behind `--eval_forward_pass`.
 */
import assert from "node:assert/strict";
import { initBackend, tf } from "../lib/backend/mod.ts";
import { DEFAULT_CONFIG, parseTrainArgs } from "../lib/config/flags.ts";
import type { Split } from "../lib/data/mod.ts";
import { Random } from "../lib/data/random.ts";
import { crossEntropy } from "../lib/losses/mod.ts";
import { Mlp } from "../lib/models/mod.ts";
import { type OptimConfig, trainModel } from "../lib/training/mod.ts";

await initBackend("wasm");

const INPUT = 12;

function randomSplit(count: number, seed: number): Split {
  const rng = new Random(seed);
  const labels = Int32Array.from({ length: count }, () => rng.integer(2));
  return {
    inputs: Float32Array.from({ length: count * INPUT }, () => rng.normal()),
    labels,
    originalLabels: labels,
    sourceIndex: Int32Array.from({ length: count }, (_, i) => i),
    count,
  };
}

function model(useBn: boolean): Mlp {
  return new Mlp({
    inputSize: INPUT,
    width: 16,
    depth: 3,
    classes: 2,
    featureDim: 2,
    actFn: "relu",
    useBn,
    bias: true,
  }, 6);
}

const config: OptimConfig = {
  epochs: 3,
  batch_size: 8,
  lr: 0.05,
  weight_decay: 5e-4,
  patience: 40,
  gamma: 0.1,
  seed: 6,
};

for (const evalForwardPass of [false, true]) {
  Deno.test(
    `trainModel keeps tensor count and bytes constant across epochs (eval_forward_pass ${evalForwardPass})`,
    async () => {
      const mlp = model(true);
      const before = tf.memory();
      const perEpoch: { numTensors: number; numBytes: number }[] = [];
      // 37 samples in batches of 8: the last batch has 5, so both batch shapes occur per epoch.
      await trainModel({
        model: mlp,
        loss: crossEntropy,
        train: randomSplit(37, 1),
        validation: randomSplit(9, 2),
        test: randomSplit(11, 3),
        config: { ...config, eval_forward_pass: evalForwardPass },
        progress: false,
        onEpoch: () => {
          const { numTensors, numBytes } = tf.memory();
          perEpoch.push({ numTensors, numBytes });
        },
      });
      assert.equal(perEpoch.length, 3);
      // After epoch 1 the optimizer holds one momentum buffer per parameter; from then on
      // nothing may accumulate.
      assert.deepEqual(perEpoch[1], perEpoch[0]);
      assert.deepEqual(perEpoch[2], perEpoch[0]);
      // trainModel disposes the optimizer it made and the resident training set: only the
      // model's own variables (same count and bytes as before training) remain.
      assert.equal(tf.memory().numTensors, before.numTensors);
      assert.equal(tf.memory().numBytes, before.numBytes);
      mlp.dispose();
    },
  );
}

Deno.test("eval_forward_pass: with lr 0 and no batch norm both passes give the same accuracy", async () => {
  // lr = 0 leaves the parameters unchanged and without batch norm (and dropout) eval and training
  // mode compute the same function, so the eval-mode pass after the step reproduces the training
  // pass's logits exactly: the epoch's training accuracy must be identical with and without it.
  const run = async (evalForwardPass: boolean) => {
    const mlp = model(false);
    const history = await trainModel({
      model: mlp,
      loss: crossEntropy,
      train: randomSplit(40, 4),
      validation: randomSplit(0, 5),
      test: randomSplit(10, 6),
      config: { ...config, epochs: 1, lr: 0, eval_forward_pass: evalForwardPass },
      progress: false,
    });
    mlp.dispose();
    return history[0];
  };
  const plain = await run(false);
  const twice = await run(true);
  assert.equal(twice.train_acc, plain.train_acc);
  assert.equal(twice.train_loss, plain.train_loss);
});

Deno.test("--eval_forward_pass is a flag, off by default", () => {
  assert.equal(DEFAULT_CONFIG.eval_forward_pass, false);
  assert.equal(parseTrainArgs([], DEFAULT_CONFIG).eval_forward_pass, false);
  assert.equal(parseTrainArgs(["--eval_forward_pass"], DEFAULT_CONFIG).eval_forward_pass, true);
});
