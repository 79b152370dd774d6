/**
 * `deno task evaluate`: evaluate a trained run again from its saved model and training set.
 *
 * @module
 */
import { parseTrainArgs } from "../lib/config/flags.ts";
import { evaluateRun, givenDataFlags, runBasePath } from "../lib/experiment/run.ts";
import { simpleModelUid } from "../lib/runs/mod.ts";
import { runCli } from "./common.ts";

if (import.meta.main) {
  await runCli(async (args) => {
    const config = parseTrainArgs(args, undefined, "evaluate");
    const uid = config.uid ?? simpleModelUid(config);
    const dir = uid.includes("/") ? uid : `${runBasePath(config)}/${uid}`;
    await evaluateRun(dir, {
      backend: args.includes("--backend") ? config.backend : undefined,
      dataFlags: givenDataFlags(args, config),
    });
  });
}
