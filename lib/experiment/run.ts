/**
 * One simple-model run end to end: run directory, data, training, evaluation, tables, figures.
 * `deno task train`, `deno task evaluate`, the sweeps and the notebooks all call this.
 *
 * @module
 */
import { activeBackend } from "../backend/mod.ts";
import { summaryColumns, type TrainConfig } from "../config/schema.ts";
import { readIniConfig } from "../config/ini.ts";
import type { RunData } from "../data/mod.ts";
import {
  featureScatterSpec,
  saveFigure,
  thinPoints,
  trainingCurvesSpec,
  type TrainingHistoryRow,
} from "../figures/mod.ts";
import { lossFor } from "../losses/mod.ts";
import type { Classifier } from "../metrics/mod.ts";
import type { Model } from "../models/mod.ts";
import {
  columnsToFrame,
  type DataFrame,
  readParquet,
  rowsToFrame,
  writeJsonAtomic,
  writeParquetAtomic,
} from "../results/mod.ts";
import {
  exists,
  loadTensors,
  markRunFinished,
  markRunUnfinished,
  RUN_FILES,
  saveTensors,
} from "../runs/mod.ts";
import {
  orchestrateRun,
  type ReevaluateOptions,
  reevaluateRun,
  type RunSetup,
} from "./orchestrate.ts";
import { type EpochRecord, trainModel } from "../training/mod.ts";
import {
  classMetricRows,
  EpochMetricsLog,
  evaluateModel,
  type Evaluation,
  featureColumns,
  measureModel,
  metricColumns,
  metricsData,
} from "./evaluate.ts";

/** What a finished run returns. */
export interface RunResult {
  uid: string;
  dir: string;
  /** True when an existing finished model was reused instead of trained. */
  reused: boolean;
  history: DataFrame;
  /** One row: the configuration and the final metrics. */
  metrics: DataFrame;
  evaluation: Evaluation;
  /** Paths of the saved figures, by name (each with .vl.json, .svg, .png). */
  figures: Record<string, string>;
}

/** Options of {@link runSimpleModel}. */
export interface RunOptions {
  /** Directory holding the run directories (default: config.ini BASE_PATH). */
  basePath?: string;
  /** Progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  /** Where per-epoch and status lines go (default: console.log). Pass `() => {}` for quiet. */
  log?: (line: string) => void;
  /** Called after each training epoch with its record (sweeps report progress with it). */
  onEpoch?: (record: EpochRecord) => void;
}

/** Run `first` (when given), then report the epoch to `report` (when given). */
function thenReport(
  report: ((record: EpochRecord) => void | Promise<void>) | undefined,
  first: ((record: EpochRecord) => Promise<void>) | undefined,
): ((record: EpochRecord) => Promise<void>) | undefined {
  if (!report) return first;
  return async (record) => {
    await first?.(record);
    await report(record);
  };
}

/**
 * The line a run ends with: its final NC1, dilation and memorization on the training features,
 * and the accuracies (`n/a` for a missing value, e.g. no noisy samples).
 *
 * @example
 * ```ts
 * finalMetricsLine({ nc1_train: 0.5, dilation_train: 1.2, memorization_train: 3, train_acc: 0.9, test_acc: 0.8 });
 * // "final: NC1 0.5000, dilation 1.200, memorization 3.000, train acc 0.9000, test acc 0.8000"
 * ```
 */
export function finalMetricsLine(row: Record<string, unknown>): string {
  const value = (key: string, digits: number) => {
    const v = row[key];
    return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "n/a";
  };
  return `final: NC1 ${value("nc1_train", 4)}, dilation ${value("dilation_train", 3)}, ` +
    `memorization ${value("memorization_train", 3)}, train acc ${value("train_acc", 4)}, ` +
    `test acc ${value("test_acc", 4)}`;
}

/** A number to 3 decimals for a figure's subtitle; `n/a` when it is null, NaN or infinite. */
function fixed(value: number | null | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(3) : "n/a";
}

