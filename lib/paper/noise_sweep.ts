/**
 * The paper's core sweep: CE and LS over label-noise levels, each run trained and evaluated,
 * then one summary table and the summary figures (dilation against memorization, test accuracy
 * and NC1 against noise). Used by the `memorization_dilation` notebook and `deno task reproduce`.
 * Runs go through lib/sweep: worker subprocesses, finished runs reused, failures reported.
 *
 * @module
 */
import { join } from "node:path";
import { settingFlags, type SettingParams, type TrainConfig } from "../config/schema.ts";
import {
  accuracyVsNoiseSpec,
  dilationVsMemorizationSpec,
  nc1VsNoiseSpec,
  saveFigure,
} from "../figures/mod.ts";
import { type DataFrame, readParquet, rowsToFrame } from "../results/mod.ts";
import { memorizationFromSum } from "../analysis/mod.ts";
import { compareLosses, type LossComparison } from "./compare_losses.ts";
import { RUNNERS } from "../experiment/runners/mod.ts";
import { shortLoss } from "../losses/mod.ts";
import { RUN_FILES } from "../runs/mod.ts";
import type { Flags } from "../sweep/grid.ts";
import type { SweepProgress } from "../sweep/progress.ts";
import { failureReport, runSweep, type SweepRun } from "../sweep/sweep.ts";
import type { SummaryRow } from "../sweep/seed_summary.ts";

/** The settings a noise sweep takes for every run, by their camelCase names. */
const SWEPT_SETTINGS = [
  "dataset",
  "classes",
  "epochs",
  "width",
  "depth",
  "batchSize",
  "lr",
  "weightDecay",
  "useBn",
  "backend",
  "sampleSize",
  "decayType",
  "patience",
  "classifierInit",
] as const;

/**
 * Parameters of a noise sweep (the notebook's parameters cell): settings of every run (types from
 * the schema; `sampleSize` (default: all), `decayType`, `patience` and `classifierInit` optional,
 * defaults the schema's), and the sweep's axes and place.
 */
export type NoiseSweepParams =
  & Pick<SettingParams, Exclude<(typeof SWEPT_SETTINGS)[number], OptionalSetting>>
  & Partial<Pick<SettingParams, OptionalSetting>>
  & {
    noiseLevels: number[];
    losses: TrainConfig["loss"][];
    seeds: number[];
    /** Directory for this sweep's runs, summary table and figures. */
    resultsDir: string;
    /** Most runs at once (default: config.ini [RESOURCES] MAXIMUM_CONCURRENT_JOBS). */
    concurrency?: number;
    /** Training accuracy every run must reach to count as memorized (default 0.99). */
    memorizedTrainAccuracy?: number;
  };
type OptionalSetting = "sampleSize" | "decayType" | "patience" | "classifierInit";

/** A finished run of a sweep, read back from its run directory. */
export interface SweepRunResult {
  uid: string;
  dir: string;
  /** True when the run was finished before this sweep and reused. */
  reused: boolean;
  history: DataFrame;
  /** One row: the configuration and the final metrics. */
  metrics: DataFrame;
  /** Paths of the run's figures, by name (each with .vl.json, .svg, .png). */
  figures: Record<string, string>;
}

/** Outcome of {@link runNoiseSweep}. */
export interface NoiseSweepResult {
  /** One row per finished run: configuration columns and final metrics. */
  summary: DataFrame;
  /** Finished runs, in sweep order. */
  runs: SweepRunResult[];
  /** Runs that failed (the others are complete). */
  failures: SweepRun[];
  /** Paths (without extension) of the summary figures. */
  figures: Record<string, string>;
  /** CE against LS, when the sweep has both and some finished runs. */
  comparison?: LossComparison;
}

/**
 * The training configuration of one sweep point, as flags.
 *
 * @example
 * ```ts
 * declare const params: NoiseSweepParams;
 * const flags = sweepFlags(params, "LS", 0.2, 6);
 * ```
 */
export function sweepFlags(
  params: NoiseSweepParams,
  loss: TrainConfig["loss"],
  labelNoise: number,
  seed: number,
): Flags {
  return {
    ...settingFlags(params, SWEPT_SETTINGS),
    sample_size: params.sampleSize ?? null,
    label_noise: labelNoise,
    loss,
    seed,
  };
}

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

/**
 * The figures saved in a run directory's `figures/`, by name (paths without extension).
 *
 * @example
 * ```ts
 * runFigures("results/runs/x"); // { features_train: "results/runs/x/figures/features_train", ... }
 * ```
 */
export function runFigures(dir: string): Record<string, string> {
  const figures: Record<string, string> = {};
  try {
    for (const entry of Deno.readDirSync(join(dir, "figures"))) {
      if (entry.isFile && entry.name.endsWith(".vl.json")) {
        const name = entry.name.slice(0, -".vl.json".length);
        figures[name] = join(dir, "figures", name);
      }
    }
  } catch { /* no figures */ }
  return figures;
}

/**
 * Read back a finished run of a sweep.
 *
 * @example
 * ```ts
 * import type { SweepResult } from "../sweep/sweep.ts";
 * declare const result: SweepResult;
 * const run = readSweepRun(result.runs[0]);
 * ```
 */
export function readSweepRun(run: Pick<SweepRun, "uid" | "dir" | "status">): SweepRunResult {
  return {
    uid: run.uid,
    dir: run.dir,
    reused: run.status === "reused",
    history: readParquet(join(run.dir, RUN_FILES.history)),
    metrics: readParquet(join(run.dir, RUN_FILES.metrics)),
    figures: runFigures(run.dir),
  };
}

/**
 * Train and evaluate every (loss, noise level, seed) in worker subprocesses, then write
 * `summary.parquet`, `summary_over_seeds.parquet`, `sweep.json` and the summary figures under
 * `resultsDir`. A failing run is reported (in `failures` and through `log`); the others finish.
 * When no run finishes, the error names the failures.
 *
 * @example
 * ```ts
 * declare const params: NoiseSweepParams;
 * const { summary, figures } = await runNoiseSweep({ ...params, resultsDir: "results/md" });
 * ```
 */
export async function runNoiseSweep(
  params: NoiseSweepParams,
  options: { log?: (line: string) => void; progress?: SweepProgress | false } = {},
): Promise<NoiseSweepResult> {
  const log = options.log ?? console.log;
  const runs = params.seeds.flatMap((seed) =>
    params.losses.flatMap((loss) =>
      params.noiseLevels.map((noise) => sweepFlags(params, loss, noise, seed))
    )
  );
  const result = await runSweep({
    name: "noise sweep",
    resultsDir: params.resultsDir,
    basePath: join(params.resultsDir, "runs"),
    concurrency: params.concurrency,
    runs,
  }, { log, progress: options.progress, registry: RUNNERS });
  const report = failureReport(result);
  if (report) log(report);
  if (result.summary.length === 0) {
    // Nothing to tabulate or draw: say why, rather than fail later on a missing column.
    throw new Error(`no run of the noise sweep finished; ${report || "the sweep has no runs"}`);
  }
  const finished = result.runs.filter((run) => run.status !== "failed").map(readSweepRun);
  const figures = await saveNoiseSummaryFigures(result.summary, join(params.resultsDir, "figures"));
  const comparison = params.losses.includes("CrossEntropy") && params.losses.includes("LS")
    ? await compareLosses(result.summary, params.resultsDir, params.memorizedTrainAccuracy)
    : undefined;
  return {
    summary: rowsToFrame(result.summary),
    runs: finished,
    failures: result.failures,
    figures: comparison ? { ...figures, ...comparison.figures } : figures,
    comparison,
  };
}
