/**
 * The paper's experiments as sweeps, for the notebooks and `deno task reproduce`, each defined
 * the same way: parameters built from {@link TrainingParams} (and {@link MlpParams}), a grid of
 * runs given to lib/sweep with memdil's runners, then its figures and comparisons saved under
 * its results directory. The noise sweep (CE vs LS over label noise, the memorization_dilation
 * notebook), conventional label noise (CE vs LS vs LR over noise levels, per dataset), the latent
 * noise class (four-class problem over `fc_noise_degree`, with 4 or 2 penultimate features) and
 * large-scale runs (NC metrics over epochs).
 *
 * @module
 */
import { join } from "node:path";
import { settingFlags, type SettingParams, type TrainConfig } from "../config/schema.ts";
import { EPOCH_FILES } from "../experiment/evaluate.ts";
import { RUNNERS } from "../experiment/runners/mod.ts";
import { compareLosses, type LossComparison } from "./compare_losses.ts";
import { saveNoiseSummaryFigures } from "./noise_summary_figures.ts";
import { readSweepRun, runFigures, type SweepRunResult } from "./read_sweep_run.ts";
import { compareLatentClass, type LatentComparisons, mergedTestAccuracy } from "./latent_class.ts";
import { compareWithReference, type SavedComparison } from "./pairwise.ts";
import { shortLoss } from "../losses/mod.ts";
import {
  DISPLAY_POINTS,
  type EpochMetricsRow,
  featurePairsSpec,
  metricCurvesSpec,
  type MetricPanel,
  saveFigure,
  sweepCurvesSpec,
  thinPoints,
} from "../figures/mod.ts";
import { type DataFrame, readParquet, rowsToFrame, writeJsonAtomic } from "../results/mod.ts";
import { RUN_FILES } from "../runs/mod.ts";
import { grid } from "../sweep/grid.ts";
import type { SweepProgress } from "../sweep/progress.ts";
import { failureReport, runSweep, type SweepResult, type SweepRun } from "../sweep/sweep.ts";

/** The settings every experiment gives each of its runs, by their camelCase names. */
const TRAINING_SETTINGS = [
  "epochs",
  "batchSize",
  "lr",
  "weightDecay",
  "sampleSize",
  "backend",
  "decayType",
  "patience",
] as const;

/**
 * Settings every experiment shares (the notebooks' parameters): run settings typed from the schema
 * (`sampleSize` null: all samples; `decayType` and `patience` optional, default the schema's: a
 * step every `patience` epochs), the seeds, and where and how many runs at once.
 */
export type TrainingParams =
  & Pick<SettingParams, Exclude<(typeof TRAINING_SETTINGS)[number], "decayType" | "patience">>
  & Partial<Pick<SettingParams, "decayType" | "patience">>
  & {
    seeds: number[];
    /** Most runs at once (null: config.ini [RESOURCES] MAXIMUM_CONCURRENT_JOBS). */
    concurrency: number | null;
    /** Directory of the sweep: runs, tables, figures. */
    resultsDir: string;
    /** Training accuracy every run must reach to count as memorized (default 0.99). */
    memorizedTrainAccuracy?: number;
  };

/** The MLP settings of the simple-model experiments, by their camelCase names. */
const MLP_SETTINGS = ["width", "depth", "useBn", "classifierInit"] as const;

/** The MLP of the simple-model experiments (`classifierInit` optional, default PyTorch's). */
export type MlpParams =
  & Pick<SettingParams, "width" | "depth" | "useBn">
  & Partial<Pick<SettingParams, "classifierInit">>;

/** What an experiment returns: the sweep's result and its figures' base paths by name. */
export interface ExperimentResult {
  sweep: SweepResult;
  figures: Record<string, string>;
}

/** A conventional-noise experiment's result: per dataset, each loss compared with CE. */
export interface ConventionalNoiseResult extends ExperimentResult {
  comparisons: { dataset: string; comparisons: SavedComparison[] }[];
}

/** A latent-class experiment's result, with its comparisons. */
export interface LatentClassResult extends ExperimentResult {
  comparisons: LatentComparisons;
}

/** Options of the experiment functions. */
export interface ExperimentOptions {
  progress?: SweepProgress | false;
  log?: (line: string) => void;
}

function trainingFlags(params: TrainingParams) {
  return settingFlags(params, TRAINING_SETTINGS);
}

function mlpFlags(params: MlpParams) {
  return settingFlags(params, MLP_SETTINGS);
}

