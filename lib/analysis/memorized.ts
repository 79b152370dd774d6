/**
 * The memorization check: the paper's claim concerns networks that fit their noisy training
 * labels, so every run of the comparison must reach a training accuracy (against the labels it
 * was trained on, evaluation mode) of at least a threshold, 99 % by default. Runs below it are
 * flagged, never dropped.
 *
 * @module
 */

/** What the check reads from a run (a `summary.parquet` row). */
export interface MemorizationCheckInput {
  uid: string;
  loss: string;
  label_noise: number;
  seed: number;
  /** Training accuracy against the noisy labels trained on, in [0, 1]. */
  train_acc: number;
  /** Share of training samples whose features are all zero (reported for runs that failed). */
  zero_features_train?: number;
  /** The classifier's start (`default`, `etf`): the hint for a failed run depends on it. */
  classifier_init?: string;
}

/** The check's verdict on one run. */
export interface MemorizationCheck extends MemorizationCheckInput {
  /** True when `train_acc >= threshold`. */
  memorized: boolean;
  threshold: number;
}

/** The default threshold: 99 % training accuracy against the noisy labels. */
export const MEMORIZED_TRAIN_ACCURACY = 0.99;

/**
 * Check every run: memorized when its training accuracy (noisy labels) reaches `threshold`. A
 * missing or non-finite accuracy counts as not memorized.
 *
 * @example
 * ```ts
 * const checks = checkMemorized([
 *   { uid: "a", loss: "LS", label_noise: 0.2, seed: 1, train_acc: 0.995 },
 *   { uid: "b", loss: "CrossEntropy", label_noise: 0.2, seed: 1, train_acc: 0.97 },
 * ]);
 * checks.map((c) => c.memorized); // [true, false]
 * ```
 */
export function checkMemorized(
  runs: MemorizationCheckInput[],
  threshold = MEMORIZED_TRAIN_ACCURACY,
): MemorizationCheck[] {
  return runs.map((run) => ({
    ...run,
    memorized: Number.isFinite(run.train_acc) && run.train_acc >= threshold,
    threshold,
  }));
}

/**
 * Where many training samples have all-zero features, say so: with ReLU features they get no
 * gradient, the usual reason a run cannot fit its flipped samples (docs/regime.md,
 * `--classifier_init`).
 * The ETF start is suggested only to a run that did not already use it.
 */
function zeroFeatureNote(zeroFeatures: number | undefined, classifierInit?: string): string {
  if (zeroFeatures === undefined || !(zeroFeatures > 0)) return "";
  const hint = classifierInit === "etf" ? "" : "; try --classifier_init etf";
  return `, features all zero for ${(100 * zeroFeatures).toFixed(1)}% of training samples (no ` +
    `gradient there${hint})`;
}

/**
 * One line per run that did not memorize, plus a headline; the headline alone when all did.
 *
 * @example
 * ```ts
 * declare const checks: MemorizationCheck[];
 * memorizationReport(checks); // "NOT MEMORIZED: 1 of 2 runs below 99% training accuracy ..."
 * ```
 */
export function memorizationReport(checks: MemorizationCheck[]): string {
  const failed = checks.filter((c) => !c.memorized);
  const percent = (v: number) => `${(100 * v).toFixed(2)}%`;
  if (failed.length === 0) {
    const lowest = Math.min(...checks.map((c) => c.train_acc));
    return `memorized: all ${checks.length} runs reach >= ${
      percent(checks[0]?.threshold ?? MEMORIZED_TRAIN_ACCURACY)
    } training accuracy against their noisy labels (lowest ${percent(lowest)})`;
  }
  return [
    `NOT MEMORIZED: ${failed.length} of ${checks.length} runs below ${
      percent(failed[0].threshold)
    } training accuracy against their noisy labels (outside the paper's regime):`,
    ...failed.map((c) =>
      `  ${c.loss} noise ${c.label_noise} seed ${c.seed}: ${percent(c.train_acc)}${
        zeroFeatureNote(c.zero_features_train, c.classifier_init)
      } (${c.uid})`
    ),
  ].join("\n");
}
