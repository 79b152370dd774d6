/**
 * The latent noise class (four-class problem): the memorization and dilation a run reports for
 * its latent samples, and its test accuracy with a latent prediction counted as its class, against
 * a direct computation from the features it saved; and the training
 * set's latent share following `fc_noise_degree` when `sample_size` subsamples.
 */
import { equal, ok } from "node:assert/strict";
import { DEFAULT_CONFIG, type TrainConfig } from "../lib/config/flags.ts";
import { drawTrainingSet } from "../lib/data/mod.ts";
import { runSimpleModel } from "../lib/experiment/run.ts";
import { memorizationFromSum, referenceMemorization } from "../lib/analysis/mod.ts";
import { describeComparison, type LossComparison, mergedTestAccuracy } from "../lib/paper/mod.ts";
import { readParquet } from "../lib/results/mod.ts";
import { withTempDir } from "./fixtures/data/formats.ts";

function close(actual: number, expected: number, what: string) {
  ok(
    Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual}, directly ${expected}`,
  );
}

Deno.test("four-class training set: with sample_size the latent share follows fc_noise_degree", () => {
  // 3000 samples of each of two labels, subsampled to 200 of each, then moved with the degree.
  const source = Int32Array.from({ length: 6000 }, (_, i) => i % 2);
  for (const degree of [0.1, 0.5, 0.9]) {
    const record = drawTrainingSet(source, {
      classes: 2,
      label_noise: 0,
      val_split_prop: 0,
      seed: 3,
      sample_size: 200,
      fourclass_problem: true,
      fc_noise_degree: degree,
    });
    equal(record.labels.length, 400);
    const latent = Array.from(record.labels).filter((y) => y > 1).length / 400;
    // Binomial(400, degree): within 4 standard deviations.
    ok(Math.abs(latent - degree) < 4 * Math.sqrt(degree * (1 - degree) / 400), `${latent}`);
    // Without label noise a latent sample's original class is its label - 2.
    ok(record.labels.every((y, i) => y < 2 || record.originalLabels[i] === y - 2));
  }
});

Deno.test("four-class run: memorization and dilation of the latent samples equal a direct computation from features.parquet", async () => {
  await withTempDir(async (dir) => {
    Deno.env.set("MEMDIL_CACHE_DIR", `${dir}/cache`);
    const config: TrainConfig = {
      ...DEFAULT_CONFIG,
      data_dir: `${dir}/data`, // empty: Debian's copy of Fashion-MNIST is used
      backend: "wasm",
      width: 16,
      depth: 2,
      epochs: 2,
      batch_size: 16,
      sample_size: 40,
      val_split_prop: 0.25,
      fourclass_problem: true,
      fc_noise_degree: 0.5,
    };
    const result = await runSimpleModel(config, { basePath: `${dir}/runs`, log: () => {} });
    const metrics = readParquet(`${result.dir}/metrics.parquet`).toRecords()[0] as Record<
      string,
      number
    >;
    const rows = (readParquet(`${result.dir}/features.parquet`).toRecords() as Record<
      string,
      unknown
    >[]).filter((row) => row.split === "train");
    const features = (row: Record<string, unknown>) =>
      [0, 1, 2, 3].map((j) => Number(row[`f${j}`]));
    // Clean samples: labels 0 and 1; latent samples: labels 2 and 3, original class label - 2.
    const centroid = (c: number) => {
      const members = rows.filter((row) => row.label === c).map(features);
      return [0, 1, 2, 3].map((j) => members.reduce((s, h) => s + h[j], 0) / members.length);
    };
    const u = [centroid(0), centroid(1)];
    const distance = (h: number[], v: number[]) => Math.hypot(...h.map((x, j) => x - v[j]));
    const latent = rows.filter((row) => Number(row.label) > 1);
    ok(latent.length > 0 && latent.length < rows.length, `${latent.length} latent samples`);
    ok(latent.every((row) => row.noisy === true && row.original_label === Number(row.label) - 2));
    ok(rows.filter((row) => Number(row.label) < 2).every((row) => row.noisy === false));
    const distances = latent.map((row) => distance(features(row), u[Number(row.original_label)]));
    const sum = distances.reduce((s, d) => s + d, 0);
    equal(metrics.noisy_count_train, latent.length);
    close(metrics.memorization_sum_train, sum, "memorization_sum_train");
    close(metrics.memorization_train, sum / latent.length, "memorization_train");
    // The reference's measure (what the comparison matches on): per original class the sum of
    // its latent samples' distances, mean over the two original classes, not over the four
    // trained ones. The summary's `classes` is the 2 the run selected.
    equal(metrics.classes, 2);
    const reference = referenceMemorization({
      features: rows.map(features),
      labels: rows.map((row) => Number(row.label)),
      originalLabels: rows.map((row) => Number(row.original_label)),
      numClasses: 2,
    });
    close(reference, sum / 2, "the reference's measure, directly");
    close(
      memorizationFromSum(metrics.memorization_sum_train, metrics.classes),
      reference,
      "the reference's measure from the saved total",
    );
    // Dilation: mean over the two clean classes of the population std of the distances to u_c
    // (the latent classes have no clean samples and no clean centroid).
    const spread = (c: number) => {
      const d = rows.filter((row) => row.label === c).map((row) => distance(features(row), u[c]));
      const mean = d.reduce((s, x) => s + x, 0) / d.length;
      return Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / d.length);
    };
    close(metrics.dilation_train, (spread(0) + spread(1)) / 2, "dilation_train");
    close(metrics.clean_centroid_distance_train, distance(u[0], u[1]), "clean centroid distance");
    // Test accuracy with a latent prediction c + 2 counted as c: every sample the reference's
    // four-way accuracy counts as correct, plus those predicted as their own latent class.
    const test = (readParquet(`${result.dir}/features.parquet`).toRecords() as Record<
      string,
      unknown
    >[]).filter((row) => row.split === "test");
    const predicted = (row: Record<string, unknown>) => {
      const logits = [0, 1, 2, 3].map((k) => Number(row[`logit${k}`]));
      return logits.indexOf(Math.max(...logits));
    };
    const exact = test.filter((row) => predicted(row) === row.label).length;
    const ownLatent = test.filter((row) => predicted(row) === Number(row.label) + 2).length;
    close(exact / test.length, metrics.test_acc, "the reference's test accuracy");
    close(mergedTestAccuracy(result.dir), (exact + ownLatent) / test.length, "merged accuracy");
  });
});

Deno.test("latent-class prose: the realized share of changed labels is explained by the degree", () => {
  // Only the tables the first paragraphs read; the measured share at degree 0.25 is about 0.25.
  const comparison = {
    losses: { reference: "CrossEntropy", treatment: "LS" },
    checks: [{ memorized: true, train_acc: 1, threshold: 0.99 }],
    levels: [{
      definition: "raw",
      dilation_measure: "clean_spread",
      loss: "CrossEntropy",
      label_noise: 0.25,
      flipped_share_pct_mean: 26.1,
      memorization_mean: 560,
    }],
    paired: [],
    differences: [],
    verdict: [],
  } as unknown as LossComparison;
  const latent = describeComparison(comparison, { noise: "latent" })[1];
  ok(latent.includes("26.1 % at 0.25"), latent);
  ok(latent.includes("probability equal to the degree"), latent);
  ok(!latent.includes("eta (K - 1) / K"), latent);
  ok(describeComparison(comparison)[1].includes("eta (K - 1) / K"), "label noise by default");
});
