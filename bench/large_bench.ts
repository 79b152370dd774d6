/**
 * `deno run -A bench/large_bench.ts [wasm|cpu|webgpu] [steps] [model...]`: seconds per training
 * step of the large-scale models on CIFAR-10-sized random input (3 x 32 x 32, batch 128, 10
 * classes; SGD with momentum and weight decay, cross-entropy), after one warm-up step, and one
 * epoch of CIFAR-10's 50,000 training images extrapolated from the measured steps (391 steps).
 *
 * @module
 */
import { initBackend, tf } from "../lib/backend/mod.ts";
import { Random } from "../lib/data/random.ts";
import { crossEntropy } from "../lib/losses/mod.ts";
import { buildModel } from "../lib/models/mod.ts";
import type { ModelName } from "../lib/config/schema.ts";
import { Sgd } from "../lib/optim/mod.ts";

const backend = await initBackend((Deno.args[0] ?? "wasm") as "wasm");
const steps = Number(Deno.args[1] ?? 3);
const models = Deno.args.length > 2 ? Deno.args.slice(2) : ["resnet18", "resnet18:SOTA", "vgg11"];
const BATCH = 128;
const EPOCH_STEPS = Math.ceil(50_000 / BATCH);

const rng = new Random(1);
const inputs = Float32Array.from({ length: BATCH * 3072 }, () => rng.normal());
const labels = Int32Array.from({ length: BATCH }, () => rng.integer(10));

for (const spec of models) {
  const [name, flag] = spec.split(":");
  const model = buildModel({
    model: name as ModelName,
    classes: 10,
    bias: true,
    seed: 6,
    SOTA: flag === "SOTA",
  });
  const variables = model.trainable().map((p) => p.variable);
  const sgd = new Sgd(5e-4);
  const x = tf.tensor2d(inputs, [BATCH, 3072]);
  const y = tf.tensor1d(labels, "int32");
  const step = () => {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(x, true);
      return crossEntropy(out.logits, y);
    }, variables);
    sgd.step(new Map(variables.map((v) => [v, grads[v.name]])), 0.1);
    const loss = value.dataSync()[0];
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  };
  step(); // warm-up
  const started = performance.now();
  for (let s = 0; s < steps; s++) step();
  const perStep = (performance.now() - started) / 1000 / steps;
  console.log(
    `${spec} on ${backend.name}: ${perStep.toFixed(2)} s per step (batch ${BATCH}, mean of ` +
      `${steps} after a warm-up), one CIFAR-10 epoch (${EPOCH_STEPS} steps) extrapolated: ` +
      `${(perStep * EPOCH_STEPS).toFixed(0)} s`,
  );
  tf.dispose([x, y]);
  sgd.dispose();
  model.dispose();
}
