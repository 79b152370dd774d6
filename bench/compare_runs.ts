/**
 * Set the metrics of the same short run on different backends side by side (the JSON reports of
 * `bench/short_run.ts`), and check each against the first within a tolerance: accuracies within
 * `--accuracy-pp` percentage points, every other metric within `--relative` of the first's value.
 * The runs must agree on every setting but the backend. Prints a Markdown table; exits 1 when a
 * metric is out of tolerance.
 *
 *   deno run --allow-read bench/compare_runs.ts results/device/short_webgpu.json cpu.json
 *
 * The default tolerances (1 point, 2 %) are a few times the spread measured between the two CPU
 * backends on the same run (openblas and wasm, which differ only in float32 summation order).
 *
 * @module
 */
import { UsageError } from "../lib/config/flags.ts";
import { runCli } from "../cli/common.ts";
import type { ShortRunReport } from "./short_run.ts";

/** Metrics compared, in the table's order. Accuracies are fractions in the reports. */
export const COMPARED_METRICS = [
  "train_acc",
  "test_acc",
  "nc1_train",
  "nc1_test",
  "dilation_train",
  "memorization_sum_train",
  "memorization_train",
  "clean_centroid_distance_train",
  "nc2_means_train",
  "nc3_train",
] as const;

/** How far a metric may be from the first run's. */
export interface Tolerance {
  /** Accuracies: percentage points. */
  accuracyPp: number;
  /** Every other metric: relative to the first run's value. */
  relative: number;
}

/** One metric across the runs. */
export interface ComparedMetric {
  metric: string;
  values: number[];
  /** Largest difference from the first run: points for accuracies, relative otherwise. */
  largestDifference: number;
  within: boolean;
}

/**
 * Compare the runs' metrics with the first run's.
 *
 * @example
 * ```ts
 * import type { ShortRunReport } from "./short_run.ts";
 * declare const gpu: ShortRunReport, cpu: ShortRunReport;
 * const rows = compareRuns([gpu, cpu], { accuracyPp: 1, relative: 0.02 });
 * console.log(rows.every((r) => r.within));
 * ```
 */
export function compareRuns(runs: ShortRunReport[], tolerance: Tolerance): ComparedMetric[] {
  const [first, ...others] = runs;
  for (const other of others) {
    const differs = Object.keys(first.config).filter((key) =>
      key !== "backend" && JSON.stringify(first.config[key]) !== JSON.stringify(other.config[key])
    );
    if (differs.length > 0) {
      throw new UsageError(
        `the runs differ in ${
          differs.join(", ")
        } (${other.backend.name} vs ${first.backend.name}): ` +
          "compare runs made with the same flags but --backend",
      );
    }
  }
  return COMPARED_METRICS.map((metric) => {
    const values = runs.map((run) => run.metrics[metric]);
    const isAccuracy = metric.endsWith("_acc");
    const differences = values.slice(1).map((v) =>
      isAccuracy ? 100 * Math.abs(v - values[0]) : Math.abs(v - values[0]) / Math.abs(values[0])
    );
    const largestDifference = Math.max(0, ...differences);
    const limit = isAccuracy ? tolerance.accuracyPp : tolerance.relative;
    return {
      metric,
      values,
      largestDifference,
      within: differences.every((d) => d <= limit),
    };
  });
}

function markdown(runs: ShortRunReport[], rows: ComparedMetric[]): string {
  const header = [
    "metric",
    ...runs.map((r) => r.backend.name),
    "largest difference",
    "within tolerance",
  ];
  const lines = [header, header.map(() => "---")];
  for (const row of rows) {
    const accuracy = row.metric.endsWith("_acc");
    lines.push([
      row.metric,
      ...row.values.map((v) => accuracy ? `${(100 * v).toFixed(2)} %` : v.toPrecision(5)),
      accuracy
        ? `${row.largestDifference.toFixed(2)} pp`
        : `${(100 * row.largestDifference).toFixed(2)} %`,
      row.within ? "yes" : "NO",
    ]);
  }
  lines.push([
    "training seconds",
    ...runs.map((r) => r.seconds.training.toFixed(1)),
    "",
    "",
  ]);
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

if (import.meta.main) {
  await runCli(async (argv) => {
    const take = (name: string, fallback: number) => {
      const at = argv.indexOf(name);
      if (at < 0) return fallback;
      const value = Number(argv[at + 1]);
      if (!(value >= 0)) throw new UsageError(`${name} needs a number >= 0`);
      argv = [...argv.slice(0, at), ...argv.slice(at + 2)];
      return value;
    };
    const tolerance = { accuracyPp: take("--accuracy-pp", 1), relative: take("--relative", 0.02) };
    if (argv.length < 2) {
      throw new UsageError("usage: compare_runs.ts RUN.json OTHER.json [...] [--relative 0.02]");
    }
    const runs: ShortRunReport[] = [];
    for (const path of argv) {
      try {
        runs.push(JSON.parse(await Deno.readTextFile(path)));
      } catch (error) {
        throw new UsageError(`${path}: not a short-run report (${(error as Error).message})`);
      }
    }
    const rows = compareRuns(runs, tolerance);
    console.log(markdown(runs, rows));
    const failed = rows.filter((r) => !r.within).map((r) => r.metric);
    if (failed.length > 0) {
      console.error(`out of tolerance: ${failed.join(", ")}`);
      Deno.exit(1);
    }
  });
}
