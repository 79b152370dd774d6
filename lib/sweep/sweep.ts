/**
 * Run a sweep: a typed list of run configurations, each trained in a worker subprocess with
 * bounded parallelism. Finished runs are reused, unfinished ones (never started, interrupted,
 * failed) are started again; a failing run is reported and the others go on. The results are
 * one summary row per run, a summary over seeds (mean and std), and a table of the runs.
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import { readIniConfig } from "../config/ini.ts";
import { writeJsonAtomic } from "../results/mod.ts";
import { writeSummaryTable } from "./columns.ts";
import type { Flags } from "./grid.ts";
import { executorFor, type ExecutorName } from "./executor.ts";
import type { SlurmSettings } from "./executor_slurm.ts";
import type { PoolJob } from "./pool.ts";
import { autoProgress, type RunStatus, type SweepProgress } from "./progress.ts";
import { lockRun } from "../runs/lock.ts";
import { type RunConfig, runnerNamed, type RunnerRegistry, type SweepRunner } from "./runner.ts";
import { summarizeOverSeeds, type SummaryRow } from "./seed_summary.ts";

/**
 * A sweep: what to run and where.
 *
 * @example
 * ```ts
 * import { grid } from "./grid.ts";
 * const sweep: Sweep = {
 *   name: "ce_vs_ls",
 *   resultsDir: "results/ce_vs_ls",
 *   runs: grid({ epochs: 2, width: 32, depth: 3 }, {
 *     loss: ["CrossEntropy", "LS"],
 *     label_noise: [0, 0.2],
 *     seed: [1, 2],
 *   }),
 * };
 * ```
 */
export interface Sweep {
  /** Name shown in progress and stored in the run table. */
  name: string;
  /** A runner's name in the registry the sweep runs with (default `simple`). */
  runner?: string;
  /** One entry per run: flag values (names as on the command line, without `--`). */
  runs: Flags[];
  /** Directory for the sweep's tables (`summary.parquet`, ...) and worker logs. */
  resultsDir: string;
  /** Directory holding the run directories (default `<resultsDir>/runs`). */
  basePath?: string;
  /** Most runs at once (default config.ini [RESOURCES] MAXIMUM_CONCURRENT_JOBS). */
  concurrency?: number;
  /** Where runs execute: `local` worker processes (default) or a `slurm` job array. */
  executor?: ExecutorName;
}

/** One run of a finished sweep. */
export interface SweepRun {
  uid: string;
  /** The run directory. */
  dir: string;
  label: string;
  /** The flags the sweep gave, and the full configuration they make. */
  flags: Flags;
  config: RunConfig;
  /** `reused`: finished before; `finished`: trained now; `failed`: see `error`. */
  status: "reused" | "finished" | "failed";
  seconds?: number;
  error?: string;
  /** Worker log (trained or failed runs). */
  logPath?: string;
  /** Last lines of the log of a failed run. */
  logTail?: string[];
  /** Summary row of a reused or finished run. */
  result?: SummaryRow;
}

/** What {@link runSweep} returns. */
export interface SweepResult {
  runs: SweepRun[];
  /** One row per reused or finished run (configuration columns and final metrics). */
  summary: SummaryRow[];
  /** Runs that differ only in their seed, aggregated: `<metric>_mean`, `<metric>_std`. */
  overSeeds: SummaryRow[];
  failures: SweepRun[];
  /** Paths of the written tables. */
  tables: { summary: string; overSeeds: string; runs: string };
}

/** Options of {@link runSweep}. */
export interface RunSweepOptions {
  /** The runners the sweep may name, and their worker entry (memdil's: `RUNNERS`). */
  registry: RunnerRegistry;
  /** Progress display (default: Jupyter, terminal bar, or lines); false for none. */
  progress?: SweepProgress | false;
  /** Lines for the default display (default console.log). */
  log?: (line: string) => void;
  /** Abort: workers are killed, their runs stay unfinished and restart next time. */
  signal?: AbortSignal;
  /** Settings of the slurm executor (default config.ini [SLURM]). */
  slurm?: SlurmSettings;
}

/**
 * A planned run of a sweep: validated configuration and directory.
 *
 * @example
 * ```ts
 * import type { RunnerRegistry } from "./runner.ts";
 * declare const RUNNERS: RunnerRegistry;
 * const planned = planSweep({ name: "s", resultsDir: "/tmp/s", runs: [{ epochs: 2 }] }, RUNNERS);
 * console.log(planned.runs[0].uid);
 * ```
 */
