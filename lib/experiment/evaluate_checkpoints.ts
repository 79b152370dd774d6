/**
 * Evaluate every per-epoch checkpoint (`epoch_NNN`) of a large-scale run, as the reference's
 * validate_NC: every NC, calibration and M-D metric of the training set (labels trained on) and
 * the test set (true labels), into the run's `epoch_metrics.parquet`,
 * `epoch_class_metrics.parquet`, `epoch_matrices.parquet` and `epoch_metrics.json`. Epochs
 * already evaluated are skipped unless `force`; the tables are rewritten after each epoch, so an
 * interrupted evaluation keeps what it measured. While the tables are rewritten a finished run's
 * marker says unfinished (as `evaluate`'s does), so one stopped half way, even by kill -9, never
 * looks finished with rows of two evaluations; evaluating it again evaluates every checkpoint
 * and finishes it. The training set
 * is the run's saved one, as for every re-evaluation.
 *
 * @module
 */
import { listCheckpoints, loadCheckpoint } from "../checkpoint/mod.ts";
import { EPOCH_FILES, EpochMetricsLog, measureModel } from "./evaluate.ts";
import { type ReevaluateOptions, reevaluateRun } from "./orchestrate.ts";
import { pl } from "../results/mod.ts";
import { exists, readRunMarker, whileRewriting } from "../runs/mod.ts";

/** Options of {@linkcode evaluateCheckpoints}: backend (default: the run's), log, skipChecksums. */
export type EvaluateCheckpointsOptions = Omit<ReevaluateOptions, "kind" | "given"> & {
  /** Evaluate epochs already in `epoch_metrics.parquet` again. */
  force?: boolean;
};

/**
 * Evaluate the checkpoints of the large-scale run in `dir` (its saved settings and training set,
 * as every re-evaluation: {@linkcode reevaluateRun}); returns the epochs evaluated now.
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
  return await reevaluateRun(dir, { ...options, kind: "large" }, async (run) => {
    const epochs = listCheckpoints(dir);
    if (epochs.length === 0) {
      throw new Error(
        `${dir} has no checkpoints (epoch_NNN): was it trained with --delete_model, or not yet?`,
      );
    }
    const metricsPath = `${dir}/${EPOCH_FILES.metrics}`;
    // A re-evaluation stopped half way left rows of two evaluations: all are evaluated again.
    const redo = options.force || readRunMarker(dir)?.reevaluating !== undefined;
    const done = new Set<number>(
      !redo && exists(metricsPath)
        ? pl.readParquet(metricsPath).getColumn("epoch").toArray() as number[]
        : [],
    );
    const todo = epochs.filter((epoch) => !done.has(epoch));
    if (todo.length === 0) {
      run.log(`every checkpoint of ${dir} is evaluated already (--force evaluates them again)`);
      return [];
    }
    const { data, model, backend } = await run.open();
    const epochLog = new EpochMetricsLog();
    run.log(`evaluating ${todo.length} checkpoint(s) of ${dir} on ${backend}`);
    // The tables hold rows of two evaluations until the last epoch is written: unfinished meanwhile.
    await whileRewriting(dir, async () => {
      for (const epoch of todo) {
        const started = performance.now();
        model.load((await loadCheckpoint(dir, epoch)).model);
        const row = epochLog.add(epoch, await measureModel(model, data));
        await epochLog.write(dir, { merge: true });
        run.log(
          `epoch ${epoch}: train ${(100 * row.train_acc).toFixed(1)}%, test ${
            (100 * row.test_acc).toFixed(1)
          }%, NC1 ${row.nc1_train.toPrecision(4)}, NC2 ${row.nc2.toPrecision(4)}, NC3 ${
            row.nc3_train.toPrecision(4)
          } (${((performance.now() - started) / 1000).toFixed(1)} s)`,
        );
      }
    });
    run.log(`per-epoch metrics in ${metricsPath}`);
    return todo;
  });
}
