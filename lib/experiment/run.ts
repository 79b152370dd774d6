/**
 * One simple-model run end to end: run directory, data, training, evaluation, tables, figures.
 * `deno task train`, `deno task evaluate`, the sweeps and the notebooks all call this.
 *
 * @module
 */
import { activeBackend, initBackend } from "../backend/mod.ts";
import { DEFAULT_CONFIG, type TrainConfig, UsageError } from "../config/flags.ts";
import { readIniConfig } from "../config/ini.ts";
import {
  concatSplits,
  INPUT_SIZE,
  loadRunData,
  type RunData,
  type TrainingSetRecord,
} from "../data/mod.ts";
import {
  featureScatterSpec,
  saveFigure,
  thinPoints,
  trainingCurvesSpec,
  type TrainingHistoryRow,
} from "../figures/mod.ts";
import { lossFor } from "../losses/mod.ts";
import { Mlp } from "../models/mod.ts";
import {
  columnsToFrame,
  type DataFrame,
  readParquet,
  rowsToFrame,
  writeJsonAtomic,
  writeParquetAtomic,
} from "../results/mod.ts";
import {
  COMPLETE_MARKER,
  exists,
  loadTensors,
  planRunDirectory,
  RUN_FILES,
  saveTensors,
  simpleModelUid,
} from "../runs/mod.ts";
import { type EpochRecord, trainModel } from "../training/mod.ts";
import {
  classMetricRows,
  EpochMetricsLog,
  evaluateModel,
  type Evaluation,
  featureColumns,
  measureModel,
  metricColumns,
} from "./evaluate.ts";

/** The M-D noise rule of a run: the four-class problem calls the latent classes (label > 1) noisy. */
function noiseRule(config: TrainConfig) {
  return config.fourclass_problem ? { isNoisy: (label: number) => label > 1 } : {};
}

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

/**
 * Architecture of the run's MLP. `classes` is the data's (4 in the four-class problem); the
 * penultimate layer has as many features, or 2 with `fourclass_twofeatures`.
 */
function buildModel(config: TrainConfig, classes: number): Mlp {
  return new Mlp({
    inputSize: INPUT_SIZE,
    width: config.width,
    depth: config.depth,
    classes,
    featureDim: config.fourclass_twofeatures ? 2 : classes,
    actFn: config.act_fn,
    useBn: config.use_bn,
    useLayerNorm: config.use_layer_norm === true,
    bias: config.bias,
    etfClassifier: config.ETF_fc === true,
  }, config.seed);
}

/** The configuration columns of a metrics row. */
function configColumns(uid: string, config: TrainConfig, backend: string) {
  return {
    uid,
    dataset: config.dataset,
    classes: config.classes,
    // A per-class noise vector goes to its own column so that label_noise stays numeric.
    label_noise: Array.isArray(config.label_noise) ? null : config.label_noise,
    label_noise_per_class: Array.isArray(config.label_noise) ? config.label_noise.join(",") : null,
    sample_size: config.sample_size ?? null,
    fourclass_problem: config.fourclass_problem ?? false,
    fc_noise_degree: config.fourclass_problem ? config.fc_noise_degree : null,
    fourclass_twofeatures: config.fourclass_twofeatures ?? false,
    loss: config.loss,
    ls_alpha: config.loss === "LS" ? config.ls_alpha : null,
    model: config.model,
    width: config.width,
    depth: config.depth,
    act_fn: config.act_fn,
    use_bn: config.use_bn,
    bias: config.bias,
    epochs: config.epochs,
    batch_size: config.batch_size,
    lr: config.lr,
    weight_decay: config.weight_decay,
    seed: config.seed,
    backend,
  };
}

/**
 * A training set's table (`training_set.parquet`): split, source index, label, original label.
 *
 * @example
 * ```ts
 * await writeParquetAtomic(trainingSetFrame(data.record), `${dir}/training_set.parquet`);
 * ```
 */
