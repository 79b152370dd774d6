/**
 * `deno run -A bench/metrics_bench.ts [backend]`: evaluation throughput of the streamed NC + M-D
 * metrics (`evaluateSource`: both passes, every metric) over 60,000 samples of 512-d features,
 * 10 classes, 20% label noise, in batches of 1,000. Features and logits are random, generated on
 * the backend per batch (so the time is the evaluation's, not a model's forward pass). Reports
 * the median of 3 repetitions after a warm-up, to stdout and `results/bench/metrics-<date>.json`.
 *
 * @module
 */
import { initBackend, tf } from "../lib/backend/mod.ts";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { evaluateSource, type FeatureSource } from "../lib/metrics/mod.ts";
import { writeFileAtomic } from "../lib/runs/mod.ts";

const SAMPLES = 60_000;
const DIM = 512;
const CLASSES = 10;
const BATCH = 1_000;
const REPETITIONS = 3;

/**
 * Random labels (20% noisy) and a source of random features/logits around class centres.
 *
 * @example
 * ```ts
 * import { evaluateSource } from "../lib/metrics/mod.ts";
 * import type { Classifier } from "../lib/metrics/mod.ts";
 * declare const classifier: Classifier;
 * const metrics = await evaluateSource(randomSource(60_000, 7), classifier);
 * ```
 */
export function randomSource(samples: number, seed: number): FeatureSource {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const originalLabels = Int32Array.from({ length: samples }, () => Math.floor(random() * CLASSES));
  const labels = originalLabels.map((o) => (random() < 0.2 ? Math.floor(random() * CLASSES) : o));
  const centres = tf.randomNormal([CLASSES, DIM], 0, 1, "float32", seed);
  const mixing = tf.randomNormal([DIM, CLASSES], 0, 0.05, "float32", seed + 1);
  return function* () {
    for (let start = 0; start < samples; start += BATCH) {
      const end = Math.min(start + BATCH, samples);
      const batchLabels = labels.subarray(start, end);
      const features = tf.tidy(() =>
        tf.add(
          tf.gather(centres, tf.tensor1d(batchLabels, "int32")),
          tf.randomNormal([end - start, DIM], 0, 0.5, "float32", seed + start),
        )
      ) as tf.Tensor2D;
      yield {
        features,
        logits: tf.matMul(features, mixing),
        labels: batchLabels,
        originalLabels: originalLabels.subarray(start, end),
      };
    }
  };
}

if (import.meta.main) {
  const backend = await initBackend((Deno.args[0] ?? "wasm") as "wasm");
  console.log(`backend: ${backend.name}`);
  const classifier = {
    numClasses: CLASSES,
    dim: DIM,
    weight: Float64Array.from({ length: CLASSES * DIM }, (_, i) => Math.sin(i)),
    bias: new Float64Array(CLASSES),
  };
  // Warm-up on a small source (kernel compilation, first allocations).
  await evaluateSource(randomSource(2 * BATCH, 1), classifier);
  const seconds: number[] = [];
  let last: Awaited<ReturnType<typeof evaluateSource>> | undefined;
  for (let r = 0; r < REPETITIONS; r++) {
    const source = randomSource(SAMPLES, 7 + r);
    const started = performance.now();
    last = await evaluateSource(source, classifier);
    seconds.push((performance.now() - started) / 1000);
  }
  // The same two passes over the source without evaluating: the cost of making the batches.
  const generationStarted = performance.now();
  const generated = randomSource(SAMPLES, 99);
  for (let pass = 0; pass < 2; pass++) {
    for (const batch of generated() as Iterable<{ features: tf.Tensor; logits: tf.Tensor }>) {
      await batch.logits.data();
      tf.dispose([batch.features, batch.logits]);
    }
  }
  const generationSeconds = (performance.now() - generationStarted) / 1000;
  const median = seconds.sort((a, b) => a - b)[Math.floor(REPETITIONS / 2)];
  const report = {
    date: new Date().toISOString(),
    backend: backend.name,
    samples: SAMPLES,
    dim: DIM,
    classes: CLASSES,
    batch: BATCH,
    seconds,
    median_seconds: median,
    batch_generation_seconds: generationSeconds,
    evaluation_only_seconds: median - generationSeconds,
    samples_per_second: SAMPLES / median,
    check: { nc1: last!.collapse.nc1, dilation: last!.memorizationDilation.dilation },
  };
  console.log(
    `NC + M-D evaluation of ${SAMPLES} samples, ${DIM}-d, ${CLASSES} classes, batch ${BATCH}: ` +
      `${median.toFixed(2)} s (median of ${REPETITIONS}: ${
        seconds.map((s) => s.toFixed(2)).join(", ")
      }), of which ${generationSeconds.toFixed(2)} s generate the random batches (two passes)`,
  );
  const stamp = report.date.slice(0, 19).replaceAll(":", "-");
  await writeFileAtomic(
    `${REPO_ROOT}/results/bench/metrics-${stamp}.json`,
    JSON.stringify(report, null, 2) + "\n",
  );
}
