/**
 * `deno task evaluate-large [train-large settings]`: the reference's validate_NC. Evaluates every
 * per-epoch checkpoint (`epoch_NNN`) of a large-scale run (lib/experiment/evaluate_checkpoints.ts).
 * Name the run with `--uid` or with the settings that trained it.
 *
 * @module
 */
import { parseRunArgs } from "../lib/config/flags.ts";
import { readIniConfig } from "../lib/config/ini.ts";
import { evaluateCheckpoints } from "../lib/experiment/evaluate_checkpoints.ts";
import { runUid } from "../lib/runs/mod.ts";
import { runCli } from "./common.ts";

if (import.meta.main) {
  await runCli(async (args) => {
    const { config, given } = parseRunArgs(args, "evaluate-large");
    await evaluateCheckpoints(`${readIniConfig().paths.basePath}/${runUid(config, "large")}`, {
      force: config.force,
      backend: given.backend,
      skipChecksums: config.skip_checksums,
    });
  });
}
