/**
 * The `large` sweep runner: one large-scale run of `deno task train-large` (ResNet/VGG/MLP on a
 * full dataset, a checkpoint per epoch), then every checkpoint evaluated as `deno task
 * evaluate-large` does, giving `epoch_metrics.parquet` (NC1-NC4, accuracy, ECE, traces per
 * epoch). A run counts as finished when both are done.
 *
 * @module
 */
import type { TrainConfig } from "../../config/schema.ts";
import { shortLoss } from "../../losses/mod.ts";
import { validateConfig } from "../../config/validate.ts";
import { DEFAULT_CONFIG, summaryColumns } from "../../config/schema.ts";
import { EPOCH_FILES } from "../evaluate.ts";
import { runLargeScale } from "../large_scale.ts";
import { readJson } from "../../results/mod.ts";
import {
  exists,
  isFinishedRun,
  RUN_FILES,
  runUid,
  savedSettingDifferences,
} from "../../runs/mod.ts";
import { evaluateCheckpoints } from "../evaluate_checkpoints.ts";
import type { Flags } from "../../sweep/grid.ts";
import type { SweepRunner } from "../../sweep/runner.ts";

/**
 * The large-scale runner.
 *
 * @example
 * ```ts
 * import large from "./large.ts";
 * const config = large.configure({ dataset: "cifar10", model: "resnet18", epochs: 2 });
 * console.log(large.uid(config));
 * ```
 */
const large: SweepRunner<TrainConfig & { seed: number }> = {
  name: "large",
  configure: (flags: Flags) => validateConfig(flags, "train-large"),
  uid: (config) => runUid(config, "large"),
  isFinished: (dir) => isFinishedRun(dir) && exists(`${dir}/${EPOCH_FILES.metrics}`),
  readResult(dir) {
    const config = { ...DEFAULT_CONFIG, ...readJson(`${dir}/${RUN_FILES.args}`) as object };
    const metrics = readJson(`${dir}/${RUN_FILES.summary}`) as Record<string, unknown>;
    const columns = summaryColumns(config as TrainConfig, "train-large");
    return { uid: metrics.uid ?? config.uid, ...columns, ...metrics };
  },
  differences: (dir, config) => savedSettingDifferences(dir, config, "large"),
  label(config) {
    const loss = shortLoss(config.loss);
    return `${config.model} ${config.dataset} ${loss} noise ${config.label_noise} seed ${config.seed}`;
  },
  async run(config, context) {
    const dir = `${context.basePath}/${runUid(config, "large")}`;
    // Trained before but not evaluated per epoch: only the evaluation is left. An unfinished
    // run is resumed from its last checkpoint by runLargeScale.
    if (!isFinishedRun(dir)) {
      const result = await runLargeScale(config, {
        basePath: context.basePath,
        progress: false,
        log: context.log,
        onEpoch: (record) =>
          context.onEpoch({
            epoch: record.epoch,
            epochs: config.epochs,
            values: { train_loss: record.train_loss, val_acc: record.val_acc },
          }),
      });
      result.model.dispose();
    }
    context.onEpoch({ epoch: config.epochs, epochs: config.epochs });
    await evaluateCheckpoints(dir, { log: context.log });
  },
};
export default large;
