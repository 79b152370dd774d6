/**
 * Each loss compared with CE by the same analysis (the conventional-noise experiment's LS and LR
 * against CE), and the latent-class rows as that analysis reads them: on summary rows built with
 * known answers.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { compareWithReference, latentComparisonRows, pairDirName } from "../lib/paper/mod.ts";
import { pl } from "../lib/results/mod.ts";
import type { SummaryRow } from "../lib/sweep/seed_summary.ts";

/** A summary row: memorization as the saved total over 2 classes (the reference's value x 2). */
function row(
  loss: string,
  noise: number,
  seed: number,
  memorization: number,
  dilation: number,
  testAcc: number,
): SummaryRow {
  return {
    uid: `${loss}_${noise}_${seed}`,
    dataset: "fashionmnist",
    loss,
    label_noise: noise,
    seed,
    classes: 2,
    train_acc: 1,
    test_acc: testAcc,
    memorization_sum_train: 2 * memorization,
    memorization_train: noise === 0 ? NaN : 3,
    dilation_train: dilation,
    clean_mean_square_train: dilation ** 2,
    clean_centroid_distance_train: 4,
    noisy_count_train: Math.round(800 * noise / 2),
    clean_count_train: 800 - Math.round(800 * noise / 2),
    zero_features_train: 0,
  };
}

/**
 * CE's curve per seed: (0, 0.2), (200, 0.3), (600, 0.5) plus a seed offset. LR reaches
 * memorization 300 and 500, where CE's interpolated dilation is 0.35 and 0.45 (+ offset), with
 * dilation 0.10 and 0.15 below it and a seed-dependent wobble: LR - CE is -0.125 on average at
 * matched memorization. LS equals CE plus a wobble averaging 0 over seeds. Test accuracy: LR
 * about 1 point better.
 */
function sweepRows(): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const seed of [1, 2, 3]) {
    const offset = 0.01 * seed;
    const wobble = 0.004 * (seed - 2);
    rows.push(row("CrossEntropy", 0, seed, 0, 0.2 + offset, 0.98));
    rows.push(row("CrossEntropy", 0.1, seed, 200, 0.3 + offset, 0.95));
    rows.push(row("CrossEntropy", 0.3, seed, 600, 0.5 + offset, 0.85));
    rows.push(row("LS", 0, seed, 0, 0.2 + offset + wobble, 0.98));
    rows.push(row("LS", 0.1, seed, 200, 0.3 + offset + wobble, 0.95));
    rows.push(row("LS", 0.3, seed, 600, 0.5 + offset + wobble / 2, 0.85));
    rows.push(row("LR", 0, seed, 0, 0.2 + offset, 0.98 + 0.01 + wobble / 10));
    rows.push(row("LR", 0.1, seed, 300, 0.35 + offset - 0.10 + wobble, 0.96 + wobble / 10));
    rows.push(row("LR", 0.3, seed, 500, 0.45 + offset - 0.15 - wobble / 2, 0.86));
  }
  return rows;
}

Deno.test("compareWithReference: LS and LR each against CE, LR's verdict from LR's runs alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-pairwise-" });
  try {
    const saved = await compareWithReference(sweepRows(), dir, { threshold: 0.99 });
    deepEqual(saved.map((s) => s.dir), [join(dir, "ls_vs_ce"), join(dir, "lr_vs_ce")]);
    const [ls, lr] = saved.map((s) => s.comparison);
    deepEqual(ls.losses, { reference: "CrossEntropy", treatment: "LS" });
    deepEqual(lr.losses, { reference: "CrossEntropy", treatment: "LR" });
    equal(pairDirName(lr.losses), "lr_vs_ce");
    // LR's pairs: matched on CE's curve at memorization 300 and 500 (CE 0.35 / 0.45 + offset).
    const primary = lr.paired.filter((p) =>
      p.definition === "raw" && p.dilation_measure === "clean_spread" && p.label_noise > 0
    );
    equal(primary.length, 6);
    ok(primary.every((p) => p.matched_by === "memorization"));
    for (const p of primary) {
      const expected = p.label_noise === 0.1 ? 0.35 + 0.01 * p.seed : 0.45 + 0.01 * p.seed;
      ok(Math.abs(p.reference_dilation - expected) < 1e-12, `${p.reference_dilation}`);
    }
    // (a): per seed the mean of -0.10 + w and -0.15 - w / 2; over seeds -0.125.
    const [a, , c] = lr.verdict;
    equal(a.claim, "less_dilation_at_matched_memorization");
    ok(Math.abs(a.mean + 0.125) < 1e-12, `${a.mean}`);
    equal(a.decision, "LR lower");
    equal(a.supports_paper, "yes");
    ok(a.statement.startsWith("(a) LR has less dilation than CE"), a.statement);
    // (c): LR tests about 1 point better at both noisy levels.
    ok(Math.abs(c.mean - 1) < 0.1, `${c.mean}`);
    // LS is CE with a wobble: no dilation difference is decided.
    ok(Math.abs(ls.verdict[0].mean) < 1e-12, `${ls.verdict[0].mean}`);
    equal(ls.verdict[0].supports_paper, "not shown");
    // Each pair saved its own tables; the LR verdict names LR.
    for (const name of ["ls_vs_ce", "lr_vs_ce"]) {
      const verdict = pl.readParquet(join(dir, name, "verdict.parquet"));
      equal(verdict.height, 3);
    }
    const lrRuns = pl.readParquet(join(dir, "lr_vs_ce", "comparison_runs.parquet"));
    deepEqual([...new Set(lrRuns.getColumn("loss").toArray())].sort(), ["CrossEntropy", "LR"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compareWithReference: without the reference loss nothing is compared", async () => {
  const rows = sweepRows().filter((r) => r.loss !== "CrossEntropy");
  deepEqual(await compareWithReference(rows, "/nonexistent/never-written"), []);
});

Deno.test("latentComparisonRows: the degree as the level, degree 0 starting both feature counts, merged test accuracy", () => {
  const latent = (degree: number, twoFeatures: boolean, uid: string): SummaryRow => ({
    uid,
    loss: "LS",
    label_noise: 0,
    fc_noise_degree: degree,
    fourclass_twofeatures: twoFeatures,
    seed: 1,
    test_acc: 0.5,
  });
  const rows = [
    latent(0, false, "zero"),
    latent(0.5, false, "four"),
    latent(0.5, true, "two"),
  ];
  const merged = new Map([["zero", 0.99], ["two", 0.97]]);
  const two = latentComparisonRows(rows, 2, merged);
  deepEqual(two.map((r) => [r.uid, r.label_noise, r.test_acc]), [
    ["zero", 0, 0.99],
    ["two", 0.5, 0.97],
  ]);
  // A run without a merged accuracy keeps the reference's.
  deepEqual(latentComparisonRows(rows, 4, merged).map((r) => [r.uid, r.label_noise, r.test_acc]), [
    ["zero", 0, 0.99],
    ["four", 0.5, 0.5],
  ]);
});
