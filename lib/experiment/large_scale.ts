/**
 * One large-scale run (docs/reference.md#experiments, experiment 3): a ResNet, VGG or MLP on a full dataset
 * with optional label noise, a checkpoint after every epoch (`epoch_NNN`, lib/checkpoint), resume
 * from the last complete checkpoint, a final evaluation, and `--delete_model`.
 *
 * Directory rules: a new uid starts a run; an unfinished run directory whose `args.json` matches
 * the flags is resumed (this is how a killed run continues: start it again with the same
 * flags); a finished one is an error without `--force`, and is trained again from scratch with
 * `--force_retrain`.
 *
 * @module
 */
import { initBackend } from "../backend/mod.ts";
import {
  CHECKPOINT_FORMAT,
  deleteCheckpoints,
  listCheckpoints,
  loadCheckpoint,
  removeStaleCheckpoints,
  writeCheckpoint,
} from "../checkpoint/mod.ts";
import { type TrainConfig, UsageError } from "../config/flags.ts";
import { readIniConfig } from "../config/ini.ts";
import { loadRunData } from "../data/mod.ts";
import { lossFor } from "../losses/mod.ts";
import { buildModel, type Model, modelSummary } from "../models/mod.ts";
import { rowsToFrame, writeJsonAtomic, writeParquetAtomic } from "../results/mod.ts";
import { trainingSetFrame } from "./run.ts";
import {
  COMPLETE_MARKER,
  exists,
  isFinished,
  largeScaleUid,
  RUN_FILES,
  RunExistsError,
} from "../runs/mod.ts";
import {
  type EpochRecord,
  optimizerFor,
  TrainingDivergedError,
  trainModel,
} from "../training/mod.ts";
import { measureModel, scalarMetrics } from "./evaluate.ts";

/** Options of {@link runLargeScale}. */
export interface LargeScaleOptions {
  /** Directory holding the run directories (default: config.ini BASE_PATH). */
  basePath?: string;
  /** Progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  /** Where status lines go (default: console.log). */
  log?: (line: string) => void;
  /** Skip the final evaluation (tests of the training loop only). */
  skipEvaluation?: boolean;
  /** Called after each epoch's checkpoint is written (searches read its validation accuracy). */
  onEpoch?: (record: EpochRecord) => void;
}

/** What a finished large-scale run returns. */
export interface LargeScaleResult {
  uid: string;
  dir: string;
  history: EpochRecord[];
  /** Epoch the run resumed after (0: started from scratch). */
  resumedFrom: number;
  /** Final metrics (absent with `skipEvaluation`). */
  metrics?: Record<string, number>;
  model: Model;
}

/** Flags that do not change what is trained (a resumed run may differ in these). */
const RUN_ONLY_KEYS = new Set(["force", "force_retrain", "delete_model", "backend", "gpu_id"]);

/** The model a configuration names. */
export function largeScaleModel(config: TrainConfig, classes = config.classes): Model {
  return buildModel({
    ...config,
    classes,
    feature_dim: config.fourclass_twofeatures ? 2 : classes,
  });
}

function checkResumable(dir: string, config: TrainConfig): void {
  const saved = JSON.parse(Deno.readTextFileSync(`${dir}/${RUN_FILES.args}`)) as Record<
    string,
    unknown
  >;
  const differing = Object.keys(config).filter((key) =>
    key !== "uid" && !RUN_ONLY_KEYS.has(key) &&
    JSON.stringify(saved[key]) !==
      JSON.stringify((config as unknown as Record<string, unknown>)[key])
  );
  if (differing.length > 0) {
    throw new UsageError(
      `${dir} holds an unfinished run with other flags (${differing.join(", ")}); resume it ` +
        `with its own flags (see its ${RUN_FILES.args}), pass --force_retrain to start it over, ` +
        `or choose another --uid`,
    );
  }
}

/**
 * Train (or resume) and evaluate one large-scale run under `BASE_PATH/<uid>`.
 *
 * @example
 * ```ts
 * const config = parseTrainLargeArgs(["--dataset", "cifar10", "--label_noise", "0.2"]);
 * const result = await runLargeScale(config);
 * ```
 */
