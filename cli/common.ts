/**
 * Shared command-line plumbing: usage errors exit 2, failures exit 1, both with one clear line.
 *
 * @module
 */
import { CommanderError } from "commander";
import { UsageError } from "../lib/config/flags.ts";
import { RunExistsError } from "../lib/runs/mod.ts";

/**
 * Run a command's main function with `Deno.args`, mapping errors to exit codes: 0 success,
 * 2 usage errors (bad flags, existing run directory without --force), 1 anything else.
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
    const usage = error instanceof UsageError || error instanceof RunExistsError;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    if (!usage && Deno.env.get("MEMDIL_DEBUG") && error instanceof Error) {
      console.error(error.stack);
    }
    Deno.exit(usage ? 2 : 1);
  }
}
