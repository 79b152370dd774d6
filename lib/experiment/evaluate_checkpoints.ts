/**
 * Evaluate every per-epoch checkpoint (`epoch_NNN`) of a large-scale run, as the reference's
 * validate_NC: every NC, calibration and M-D metric of the training set (labels trained on) and
 * the test set (true labels), into the run's `epoch_metrics.parquet`,
 * `epoch_class_metrics.parquet`, `epoch_matrices.parquet` and `epoch_metrics.json`. Epochs
 * already evaluated are skipped unless `force`; the tables are rewritten after each epoch, so an
 * interrupted evaluation keeps what it measured.
 *
 * @module
 */
import { listCheckpoints, loadCheckpoint } from "../checkpoint/mod.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "../config/schema.ts";
import { initBackend } from "../backend/mod.ts";
import { loadRunData } from "../data/mod.ts";
import { EPOCH_FILES, EpochMetricsLog, measureModel } from "./evaluate.ts";
import { runModel } from "../models/mod.ts";
import { pl } from "../results/mod.ts";
import { exists, RUN_FILES, withRunLock } from "../runs/mod.ts";

/** Options of {@linkcode evaluateCheckpoints}. */
export interface EvaluateCheckpointsOptions {
  /** Evaluate epochs already in `epoch_metrics.parquet` again. */
  force?: boolean;
  /** Backend (default: the run's). */
  backend?: TrainConfig["backend"];
  /** Status lines (default: console.log). */
  log?: (line: string) => void;
  /** Accept dataset files whose checksums differ from the published ones. */
  skipChecksums?: boolean;
}

/**
 * Evaluate the checkpoints of the large-scale run in `dir`; returns the epochs evaluated now.
 *
 * @example
 * ```ts
 * await evaluateCheckpoints("results/runs/cifar10_s6_CrossEntropy_resnet18_wd0.0005_lr0.1");
 * ```
 */
export async function evaluateCheckpoints(
  dir: string,
  options: EvaluateCheckpointsOptions = {},
): Promise<number[]> {
  const log = options.log ?? console.log;
  return await withRunLock(dir, () => evaluateLocked(dir, options, log));
}

async function evaluateLocked(
  dir: string,
  options: EvaluateCheckpointsOptions,
  log: (line: string) => void,
): Promise<number[]> {
  if (!exists(`${dir}/${RUN_FILES.args}`)) {
    throw new Error(`${dir} is not a run directory (no ${RUN_FILES.args}); train it first`);
  }
  const epochs = listCheckpoints(dir);
  if (epochs.length === 0) {
    throw new Error(
      `${dir} has no checkpoints (epoch_NNN): was it trained with --delete_model, or not yet?`,
    );
  }
  const saved = JSON.parse(await Deno.readTextFile(`${dir}/${RUN_FILES.args}`));
  const config = { ...DEFAULT_CONFIG, ...saved } as TrainConfig;
  const metricsPath = `${dir}/${EPOCH_FILES.metrics}`;
  const done = new Set<number>(
    !options.force && exists(metricsPath)
      ? pl.readParquet(metricsPath).getColumn("epoch").toArray() as number[]
      : [],
  );
  const todo = epochs.filter((epoch) => !done.has(epoch));
  if (todo.length === 0) {
    log(`every checkpoint of ${dir} is evaluated already (--force evaluates them again)`);
    return [];
  }
  const backend = await initBackend(options.backend ?? config.backend);
  backend.report.forEach((line) => log(`backend ${line}`));
  // The training set is drawn from the seed, as train-large draws (and resumes) it.
  const data = await loadRunData(config, undefined, { skipChecksums: options.skipChecksums });
  const model = runModel(config, data.classes);
  const epochLog = new EpochMetricsLog();
  log(`evaluating ${todo.length} checkpoint(s) of ${dir} on ${backend.name}`);
  try {
    for (const epoch of todo) {
      const started = performance.now();
      model.load((await loadCheckpoint(dir, epoch)).model);
      const row = epochLog.add(epoch, await measureModel(model, data));
      await epochLog.write(dir, { merge: true });
      log(
        `epoch ${epoch}: train ${(100 * row.train_acc).toFixed(1)}%, test ${
          (100 * row.test_acc).toFixed(1)
        }%, NC1 ${row.nc1_train.toPrecision(4)}, NC2 ${row.nc2.toPrecision(4)}, NC3 ${
          row.nc3_train.toPrecision(4)
        } (${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    model.dispose();
  }
  log(`per-epoch metrics in ${metricsPath}`);
  return todo;
}
