/**
 * Where a training step's time goes on one tfjs backend (meant for WebGPU on a GPU host): the cost
 * of one kernel dispatch, the paper MLP's layer product and a square one (`--square` wide), and
 * the paper MLP's step
 * split into forward, forward + backward, and the whole step with the optimizer, with the number
 * of kernels each launches. Prints one JSON object (`--out FILE` also writes it).
 *
 *   deno run <permissions> bench/gpu_profile.ts --backend webgpu [--steps 20] [--square 4096]
 *     [--out FILE]
 *
 * Every timing is a loop of queued work closed by one read-back (the read waits for the queue),
 * after a warm-up that compiles the kernels; the median of 3 such loops is reported.
 *
 * @module
 */
import { initBackend, parseBackendName, tf } from "../lib/backend/mod.ts";
import { UsageError } from "../lib/config/flags.ts";
import { INPUT_SIZE } from "../lib/data/mod.ts";
import { crossEntropy } from "../lib/losses/mod.ts";
import { Mlp } from "../lib/models/mod.ts";
import { Sgd } from "../lib/optim/mod.ts";
import { runCli } from "../cli/common.ts";

/** Milliseconds per repetition: median over `rounds` loops of `reps` calls closed by one read. */
async function timeLoop(
  reps: number,
  body: () => tf.Tensor,
  rounds = 3,
): Promise<number> {
  const loop = async () => {
    const started = performance.now();
    let last: tf.Tensor | undefined;
    for (let i = 0; i < reps; i++) {
      last?.dispose();
      last = body();
    }
    await last!.data(); // waits for everything queued before it
    last!.dispose();
    return (performance.now() - started) / reps;
  };
  await loop(); // warm-up: kernel compilation, buffer pools
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) times.push(await loop());
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)];
}

/** Kernels one call of `body` launches (tfjs's own count). */
async function kernelsOf(body: () => tf.Tensor): Promise<number> {
  const info = await tf.profile(() => body());
  return info.kernels.length;
}

/**
 * Profile the active backend; see the module documentation.
 *
 * @example
 * ```ts
 * import { initBackend } from "../lib/backend/mod.ts";
 * await initBackend("wasm");
 * const profile = await profileBackend(2, 256);
 * console.log(profile.dispatch_us, profile.matmul_square_gflops);
 * ```
 */
export async function profileBackend(
  steps = 20,
  square = 4096,
): Promise<Record<string, unknown>> {
  // Dispatch: a tiny element-wise op, so the time is the per-kernel overhead.
  const small = tf.ones([16]);
  const dispatchMs = await timeLoop(steps * 50, () => tf.add(small, small));
  // The paper MLP's matrix products (batch 16, width 2048) and a large square one.
  const x = tf.randomNormal([16, 2048]);
  const w = tf.randomNormal([2048, 2048]);
  const big = tf.randomNormal([square, square]);
  const layerMs = await timeLoop(steps * 10, () => tf.matMul(x, w));
  const squareMs = await timeLoop(Math.max(steps / 4, 2), () => tf.matMul(big, big));
  tf.dispose([small, x, w, big]);

  const model = new Mlp({
    inputSize: INPUT_SIZE,
    width: 2048,
    depth: 9,
    classes: 2,
    featureDim: 2,
    actFn: "relu",
    useBn: true,
    bias: true,
  }, 6);
  const variables = model.trainable().map((p) => p.variable);
  const sgd = new Sgd(5e-4);
  const input = tf.randomNormal([16, INPUT_SIZE]) as tf.Tensor2D;
  const labels = tf.tensor1d(Int32Array.from({ length: 16 }, (_, i) => i % 2), "int32");
  const forward = () => tf.tidy(() => model.forward(input, true).logits);
  const gradients = () => {
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(model.forward(input, true).logits, labels),
      variables,
    );
    tf.dispose(Object.values(grads));
    return value;
  };
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(model.forward(input, true).logits, labels),
      variables,
    );
    sgd.step(new Map(variables.map((v) => [v, grads[v.name]])), 0.01);
    tf.dispose(Object.values(grads));
    return value;
  };
  const paper = {
    forward_ms: await timeLoop(steps, forward),
    forward_backward_ms: await timeLoop(steps, gradients),
    step_ms: await timeLoop(steps, step),
    forward_kernels: await kernelsOf(forward),
    forward_backward_kernels: await kernelsOf(gradients),
    step_kernels: await kernelsOf(step),
  };
  tf.dispose([input, labels]);
  sgd.dispose();
  model.dispose();
  const flops = (m: number, k: number, n: number, ms: number) => 2 * m * k * n / (ms * 1e6);
  return {
    backend: tf.getBackend(),
    dispatch_us: dispatchMs * 1000,
    matmul_16x2048x2048_ms: layerMs,
    matmul_16x2048x2048_gflops: flops(16, 2048, 2048, layerMs),
    square_size: square,
    matmul_square_ms: squareMs,
    matmul_square_gflops: flops(square, square, square, squareMs),
    paper_mlp: paper,
    // What the step would cost if each kernel cost only the dispatch overhead measured above.
    paper_mlp_dispatch_bound_ms: paper.step_kernels * dispatchMs,
  };
}

if (import.meta.main) {
  await runCli(async (argv) => {
    const option = (name: string) => {
      const at = argv.indexOf(name);
      if (at < 0) return undefined;
      const value = argv[at + 1];
      if (!value || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
      return value;
    };
    const backend = parseBackendName(option("--backend") ?? "auto");
    const steps = Number(option("--steps") ?? 20);
    if (!(Number.isInteger(steps) && steps >= 1)) throw new UsageError("--steps must be >= 1");
    const square = Number(option("--square") ?? 4096);
    if (!(Number.isInteger(square) && square >= 1)) throw new UsageError("--square must be >= 1");
    const choice = await initBackend(backend);
    const report = { backend_report: choice.report, ...(await profileBackend(steps, square)) };
    const text = JSON.stringify(report, null, 2);
    const out = option("--out");
    if (out) await Deno.writeTextFile(out, text + "\n");
    console.log(text);
  });
}
