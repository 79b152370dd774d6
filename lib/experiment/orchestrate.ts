/**
 * The one orchestrator of runs, simple and large-scale alike: backend, run directory (identity,
 * lock, state, rules: lib/runs), data (the saved training set of a reused or resumed run, else
 * drawn from the settings), the model, the directory created and the settings and training set
 * written when training starts, then the kind's own training and evaluation, and finally the
 * staged run published and the lock released (or, on failure, what cannot be recovered removed).
 * A finished run is evaluated again in the same lifecycle ({@link reevaluateRun}): its lock held,
 * its saved settings, its saved training set and its model.
 *
 * @module
 */
import { initBackend } from "../backend/mod.ts";
import {
  affectsResults,
  DEFAULT_CONFIG,
  type SettingName,
  SETTINGS,
  type TrainConfig,
} from "../config/schema.ts";
import { validateConfig } from "../config/validate.ts";
import { FileFormatError, readJsonFile } from "../io/json.ts";
import { loadRunData, type RunData, type TrainingSetRecord } from "../data/mod.ts";
import { type Model, runModel } from "../models/mod.ts";
import {
  columnsToFrame,
  type DataFrame,
  readParquet,
  writeJsonAtomic,
  writeParquetAtomic,
} from "../results/mod.ts";
import {
  exists,
  isRunDirectory,
  type OpenedRun,
  openRun,
  RUN_FILES,
  RunExistsError,
  type RunKind,
  settingDifferences,
  withRunLock,
} from "../runs/mod.ts";

/** Name of the training set's run-level facts next to training_set.parquet. */
const TRAINING_SET_INFO = RUN_FILES.trainingSetInfo;

/**
 * A training set's table (`training_set.parquet`): split, source index, label, original label.
 *
 * @example
 * ```ts
 * import type { TrainingSetRecord } from "../data/mod.ts";
 * import { writeParquetAtomic } from "../results/mod.ts";
 * declare const record: TrainingSetRecord, dir: string;
 * await writeParquetAtomic(trainingSetFrame(record), `${dir}/training_set.parquet`);
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

/**
 * Reload a run's saved training set (runs saved before training_set.json get K and 0..K-1).
 *
 * @example
 * ```ts
 * import type { TrainConfig } from "../config/schema.ts";
 * declare const config: TrainConfig;
 * const record = loadTrainingSet("results/runs/my_run", config);
 * ```
 */
