/**
 * The saved comparison of a sweep: every table has the same column types whatever the values
 * (one seed or ten, matched or not), accuracies in percent, and the three-part verdict.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { compareLosses, COMPARISON_FILES } from "../lib/paper/compare_losses.ts";
import { readParquet } from "../lib/results/mod.ts";
import type { SummaryRow } from "../lib/sweep/seed_summary.ts";

/** Summary rows of a sweep: CE and LS, noise 0 to 0.3, the given seeds (known values). */
function summaryRows(seeds: number[]): SummaryRow[] {
  return seeds.flatMap((seed) =>
    ["CrossEntropy", "LS"].flatMap((loss) =>
      [0, 0.1, 0.2, 0.3].map((label_noise) => {
        const ls = loss === "LS";
        const noisy = Math.round(480 * label_noise / 2) + seed;
        return {
          uid: `${loss}_${label_noise}_${seed}`,
          loss,
          label_noise,
          seed,
          classes: 2,
          classifier_init: "etf",
          train_acc: 1,
          test_acc: 0.98 - label_noise / 2 + (ls ? 0.005 : 0),
          // The reference's memorization (total / K): CE 1000 eta, LS 700 eta, 0 without noise.
          memorization_sum_train: label_noise === 0 ? 0 : 2 * (ls ? 700 : 1000) * label_noise,
          memorization_train: label_noise === 0 ? NaN : ls ? 2.4 : 3.4,
          dilation_train: (ls ? 0.03 : 0.2) + (ls ? 0.0004 : 0.0005) * 1000 * label_noise +
            0.001 * seed,
          clean_mean_square_train: 0.05 + label_noise,
          clean_centroid_distance_train: ls ? 2.4 : 3.8,
          noisy_count_train: label_noise === 0 ? 0 : noisy,
          clean_count_train: 480 - (label_noise === 0 ? 0 : noisy),
          zero_features_train: 0,
        } as SummaryRow;
      })
    )
  );
}

Deno.test("compareLosses: tables with fixed column types, percent units and the verdict", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil_comparison_" });
  try {
    const many = await compareLosses(summaryRows([1, 2, 3, 4]), join(dir, "many"));
    // One seed: no interval, no p-value, every decision inconclusive; the same column types.
    const one = await compareLosses(summaryRows([1]), join(dir, "one"));
    for (const file of Object.values(COMPARISON_FILES)) {
      const a = readParquet(join(dir, "many", file));
      const b = readParquet(join(dir, "one", file));
      deepEqual(
        a.columns.map((c) => `${c}:${a.getColumn(c).dtype}`),
        b.columns.map((c) => `${c}:${b.getColumn(c).dtype}`),
        file,
      );
    }
    const table = readParquet(join(dir, "one", COMPARISON_FILES.differences));
    for (const column of ["mean", "low", "high", "p", "p_holm", "label_noise"]) {
      equal(String(table.getColumn(column).dtype), "DataType(Float64)", column);
    }
    for (const column of ["n", "seeds", "matched_seeds", "bounded_seeds", "holm_size"]) {
      equal(String(table.getColumn(column).dtype), "DataType(Int64)", column);
    }
    equal(String(table.getColumn("primary").dtype), "DataType(Bool)");
    equal(String(table.getColumn("decision").dtype), "DataType(String)");
    deepEqual(one.verdict.map((v) => v.supports_paper), ["not shown", "not shown", "not shown"]);
    // Four seeds: LS dilates less at matched memorization (0.03 + 0.4 m vs 0.2 + 0.5 m per 1000).
    equal(many.verdict[0].supports_paper, "yes");
    const runs = readParquet(join(dir, "many", COMPARISON_FILES.runs)).toRecords();
    const ce = runs.find((r) => r.uid === "CrossEntropy_0.3_2")!;
    equal(ce.test_acc_pct, 100 * (0.98 - 0.15));
    equal(ce.memorization, 300);
    // Realized flips: 72 + seed of 480 training labels.
    ok(Math.abs(Number(ce.flipped_share_pct) - 100 * 74 / 480) < 1e-9);
    ok(many.levelText.includes("excess_dilation_difference"));
    for (const figure of Object.values(many.figures)) {
      ok((await Deno.stat(`${figure}.png`)).size > 0, figure);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