export async function runLargeScale(
  config: TrainConfig,
  options: LargeScaleOptions = {},
): Promise<LargeScaleResult> {
  const log = options.log ?? console.log;
  if (config.optimizer === "LBFGS") {
    throw new UsageError("--optimizer LBFGS is for simple models only: use SGD or Adam");
  }
  const backend = await initBackend(config.backend);
  backend.report.forEach((line) => log(`backend ${line}`));
  const uid = config.uid ?? largeScaleUid(config);
  const basePath = options.basePath ?? readIniConfig().paths.basePath;
  const dir = `${basePath}/${uid}`;
  if (exists(dir) && isFinished(dir)) {
    if (!config.force_retrain) {
      throw new RunExistsError(
        `${dir} holds a finished run; pass --force --force_retrain to train it again, or ` +
          `choose another --uid`,
      );
    }
    if (!config.force) {
      throw new RunExistsError(`${dir} exists; pass --force with --force_retrain to replace it`);
    }
    await Deno.remove(dir, { recursive: true });
  } else if (exists(dir) && config.force_retrain) {
    await Deno.remove(dir, { recursive: true });
  }
  const resuming = exists(`${dir}/${RUN_FILES.args}`);
  if (resuming) checkResumable(dir, config);
  await Deno.mkdir(dir, { recursive: true });
  const stale = await removeStaleCheckpoints(dir);
  if (stale.length > 0) log(`removed ${stale.length} incomplete checkpoint(s) of a killed run`);

  const data = await loadRunData(config);
  if (!resuming) {
    await writeParquetAtomic(trainingSetFrame(data.record), `${dir}/${RUN_FILES.trainingSet}`);
    await writeJsonAtomic(`${dir}/${RUN_FILES.args}`, { ...config, uid });
  }
  const model = largeScaleModel(config, data.classes);
  const optimizer = optimizerFor(config);
  log(modelSummary(model));
  let history: EpochRecord[] = [];
  const last = listCheckpoints(dir).at(-1) ?? 0;
  if (last > 0) {
    const checkpoint = await loadCheckpoint<EpochRecord>(dir, last);
    model.load(checkpoint.model);
    optimizer.importState(model.trainable(), checkpoint.optimizerState);
    history = checkpoint.history;
    log(`resuming ${uid} after epoch ${last} (checkpoint ${checkpoint.dir})`);
  }
  log(
    `run ${uid} on ${backend.name}: ${data.train.count} train, ${data.validation.count} ` +
      `validation, ${data.test.count} test samples from ${data.source}`,
  );
  try {
    await trainModel({
      model,
      loss: lossFor(config),
      train: data.train,
      validation: data.validation,
      test: data.test,
      config,
      optimizer,
      startEpoch: last,
      progress: options.progress,
      log,
      onEpoch: async (record) => {
        history.push(record);
        await writeCheckpoint(
          dir,
          {
            format: CHECKPOINT_FORMAT,
            epoch: record.epoch,
            optimizer: config.optimizer,
            lr: record.lr,
            history,
          },
          model.state().map(({ name, variable }) => ({
            name,
            shape: variable.shape,
            values: variable.dataSync() as Float32Array,
          })),
          optimizer.exportState(model.trainable()),
        );
        options.onEpoch?.(record);
      },
    });
  } catch (error) {
    if (error instanceof TrainingDivergedError) {
      const kept = listCheckpoints(dir).at(-1);
      log(
        `stopped: ${error.message}; ` +
          (kept ? `the last good checkpoint is epoch ${kept}` : "no checkpoint was written"),
      );
    }
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
  await writeParquetAtomic(
    rowsToFrame(history as unknown as Record<string, unknown>[]),
    `${dir}/${RUN_FILES.history}`,
  );
  let metrics: Record<string, number> | undefined;
  if (!options.skipEvaluation) {
    metrics = scalarMetrics(await measureModel(model, data));
    const row = { uid, ...metrics };
    await writeParquetAtomic(rowsToFrame([row]), `${dir}/${RUN_FILES.metrics}`);
    await writeJsonAtomic(`${dir}/${RUN_FILES.summary}`, row);
  }
  if (config.delete_model) {
    const deleted = await deleteCheckpoints(dir);
    log(`--delete_model: deleted ${deleted} checkpoint(s)`);
  }
  await writeJsonAtomic(`${dir}/${COMPLETE_MARKER}`, {
    uid,
    finished: new Date().toISOString(),
    backend: backend.name,
    epochs: history.length,
    resumed_from: last,
  });
  log(`results in ${dir}`);
  return { uid, dir, history, resumedFrom: last, metrics, model };
}