export function loadTrainingSet(dir: string, config: TrainConfig): TrainingSetRecord {
  const frame = readParquet(`${dir}/${RUN_FILES.trainingSet}`);
  const info = exists(`${dir}/${TRAINING_SET_INFO}`)
    ? readJsonFile(`${dir}/${TRAINING_SET_INFO}`) as { selected_labels: number[]; classes: number }
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

/** What the orchestrator hands the kind's training and evaluation. */
export interface RunSetup {
  run: OpenedRun;
  config: TrainConfig;
  data: RunData & { record: TrainingSetRecord };
  model: Model;
  /** The backend in use. */
  backend: string;
  log: (line: string) => void;
}

/** Options of {@link orchestrateRun}. */
export interface OrchestrateOptions {
  /** Directory holding the run directories. */
  basePath: string;
  /** Where status lines go (default: console.log). */
  log?: (line: string) => void;
}

/**
 * Run `body` (the kind's training and evaluation, writing into `setup.run.dir`) inside the run
 * lifecycle. Returns its result and the run directory (where a staged run was published). The
 * model is disposed when anything before `body` or `body` itself fails; once `body` returns, it
 * owns the model.
 *
 * @example
 * ```ts
 * import type { TrainConfig } from "../config/schema.ts";
 * declare const config: TrainConfig, basePath: string;
 * const { result, dir } = await orchestrateRun(config, "simple", { basePath }, async (setup) => {
 *   // train setup.model on setup.data unless setup.run.reuse, then evaluate
 *   return 1;
 * });
 * ```
 */
export async function orchestrateRun<R>(
  config: TrainConfig,
  kind: RunKind,
  options: OrchestrateOptions,
  body: (setup: RunSetup) => Promise<R>,
): Promise<{ result: R; dir: string; writtenIn: string }> {
  const log = options.log ?? console.log;
  const backend = await initBackend(config.backend);
  backend.report.forEach((line) => log(`backend ${line}`));
  const run = await openRun(options.basePath, config, kind);
  if (run.lock.takenOverFrom) {
    log(`took over the lock of process ${run.lock.takenOverFrom}, which no longer runs`);
  }
  let model: Model | undefined;
  try {
    // A reused or resumed run continues on the very samples and labels it was trained on.
    const saved = (run.reuse || run.resume) && exists(`${run.dir}/${RUN_FILES.trainingSet}`)
      ? loadTrainingSet(run.dir, config)
      : undefined;
    const data = await loadRunData(config, saved, { skipChecksums: config.skip_checksums });
    model = runModel(config, data.classes);
    if (!run.reuse) {
      await run.create();
      if (!saved) {
        await writeJsonAtomic(`${run.dir}/${RUN_FILES.args}`, { ...config, uid: run.uid });
        await saveTrainingSet(run.dir, config, data.record);
      }
      log(
        `run ${run.uid} on ${backend.name}: ${data.train.count} train, ${data.validation.count} ` +
          `validation, ${data.test.count} test samples from ${data.source}`,
      );
    }
    const result = await body({ run, config, data, model, backend: backend.name, log });
    model = undefined; // the body's now
    await run.commit();
    await run.close(true);
    log(`results in ${run.target}`);
    return { result, dir: run.target, writtenIn: run.dir };
  } catch (error) {
    model?.dispose();
    await run.close(false);
    throw error;
  }
}

/** Options of {@link reevaluateRun}. */
export interface ReevaluateOptions {
  /** Simple or large-scale run (whose settings make up its identity). */
  kind: RunKind;
  /** Backend (default: the run's). */
  backend?: TrainConfig["backend"];
  /**
   * Settings given now: run-control ones (backend, train_metrics_on, ...) apply; each
   * result-affecting one must match the run's.
   */
  given?: Partial<TrainConfig>;
  /** Accept dataset files whose checksums differ from the published ones. */
  skipChecksums?: boolean;
  /** Where status lines go (default: console.log). */
  log?: (line: string) => void;
}

/** What the orchestrator hands a re-evaluation of a finished run. */
export interface SavedRun {
  dir: string;
  /** The run's saved settings (defaults for settings added since), run-control ones as given. */
  config: TrainConfig & { uid: string };
  log: (line: string) => void;
  /**
   * The backend, the run's saved training set (the very samples and labels training saw) and its
   * model (the caller loads the weights), made on the first call; the model is disposed when the
   * re-evaluation ends.
   */
  open(): Promise<OpenedSavedRun>;
}

/** What {@link SavedRun.open} makes. */
export interface OpenedSavedRun {
  data: RunData & { record: TrainingSetRecord };
  model: Model;
  /** The backend in use. */
  backend: string;
}

/**
 * Evaluate the finished run in `dir` again, inside the run lifecycle: the run's lock is held
 * throughout, its settings and training set are the saved ones, and the model is disposed when
 * `body` ends. Settings given now that would change its results are refused (RunExistsError).
 * Simple and large-scale re-evaluation both go through here.
 *
 * @example
 * ```ts
 * const count = await reevaluateRun("results/runs/my_run", { kind: "large" }, async (run) => {
 *   const { data } = await run.open();
 *   return data.train.count;
 * });
 * ```
 */
export async function reevaluateRun<R>(
  dir: string,
  options: ReevaluateOptions,
  body: (run: SavedRun) => Promise<R>,
): Promise<R> {
  const log = options.log ?? console.log;
  if (!isRunDirectory(dir) || !exists(`${dir}/${RUN_FILES.args}`)) {
    throw new Error(
      `${dir} is not a run directory (no ${RUN_FILES.marker} or ${RUN_FILES.args}); name a ` +
        `run of memdil, or train it first`,
    );
  }
  return await withRunLock(dir, async () => {
    const argsPath = `${dir}/${RUN_FILES.args}`;
    const saved = readJsonFile(argsPath) as Record<string, unknown>;
    // A hand-edited args.json (label noise, seed, ...) is checked as the command line would check
    // it, so the metrics are never labelled with settings that are not valid.
    try {
      validateConfig(
        Object.fromEntries(Object.entries(saved).filter(([key]) => key in SETTINGS)),
        options.kind === "large" ? "train-large" : "train",
      );
    } catch (error) {
      throw new FileFormatError(
        `${argsPath}: ${(error as Error).message}; it was edited by hand: restore the run's own ` +
          `settings, or train it again`,
      );
    }
    // Runs saved before a flag existed get its default.
    const runControl = Object.entries(options.given ?? {})
      .filter(([key]) => key in SETTINGS && !affectsResults(key as SettingName));
    const config = {
      ...DEFAULT_CONFIG,
      ...saved,
      ...Object.fromEntries(runControl),
      uid: saved.uid,
    } as TrainConfig & { uid: string };
    const differences = settingDifferences(saved, { ...config, ...options.given }, options.kind);
    if (differences.length > 0) {
      throw new RunExistsError(
        `the settings differ from those of the run in ${dir}: ${differences.join(", ")}; pass ` +
          `the run's own settings (see its ${RUN_FILES.args}), or train a new run`,
      );
    }
    let opened: OpenedSavedRun | undefined;
    const open = async (): Promise<OpenedSavedRun> => {
      if (opened) return opened;
      const backend = await initBackend(options.backend ?? config.backend);
      backend.report.forEach((line) => log(`backend ${line}`));
      const record = loadTrainingSet(dir, config);
      const data = await loadRunData(config, record, { skipChecksums: options.skipChecksums });
      opened = { data, model: runModel(config, data.classes), backend: backend.name };
      return opened;
    };
    try {
      return await body({ dir, config, log, open });
    } finally {
      opened?.model.dispose();
    }
  });
}