/** The configuration columns of a metrics row, from the schema. */
function configColumns(uid: string, config: TrainConfig, backend: string) {
  return { uid, ...summaryColumns(config, "train"), backend };
}

/**
 * Where a configuration's run directories go: config.ini FOURCLASS_EXP_PATH for four-class runs,
 * BASE_PATH otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "../config/schema.ts";
 * runBasePath({ ...DEFAULT_CONFIG, fourclass_problem: true }); // .../results/runs_fourclass
 * ```
 */
export function runBasePath(config: Pick<TrainConfig, "fourclass_problem">): string {
  const paths = readIniConfig().paths;
  return config.fourclass_problem ? paths.fourclassExpPath : paths.basePath;
}

function plotTitle(config: TrainConfig): string {
  const loss = config.loss === "LS" ? `LS (alpha ${config.ls_alpha})` : "CE";
  return `${loss}, ${config.depth}x${config.width} ${config.act_fn}, noise ${config.label_noise}, ` +
    `${config.use_bn ? "BN" : "no BN"}, wd ${config.weight_decay}`;
}

/** Draw the feature scatters (2-D features only) and the training curves. */
async function saveRunFigures(
  dir: string,
  config: TrainConfig,
  evaluation: Evaluation,
  history: EpochRecord[],
  classifier: { weights: number[][]; bias: number[] },
  isNoisy: RunData["isNoisy"],
): Promise<Record<string, string>> {
  const figures: Record<string, string> = {};
  if (evaluation.train.predictions.featureDim === 2) {
    for (const e of [evaluation.train, evaluation.test]) {
      const md = e.memorizationDilation;
      const allPoints = Array.from({ length: e.data.count }, (_, i) => ({
        x: e.predictions.features[2 * i],
        y: e.predictions.features[2 * i + 1],
        label: e.data.labels[i],
        originalLabel: e.data.originalLabels[i],
        noisy: isNoisy(e.data.labels[i], e.data.originalLabels[i]),
        index: e.data.sourceIndex[i],
      })); // The figure shows a subsample; every sample's features are in features.parquet.
      const points = thinPoints(allPoints);

      const base = `${dir}/figures/features_${e.split}`;
      await saveFigure(
        featureScatterSpec({
          points,
          classMeans: md.classes.map((c) => (c.classMean ? Array.from(c.classMean) : [NaN, NaN])),
          cleanCentroids: md.classes.map((
            c,
          ) => (c.cleanCentroid ? Array.from(c.cleanCentroid) : null)),
          cleanSpread: md.classes.map((c) => c.cleanSpread),
          noisyCentroids: md.classes.map((c) =>
            c.noisyCentroids.map((v) => (v ? Array.from(v) : null))
          ),
          classifier,
          title: `${e.split === "train" ? "Train" : "Test"} features: ${plotTitle(config)}`,
          subtitle:
            `dilation ${fixed(md.dilation)}, memorization ${fixed(md.memorizationPerSample)}` +
            (points.length < allPoints.length
              ? ` (${points.length} of ${allPoints.length} samples shown)`
              : ""),
        }),
        base,
      );
      figures[`features_${e.split}`] = base;
    }
  }
  const curves = `${dir}/figures/training_curves`;
  await saveFigure(trainingCurvesSpec(history as TrainingHistoryRow[], plotTitle(config)), curves);
  figures.training_curves = curves;
  return figures;
}

/** The classifier as the tables and figures show it: K rows of P weights, and K biases. */
function classifierRows(
  { numClasses: K, dim: P, weight, bias }: Classifier,
): { weights: number[][]; bias: number[] } {
  const weights = Array.from(
    { length: K },
    (_, k) => Array.from(weight.subarray(k * P, (k + 1) * P)),
  );
  return { weights, bias: bias ? Array.from(bias) : weights.map(() => 0) };
}

