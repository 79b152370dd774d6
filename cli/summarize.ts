/**
 * `deno task summarize [RESULTS_ROOT] [--out PATH]`: merge every run under a results root into one
 * table, one row per run: its configuration columns and final metrics (each run's
 * `metrics.parquet`), plus `run_dir` (relative to the root) and `evaluated_epochs` (rows of its
 * `epoch_metrics.parquet`). Written as Parquet (default `RESULTS_ROOT/runs_summary.parquet`,
 * regenerated on every call) and printed. RESULTS_ROOT defaults to config.ini's BASE_PATH.
 *
 * @module
 */
import { Command } from "commander";
import { relative } from "node:path";
import { parseCommandLine, UsageError } from "../lib/config/flags.ts";
import { readIniConfig } from "../lib/config/ini.ts";
import { EPOCH_FILES } from "../lib/experiment/evaluate.ts";
import { type DataFrame, pl, rowsToFrame, writeParquetAtomic } from "../lib/results/mod.ts";
import { exists, isFinishedRun, isRunDirectory, RUN_FILES } from "../lib/runs/mod.ts";
import { runCli } from "./common.ts";

/** Default name of the merged table inside the results root. */
export const SUMMARY_FILE = "runs_summary.parquet";

/** Columns printed first when present (the table keeps every column). */
const SHOWN = [
  "run_dir",
  "loss",
  "label_noise",
  "seed",
  "epoch",
  "test_acc",
  "nc1_train",
  "nc2",
  "nc3_train",
  "ece_test",
  "dilation_train",
  "memorization_train",
];

/**
 * Every finished run under `root` (a directory whose run marker says it finished), depth first,
 * sorted; hidden directories (a replacement's staging directory, locks) are not looked into.
 *
 * @example
 * ```ts
 * const dirs = await findRunDirectories("results");
 * ```
 */
export async function findRunDirectories(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    if (isRunDirectory(dir)) {
      if (isFinishedRun(dir)) found.push(dir);
      return;
    }
    const children: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && !entry.name.startsWith(".")) children.push(`${dir}/${entry.name}`);
    }
    for (const child of children.sort()) await walk(child);
  };
  await walk(root);
  return found;
}

/** A run whose tables could not be read: left out of the summary, and named. */
export interface DamagedRun {
  dir: string;
  /** What is wrong, naming the file. */
  error: string;
}

/**
 * One row per finished run under `root`: `run_dir`, `evaluated_epochs`, then the run's metrics
 * row (configuration columns and final metrics). Columns a run lacks are null in its row. A run
 * whose tables cannot be read is listed in `damaged` and the others are summarized.
 *
 * @example
 * ```ts
 * const { table, damaged } = await summarizeRuns("results/memorization_dilation");
 * ```
 */
export async function summarizeRuns(
  root: string,
): Promise<{ table: DataFrame; damaged: DamagedRun[] }> {
  const rows: Record<string, unknown>[] = [];
  const damaged: DamagedRun[] = [];
  const read = (path: string) => {
    try {
      return pl.readParquet(path);
    } catch (error) {
      throw new Error(`${path} cannot be read (${(error as Error).message.split("\n")[0]})`);
    }
  };
  for (const dir of await findRunDirectories(root)) {
    try {
      const metrics = read(`${dir}/${RUN_FILES.metrics}`).toRecords();
      const epochPath = `${dir}/${EPOCH_FILES.metrics}`;
      const evaluatedEpochs = exists(epochPath) ? read(epochPath).shape.height : null;
      for (const row of metrics) {
        rows.push({
          run_dir: relative(root, dir) || ".",
          evaluated_epochs: evaluatedEpochs,
          ...row,
        });
      }
    } catch (error) {
      damaged.push({ dir, error: (error as Error).message });
    }
  }
  return { table: rowsToFrame(rows), damaged };
}

if (import.meta.main) {
  await runCli(async (args) => {
    const program = new Command("summarize")
      .description("Merge all runs under a results root into one table (config + final metrics).")
      .argument("[root]", "results root (default: config.ini BASE_PATH)")
      .option("--out <path>", `output Parquet file (default: ROOT/${SUMMARY_FILE})`);
    parseCommandLine(program, args);
    const root = (program.args[0] ?? readIniConfig().paths.basePath).replace(/\/+$/, "");
    let isDirectory = false;
    try {
      isDirectory = Deno.statSync(root).isDirectory;
    } catch {
      // reported below
    }
    if (!isDirectory) {
      throw new UsageError(`results root ${root} is not a directory; pass one that holds runs`);
    }
    const { table, damaged } = await summarizeRuns(root);
    for (const run of damaged) console.error(`damaged run, left out: ${run.error}`);
    if (table.height === 0) {
      throw new UsageError(
        `no finished runs under ${root} (a finished run's ${RUN_FILES.marker} says so); ` +
          `train some first`,
      );
    }
    const out = program.opts<{ out?: string }>().out ?? `${root}/${SUMMARY_FILE}`;
    await writeParquetAtomic(table, out);
    const shown = SHOWN.filter((column) => table.columns.includes(column));
    pl.Config.setTblRows(Math.min(table.height, 50));
    pl.Config.setTblCols(shown.length);
    pl.Config.setTblWidthChars(200);
    console.log(table.select(...shown).toString());
    // (table.width would be a run's "width" column: polars exposes columns as properties.)
    console.log(`${table.height} runs, ${table.columns.length} columns: ${out}`);
  });
}
