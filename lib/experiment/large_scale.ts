/**
 * One large-scale run (SPEC section 2, experiment 3): a ResNet, VGG or MLP on a full dataset
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
import type { TrainConfig } from "../config/schema.ts";
import { readIniConfig } from "../config/ini.ts";
import { loadRunData, type TrainingSetRecord } from "../data/mod.ts";
import { lossFor } from "../losses/mod.ts";
import { type Model, modelSummary, runModel } from "../models/mod.ts";
import { pl, rowsToFrame, writeJsonAtomic, writeParquetAtomic } from "../results/mod.ts";
import { COMPLETE_MARKER, type OpenedRun, openRun, RUN_FILES } from "../runs/mod.ts";
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

function trainingSetFrame(record: TrainingSetRecord) {
  return pl.DataFrame({
    split: record.split,
    index: Array.from(record.sourceIndex),
    label: Array.from(record.labels),
    original_label: Array.from(record.originalLabels),
  });
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
    throw new RangeError("--optimizer LBFGS is for simple models only: use SGD or Adam");
  }
  const backend = await initBackend(config.backend);
  backend.report.forEach((line) => log(`backend ${line}`));
  const run = await openRun(options.basePath ?? readIniConfig().paths.basePath, config, "large");
  if (run.lock.takenOverFrom) {
    log(`took over the lock of process ${run.lock.takenOverFrom}, which no longer runs`);
  }
  try {
    const result = await trainLargeScale(run, config, backend.name, options);
    await run.commit();
    await run.close(true);
    log(`results in ${run.target}`);
    return { ...result, dir: run.target };
  } catch (error) {
    await run.close(false);
    throw error;
  }
}

/** Train (or resume) and evaluate into the opened run's directory. */
async function trainLargeScale(
  run: OpenedRun,
  config: TrainConfig,
  backendName: string,
  options: LargeScaleOptions,
): Promise<LargeScaleResult> {
  const log = options.log ?? console.log;
  const { uid, dir, resume: resuming } = run;
  const data = await loadRunData(config, undefined, { skipChecksums: config.skip_checksums });
  await run.create();
  const stale = await removeStaleCheckpoints(dir);
  if (stale.length > 0) log(`removed ${stale.length} incomplete checkpoint(s) of a killed run`);
  if (!resuming) {
    await writeParquetAtomic(trainingSetFrame(data.record), `${dir}/${RUN_FILES.trainingSet}`);
    await writeJsonAtomic(`${dir}/${RUN_FILES.args}`, { ...config, uid });
  }
  const model = runModel(config, data.classes);
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
    `run ${uid} on ${backendName}: ${data.train.count} train, ${data.validation.count} ` +
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
    backend: backendName,
    epochs: history.length,
    resumed_from: last,
  });
  return { uid, dir, history, resumedFrom: last, metrics, model };
}