/** Evaluate, then write every table, the figures and finally the completion marker. */
async function evaluateAndSave(
  dir: string,
  uid: string,
  config: TrainConfig,
  model: Model,
  data: RunData,
  history: EpochRecord[],
  backend: string,
  reused: boolean,
  /** Per-epoch metrics recorded during training; without it, the run's saved ones are kept. */
  epochLog?: EpochMetricsLog,
): Promise<RunResult> {
  // An evaluation stopped half way leaves tables of two evaluations: the run is unfinished until
  // the last of them is written.
  await markRunUnfinished(dir);
  const evaluation = await evaluateModel(model, metricsData(data, config));
  const classifier = classifierRows(evaluation.classifier);
  const last = history[history.length - 1];
  const metricsRow = {
    ...configColumns(uid, config, backend),
    epoch: last?.epoch ?? null,
    train_loss: last?.train_loss ?? null,
    val_acc: last?.val_acc ?? null,
    ...metricColumns(evaluation),
  };
  const historyFrame = rowsToFrame(history as unknown as Record<string, unknown>[]);
  const metrics = rowsToFrame([metricsRow]);
  await writeParquetAtomic(historyFrame, `${dir}/${RUN_FILES.history}`);
  await writeParquetAtomic(metrics, `${dir}/${RUN_FILES.metrics}`);
  await writeParquetAtomic(
    rowsToFrame(classMetricRows(evaluation)),
    `${dir}/${RUN_FILES.classMetrics}`,
  );
  // The final evaluation is also the last row of the per-epoch tables.
  const epochs = epochLog ?? new EpochMetricsLog();
  epochs.add(last?.epoch ?? config.epochs, evaluation);
  await epochs.write(dir, { merge: epochLog === undefined });
  await writeParquetAtomic(
    columnsToFrame(featureColumns(evaluation, data.isNoisy)),
    `${dir}/${RUN_FILES.features}`,
  );
  await writeParquetAtomic(
    columnsToFrame({
      class: classifier.weights.map((_, k) => k),
      weight: classifier.weights,
      bias: classifier.bias,
    }),
    `${dir}/${RUN_FILES.classifier}`,
  );
  await writeJsonAtomic(`${dir}/${RUN_FILES.summary}`, metricsRow);
  const figures = await saveRunFigures(dir, config, evaluation, history, classifier, data.isNoisy);
  await markRunFinished(dir, {
    uid,
    backend,
    // The native backend's results depend on its thread count: record it with the run.
    ...(activeBackend()?.blasThreads ? { blas_threads: activeBackend()!.blasThreads } : {}),
    epochs: history.length,
  });
  return { uid, dir, reused, history: historyFrame, metrics, evaluation, figures };
}

/** Read the history saved by an earlier run (for reuse without retraining). */
function savedHistory(dir: string): EpochRecord[] {
  const path = `${dir}/${RUN_FILES.history}`;
  return exists(path) ? (readParquet(path).toRecords() as unknown as EpochRecord[]) : [];
}

/**
 * Train (or reuse) and evaluate one simple-model run, writing everything under
 * `BASE_PATH/<uid>`, under the rules of lib/runs: an existing run is refused unless
 * `config.force` (its model reused when every result-affecting setting matches) or
 * `config.force_retrain` (trained again beside it, replacing it on success).
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "../config/schema.ts";
 * const result = await runSimpleModel({ ...DEFAULT_CONFIG, epochs: 2, width: 64, depth: 3 });
 * console.log(result.dir, result.metrics.toRecords()[0].test_acc);
 * ```
 */
export async function runSimpleModel(
  config: TrainConfig,
  options: RunOptions = {},
): Promise<RunResult> {
  const { result, dir, writtenIn } = await orchestrateRun(
    config,
    "simple",
    { basePath: options.basePath ?? runBasePath(config), log: options.log },
    (setup) => trainSimpleModel(setup, options),
  );
  return relocate(result, writtenIn, dir);
}

