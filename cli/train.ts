/**
 * `deno task train`: train one simple model with label noise, then evaluate it.
 *
 * @module
 */
import { parseTrainArgs } from "../lib/config/flags.ts";
import { runSimpleModel } from "../lib/experiment/run.ts";
import { runCli } from "./common.ts";

if (import.meta.main) {
  await runCli(async (args) => {
    const config = parseTrainArgs(args);
    await runSimpleModel(config);
  });
}
