/**
 * `deno task evaluate`: evaluate a trained run again from its saved model and training set. Name
 * the run with `--uid` or with the settings that trained it.
 *
 * @module
 */
import { parseRunArgs } from "../lib/config/flags.ts";
import { evaluateRun, runBasePath } from "../lib/experiment/run.ts";
import { runUid } from "../lib/runs/mod.ts";
import { runCli } from "./common.ts";

if (import.meta.main) {
  await runCli(async (args) => {
    const { config, given } = parseRunArgs(args, "evaluate");
    await evaluateRun(`${runBasePath(config)}/${runUid(config, "simple")}`, {
      backend: given.backend,
      given,
      skipChecksums: config.skip_checksums,
    });
  });
}
