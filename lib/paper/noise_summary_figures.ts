/**
 * The summary figures of a noise sweep: dilation against memorization, test accuracy and NC1
 * against noise.
 *
 * @module
 */
import { join } from "node:path";
import { memorizationFromSum } from "../analysis/mod.ts";
import {
  accuracyVsNoiseSpec,
  dilationVsMemorizationSpec,
  nc1VsNoiseSpec,
  saveFigure,
} from "../figures/mod.ts";
import { shortLoss } from "../losses/mod.ts";
import type { SummaryRow } from "../sweep/seed_summary.ts";

/**
 * Save the summary figures of noise-sweep rows (summary.parquet records) under `figuresDir`:
 * dilation against memorization (the reference's sum measure), test accuracy and NC1 against
 * noise; one line per loss, one panel per dataset, seeds averaged. Returns their base paths by name.
 *
 * @example
 * ```ts
 * import type { SweepResult } from "../sweep/sweep.ts";
 * declare const result: SweepResult;
 * const figures = await saveNoiseSummaryFigures(result.summary, "results/x/figures");
 * ```
 */
export async function saveNoiseSummaryFigures(
  rows: SummaryRow[],
  figuresDir: string,
): Promise<Record<string, string>> {
  const figureRows = rows.map((row) => ({
    dataset: String(row.dataset),
    loss: shortLoss(row.loss),
    label_noise: Number(row.label_noise),
    seed: Number(row.seed),
    // The reference's memorization (sum measure, mean over classes): 0 without noise.
    memorization: memorizationFromSum(
      Number(row.memorization_sum_train ?? NaN),
      Number(row.classes ?? NaN),
    ),
    dilation: Number(row.dilation_train),
    test_acc: Number(row.test_acc),
    nc1: Number(row.nc1_train),
  }));
  const figures: Record<string, string> = {
    dilation_vs_memorization: join(figuresDir, "dilation_vs_memorization"),
    test_accuracy_vs_noise: join(figuresDir, "test_accuracy_vs_noise"),
    nc1_vs_noise: join(figuresDir, "nc1_vs_noise"),
  };
  // Each loss's curve starts at its noise-free run (memorization 0); a run without the columns
  // (NaN) is left out.
  await saveFigure(
    dilationVsMemorizationSpec(figureRows.filter((r) => Number.isFinite(r.memorization))),
    figures.dilation_vs_memorization,
  );
  await saveFigure(accuracyVsNoiseSpec(figureRows), figures.test_accuracy_vs_noise);
  await saveFigure(nc1VsNoiseSpec(figureRows), figures.nc1_vs_noise);
  return figures;
}