export function planSweep(sweep: Sweep, registry: RunnerRegistry): {
  runner: SweepRunner;
  basePath: string;
  runs: Omit<SweepRun, "status">[];
} {
  if (!Array.isArray(sweep.runs) || sweep.runs.length === 0) {
    throw new Error(`sweep '${sweep.name}' has no runs`);
  }
  const runner = runnerNamed(registry, sweep.runner ?? "simple");
  const basePath = resolve(sweep.basePath ?? join(sweep.resultsDir, "runs"));
  const configs = sweep.runs.map((flags, i) => {
    try {
      return runner.configure(flags);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const wrapped = new (error instanceof Error ? error.constructor as ErrorConstructor : Error)(
        `sweep '${sweep.name}', run ${i + 1} (${JSON.stringify(flags)}): ${message}`,
      );
      throw wrapped;
    }
  });
  const uids = distinctUids(runner, sweep.runs, configs);
  return {
    runner,
    basePath,
    runs: configs.map((config, i) => ({
      uid: uids[i],
      dir: join(basePath, uids[i]),
      label: runner.label?.(config) ?? uids[i],
      flags: sweep.runs[i],
      config: { ...config, uid: uids[i] },
    })),
  };
}

/**
 * Uids of the runs. Runs with the same uid are an error: the same run listed twice, or (with a
 * runner whose uid leaves settings out, or a fixed `uid`) different runs that would share a
 * directory.
 */
function distinctUids(runner: SweepRunner, flags: Flags[], configs: RunConfig[]): string[] {
  const uids = configs.map((config) => runner.uid(config));
  const byUid = new Map<string, number[]>();
  uids.forEach((uid, i) => byUid.set(uid, [...(byUid.get(uid) ?? []), i]));
  for (const [uid, indices] of byUid) {
    if (indices.length < 2) continue;
    const runs = indices.map((i) => i + 1).join(", ");
    if (new Set(indices.map((i) => JSON.stringify(configs[i]))).size === 1) {
      throw new Error(
        `the sweep lists the same run ${indices.length} times (runs ${runs}: ` +
          `${JSON.stringify(flags[indices[0]])}); remove the duplicates`,
      );
    }
    throw new Error(
      `runs ${runs} of the sweep would share the directory ${uid}: give each its own uid`,
    );
  }
  return uids;
}

/**
 * Run the sweep. Resolves when every run has ended; failing runs are in `failures` (the promise
 * does not reject for them). Writes into `resultsDir`: `summary.parquet` (one row per finished
 * run), `summary_over_seeds.parquet` (both as `writeSummaryTable` writes them: accuracy in
 * percent, a `.columns.parquet` dictionary beside each), `sweep.json` (every run: uid, flags,
 * status, time, error, log) and `logs/<uid>.log` (each worker's output). The returned rows keep
 * the runs' own units (accuracy as a fraction, as in each run's `metrics.parquet`).
 *
 * @example
 * ```ts
 * import type { RunnerRegistry } from "./runner.ts";
 * declare const sweep: Sweep, RUNNERS: RunnerRegistry;
 * const result = await runSweep(sweep, { registry: RUNNERS });
 * for (const failure of result.failures) console.log(failure.uid, failure.error);
 * ```
 */
export async function runSweep(sweep: Sweep, options: RunSweepOptions): Promise<SweepResult> {
  const plan = planSweep(sweep, options.registry);
  const resultsDir = resolve(sweep.resultsDir);
  // One process per sweep directory: a second one is refused before anything is written.
  const lock = lockRun(resultsDir, "sweep", `sweep ${sweep.name}`);
  try {
    return await runLocked(sweep, plan, resultsDir, options);
  } finally {
    lock.release();
  }
}

