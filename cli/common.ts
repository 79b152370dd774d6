/**
 * Shared command-line plumbing: usage errors exit 2, failures exit 1, both with one clear line.
 *
 * @module
 */
import { CommanderError } from "commander";
import { UsageError } from "../lib/config/flags.ts";
import { IniError } from "../lib/config/ini.ts";
import { SettingError } from "../lib/config/schema.ts";
import { RunExistsError, RunLockedError } from "../lib/runs/mod.ts";

/**
 * Run a command's main function with `Deno.args`, mapping errors to exit codes: 0 success,
 * 2 usage errors (bad flags or settings, a bad config.ini, a run directory in the way, a run in
 * use by another process), 1 anything else.
 *
 * @example
 * ```ts
 * await runCli(async (args) => console.log(args));
 * ```
 */
export async function runCli(main: (args: string[]) => Promise<void>): Promise<never> {
  try {
    await main(Deno.args);
    Deno.exit(0);
  } catch (error) {
    if (error instanceof CommanderError) Deno.exit(error.exitCode); // --help, --version
    const usage = error instanceof UsageError || error instanceof RunExistsError ||
      error instanceof RunLockedError || error instanceof SettingError ||
      error instanceof IniError;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    if (error instanceof Deno.errors.NotCapable) {
      console.error(
        "hint: each deno task may write only under results/, the places config.ini names " +
          "([PATHS], [DATA] DATA_DIR, [SLURM] SHARED_PATH) and the paths its own flags name, " +
          "and reach only the dataset mirrors; configure other places in config.ini " +
          "(see docs/permissions.md)",
      );
    }
    if (!usage && Deno.env.get("MEMDIL_DEBUG") && error instanceof Error) {
      console.error(error.stack);
    }
    Deno.exit(usage ? 2 : 1);
  }
}
