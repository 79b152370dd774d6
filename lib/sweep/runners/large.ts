/**
 * The `large` sweep runner: one large-scale run of `deno task train-large` (ResNet/VGG/MLP on a
 * full dataset, a checkpoint per epoch), then every checkpoint evaluated as `deno task
 * evaluate-large` does, giving `epoch_metrics.parquet` (NC1-NC4, accuracy, ECE, traces per
 * epoch). A run counts as finished when both are done.
 *
 * @module
 */
import { parseTrainLargeArgs, type TrainConfig } from "../../config/flags.ts";
import { EPOCH_FILES } from "../../experiment/evaluate.ts";
import { runLargeScale } from "../../experiment/large_scale.ts";
import { COMPLETE_MARKER, largeScaleUid, RUN_FILES } from "../../runs/mod.ts";
import { evaluateCheckpoints } from "../../../cli/evaluate_large.ts";
import { type Flags, flagsToArgs } from "../grid.ts";
import type { SweepRunner } from "../runner.ts";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Configuration columns put in front of a large run's final metrics. */
const CONFIG_COLUMNS = [
  "dataset",
  "model",
  "classes",
  "label_noise",
  "loss",
  "ls_alpha",
  "lr_alpha",
  "optimizer",
  "epochs",
  "batch_size",
  "lr",
  "weight_decay",
  "sample_size",
  "seed",
] as const;

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
  configure: (flags: Flags) => parseTrainLargeArgs(flagsToArgs(flags)),
  uid: (config) => config.uid ?? largeScaleUid(config),
  isFinished: (dir) =>
    exists(`${dir}/${COMPLETE_MARKER}`) && exists(`${dir}/${EPOCH_FILES.metrics}`),
  readResult(dir) {
    const config = JSON.parse(Deno.readTextFileSync(`${dir}/${RUN_FILES.args}`));
    const metrics = JSON.parse(Deno.readTextFileSync(`${dir}/${RUN_FILES.summary}`));
    const columns = Object.fromEntries(
      CONFIG_COLUMNS.map((key) => [key, Array.isArray(config[key]) ? null : config[key] ?? null]),
    );
    return { uid: metrics.uid ?? config.uid, ...columns, ...metrics };
  },
  label(config) {
    const loss = config.loss === "CrossEntropy" ? "CE" : config.loss;
    return `${config.model} ${config.dataset} ${loss} noise ${config.label_noise} seed ${config.seed}`;
  },
  async run(config, context) {
    const dir = `${context.basePath}/${config.uid ?? largeScaleUid(config)}`;
    // Trained before but not evaluated per epoch: only the evaluation is left. An unfinished
    // run is resumed from its last checkpoint by runLargeScale.
    if (!exists(`${dir}/${COMPLETE_MARKER}`)) {
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