async function runLocked(
  sweep: Sweep,
  plan: ReturnType<typeof planSweep>,
  resultsDir: string,
  options: RunSweepOptions,
): Promise<SweepResult> {
  const log = options.log ?? console.log;
  const concurrency = sweep.concurrency ??
    readIniConfig().resources.maximumConcurrentJobs;
  const progress = options.progress === false
    ? { update() {}, finish() {} }
    : options.progress ?? autoProgress(log);

  const statuses: RunStatus[] = plan.runs.map((run) => ({
    uid: run.uid,
    label: run.label,
    state: "queued",
  }));
  const runs: SweepRun[] = plan.runs.map((run) => ({ ...run, status: "failed" }));
  const jobs: PoolJob[] = [];
  const dataDirs = [...new Set(plan.runs.map((run) => run.config.data_dir).filter(isString))];
  plan.runs.forEach((run, i) => {
    if (plan.runner.isFinished(run.dir)) {
      const differences = plan.runner.differences?.(run.dir, run.config) ?? [];
      if (differences.length > 0) {
        runs[i].error = `the finished run in ${run.dir} was trained with other flags: ` +
          `${differences.join(", ")}; remove that directory to train it again, or give the ` +
          `run another uid`;
        statuses[i] = { ...statuses[i], state: "failed", error: runs[i].error };
        return;
      }
      runs[i].status = "reused";
      statuses[i].state = "reused";
      return;
    }
    const logPath = join(resultsDir, "logs", `${run.uid}.log`);
    runs[i].logPath = logPath;
    jobs.push({
      key: run.uid,
      job: { runner: sweep.runner ?? "simple", config: run.config, basePath: plan.basePath },
      logPath,
      access: { basePath: plan.basePath, dataDirs, worker: options.registry.worker },
    });
  });
  const indexOf = new Map(plan.runs.map((run, i) => [run.uid, i]));

  progress.update(statuses);
  const runJobs = executorFor(sweep.executor ?? "local", {
    name: sweep.name,
    resultsDir,
    slurm: options.slurm,
  });
  await runJobs(jobs, {
    concurrency,
    signal: options.signal,
    onStart(key) {
      const i = indexOf.get(key)!;
      statuses[i] = { ...statuses[i], state: "running", logPath: runs[i].logPath };
      progress.update(statuses);
    },
    onMessage(key, message) {
      if (message.type !== "epoch") return;
      const i = indexOf.get(key)!;
      statuses[i] = {
        ...statuses[i],
        epoch: message.epoch,
        epochs: message.epochs,
        values: message.values,
      };
      progress.update(statuses);
    },
    onEnd(outcome) {
      const i = indexOf.get(outcome.key)!;
      runs[i].status = outcome.status;
      runs[i].seconds = outcome.seconds;
      runs[i].error = outcome.error;
      runs[i].logTail = outcome.logTail;
      statuses[i] = {
        ...statuses[i],
        state: outcome.status,
        seconds: outcome.seconds,
        error: outcome.error,
      };
      progress.update(statuses);
    },
  });
  if (options.signal?.aborted) {
    for (const run of runs) {
      if (run.status === "failed" && !run.error) run.error = "the sweep was stopped before it ran";
    }
  }
  await progress.finish(statuses);

  for (const run of runs) {
    if (run.status === "failed") continue;
    try {
      run.result = await plan.runner.readResult(run.dir);
    } catch (error) {
      run.status = "failed";
      run.error = `its results could not be read: ${(error as Error).message}`;
    }
  }
  const summary = runs.flatMap((run) => (run.result ? [run.result] : []));
  const overSeeds = summarizeOverSeeds(summary);
  const tables = {
    summary: join(resultsDir, "summary.parquet"),
    overSeeds: join(resultsDir, "summary_over_seeds.parquet"),
    runs: join(resultsDir, "sweep.json"),
  };
  if (summary.length > 0) {
    await writeSummaryTable(summary, tables.summary);
    await writeSummaryTable(overSeeds, tables.overSeeds);
  }
  // Paths relative to the sweep's directory, so a results folder can be moved or copied.
  const local = (path: string) => relative(resultsDir, path) || ".";
  await writeJsonAtomic(tables.runs, {
    name: sweep.name,
    runner: sweep.runner ?? "simple",
    executor: sweep.executor ?? "local",
    basePath: local(plan.basePath),
    runs: runs.map((run) => ({
      uid: run.uid,
      dir: local(run.dir),
      label: run.label,
      status: run.status,
      seconds: run.seconds ?? null,
      error: run.error ?? null,
      log: run.logPath ? local(run.logPath) : null,
      flags: run.flags,
    })),
  });
  const failures = runs.filter((run) => run.status === "failed");
  return { runs, summary, overSeeds, failures, tables };
}

function isString(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

/**
 * A readable report of a sweep's failed runs (empty string when none failed).
 *
 * @example
 * ```ts
 * declare const result: SweepResult;
 * const report = failureReport(result);
 * if (report) console.error(report);
 * ```
 */
export function failureReport(result: Pick<SweepResult, "failures" | "runs">): string {
  if (result.failures.length === 0) return "";
  const lines = [`${result.failures.length} of ${result.runs.length} runs failed:`];
  for (const run of result.failures) {
    lines.push(`- ${run.label} (${run.uid}): ${run.error ?? "unknown error"}`);
    for (const line of (run.logTail ?? []).slice(-5)) lines.push(`    | ${line}`);
    if (run.logPath) lines.push(`    log: ${run.logPath}`);
  }
  return lines.join("\n");
}