export function trainingSetFrame(record: TrainingSetRecord): DataFrame {
  return columnsToFrame({
    split: record.split,
    index: Array.from(record.sourceIndex),
    label: Array.from(record.labels),
    original_label: Array.from(record.originalLabels),
  });
}

/** Name of the training set's run-level facts next to training_set.parquet. */
const TRAINING_SET_INFO = "training_set.json";

/** Save the training set: one row per sample, plus selected labels and classes as JSON. */
async function saveTrainingSet(dir: string, config: TrainConfig, record: TrainingSetRecord) {
  await writeParquetAtomic(trainingSetFrame(record), `${dir}/${RUN_FILES.trainingSet}`);
  await writeJsonAtomic(`${dir}/${TRAINING_SET_INFO}`, {
    dataset: config.dataset,
    selected_labels: record.selectedLabels,
    classes: record.classes,
    train: record.split.filter((s) => s === "train").length,
    validation: record.split.filter((s) => s === "validation").length,
  });
}

/** Reload a saved training set (runs saved before training_set.json get K and 0..K-1). */
function loadTrainingSet(dir: string, config: TrainConfig): TrainingSetRecord {
  const frame = readParquet(`${dir}/${RUN_FILES.trainingSet}`);
  const info = exists(`${dir}/${TRAINING_SET_INFO}`)
    ? JSON.parse(Deno.readTextFileSync(`${dir}/${TRAINING_SET_INFO}`))
    : {
      selected_labels: Array.from({ length: config.classes }, (_, k) => k),
      classes: config.classes,
    };
  return {
    split: frame.getColumn("split").toArray() as TrainingSetRecord["split"],
    sourceIndex: Int32Array.from(frame.getColumn("index").toArray() as number[]),
    labels: Int32Array.from(frame.getColumn("label").toArray() as number[]),
    originalLabels: Int32Array.from(frame.getColumn("original_label").toArray() as number[]),
    selectedLabels: info.selected_labels,
    classes: info.classes,
  };
}

/** The flags that fix a run's training set (data_dir aside: a copy may move). */
export const DATA_FLAGS = [
  "dataset",
  "classes",
  "label_noise",
  "val_split_prop",
  "sample_size",
  "fourclass_problem",
  "fc_noise_degree",
  "seed",
] as const;

/**
 * The data flags present on a command line, with their parsed values: what `deno task evaluate`
 * compares with the run it evaluates.
 *
 * @example
 * ```ts
 * givenDataFlags(["--uid", "x", "--label_noise", "0.2"], config); // { label_noise: 0.2 }
 * ```
 */
export function givenDataFlags(args: string[], config: TrainConfig): Partial<TrainConfig> {
  const given: Partial<TrainConfig> = {};
  for (const key of DATA_FLAGS) {
    if (args.some((a) => a === `--${key}` || a.startsWith(`--${key}=`))) {
      (given as Record<string, unknown>)[key] = config[key];
    }
  }
  return given;
}

/**
 * Refuse data flags that differ from a saved run's: its training set was drawn with its own.
 * Throws a {@link UsageError} listing each difference.
 *
 * @example
 * ```ts
 * checkDataFlags("results/runs/x", savedConfig, { val_split_prop: 0.1 });
 * ```
 */
export function checkDataFlags(
  dir: string,
  saved: Partial<TrainConfig>,
  given: Partial<TrainConfig>,
): void {
  const fourclass = saved.fourclass_problem || given.fourclass_problem;
  const differences = DATA_FLAGS.filter((key) => key !== "fc_noise_degree" || fourclass)
    .filter((key) => given[key] !== undefined)
    .filter((key) =>
      JSON.stringify(saved[key] ?? DEFAULT_CONFIG[key]) !== JSON.stringify(given[key])
    )
    .map((key) =>
      `--${key} ${JSON.stringify(given[key])} (the run used ${
        JSON.stringify(saved[key] ?? DEFAULT_CONFIG[key])
      })`
    );
  if (differences.length > 0) {
    throw new UsageError(
      `the data flags differ from those of the run in ${dir}: ${differences.join(", ")}; its ` +
        `saved training set was drawn with its own flags: pass the same ones, or train a new run ` +
        `(another --uid, or --force_retrain)`,
    );
  }
}

