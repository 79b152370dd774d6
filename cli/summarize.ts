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
import { exists, RUN_FILES } from "../lib/runs/mod.ts";
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
 * Every run directory under `root` (a directory holding `metrics.parquet`), depth first, sorted.
 *
 * @example
 * ```ts
 * const dirs = await findRunDirectories("results");
 * ```
 */
export async function findRunDirectories(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    if (exists(`${dir}/${RUN_FILES.metrics}`)) {
      found.push(dir);
      return;
    }
    const children: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) children.push(`${dir}/${entry.name}`);
    }
    for (const child of children.sort()) await walk(child);
  };
  await walk(root);
  return found;
}

/**
 * One row per run under `root`: `run_dir`, `evaluated_epochs`, then the run's metrics row
 * (configuration columns and final metrics). Columns a run lacks are null in its row.
 *
 * @example
 * ```ts
 * const table = await summarizeRuns("results/memorization_dilation");
 * ```
 */
export async function summarizeRuns(root: string): Promise<DataFrame> {
  const rows: Record<string, unknown>[] = [];
  for (const dir of await findRunDirectories(root)) {
    const metrics = pl.readParquet(`${dir}/${RUN_FILES.metrics}`).toRecords();
    const epochPath = `${dir}/${EPOCH_FILES.metrics}`;
    const evaluatedEpochs = exists(epochPath) ? pl.readParquet(epochPath).shape.height : null;
    for (const row of metrics) {
      rows.push({
        run_dir: relative(root, dir) || ".",
        evaluated_epochs: evaluatedEpochs,
        ...row,
      });
    }
  }
  return rowsToFrame(rows);
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
    const table = await summarizeRuns(root);
    if (table.height === 0) {
      throw new UsageError(
        `no runs under ${root} (a run directory holds ${RUN_FILES.metrics}); train some first`,
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