/** Write the table of the runs a figure came from, next to it (read by the gallery). */
async function writeFigureRuns(basePath: string, runs: SweepRun[]): Promise<void> {
  await writeJsonAtomic(
    `${basePath}.runs.json`,
    runs.map((run) => ({
      label: run.label,
      status: run.status,
      uid: run.uid,
      test_acc: run.result?.test_acc ?? null,
    })),
  );
}

// ------------------------------------------------------------------ noise sweep

/** Parameters of the noise sweep (the memorization_dilation notebook's parameters cell). */
export interface NoiseSweepParams extends TrainingParams, MlpParams {
  dataset: TrainConfig["dataset"];
  classes: number;
  losses: TrainConfig["loss"][];
  noiseLevels: number[];
}

/** Outcome of {@link runNoiseSweep}. */
export interface NoiseSweepResult extends ExperimentResult {
  /** One row per finished run: configuration columns and final metrics. */
  summary: DataFrame;
  /** Finished runs, in sweep order. */
  runs: SweepRunResult[];
  /** Runs that failed (the others are complete). */
  failures: SweepRun[];
  /** CE against LS, when the sweep has both and some finished runs. */
  comparison?: LossComparison;
}

/**
 * The paper's core sweep: CE and LS (or any losses) at every noise level and seed, each run
 * trained and evaluated in a worker subprocess (finished runs reused); then `summary.parquet`,
 * `summary_over_seeds.parquet`, `sweep.json`, the summary figures (dilation against
 * memorization, test accuracy and NC1 against noise) and, with CE and LS, their comparison
 * ({@link compareLosses}) under `resultsDir`. A failing run is reported (in `failures` and
 * through `log`); the others finish. When no run finishes, the error names the failures.
 *
 * @example
 * ```ts
 * declare const params: NoiseSweepParams;
 * const { summary, figures } = await runNoiseSweep({ ...params, resultsDir: "results/md" });
 * ```
 */
export async function runNoiseSweep(
  params: NoiseSweepParams,
  options: ExperimentOptions = {},
): Promise<NoiseSweepResult> {
  const log = options.log ?? console.log;
  const sweep = await runSweep({
    name: "noise sweep",
    resultsDir: params.resultsDir,
    concurrency: params.concurrency ?? undefined,
    runs: grid({
      dataset: params.dataset,
      classes: params.classes,
      ...trainingFlags(params),
      ...mlpFlags(params),
    }, {
      // Seeds slowest: a sweep stopped early leaves whole seeds, each a complete comparison.
      seed: params.seeds,
      loss: params.losses,
      label_noise: params.noiseLevels,
    }),
  }, { ...options, log, registry: RUNNERS });
  const report = failureReport(sweep);
  if (report) log(report);
  if (sweep.summary.length === 0) {
    // Nothing to tabulate or draw: say why, rather than fail later on a missing column.
    throw new Error(`no run of the noise sweep finished; ${report || "the sweep has no runs"}`);
  }
  const figures = await saveNoiseSummaryFigures(sweep.summary, join(params.resultsDir, "figures"));
  const comparison = params.losses.includes("CrossEntropy") && params.losses.includes("LS")
    ? await compareLosses(sweep.summary, params.resultsDir, params.memorizedTrainAccuracy)
    : undefined;
  return {
    sweep,
    summary: rowsToFrame(sweep.summary),
    runs: sweep.runs.filter((run) => run.status !== "failed").map(readSweepRun),
    failures: sweep.failures,
    figures: comparison ? { ...figures, ...comparison.figures } : figures,
    comparison,
  };
}

// ------------------------------------------------------------------ conventional label noise

/** Parameters of the conventional-noise experiment. */
export interface ConventionalNoiseParams extends TrainingParams, MlpParams {
  datasets: TrainConfig["dataset"][];
  classes: number;
  losses: TrainConfig["loss"][];
  noiseLevels: number[];
}

/**
 * Per dataset, every loss at every noise level and seed; then the summary figures (dilation
 * against memorization, test accuracy and NC1 against noise: one panel per dataset, one line
 * per loss), and per dataset every loss compared with CE by the analysis of the noise sweep
 * ({@link compareWithReference}: `comparison/<dataset>/ls_vs_ce/`, `lr_vs_ce/`, each with its
 * memorization check and verdict table). Each run keeps its own feature scatters and training
 * curves.
 *
 * @example
 * ```ts
 * declare const params: ConventionalNoiseParams;
 * const { sweep, figures } = await runConventionalNoise(params);
 * ```
 */
