/**
 * One large-scale run (docs/reference.md#experiments, experiment 3): a ResNet, VGG or MLP on a full dataset
 * with optional label noise, a checkpoint after every epoch (`epoch_NNN`, lib/checkpoint), resume
 * from the last complete checkpoint, a final evaluation, and `--delete_model`.
 *
 * Directory rules (lib/runs): a new uid starts a run; an unfinished run directory whose settings
 * match is resumed (this is how a killed run continues: start it again with the same settings);
 * a finished one is an error, and is trained again beside it with `--force_retrain`.
 *
 * @module
 */
import {
  CHECKPOINT_FORMAT,
  deleteCheckpoints,
  listCheckpoints,
  loadLastIntactCheckpoint,
  removeStaleCheckpoints,
  writeCheckpoint,
} from "../checkpoint/mod.ts";
import { summaryColumns, type TrainConfig } from "../config/schema.ts";
import { readIniConfig } from "../config/ini.ts";
import { lossFor } from "../losses/mod.ts";
import { type Model, modelSummary } from "../models/mod.ts";
import { rowsToFrame, writeJsonAtomic, writeParquetAtomic } from "../results/mod.ts";
import { markRunFinished, RUN_FILES } from "../runs/mod.ts";
import {
  type EpochRecord,
  optimizerFor,
  TrainingDivergedError,
  trainModel,
} from "../training/mod.ts";
import { measureModel, scalarMetrics } from "./evaluate.ts";
import { orchestrateRun, type RunSetup } from "./orchestrate.ts";

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

/**
 * Train (or resume) and evaluate one large-scale run under `BASE_PATH/<uid>`.
 *
 * @example
 * ```ts
 * import { parseTrainLargeArgs } from "../config/flags.ts";
 * const config = parseTrainLargeArgs(["--dataset", "cifar10", "--label_noise", "0.2"]);
 * const result = await runLargeScale(config);
 * ```
 */
export async function runLargeScale(
  config: TrainConfig,
  options: LargeScaleOptions = {},
): Promise<LargeScaleResult> {
  if (config.optimizer === "LBFGS") {
    throw new RangeError("--optimizer LBFGS is for simple models only: use SGD or Adam");
  }
  const { result, dir } = await orchestrateRun(
    config,
    "large",
    { basePath: options.basePath ?? readIniConfig().paths.basePath, log: options.log },
    (setup) => trainLargeScale(setup, options),
  );
  return { ...result, dir };
}

/** Train (or resume from the last checkpoint) and evaluate in the orchestrated run. */
async function trainLargeScale(
  { run, config, data, model, backend: backendName, log }: RunSetup,
  options: LargeScaleOptions,
): Promise<Omit<LargeScaleResult, "dir">> {
  const { uid, dir } = run;
  const stale = await removeStaleCheckpoints(dir);
  if (stale.length > 0) log(`removed ${stale.length} incomplete checkpoint(s) of a killed run`);
  const optimizer = optimizerFor(config);
  log(modelSummary(model));
  let history: EpochRecord[] = [];
  // A damaged last checkpoint (killed disk, edited file) is skipped for the last intact one.
  const checkpoint = await loadLastIntactCheckpoint<EpochRecord>(dir, log);
  const last = checkpoint?.epoch ?? 0;
  if (checkpoint) {
    model.load(checkpoint.model);
    optimizer.importState(model.trainable(), checkpoint.optimizerState);
    history = checkpoint.history;
    log(`resuming ${uid} after epoch ${last} (checkpoint ${checkpoint.dir})`);
  }
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
          await Promise.all(
            model.state().map(async ({ name, variable }) => ({
              name,
              shape: variable.shape,
              values: await variable.data() as Float32Array,
            })),
          ),
          await optimizer.exportState(model.trainable()),
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
    const row = { uid, ...summaryColumns(config, "train-large"), backend: backendName, ...metrics };
    await writeParquetAtomic(rowsToFrame([row]), `${dir}/${RUN_FILES.metrics}`);
    await writeJsonAtomic(`${dir}/${RUN_FILES.summary}`, row);
  }
  if (config.delete_model) {
    const deleted = await deleteCheckpoints(dir);
    log(`--delete_model: deleted ${deleted} checkpoint(s)`);
  }
  await markRunFinished(dir, {
    uid,
    backend: backendName,
    epochs: history.length,
    resumed_from: last,
  });
  return { uid, history, resumedFrom: last, metrics, model };
}
