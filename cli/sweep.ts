/**
 * `deno task sweep FILE [--concurrency N] [--executor local|slurm] [--quiet]`: run a sweep file (format in
 * lib/sweep/file.ts and docs/sweeps.md). Finished runs are reused; unfinished ones are trained in
 * worker subprocesses, at most config.ini [RESOURCES] MAXIMUM_CONCURRENT_JOBS at once. Prints the
 * summary over seeds and any failed runs.
 *
 * Exit codes: 0 every run finished, 1 a run failed, 2 usage error (bad file, bad flags), 130
 * interrupted (Ctrl-C; interrupted runs restart next time).
 *
 * @module
 */
import { Command, Option } from "commander";
import { parseCommandLine, UsageError } from "../lib/config/flags.ts";
import { SettingError } from "../lib/config/schema.ts";
import { rowsToFrame } from "../lib/results/mod.ts";
import {
  type ExecutorName,
  EXECUTORS,
  failureReport,
  lineProgress,
  readSweepFile,
  runSweep,
  summaryLine,
  SweepFileError,
  UnknownRunnerError,
} from "../lib/sweep/mod.ts";
import { RUNNERS } from "../lib/experiment/runners/mod.ts";
import { runCli } from "./common.ts";

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--concurrency: expected an integer >= 1`);
  }
  return n;
}

if (import.meta.main) {
  await runCli(async (args) => {
    const program = new Command("sweep")
      .description("Run a sweep file: a grid of training runs, reusing finished ones.")
      .argument("<file>", "sweep file (JSON; see docs/sweeps.md)")
      .addOption(
        new Option("--concurrency <n>", "most runs at once (default: config.ini)").argParser(
          positiveInteger,
        ),
      )
      .addOption(
        new Option("--executor <name>", "where runs execute (default: the file's, else local)")
          .choices([...EXECUTORS]),
      )
      .addOption(new Option("--quiet", "no progress display").default(false));
    parseCommandLine(program, args);
    const options = program.opts<
      { concurrency?: number; executor?: ExecutorName; quiet: boolean }
    >();
    let sweep;
    try {
      sweep = await readSweepFile(program.args[0]);
    } catch (error) {
      if (error instanceof SweepFileError) throw new UsageError(error.message);
      throw error;
    }
    if (options.concurrency) sweep.concurrency = options.concurrency;
    if (options.executor) sweep.executor = options.executor;

    const controller = new AbortController();
    const stop = () => {
      console.error("\nsweep: stopping; unfinished runs restart next time");
      controller.abort();
    };
    Deno.addSignalListener("SIGINT", stop);
    const result = await runSweep(sweep, {
      registry: RUNNERS,
      signal: controller.signal,
      progress: options.quiet
        ? false
        : Deno.stderr.isTerminal()
        ? undefined
        : lineProgress((line) => console.error(line)),
    }).catch((error) => {
      // A runner the registry does not hold, or flags a runner refuses: the file's mistake.
      if (error instanceof UnknownRunnerError || error instanceof SettingError) {
        throw new UsageError(`${program.args[0]}: ${error.message}`);
      }
      throw error;
    }).finally(() => Deno.removeSignalListener("SIGINT", stop));

    if (result.overSeeds.length > 0) {
      console.log(rowsToFrame(result.overSeeds).toString());
    }
    console.log(`\n${summaryLine(statusesOf(result.runs))}`);
    console.log(`tables: ${result.tables.summary}, ${result.tables.overSeeds}`);
    console.log(`runs: ${result.tables.runs}`);
    const report = failureReport(result);
    if (report) console.error(report);
    if (controller.signal.aborted) Deno.exit(130);
    if (result.failures.length > 0) {
      throw new Error(`${result.failures.length} run(s) failed (see above)`);
    }
  });
}

function statusesOf(runs: { uid: string; label: string; status: string }[]) {
  return runs.map((run) => ({
    uid: run.uid,
    label: run.label,
    state: run.status as "reused" | "finished" | "failed",
  }));
}