export async function runConventionalNoise(
  params: ConventionalNoiseParams,
  options: ExperimentOptions = {},
): Promise<ConventionalNoiseResult> {
  const sweep = await runSweep({
    name: "conventional_noise",
    resultsDir: params.resultsDir,
    concurrency: params.concurrency ?? undefined,
    runs: grid({
      ...trainingFlags(params),
      classes: params.classes,
      ...mlpFlags(params),
    }, {
      // Seeds slowest: a sweep stopped early leaves whole seeds, each a complete comparison.
      seed: params.seeds,
      dataset: params.datasets,
      label_noise: params.noiseLevels,
      loss: params.losses,
    }),
  }, { ...options, registry: RUNNERS });
  const figures = sweep.summary.length > 0
    ? await saveNoiseSummaryFigures(sweep.summary, join(params.resultsDir, "figures"))
    : {};
  const comparisons = [];
  for (const dataset of params.datasets) {
    const rows = sweep.summary.filter((row) => row.dataset === dataset);
    if (rows.length === 0) continue;
    comparisons.push({
      dataset,
      comparisons: await compareWithReference(
        rows,
        join(params.resultsDir, "comparison", dataset),
        { threshold: params.memorizedTrainAccuracy },
      ),
    });
  }
  return { sweep, figures, comparisons };
}

/**
 * The per-run figures (feature scatters, training curves) of the finished runs whose flags
 * match `where`, in sweep order.
 *
 * @example
 * ```ts
 * import { showFigures } from "../figures/mod.ts";
 * import type { SweepResult } from "../sweep/sweep.ts";
 * declare const sweep: SweepResult;
 * for (const run of runFiguresWhere(sweep, { label_noise: 0.3, seed: 1 })) {
 *   await showFigures(run.figures.features_train);
 * }
 * ```
 */
export function runFiguresWhere(
  sweep: SweepResult,
  where: Record<string, unknown>,
): { label: string; uid: string; figures: Record<string, string> }[] {
  return sweep.runs
    .filter((run) => run.status !== "failed")
    .filter((run) =>
      Object.entries(where).every(([key, value]) =>
        JSON.stringify((run.config as unknown as Record<string, unknown>)[key]) ===
          JSON.stringify(value)
      )
    )
    .map((run) => ({ label: run.label, uid: run.uid, figures: runFigures(run.dir) }));
}

// ------------------------------------------------------------------ latent noise class

/** Parameters of the latent-noise-class (four-class) experiment. */
export interface LatentClassParams extends TrainingParams, MlpParams {
  dataset: TrainConfig["dataset"];
  /** `fc_noise_degree` values: probability that a label moves to its latent class. */
  degrees: number[];
  /** Conventional label noise applied before the move (usually 0). */
  labelNoise: number;
  losses: TrainConfig["loss"][];
  /** Penultimate feature counts to compare: 4 (one per training class) and/or 2. */
  featureCounts: (2 | 4)[];
}

/** Figure rows of the four-class runs: configuration and final metrics. */
function latentRows(sweep: SweepResult, mergedAccuracy: Map<string, number>) {
  return sweep.summary.map((row) => ({
    dataset: String(row.dataset),
    loss: shortLoss(row.loss),
    fc_noise_degree: Number(row.fc_noise_degree),
    features: row.fourclass_twofeatures ? "2 features" : "4 features",
    seed: Number(row.seed),
    test_acc: mergedAccuracy.get(String(row.uid)) ?? NaN,
    dilation: Number(row.dilation_train ?? NaN),
    memorization: Number(row.memorization_train ?? NaN),
    nc1: Number(row.nc1_train ?? NaN),
  }));
}

/**
 * Save the scatter of every pair of penultimate features of a finished run (from its
 * `features.parquet`) as `figures/features_pairs_<split>` in the run directory.
 *
 * @example
 * ```ts
 * declare const run: { dir: string };
 * const base = await saveFeaturePairsFigure(run.dir, "train", "LS, degree 0.5");
 * ```
 */
