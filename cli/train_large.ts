/**
 * `deno task train-large`: the reference's large-scale trainer. Trains a ResNet, VGG or MLP on
 * a full dataset with optional label noise, writes a checkpoint after every epoch
 * (`epoch_NNN`), resumes a killed run from its last complete checkpoint when started again
 * with the same flags, evaluates the final model, and with `--delete_model` removes the
 * checkpoints afterwards. A non-finite loss stops the run (exit status 1) keeping the last good
 * checkpoint.
 *
 * @module
 */
import { parseTrainLargeArgs } from "../lib/config/flags.ts";
import { runLargeScale } from "../lib/experiment/large_scale.ts";
import { runCli } from "./common.ts";

if (import.meta.main) {
  await runCli(async (args) => {
    const config = parseTrainLargeArgs(args);
    const result = await runLargeScale(config);
    result.model.dispose();
  });
}
