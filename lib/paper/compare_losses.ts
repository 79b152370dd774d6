/**
 * The comparison of two losses over a noise sweep, saved: the memorization check of every run,
 * the treatment - reference differences at matched memorization on the reference's sum measure,
 * the trade-off's slopes and excess dilation, the three-part verdict with Holm-corrected
 * statistics, and the comparison figures, from the sweep's summary rows (`lib/analysis`
 * computes). Every table has fixed column types: accuracies in percent (`_pct`), differences of
 * accuracy in percentage points (`_pp`), counts as integers, everything else float64 (null where
 * undefined).
 *
 * @module
 */
import { join } from "node:path";
import {
  CE_VS_LS,
  checkMemorized,
  type ComparisonRun,
  differencesSpec,
  dilationVsMemorizationMatchedSpec,
  type EndpointRow,
  endpointTable,
  formatLevelTable,
  formatVerdictTable,
  type LevelSummary,
  levelSummary,
  type LossPair,
  type MemorizationCheck,
  memorizationFromSum,
  memorizationReport,
  type PairedRun,
  pairRuns,
  type SeedTradeOff,
  seedTradeOffs,
  underDefinition,
  type VerdictRow,
  verdictTable,
} from "../analysis/mod.ts";
import { saveFigure } from "../figures/mod.ts";
import { shortLoss } from "../losses/mod.ts";
import { type DataFrame, pl, writeParquetAtomic } from "../results/mod.ts";
import type { SummaryRow } from "../sweep/seed_summary.ts";

/** The files of a saved comparison, relative to the sweep's results directory. */
export const COMPARISON_FILES = {
  /** One row per run: check, realized flip share, metrics under both definitions. */
  runs: "comparison_runs.parquet",
  /** One row per (loss, noise level, definition): means over seeds with 95 % intervals. */
  levels: "comparison_levels.parquet",
  /** One row per (measure, definition, treatment run): its match and the differences. */
  paired: "comparison_paired.parquet",
  /** One row per (measure, definition, seed): slopes and per-seed means over noisy levels. */
  seeds: "comparison_seeds.parquet",
  /** One row per tested difference: interval, p, Holm-adjusted p, decision. */
  differences: "comparison.parquet",
  /** One row per claim: the primary endpoint and its decision. */
  verdict: "verdict.parquet",
} as const;

/** A saved comparison. */
export interface LossComparison {
  losses: LossPair;
  checks: MemorizationCheck[];
  /** The memorization check as text: a headline, and one line per run that did not memorize. */
  memorizationReport: string;
  levels: LevelSummary[];
  paired: PairedRun[];
  seeds: SeedTradeOff[];
  differences: EndpointRow[];
  verdict: VerdictRow[];
  /** The verdict table as aligned text. */
  verdictText: string;
  /** The per-level rows (raw, clean spread) as aligned text. */
  levelText: string;
  /** Paths (without extension) of the figures. */
  figures: { dilation_vs_memorization_seeds: string; ls_minus_ce: string };
}

/** A summary row as the comparison reads it. */
export function comparisonRun(
  row: SummaryRow,
): ComparisonRun & {
  uid: string;
  train_acc: number;
  zero_features_train: number;
  classifier_init: string;
} {
  const noisy = Number(row.noisy_count_train ?? NaN);
  const clean = Number(row.clean_count_train ?? NaN);
  return {
    uid: String(row.uid),
    loss: String(row.loss),
    label_noise: Number(row.label_noise),
    seed: Number(row.seed),
    train_acc: Number(row.train_acc ?? NaN),
    test_acc: Number(row.test_acc ?? NaN),
    memorization: memorizationFromSum(
      Number(row.memorization_sum_train ?? NaN),
      Number(row.classes ?? NaN),
    ),
    memorization_per_sample: Number(row.memorization_train ?? NaN),
    dilation: Number(row.dilation_train ?? NaN),
    clean_mean_square: Number(row.clean_mean_square_train ?? NaN),
    clean_centroid_distance: Number(row.clean_centroid_distance_train ?? NaN),
    flipped_share: noisy / (noisy + clean),
    zero_features_train: Number(row.zero_features_train ?? NaN),
    classifier_init: String(row.classifier_init ?? "default"),
  };
}

/** Columns stored as Int64 (counts, seeds); other numbers are Float64. */
const INTEGER_COLUMNS = new Set([
  "seed",
  "seeds",
  "n",
  "matched_seeds",
  "bounded_seeds",
  "missing_seeds",
  "holm_size",
  "noisy_levels",
  "direction",
  "levels",
  "levels_supporting",
  "levels_contradicting",
]);

