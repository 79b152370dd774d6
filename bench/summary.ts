/**
 * The arithmetic of `deno task bench`'s report: a workload's unit, medians with their range, the
 * pair-by-pair ratios memdil / PyTorch, and the Markdown table.
 *
 * @module
 */
import { EPOCH_SAMPLES, EVALUATION_SAMPLES, type WorkloadKey } from "./workloads.ts";

/** Median and range of a side's measurements. */
export interface Stats {
  median: number;
  min: number;
  max: number;
}

/**
 * Median (the mean of the middle two for an even count), minimum and maximum.
 *
 * @example
 * ```ts
 * stats([3, 1, 2]); // { median: 2, min: 1, max: 3 }
 * ```
 */
export function stats(values: number[]): Stats {
  if (values.length === 0) throw new Error("stats of no values");
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/**
 * memdil / PyTorch for each pair: the i-th memdil measurement over the i-th PyTorch measurement,
 * both taken back to back in the same round (below 1: memdil is faster).
 *
 * @example
 * ```ts
 * pairRatios([2, 3], [4, 3]); // [0.5, 1]
 * ```
 */
export function pairRatios(memdil: number[], pytorch: number[]): number[] {
  if (memdil.length !== pytorch.length) {
    throw new Error(`${memdil.length} memdil measurements but ${pytorch.length} PyTorch ones`);
  }
  return memdil.map((value, i) => value / pytorch[i]);
}

/** Batch size of workload a (its epoch is extrapolated from seconds per step). */
const PAPER_MLP_BATCH = 16;

/**
 * The unit a workload is reported in: one epoch of the two-class training set for the paper
 * MLP (a), milliseconds per step for b and c, seconds for 60,000 samples for the evaluation (d).
 *
 * @example
 * ```ts
 * workloadUnit("a"); // "s/epoch"
 * ```
 */
export function workloadUnit(key: WorkloadKey): string {
  return { a: "s/epoch", b: "ms/step", c: "ms/step", d: "s/60k samples" }[key];
}

/**
 * One measurement in its workload's unit: `seconds` is per step (a-c) or for `steps` samples (d).
 * Workload a extrapolates the step time to an epoch of 9,600 samples (600 steps); d scales the
 * evaluation time linearly to 60,000 samples when fewer were measured.
 *
 * @example
 * ```ts
 * inUnit("b", 0.05, 50); // 50 (ms/step)
 * ```
 */
export function inUnit(key: WorkloadKey, seconds: number, steps: number): number {
  if (key === "a") return seconds * Math.ceil(EPOCH_SAMPLES / PAPER_MLP_BATCH);
  if (key === "d") return seconds * EVALUATION_SAMPLES / steps;
  return 1000 * seconds;
}

/**
 * A median with its range, to as many decimals as the magnitude warrants: `183.9 (181.2-190.0)`.
 *
 * @example
 * ```ts
 * formatStats({ median: 0.48, min: 0.45, max: 0.5 }); // "0.48 (0.45-0.50)"
 * ```
 */
export function formatStats(s: Stats): string {
  const digits = s.median >= 10 ? 1 : 2;
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
}

/**
 * A Markdown table, columns padded to a common width.
 *
 * @example
 * ```ts
 * markdownTable(["a", "b"], [["1", "2"]]);
 * ```
 */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  return [
    line(header),
    "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|",
    ...rows.map(line),
  ]
    .join("\n");
}
