/**
 * The `simple` sweep runner: one MLP run of `deno task train` (docs/reference.md#experiments, 1 and 2), its
 * flags validated exactly as the command line validates them.
 *
 * @module
 */
import type { TrainConfig } from "../../config/schema.ts";
import { shortLoss } from "../../losses/mod.ts";
import { validateConfig } from "../../config/validate.ts";
import { runSimpleModel } from "../run.ts";
import { readJson } from "../../results/mod.ts";
import { isFinishedRun, RUN_FILES, runUid, savedSettingDifferences } from "../../runs/mod.ts";
import type { Flags } from "../../sweep/grid.ts";
import type { SweepRunner } from "../../sweep/runner.ts";

/**
 * The simple-model runner.
 *
 * @example
 * ```ts
 * import simple from "./simple.ts";
 * const config = simple.configure({ loss: "LS", label_noise: 0.2, epochs: 2 });
 * console.log(simple.uid(config));
 * ```
 */
const simple: SweepRunner<TrainConfig & { seed: number }> = {
  name: "simple",
  configure(flags: Flags): TrainConfig {
    // The command line's validator: names, ranges and combinations from the one schema;
    // defaults from config.ini and MEMDIL_BACKEND, as for `deno task train`.
    return validateConfig(flags, "train");
  },
  uid: (config) => runUid(config, "simple"),
  isFinished: isFinishedRun,
  readResult: (dir) => readJson(`${dir}/${RUN_FILES.summary}`) as Record<string, unknown>,
  differences: (dir, config) => savedSettingDifferences(dir, config, "simple"),
  label(config) {
    const loss = shortLoss(config.loss);
    const noise = Array.isArray(config.label_noise)
      ? config.label_noise.join("/")
      : config.label_noise;
    const latent = config.fourclass_problem ? ` 4c ${config.fc_noise_degree}` : "";
    return `${config.dataset} ${loss} noise ${noise}${latent} seed ${config.seed}`;
  },
  async run(config, context) {
    await runSimpleModel({ ...config, force: true }, {
      basePath: context.basePath,
      progress: false,
      log: context.log,
      onEpoch: (record) =>
        context.onEpoch({
          epoch: record.epoch,
          epochs: config.epochs,
          values: {
            train_loss: record.train_loss,
            train_acc: record.train_acc,
            val_acc: record.val_acc,
            test_acc: record.test_acc,
          },
        }),
    });
  },
};
export default simple;