export async function saveFeaturePairsFigure(
  runDir: string,
  split: "train" | "test",
  title: string,
  options: { maxPoints?: number } = {},
): Promise<string> {
  const frame = readParquet(join(runDir, RUN_FILES.features));
  const featureColumns = frame.columns.filter((c) => /^f\d+$/.test(c));
  const records = frame.toRecords() as Record<string, unknown>[];
  const rows = records.filter((row) => row.split === split);
  // Keep the figure light: an even subsample; the full data is in features.parquet.
  const shown = thinPoints(
    rows.map((row) => ({ row, noisy: row.noisy === true })),
    options.maxPoints ?? DISPLAY_POINTS,
  );
  const points = shown.map(({ row, noisy }) => ({
    features: featureColumns.map((c) => Number(row[c])),
    label: Number(row.label),
    originalLabel: Number(row.original_label),
    noisy,
    index: Number(row.index),
  }));
  const base = join(runDir, "figures", `features_pairs_${split}`);
  await saveFigure(
    featurePairsSpec({
      points,
      title: `${split === "train" ? "Train" : "Test"} features, every pair: ${title}`,
      subtitle: shown.length < rows.length
        ? `${shown.length} of ${rows.length} samples shown (all in features.parquet)`
        : undefined,
    }),
    base,
  );
  return base;
}

/**
 * The four-class problem: binary data whose training labels move to a latent class (c + 2)
 * with probability `fc_noise_degree`, trained with 4 penultimate features and with 2; then test
 * accuracy, dilation and memorization against the degree (one panel per feature count), and for
 * the 4-feature runs the scatter of every feature pair (2-feature runs draw their own 2-D
 * scatter).
 *
 * @example
 * ```ts
 * declare const params: LatentClassParams;
 * const { sweep, figures } = await runLatentClass(params);
 * ```
 */
export async function runLatentClass(
  params: LatentClassParams,
  options: ExperimentOptions = {},
): Promise<LatentClassResult> {
  const sweep = await runSweep({
    name: "latent_noise_class",
    resultsDir: params.resultsDir,
    concurrency: params.concurrency ?? undefined,
    // Degree 0 (no latent sample) builds the same 2-feature binary network for either feature
    // count: run once, it starts both curves.
    runs: grid({
      ...trainingFlags(params),
      dataset: params.dataset,
      classes: 2,
      fourclass_problem: true,
      label_noise: params.labelNoise,
      ...mlpFlags(params),
    }, {
      // Seeds slowest: a sweep stopped early leaves whole seeds, each a complete comparison.
      seed: params.seeds,
      fourclass_twofeatures: params.featureCounts.map((count) => count === 2),
      fc_noise_degree: params.degrees,
      loss: params.losses,
    }).filter((run) => !(run.fc_noise_degree === 0 && run.fourclass_twofeatures)),
  }, { ...options, registry: RUNNERS });
  const figures: Record<string, string> = {};
  const mergedAccuracy = new Map(
    sweep.runs.filter((run) => run.status !== "failed")
      .map((run) => [run.uid, mergedTestAccuracy(run.dir)]),
  );
  const rows = latentRows(sweep, mergedAccuracy);
  if (rows.length > 0) {
    const dir = join(params.resultsDir, "figures");
    const curves: [string, string, string][] = [
      ["test_accuracy_vs_degree", "test_acc", "test accuracy (latent class counted as its class)"],
      ["dilation_vs_degree", "dilation", "dilation"],
      ["memorization_vs_degree", "memorization", "memorization"],
    ];
    for (const [name, field, title] of curves) {
      figures[name] = join(dir, name);
      await saveFigure(
        sweepCurvesSpec(rows.filter((row) => Number.isFinite(row[field as keyof typeof row])), {
          x: { field: "fc_noise_degree", title: "latent-class degree (fc_noise_degree)" },
          y: { field, title },
          column: { field: "features", title: null },
          title: `Four-class problem: ${title} against the latent-class degree`,
        }),
        figures[name],
      );
    }
  }
  for (const run of sweep.runs) {
    const config = run.config as unknown as TrainConfig;
    if (run.status === "failed" || config.fourclass_twofeatures) continue;
    await saveFeaturePairsFigure(
      run.dir,
      "train",
      `${shortLoss(config.loss)}, degree ${config.fc_noise_degree}, seed ${config.seed}`,
    );
  }
  const comparisons = await compareLatentClass(
    sweep.summary,
    join(params.resultsDir, "comparison"),
    mergedAccuracy,
    params.memorizedTrainAccuracy,
  );
  return { sweep, figures, comparisons };
}

// ------------------------------------------------------------------ large scale

/**
 * Parameters of the large-scale experiment: the shared ones, the `optimizer`, and the MLP's
 * `width` and `depth` (when a model is MLP).
 */
