/**
 * Per loss and noise level, the mean over seeds of memorization, dilation and test accuracy with
 * 95 % t-intervals: the points and error bars of the paper's dilation-against-memorization figure
 * and the regime table.
 *
 * @module
 */
import {
  type ComparisonRun,
  type Definition,
  type DilationMeasure,
  underDefinition,
} from "./paired_comparison.ts";
import { tInterval } from "./t_interval.ts";

/** One loss at one noise level, over seeds. */
export interface LevelSummary {
  loss: string;
  definition: Definition;
  dilation_measure: DilationMeasure;
  label_noise: number;
  /** Seeds averaged (runs with a finite value). */
  seeds: number;
  memorization_mean: number;
  memorization_low: number;
  memorization_high: number;
  dilation_mean: number;
  dilation_low: number;
  dilation_high: number;
  /** Test accuracy, percent. */
  test_acc_pct_mean: number;
  test_acc_pct_low: number;
  test_acc_pct_high: number;
  /** Realized share of training labels the noise changed, percent. */
  flipped_share_pct_mean: number;
}

/**
 * Mean and 95 % t-interval over seeds per (loss, noise level), under one definition and dilation
 * measure. With one seed the interval collapses onto the mean.
 *
 * @example
 * ```ts
 * import type { ComparisonRun } from "./paired_comparison.ts";
 * declare const runs: ComparisonRun[];
 * const levels = levelSummary(runs, "raw", "clean_spread");
 * ```
 */
export function levelSummary(
  runs: ComparisonRun[],
  definition: Definition = "raw",
  measure: DilationMeasure = "clean_spread",
): LevelSummary[] {
  const keys = [...new Set(runs.map((r) => `${r.loss}\u0000${r.label_noise}`))];
  return keys.map((key) => {
    const group = runs.filter((r) => `${r.loss}\u0000${r.label_noise}` === key);
    const values = group.map((r) => underDefinition(r, definition, measure));
    const interval = (v: number[], scale = 1) => {
      const t = tInterval(v.map((x) => x * scale));
      return t.n >= 2 ? t : { ...t, low: t.mean, high: t.mean };
    };
    const memorization = interval(values.map((v) => v.memorization));
    const dilation = interval(values.map((v) => v.dilation));
    const accuracy = interval(group.map((r) => r.test_acc), 100);
    const flipped = interval(group.map((r) => r.flipped_share ?? NaN), 100);
    return {
      loss: group[0].loss,
      definition,
      dilation_measure: measure,
      label_noise: group[0].label_noise,
      seeds: dilation.n,
      memorization_mean: memorization.mean,
      memorization_low: memorization.low,
      memorization_high: memorization.high,
      dilation_mean: dilation.mean,
      dilation_low: dilation.low,
      dilation_high: dilation.high,
      test_acc_pct_mean: accuracy.mean,
      test_acc_pct_low: accuracy.low,
      test_acc_pct_high: accuracy.high,
      flipped_share_pct_mean: flipped.mean,
    };
  }).sort((a, b) => a.loss.localeCompare(b.loss) || a.label_noise - b.label_noise);
}
