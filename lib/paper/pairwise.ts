/**
 * Every loss of a sweep compared with one reference loss by the same analysis (lib/analysis,
 * {@link compareLosses}): LS against CE and LR against CE, each pair saved in its own directory
 * with its verdict table. Used by the conventional-noise experiment and, with the feature count
 * in the place of the loss, by the latent-class experiment.
 *
 * @module
 */
import { join } from "node:path";
import { shortLoss } from "../losses/mod.ts";
import type { SummaryRow } from "../sweep/seed_summary.ts";
import { compareLosses, type LossComparison } from "./compare_losses.ts";

/**
 * The directory name of a pair's comparison: `ls_vs_ce`, `lr_vs_ce`, ...
 *
 * @example
 * ```ts
 * pairDirName({ reference: "CrossEntropy", treatment: "LR" }); // "lr_vs_ce"
 * ```
 */
export function pairDirName(losses: { reference: string; treatment: string }): string {
  const slug = (loss: string) => shortLoss(loss).toLowerCase().replace(/[^a-z0-9]+/g, "_");
  return `${slug(losses.treatment)}_vs_${slug(losses.reference)}`;
}

/** A comparison and the directory its tables and figures were saved in. */
export interface SavedComparison {
  comparison: LossComparison;
  dir: string;
}

/**
 * Compare each loss of `rows` other than `reference` (in order of first appearance) with
 * `reference`, saving each comparison under `dir/<treatment>_vs_<reference>/` (tables and
 * figures, {@link compareLosses}). A pair needs runs of both losses; without the reference loss
 * there is nothing to compare and the result is empty.
 *
 * @example
 * ```ts
 * import type { SummaryRow } from "../sweep/seed_summary.ts";
 * declare const sweep: { summary: SummaryRow[] };
 * const [lsVsCe, lrVsCe] = await compareWithReference(sweep.summary, "results/cn/comparison");
 * console.log(lrVsCe.comparison.verdictText, lrVsCe.dir);
 * ```
 */
export async function compareWithReference(
  rows: SummaryRow[],
  dir: string,
  options: { reference?: string; threshold?: number } = {},
): Promise<SavedComparison[]> {
  const reference = options.reference ?? "CrossEntropy";
  const losses = [...new Set(rows.map((row) => String(row.loss)))];
  if (!losses.includes(reference)) return [];
  const comparisons: SavedComparison[] = [];
  for (const treatment of losses.filter((loss) => loss !== reference)) {
    const pair = { reference, treatment };
    const pairDir = join(dir, pairDirName(pair));
    comparisons.push({
      comparison: await compareLosses(rows, pairDir, options.threshold, pair),
      dir: pairDir,
    });
  }
  return comparisons;
}