export interface LargeScaleParams
  extends TrainingParams, Pick<SettingParams, "optimizer" | "width" | "depth"> {
  dataset: TrainConfig["dataset"];
  models: string[];
  losses: TrainConfig["loss"][];
  /** Label noise levels: 0 is the clean run. */
  noiseLevels: number[];
  /** Classes kept (null: all of the dataset's). */
  classes: number | null;
}

/** The per-epoch panels of the large-scale figures (docs/reference.md#figures). */
export const EPOCH_PANELS: MetricPanel[] = [
  { field: "nc1_train", title: "NC1", scale: "log" },
  { field: "nc1_post_train", title: "NC1 post (logits)", scale: "log" },
  { field: "nc2", title: "NC2 (ETF)" },
  { field: "nc3_train", title: "NC3 (W-H)" },
  { field: "nc4_train", title: "NC4" },
  { field: "train_acc", title: "train accuracy" },
  { field: "test_acc", title: "test accuracy" },
  { field: "ece_train", title: "train ECE" },
  { field: "ece_test", title: "test ECE" },
  { field: "trace_sigma_w_train", title: "trace(Sigma_W)", scale: "log" },
  { field: "trace_sigma_b_train", title: "trace(Sigma_B)", scale: "log" },
];

/**
 * The per-epoch metric rows of finished large-scale runs, one line (`run`) per run.
 *
 * @example
 * ```ts
 * import type { SweepResult } from "../sweep/sweep.ts";
 * declare const sweep: SweepResult;
 * const rows = epochRows(sweep.runs);
 * ```
 */
export function epochRows(runs: SweepRun[]): EpochMetricsRow[] {
  return runs.filter((run) => run.status !== "failed").flatMap((run) => {
    const config = run.config as unknown as TrainConfig;
    const name = `${config.model} ${shortLoss(config.loss)} noise ${config.label_noise}` +
      (runs.some((r) => (r.config as unknown as TrainConfig).seed !== config.seed)
        ? ` seed ${config.seed}`
        : "");
    const table = readParquet(join(run.dir, EPOCH_FILES.metrics)).toRecords();
    return table.map((row) =>
      ({ ...(row as Record<string, number>), run: name }) as EpochMetricsRow
    );
  });
}

/**
 * Large-scale runs (ResNet/VGG) for every model, loss, noise level and seed, each checkpointed
 * every epoch and evaluated per checkpoint; then NC1-NC4, accuracy, ECE and the covariance
 * traces over epochs: one figure with every run, and one per noise level comparing the losses
 * (clean against noisy).
 *
 * @example
 * ```ts
 * declare const params: LargeScaleParams;
 * const { sweep, figures } = await runLargeScaleExperiment(params);
 * ```
 */
export async function runLargeScaleExperiment(
  params: LargeScaleParams,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const sweep = await runSweep({
    name: "large_scale",
    runner: "large",
    resultsDir: params.resultsDir,
    concurrency: params.concurrency ?? undefined,
    runs: grid({
      ...trainingFlags(params),
      dataset: params.dataset,
      optimizer: params.optimizer,
      classes: params.classes,
      width: params.width,
      depth: params.depth,
    }, {
      model: params.models,
      loss: params.losses,
      label_noise: params.noiseLevels,
      seed: params.seeds,
    }),
  }, { ...options, registry: RUNNERS });
  const figures: Record<string, string> = {};
  const finished = sweep.runs.filter((run) => run.status !== "failed");
  if (finished.length === 0) return { sweep, figures };
  const dir = join(params.resultsDir, "figures");
  figures.nc_curves = join(dir, "nc_curves");
  await saveFigure(
    metricCurvesSpec(epochRows(finished), EPOCH_PANELS, `${params.dataset}: metrics over epochs`),
    figures.nc_curves,
  );
  await writeFigureRuns(figures.nc_curves, finished);
  for (const noise of params.noiseLevels) {
    const runs = finished.filter((run) =>
      (run.config as unknown as TrainConfig).label_noise === noise
    );
    if (runs.length === 0) continue;
    const name = `nc_curves_noise${noise}`;
    figures[name] = join(dir, name);
    await saveFigure(
      metricCurvesSpec(
        epochRows(runs),
        EPOCH_PANELS,
        `${params.dataset}, ${
          noise === 0 ? "clean labels" : `label noise ${noise}`
        }: losses compared`,
      ),
      figures[name],
    );
    await writeFigureRuns(figures[name], runs);
  }
  return { sweep, figures };
}
