/**
 * The latent-class (four-class) experiment's comparison: per feature count (4 and 2), LS against
 * CE, and per loss, 4 features against 2, each by the analysis of the noise sweep
 * (lib/analysis: the reference's sum measure of memorization, matched comparisons, trade-off
 * slopes, paired intervals, Holm, the verdict), with the latent-class degree `fc_noise_degree` in
 * the place of the noise level. The latent samples (labels 2 and 3) are the noisy ones; their
 * memorization is the distance to the clean centroid of their original class. Degree 0 (no latent
 * sample: the binary problem, where both feature counts build the same 2-feature network) is the
 * point (0, d(0)) of every curve.
 *
 * Test accuracy: the test set keeps the two original classes, and the reference scores the
 * four-way argmax against them, so a test sample predicted as its own latent class counts as an
 * error (at degree 0.5 about half of them). The comparison uses the accuracy with a latent-class
 * prediction c + 2 counted as class c ({@link mergedTestAccuracy}); the summary keeps the
 * reference's.
 *
 * @module
 */
import { join } from "node:path";
import { shortLoss } from "../losses/mod.ts";
import { readParquet } from "../results/mod.ts";
import { RUN_FILES } from "../runs/mod.ts";
import type { SummaryRow } from "../sweep/seed_summary.ts";
import { compareLosses } from "./compare_losses.ts";
import { compareWithReference, type SavedComparison } from "./pairwise.ts";

/** The feature counts of the experiment. */
export type FeatureCount = 2 | 4;

/**
 * Test accuracy of a finished four-class run with a prediction of latent class c + 2 counted as
 * class c: the share of test samples whose argmax logit, modulo 2, is their label (from the run's
 * `features.parquet`). Equal to the reference's accuracy for a binary run.
 *
 * @example
 * ```ts
 * mergedTestAccuracy("results/latent_noise_class/runs/<uid>"); // e.g. 0.9705
 * ```
 */
export function mergedTestAccuracy(runDir: string): number {
  const frame = readParquet(join(runDir, RUN_FILES.features));
  const logitColumns = frame.columns.filter((c) => /^logit\d+$/.test(c));
  const rows = (frame.toRecords() as Record<string, unknown>[]).filter((r) => r.split === "test");
  if (rows.length === 0 || logitColumns.length === 0) return NaN;
  let correct = 0;
  for (const row of rows) {
    const logits = logitColumns.map((c) => Number(row[c]));
    if (logits.indexOf(Math.max(...logits)) % 2 === Number(row.label)) correct++;
  }
  return correct / rows.length;
}

/** A summary row's feature count: 2 with `fourclass_twofeatures`, else 4 (2 at degree 0). */
function featureCount(row: SummaryRow): FeatureCount {
  return row.fourclass_twofeatures ? 2 : 4;
}

/**
 * The rows of one feature count as the comparison reads them: the degree as `label_noise`, the
 * merged test accuracy as `test_acc` (when `mergedAccuracy` has the run's uid), and the degree-0
 * runs of either feature count as the curve's start.
 *
 * @example
 * ```ts
 * import type { SummaryRow } from "../sweep/seed_summary.ts";
 * declare const sweep: { summary: SummaryRow[] }, accuracies: Map<string, number>;
 * const rows = latentComparisonRows(sweep.summary, 2, accuracies);
 * ```
 */
export function latentComparisonRows(
  rows: SummaryRow[],
  features: FeatureCount,
  mergedAccuracy: Map<string, number> = new Map(),
): SummaryRow[] {
  return rows
    .filter((row) => Number(row.fc_noise_degree) === 0 || featureCount(row) === features)
    .map((row) => ({
      ...row,
      label_noise: Number(row.fc_noise_degree),
      test_acc: mergedAccuracy.get(String(row.uid)) ?? row.test_acc,
    }));
}

/** The comparisons of a latent-class sweep. */
export interface LatentComparisons {
  /** Per feature count: LS (and any other loss) against CE. */
  byFeatures: { features: FeatureCount; comparisons: SavedComparison[] }[];
  /** Per loss: 4 features (treatment) against 2 features (reference), when both were run. */
  byLoss: ({ loss: string } & SavedComparison)[];
}

/**
 * Compare a latent-class sweep and save every comparison under `dir`: `<n>_features/ls_vs_ce/`
 * per feature count, `features_<loss>/` for 4 against 2 features per loss (each with the tables
 * and figures of {@link compareLosses}). `mergedAccuracy` maps run uids to
 * {@link mergedTestAccuracy}.
 *
 * @example
 * ```ts
 * import type { SummaryRow } from "../sweep/seed_summary.ts";
 * declare const rows: SummaryRow[], accuracies: Map<string, number>;
 * const comparisons = await compareLatentClass(rows, "results/lnc/comparison", accuracies, 0.99);
 * ```
 */
export async function compareLatentClass(
  rows: SummaryRow[],
  dir: string,
  mergedAccuracy: Map<string, number>,
  threshold?: number,
): Promise<LatentComparisons> {
  const counts = [...new Set(rows.filter((r) => Number(r.fc_noise_degree) > 0).map(featureCount))]
    .sort((a, b) => b - a);
  const byFeatures = [];
  for (const features of counts) {
    byFeatures.push({
      features,
      comparisons: await compareWithReference(
        latentComparisonRows(rows, features, mergedAccuracy),
        join(dir, `${features}_features`),
        { threshold },
      ),
    });
  }
  const byLoss = [];
  if (counts.length === 2) {
    for (const loss of [...new Set(rows.map((r) => String(r.loss)))]) {
      const familyRows = counts.flatMap((features) =>
        latentComparisonRows(rows.filter((r) => r.loss === loss), features, mergedAccuracy)
          .map((row) => ({ ...row, loss: `${features} features` }))
      );
      const lossDir = join(dir, `features_${shortLoss(loss).toLowerCase()}`);
      byLoss.push({
        loss,
        comparison: await compareLosses(familyRows, lossDir, threshold, {
          reference: "2 features",
          treatment: "4 features",
        }),
        dir: lossDir,
      });
    }
  }
  return { byFeatures, byLoss };
}