/**
 * Where a configuration's run directories go: config.ini FOURCLASS_EXP_PATH for four-class runs,
 * BASE_PATH otherwise.
 *
 * @example
 * ```ts
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
        // Four-class problem: the latent classes (label > 1) are the noisy samples.
        noisy: config.fourclass_problem
          ? e.data.labels[i] > 1
          : e.data.labels[i] !== e.data.originalLabels[i],
        index: e.data.sourceIndex[i],
      }));
      // The figure shows a subsample; every sample's features are in features.parquet.
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
            `dilation ${md.dilation.toFixed(3)}, memorization ${
              md.memorizationPerSample.toFixed(3)
            }` + (points.length < allPoints.length
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

function classifierOf(model: Mlp): { weights: number[][]; bias: number[] } {
  // Stored as P x K for x W; reported as the reference's K x P.
  const weight = model.classifier.weight.arraySync() as number[][];
  const weights = weight[0].map((_, k) => weight.map((row) => row[k]));
  const bias = model.classifier.bias
    ? (model.classifier.bias.arraySync() as number[])
    : weights.map(() => 0);
  return { weights, bias };
}

/**
 * The data the metrics are measured on: the run's splits, with `train` extended by the
 * validation part when `--train_metrics_on all` (the reference's choice).
 *
 * @example
 * ```ts
 * const measured = metricsData(data, { train_metrics_on: "all" }); // train + validation
 * ```
 */
export function metricsData(data: RunData, config: Pick<TrainConfig, "train_metrics_on">): RunData {
  return config.train_metrics_on === "all"
    ? { ...data, train: concatSplits(data.train, data.validation) }
    : data;
}

