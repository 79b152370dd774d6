/**
 * The comparison's memorization axis on a real run: the reference's formula computed directly on
 * the training features a run saved equals what the comparison reads from the run's metrics
 * (`memorization_sum_train` / K).
 */
import { equal, ok } from "node:assert/strict";
import { referenceMemorization } from "../lib/analysis/mod.ts";
import { initBackend } from "../lib/backend/mod.ts";
import { DEFAULT_CONFIG } from "../lib/config/flags.ts";
import { runSimpleModel } from "../lib/experiment/run.ts";
import { comparisonRun } from "../lib/paper/compare_losses.ts";
import { readParquet } from "../lib/results/mod.ts";
import type { SummaryRow } from "../lib/sweep/seed_summary.ts";

await initBackend("wasm");

Deno.test("the sum measure read from a run's metrics equals the reference's formula on its saved features", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "memdil_memorization_data_" });
  const base = await Deno.makeTempDir({ prefix: "memdil_memorization_runs_" });
  try {
    const result = await runSimpleModel({
      ...DEFAULT_CONFIG,
      dataset: "fashionmnist",
      data_dir: dataDir, // empty: the Debian copy is used
      classes: 2,
      width: 16,
      depth: 2,
      epochs: 1,
      batch_size: 64,
      lr: 0.01,
      label_noise: 0.4,
      sample_size: 200,
      backend: "wasm",
      seed: 3,
    }, { basePath: base, log: () => {}, progress: false });
    const rows = readParquet(`${result.dir}/features.parquet`).toRecords()
      .filter((r) => r.split === "train") as Record<string, number>[];
    const noisy = rows.filter((r) => r.label !== r.original_label).length;
    ok(noisy > 20, `${noisy} noisy training samples`);
    const direct = referenceMemorization({
      features: rows.map((r) => [Number(r.f0), Number(r.f1)]),
      labels: rows.map((r) => Number(r.label)),
      originalLabels: rows.map((r) => Number(r.original_label)),
      numClasses: 2,
    });
    ok(direct > 0, `memorization ${direct}`);
    const metrics = result.metrics.toRecords()[0] as SummaryRow;
    const saved = Number(metrics.memorization_sum_train);
    // The saved total over classes is K = 2 times the reference's mean over classes (float32
    // features, float64 sums).
    ok(Math.abs(saved / 2 - direct) <= 1e-6 * direct, `${saved} / 2 vs ${direct}`);
    const read = comparisonRun(metrics);
    ok(Math.abs(read.memorization - direct) <= 1e-6 * direct, `${read.memorization} vs ${direct}`);
    // The realized share of flipped labels: the noisy training samples among all trained on.
    equal(read.flipped_share, noisy / rows.length);
  } finally {
    for (const dir of [dataDir, base]) await Deno.remove(dir, { recursive: true });
  }
});
