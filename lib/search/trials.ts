/**
 * The trial table of a search: one JSON document on disk, rewritten atomically after every
 * change, so that a search killed at any point (even with kill -9) resumes from it. Finished
 * trials (completed or stopped early) are kept; trials that were running or had failed are run
 * again with the parameters they were given.
 *
 * @module
 */
import { FileFormatError } from "../io/json.ts";
import { writeJsonAtomic } from "../results/mod.ts";
import type { Params } from "./space.ts";

/** Where a trial stands. */
export type TrialStatus = "pending" | "running" | "completed" | "stopped" | "failed";

/** One trial of a search. */
export interface TrialRecord {
  /** 0-based trial number (the order trials were proposed in). */
  trial: number;
  /** Its run directory's name. */
  uid: string;
  params: Params;
  status: TrialStatus;
  /** Why it ended: all epochs run, the early-stopping rule's verdict, or the error. */
  stop_reason: string | null;
  /** Validation accuracy after each epoch run. */
  val_curve: (number | null)[];
  /** Objective: validation accuracy after its last epoch (null before any). */
  objective: number | null;
  /** Wall-clock seconds of its run. */
  seconds: number | null;
  /** Order in which trials finished (replays the early-stopping rule on resume). */
  finished_order: number | null;
}

/** What a trial table file holds. */
export interface TrialTable {
  /** The search's definition (what the trials mean); a resumed search must match it. */
  definition: Record<string, unknown>;
  trials: TrialRecord[];
}

/**
 * Whether a trial is done for good (kept when the search resumes).
 *
 * @example
 * ```ts
 * declare const table: TrialTable;
 * table.trials.filter(isSettled).length; // trials that will not run again
 * ```
 */
export function isSettled(trial: TrialRecord): boolean {
  return trial.status === "completed" || trial.status === "stopped";
}

/**
 * Read a trial table, or undefined when the file does not exist.
 *
 * @example
 * ```ts
 * const table = readTrialTable("results/ho/lr_search/trials.json");
 * console.log(table?.trials.length);
 * ```
 */
export function readTrialTable(path: string): TrialTable | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  let table: TrialTable;
  try {
    table = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(
      `${path} is not valid JSON (${(error as Error).message}); move it away or choose another ` +
        `search name`,
    );
  }
  if (!table || !Array.isArray(table.trials) || typeof table.definition !== "object") {
    throw new Error(`${path} is not a trial table; move it away or choose another search name`);
  }
  return table;
}

/**
 * Write a trial table atomically (a reader never sees a partial file).
 *
 * @example
 * ```ts
 * await writeTrialTable("/tmp/trials.json", { definition: {}, trials: [] });
 * ```
 */
export function writeTrialTable(path: string, table: TrialTable): Promise<void> {
  return writeJsonAtomic(path, table);
}

/**
 * The rows of the trials Parquet table: one per trial, its parameters as columns.
 *
 * @example
 * ```ts
 * declare const table: TrialTable;
 * const rows = trialRows(table.trials);
 * ```
 */
export function trialRows(trials: TrialRecord[]): Record<string, unknown>[] {
  return trials.map((t) => ({
    trial: t.trial,
    uid: t.uid,
    ...t.params,
    status: t.status,
    stop_reason: t.stop_reason,
    epochs_run: t.val_curve.length,
    objective: t.objective,
    val_curve: t.val_curve.map((v) => v ?? Number.NaN),
    seconds: t.seconds,
  }));
}