/** Evaluate, then write every table, the figures and finally the completion marker. */
async function evaluateAndSave(
  dir: string,
  uid: string,
  config: TrainConfig,
  model: Mlp,
  data: RunData,
  history: EpochRecord[],
  backend: string,
  reused: boolean,
  /** Per-epoch metrics recorded during training; without it, the run's saved ones are kept. */
  epochLog?: EpochMetricsLog,
): Promise<RunResult> {
  const evaluation = await evaluateModel(model, metricsData(data, config), noiseRule(config));
  const classifier = classifierOf(model);
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
    `${dir}/class_metrics.parquet`,
  );
  // The final evaluation is also the last row of the per-epoch tables.
  const epochs = epochLog ?? new EpochMetricsLog();
  epochs.add(last?.epoch ?? config.epochs, evaluation);
  await epochs.write(dir, { merge: epochLog === undefined });
  await writeParquetAtomic(
    columnsToFrame(featureColumns(evaluation)),
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
  const figures = await saveRunFigures(dir, config, evaluation, history, classifier);
  await writeJsonAtomic(`${dir}/${COMPLETE_MARKER}`, {
    uid,
    finished: new Date().toISOString(),
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
 * `BASE_PATH/<uid>`. Follows docs/reference.md#run-directories: an existing directory is an error unless
 * `config.force`; a finished model is then reused unless `config.force_retrain`.
 *
 * @example
 * ```ts
 * const result = await runSimpleModel({ ...DEFAULT_CONFIG, epochs: 2, width: 64, depth: 3 });
 * console.log(result.dir, result.metrics.toRecords()[0].test_acc);
 * ```
 */
export async function runSimpleModel(
  config: TrainConfig,
  options: RunOptions = {},
): Promise<RunResult> {
  const log = options.log ?? console.log;
  const backend = await initBackend(config.backend);
  backend.report.forEach((line) => log(`backend ${line}`));
  const uid = config.uid ?? simpleModelUid(config);
  const basePath = options.basePath ?? runBasePath(config);
  const plan = await planRunDirectory(basePath, uid, {
    force: config.force,
    forceRetrain: config.force_retrain,
  });
  if (plan.reuseModel) {
    const saved = JSON.parse(await Deno.readTextFile(`${plan.dir}/${RUN_FILES.args}`));
    checkDataFlags(plan.dir, saved, config);
  }
  const savedRecord = plan.reuseModel ? loadTrainingSet(plan.dir, config) : undefined;
  const data = await loadRunData(config, savedRecord);
  const model = buildModel(config, data.classes);
  try {
    let history: EpochRecord[];
    let epochLog: EpochMetricsLog | undefined;
    if (plan.reuseModel) {
      log(`reusing the finished model in ${plan.dir} (--force_retrain trains again)`);
      model.load(await loadTensors(plan.dir));
      history = savedHistory(plan.dir);
    } else {
      log(
        `run ${uid} on ${backend.name}: ${data.train.count} train, ${data.validation.count} ` +
          `validation, ${data.test.count} test samples from ${data.source}`,
      );
      await writeJsonAtomic(`${plan.dir}/${RUN_FILES.args}`, { ...config, uid });
      await saveTrainingSet(plan.dir, config, data.record);
      epochLog = new EpochMetricsLog();
      // history.parquet grows every epoch (atomically), so a long run can be watched.
      const soFar: EpochRecord[] = [];
      const saveHistory = async (record: EpochRecord) => {
        soFar.push(record);
        await writeParquetAtomic(
          rowsToFrame(soFar as unknown as Record<string, unknown>[]),
          `${plan.dir}/${RUN_FILES.history}`,
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
                await measureModel(model, metricsData(data, config), noiseRule(config)),
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
        plan.dir,
        model.state().map(({ name, variable }) => ({
          name,
          shape: variable.shape,
          values: variable.dataSync() as Float32Array,
        })),
      );
    }
    const result = await evaluateAndSave(
      plan.dir,
      uid,
      config,
      model,
      data,
      history,
      backend.name,
      plan.reuseModel,
      epochLog,
    );
    log(finalMetricsLine(result.metrics.toRecords()[0]));
    log(`results in ${plan.dir}`);
    return result;
  } finally {
    model.dispose();
  }
}

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
  options: {
    backend?: TrainConfig["backend"];
    log?: (line: string) => void;
    /** Data flags given on the command line: each must match the run's (see {@link givenDataFlags}). */
    dataFlags?: Partial<TrainConfig>;
  } = {},
): Promise<RunResult> {
  const log = options.log ?? console.log;
  if (!exists(`${dir}/${RUN_FILES.args}`)) {
    throw new Error(`${dir} is not a run directory (no ${RUN_FILES.args}); train it first`);
  }
  if (!exists(`${dir}/${RUN_FILES.modelIndex}`)) {
    throw new Error(`${dir} has no saved model: its training did not finish; train it again`);
  }
  const saved = JSON.parse(await Deno.readTextFile(`${dir}/${RUN_FILES.args}`));
  checkDataFlags(dir, saved, options.dataFlags ?? {});
  // Runs saved before a flag existed get its default.
  const config = { ...DEFAULT_CONFIG, ...saved } as TrainConfig & { uid: string };
  const backend = await initBackend(options.backend ?? config.backend);
  backend.report.forEach((line) => log(`backend ${line}`));
  const record = loadTrainingSet(dir, config);
  const data = await loadRunData(config, record);
  const model = buildModel(config, data.classes);
  try {
    model.load(await loadTensors(dir));
    const result = await evaluateAndSave(
      dir,
      config.uid,
      config,
      model,
      data,
      savedHistory(dir),
      backend.name,
      true,
    );
    log(`evaluated ${dir}`);
    return result;
  } finally {
    model.dispose();
  }
}
