/**
 * What a saved comparison shows, in words generated from its own tables: the memorization check,
 * the realized noise, where the two losses memorize, how many seeds were matched, the noise-free
 * gap, and each claim's primary endpoint with its decision. The notebook prints it under "What
 * the data shows", so the prose always describes the run that was just made.
 *
 * @module
 */
import { formatEstimate, formatNumber, formatP, type LevelSummary } from "../analysis/mod.ts";
import { shortLoss } from "../losses/mod.ts";
import type { LossComparison } from "./compare_losses.ts";

/** What the noise level of a comparison is: label noise, or the four-class problem's degree. */
export interface DescribeOptions {
  /**
   * `"label"` (default): uniform label noise, which changes about eta (K - 1) / K of the labels;
   * `"latent"`: the latent-class degree, the probability that a label moves to its latent class.
   */
  noise?: "label" | "latent";
}

/**
 * Paragraphs (plain text, one per topic) describing a comparison from its tables.
 *
 * @example
 * ```ts
 * import type { LossComparison } from "./compare_losses.ts";
 * declare const sweep: { comparison?: LossComparison };
 * console.log(describeComparison(sweep.comparison!).join("\n\n"));
 * ```
 */
export function describeComparison(
  comparison: LossComparison,
  options: DescribeOptions = {},
): string[] {
  const { losses, checks, levels, paired, differences, verdict } = comparison;
  const reference = shortLoss(losses.reference);
  const treatment = shortLoss(losses.treatment);
  const failed = checks.filter((c) => !c.memorized);
  const lowest = Math.min(...checks.map((c) => c.train_acc));
  const paragraphs: string[] = [];
  paragraphs.push(
    failed.length === 0
      ? `Memorization: all ${checks.length} runs fit their noisy training labels (lowest ` +
        `training accuracy ${(100 * lowest).toFixed(2)} %), so the comparison is inside the ` +
        "paper's regime."
      : `Memorization: ${failed.length} of ${checks.length} runs stay below ` +
        `${(100 * failed[0].threshold).toFixed(0)} % training accuracy (lowest ` +
        `${(100 * lowest).toFixed(2)} %): they are outside the paper's regime, flagged and kept.`,
  );
  const raw = levels.filter((l) => l.definition === "raw" && l.dilation_measure === "clean_spread");
  const noisyLevels = [...new Set(raw.map((l) => l.label_noise))].filter((n) => n > 0)
    .sort((a, b) => a - b);
  const at = (loss: string, noise: number): LevelSummary | undefined =>
    raw.find((l) => l.loss === loss && l.label_noise === noise);
  paragraphs.push(
    "Realized noise: the share of training labels actually changed is " +
      noisyLevels.map((n) =>
        `${formatNumber(at(losses.reference, n)?.flipped_share_pct_mean ?? NaN, 3)} % at ${n}`
      ).join(", ") +
      ` (${reference} runs; ${
        options.noise === "latent"
          ? "each label moves to its latent class with probability equal to the degree, so " +
            "about that share changes"
          : "the noise redraws a label uniformly, so about eta (K - 1) / K change"
      }).`,
  );
  const memorization = (loss: string) =>
    noisyLevels.map((n) => formatNumber(at(loss, n)?.memorization_mean ?? NaN, 4)).join(", ");
  const primaryPairs = paired.filter((p) =>
    p.definition === "raw" && p.dilation_measure === "clean_spread" && p.label_noise > 0
  );
  const matched = primaryPairs.filter((p) => p.matched_by === "memorization").length;
  const bounded = primaryPairs.filter((p) => p.matched_by === "bound").length;
  paragraphs.push(
    `Memorization (the reference's sum measure, mean over seeds at noise ${
      noisyLevels.join(", ")
    }): ${reference} ${memorization(losses.reference)}; ${treatment} ${
      memorization(losses.treatment)
    }. Of the ${primaryPairs.length} noisy ${treatment} runs, ${matched} lie on ${reference}'s ` +
      `curve of the same seed and are matched by interpolation, ${bounded} only bounded.`,
  );
  const noiseFree = differences.find((r) =>
    r.scope === "level" && r.quantity === "dilation_difference" && r.label_noise === 0 &&
    r.definition === "raw" && r.dilation_measure === "clean_spread"
  );
  if (noiseFree) {
    paragraphs.push(
      `Without noise (shown, not counted): dilation ${treatment} ${
        formatNumber(at(losses.treatment, 0)?.dilation_mean ?? NaN)
      }, ${reference} ${formatNumber(at(losses.reference, 0)?.dilation_mean ?? NaN)}; ` +
        `${treatment} - ${reference} ${formatNumber(noiseFree.mean)} [${
          formatNumber(noiseFree.low)
        }, ${formatNumber(noiseFree.high)}]. A gap that is already there without noise is not ` +
        "a trade-off; claim (b) and the excess dilation subtract it.",
    );
  }
  for (const row of verdict) {
    const interval = `${formatNumber(row.mean)} [${formatNumber(row.low)}, ${
      formatNumber(row.high)
    }]`;
    const support = row.supports_paper === "yes"
      ? "supported"
      : row.supports_paper === "no"
      ? "contradicted"
      : "not shown";
    const extra = row.claim === "better_test_accuracy"
      ? ""
      : ` Scale-free: ${
        formatEstimate(row.scale_free_mean, row.scale_free_at_most)
      } (${row.scale_free_decision}); ` +
        `clean mean square: ${
          formatEstimate(row.mean_square_mean, row.mean_square_at_most)
        } (${row.mean_square_decision}).`;
    paragraphs.push(
      `${row.statement}: ${support}. Primary endpoint (${row.endpoint}): ${interval}, ` +
        `${row.n} of ${row.seeds} seeds, p = ${formatP(row.p)}, Holm ${formatP(row.p_holm)}: ` +
        `${row.decision}. Per noisy level after Holm: ${row.levels_supporting} of ${row.levels} ` +
        `for the paper, ${row.levels_contradicting} against.${extra}`,
    );
  }
  return paragraphs;
}
