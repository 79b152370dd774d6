/**
 * The CE/LS comparison of a noise sweep, saved: the memorization check of every run, LS - CE
 * differences at matched memorization with paired t-intervals (raw and scale-free), the verdict
 * table and the comparison figures, from the sweep's summary rows (`lib/analysis` computes).
 *
 * @module
 */
import { join } from "node:path";
import {
  checkMemorized,
  type ComparisonRun,
  type DifferenceRow,
  differencesSpec,
  differenceTable,
  formatVerdictTable,
  type MemorizationCheck,
  memorizationReport,
  type PairedRun,
  pairRuns,
  seedPoints,
  seedsDilationVsMemorizationSpec,
  underDefinition,
  type VerdictRow,
  verdictTable,
} from "../analysis/mod.ts";
import { saveFigure } from "../figures/mod.ts";
import { rowsToFrame, writeParquetAtomic } from "../results/mod.ts";
import type { SummaryRow } from "../sweep/summary.ts";

/** The files of a saved comparison, relative to the sweep's results directory. */
export const COMPARISON_FILES = {
  /** One row per run: check, metrics under both definitions. */
  runs: "comparison_runs.parquet",
  /** One row per (definition, LS run): its CE match and the differences. */
  paired: "comparison_paired.parquet",
  /** One row per (definition, quantity, noise level): mean, std, t-interval over seeds. */
  differences: "comparison.parquet",
  /** One row per noise level: the verdict. */
  verdict: "verdict.parquet",
} as const;

/** A saved comparison. */
export interface LossComparison {
  checks: MemorizationCheck[];
  /** The memorization check as text: a headline, and one line per run that did not memorize. */
  memorizationReport: string;
  paired: PairedRun[];
  differences: DifferenceRow[];
  verdict: VerdictRow[];
  /** The verdict table as aligned text. */
  verdictText: string;
  /** Paths (without extension) of the figures. */
  figures: { dilation_vs_memorization_seeds: string; ls_minus_ce: string };
}

/** A summary row as the comparison reads it. */
function comparisonRun(
  row: SummaryRow,
): ComparisonRun & { uid: string; train_acc: number; zero_features_train: number } {
  return {
    uid: String(row.uid),
    loss: String(row.loss),
    label_noise: Number(row.label_noise),
    seed: Number(row.seed),
    train_acc: Number(row.train_acc ?? NaN),
    test_acc: Number(row.test_acc ?? NaN),
    memorization: Number(row.memorization_train ?? NaN),
    dilation: Number(row.dilation_train ?? NaN),
    clean_centroid_distance: Number(row.clean_centroid_distance_train ?? NaN),
    zero_features_train: Number(row.zero_features_train ?? NaN),
  };
}

/**
 * Compare LS with CE over a sweep's summary rows and save the tables (Parquet, see
 * {@link COMPARISON_FILES}) and figures under `resultsDir`. `threshold` is the memorization
 * check's training accuracy.
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
): Promise<LossComparison> {
  const runs = rows.map(comparisonRun);
  const checks = checkMemorized(runs, threshold);
  const paired = pairRuns(runs);
  const differences = differenceTable(paired);
  const verdict = verdictTable(differences);
  await writeParquetAtomic(
    rowsToFrame(checks.map((check, i) => {
      const scaleFree = underDefinition(runs[i], "scale_free");
      return {
        ...check,
        test_acc: runs[i].test_acc,
        memorization: runs[i].memorization,
        dilation: runs[i].dilation,
        clean_centroid_distance: runs[i].clean_centroid_distance,
        memorization_scale_free: scaleFree.memorization,
        dilation_scale_free: scaleFree.dilation,
      };
    })),
    join(resultsDir, COMPARISON_FILES.runs),
  );
  const frame = (records: object[]) => rowsToFrame(records as Record<string, unknown>[]);
  await writeParquetAtomic(frame(paired), join(resultsDir, COMPARISON_FILES.paired));
  await writeParquetAtomic(frame(differences), join(resultsDir, COMPARISON_FILES.differences));
  await writeParquetAtomic(frame(verdict), join(resultsDir, COMPARISON_FILES.verdict));
  const figuresDir = join(resultsDir, "figures");
  const figures = {
    dilation_vs_memorization_seeds: join(figuresDir, "dilation_vs_memorization_seeds"),
    ls_minus_ce: join(figuresDir, "ls_minus_ce"),
  };
  await saveFigure(
    seedsDilationVsMemorizationSpec(seedPoints(runs)),
    figures.dilation_vs_memorization_seeds,
  );
  await saveFigure(differencesSpec(differences), figures.ls_minus_ce);
  return {
    checks,
    memorizationReport: memorizationReport(checks),
    paired,
    differences,
    verdict,
    verdictText: formatVerdictTable(verdict),
    figures,
  };
}