/** Train (or reuse) and evaluate a simple model in the orchestrated run. */
async function trainSimpleModel(
  { run, config, data, model, backend, log }: RunSetup,
  options: RunOptions,
): Promise<RunResult> {
  const { uid, dir } = run;
  let history: EpochRecord[];
  let epochLog: EpochMetricsLog | undefined;
  if (run.reuse) {
    log(`reusing the trained model in ${dir} (--force_retrain trains again)`);
    model.load(await loadTensors(dir));
    history = savedHistory(dir);
  } else {
    epochLog = new EpochMetricsLog();
    // history.parquet grows every epoch (atomically), so a long run can be watched.
    const soFar: EpochRecord[] = [];
    const saveHistory = async (record: EpochRecord) => {
      soFar.push(record);
      await writeParquetAtomic(
        rowsToFrame(soFar as unknown as Record<string, unknown>[]),
        `${dir}/${RUN_FILES.history}`,
      );
      options.onEpoch?.(record);
    };
    history = await trainModel({
      model,
      loss: lossFor(config),
      train: data.train,
      validation: data.validation,
      test: data.test,
      config,
      progress: options.progress,
      log,
      onEpoch: thenReport(
        saveHistory,
        config.eval_every > 0
          ? async (record) => {
            if (record.epoch % config.eval_every !== 0 || record.epoch === config.epochs) return;
            const row = epochLog!.add(
              record.epoch,
              await measureModel(model, metricsData(data, config)),
            );
            Object.assign(record, {
              nc1_train: row.nc1_train,
              dilation_train: row.dilation_train,
              memorization_train: row.memorization_train,
            });
          }
          : undefined,
      ),
    });
    await saveTensors(
      dir,
      await Promise.all(
        model.state().map(async ({ name, variable }) => ({
          name,
          shape: variable.shape,
          values: await variable.data() as Float32Array,
        })),
      ),
    );
  }
  const result = await evaluateAndSave(
    dir,
    uid,
    config,
    model,
    data,
    history,
    backend,
    run.reuse,
    epochLog,
  );
  log(finalMetricsLine(result.metrics.toRecords()[0]));
  model.dispose();
  return result;
}

/** A result written in a staging directory, with its paths where the run now is. */
function relocate(result: RunResult, from: string, to: string): RunResult {
  if (from === to) return result;
  const moved = (path: string) => to + path.slice(from.length);
  return {
    ...result,
    dir: to,
    figures: Object.fromEntries(Object.entries(result.figures).map(([k, v]) => [k, moved(v)])),
  };
}

/** Options of {@link evaluateRun}: `given` are the settings given on the command line. */
export type EvaluateRunOptions = Omit<ReevaluateOptions, "kind">;

/**
 * Evaluate a finished run again from its saved model and training set (the very samples and
 * labels training saw), rewriting its tables and figures.
 *
 * @example
 * ```ts
 * await evaluateRun("results/runs/MLP_fashionmnist_c2_ln0.2_LS0.1_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6");
 * ```
 */
export async function evaluateRun(
  dir: string,
  options: EvaluateRunOptions = {},
): Promise<RunResult> {
  if (
    exists(`${dir}/${RUN_FILES.args}`) && !exists(`${dir}/${RUN_FILES.modelIndex}`)
  ) {
    throw new Error(`${dir} has no saved model: its training did not finish; train it again`);
  }
  return await reevaluateRun(
    dir,
    { ...options, kind: "simple", given: options.given ?? {} },
    async (run) => {
      const { data, model, backend } = await run.open();
      model.load(await loadTensors(dir));
      const result = await evaluateAndSave(
        dir,
        run.config.uid,
        run.config,
        model,
        data,
        savedHistory(dir),
        backend,
        true,
      );
      run.log(`evaluated ${dir}`);
      return result;
    },
  );
}