/**
 * Rows as a DataFrame whose column types depend only on the column names and the JS types of the
 * first row, never on the values: a column of floats that happen to be whole, or all NaN, stays
 * Float64 (NaN and non-finite values stored as null).
 */
function typedFrame(rows: object[]): DataFrame {
  const records = rows as Record<string, unknown>[];
  if (records.length === 0) return pl.DataFrame({});
  const series = Object.keys(records[0]).map((key) => {
    const values = records.map((r) => r[key]);
    const first = values.find((v) => v !== undefined && v !== null);
    if (typeof first === "string") return pl.Series(key, values.map(String), pl.Utf8);
    if (typeof first === "boolean") return pl.Series(key, values, pl.Bool);
    const numbers = values.map((v) => {
      const x = Number(v);
      return Number.isFinite(x) ? x : null;
    });
    return INTEGER_COLUMNS.has(key)
      ? pl.Series(key, numbers, pl.Int64)
      : pl.Series(key, numbers, pl.Float64);
  });
  return pl.DataFrame(series);
}

/**
 * Compare two losses (LS against CE by default) over a sweep's summary rows and save the tables
 * (Parquet, see {@link COMPARISON_FILES}) and figures under `resultsDir`. `threshold` is the
 * memorization check's training accuracy.
 *
 * @example
 * ```ts
 * import type { SweepResult } from "../sweep/sweep.ts";
 * declare const sweep: SweepResult;
 * const comparison = await compareLosses(sweep.summary, "results/md");
 * console.log(comparison.memorizationReport, "\n", comparison.verdictText);
 * ```
 */
export async function compareLosses(
  rows: SummaryRow[],
  resultsDir: string,
  threshold?: number,
  losses: LossPair = CE_VS_LS,
): Promise<LossComparison> {
  const runs = rows.map(comparisonRun)
    .filter((r) => r.loss === losses.reference || r.loss === losses.treatment);
  const checks = checkMemorized(runs, threshold);
  const paired = pairRuns(runs, losses);
  const seeds = seedTradeOffs(runs, paired, losses);
  const differences = endpointTable(seeds, paired, losses);
  const verdict = verdictTable(differences, losses);
  const levels = [
    ...levelSummary(runs, "raw"),
    ...levelSummary(runs, "scale_free"),
    ...levelSummary(runs, "raw", "clean_mean_square"),
  ];
  const runRows = runs.map((run, i) => {
    const scaleFree = underDefinition(run, "scale_free");
    return {
      uid: run.uid,
      loss: run.loss,
      label_noise: run.label_noise,
      seed: run.seed,
      train_acc_pct: 100 * run.train_acc,
      memorized: checks[i].memorized,
      memorized_threshold_pct: 100 * checks[i].threshold,
      zero_features_train: run.zero_features_train,
      flipped_share_pct: 100 * (run.flipped_share ?? NaN),
      test_acc_pct: 100 * run.test_acc,
      memorization: run.memorization,
      memorization_per_sample: run.memorization_per_sample,
      dilation: run.dilation,
      clean_mean_square: run.clean_mean_square,
      clean_centroid_distance: run.clean_centroid_distance,
      memorization_scale_free: scaleFree.memorization,
      dilation_scale_free: scaleFree.dilation,
    };
  });
  const tables: [keyof typeof COMPARISON_FILES, object[]][] = [
    ["runs", runRows],
    ["levels", levels],
    ["paired", paired],
    ["seeds", seeds],
    ["differences", differences],
    ["verdict", verdict],
  ];
  for (const [name, table] of tables) {
    await writeParquetAtomic(typedFrame(table), join(resultsDir, COMPARISON_FILES[name]));
  }
  const figuresDir = join(resultsDir, "figures");
  const figures = {
    dilation_vs_memorization_seeds: join(figuresDir, "dilation_vs_memorization_seeds"),
    ls_minus_ce: join(figuresDir, "ls_minus_ce"),
  };
  await saveFigure(dilationVsMemorizationMatchedSpec(runs), figures.dilation_vs_memorization_seeds);
  await saveFigure(
    differencesSpec(differences, `${shortLoss(losses.treatment)} - ${shortLoss(losses.reference)}`),
    figures.ls_minus_ce,
  );
  return {
    losses,
    checks,
    memorizationReport: memorizationReport(checks),
    levels,
    paired,
    seeds,
    differences,
    verdict,
    verdictText: formatVerdictTable(verdict),
    levelText: formatLevelTable(differences),
    figures,
  };
}
