/**
 * Executors: where a sweep's (or a search's) runs execute. `local` is the worker pool on this
 * machine (the default); `slurm` submits them to a Slurm cluster as a job array (see
 * executor_slurm.ts), with its settings in config.ini [SLURM].
 *
 * @module
 */
import ini from "ini";
import { join } from "node:path";
import { defaultIniPath, resolvePath } from "../config/ini.ts";
import {
  type PoolJob,
  type PoolOptions,
  type PoolOutcome,
  runPool,
  runWorker,
  workerBlasThreads,
} from "./pool.ts";
import {
  type LaunchJob,
  runSlurmArray,
  slurmJobLauncher,
  type SlurmSettings,
} from "./executor_slurm.ts";

/** Executor names. */
export const EXECUTORS = ["local", "slurm"] as const;
export type ExecutorName = typeof EXECUTORS[number];

/** Runs a list of jobs with bounded concurrency and one outcome per job (like {@link runPool}). */
export type RunJobs = (jobs: PoolJob[], options: PoolOptions) => Promise<PoolOutcome[]>;

const SLURM_DEFAULTS: SlurmSettings = {
  partition: "",
  time: "",
  cpus: 1,
  gpus: 0,
  extra: [],
  sharedPath: "",
  pollSeconds: 10,
  resubmits: 1,
};

/**
 * Read config.ini [SLURM] (every key optional): PARTITION, TIME, CPUS_PER_TASK, GPUS_PER_TASK,
 * EXTRA_SBATCH (options separated by `;`), SHARED_PATH, POLL_SECONDS, RESUBMITS.
 *
 * @example
 * ```ts
 * const settings = readSlurmSettings();
 * console.log(settings.partition || "(default partition)");
 * ```
 */
export function readSlurmSettings(path: string = defaultIniPath()): SlurmSettings {
  const section = (ini.parse(Deno.readTextFileSync(path)).SLURM ?? {}) as Record<string, string>;
  const number = (key: string, fallback: number, min: number) => {
    const value = section[key];
    if (value === undefined || value === "") return fallback;
    const parsed = Number(value);
    if (!(Number.isFinite(parsed) && parsed >= min)) {
      throw new Error(`${path}: [SLURM] ${key} must be a number >= ${min}, got '${value}'`);
    }
    return parsed;
  };
  return {
    partition: section.PARTITION ?? SLURM_DEFAULTS.partition,
    time: section.TIME ?? SLURM_DEFAULTS.time,
    cpus: number("CPUS_PER_TASK", SLURM_DEFAULTS.cpus, 1),
    gpus: number("GPUS_PER_TASK", SLURM_DEFAULTS.gpus, 0),
    extra: (section.EXTRA_SBATCH ?? "").split(";").map((s) => s.trim()).filter((s) => s !== ""),
    sharedPath: section.SHARED_PATH ? resolvePath(section.SHARED_PATH) : "",
    pollSeconds: number("POLL_SECONDS", SLURM_DEFAULTS.pollSeconds, 0.1),
    resubmits: number("RESUBMITS", SLURM_DEFAULTS.resubmits, 0),
  };
}

/**
 * The job runner of an executor for a sweep or search named `name` with results in
 * `resultsDir` (the Slurm executor keeps its files in `<SHARED_PATH>/<name>` or
 * `<resultsDir>/slurm`).
 *
 * @example
 * ```ts
 * import type { PoolJob } from "./pool.ts";
 * declare const jobs: PoolJob[];
 * const run = executorFor("local", { name: "tiny", resultsDir: "/tmp/tiny" });
 * const outcomes = await run(jobs, { concurrency: 2 });
 * ```
 */
export function executorFor(
  executor: ExecutorName,
  where: { name: string; resultsDir: string; slurm?: SlurmSettings },
): RunJobs {
  if (executor === "local") return runPool;
  if (executor !== "slurm") {
    throw new Error(`unknown executor '${executor}': use ${EXECUTORS.join(" or ")}`);
  }
  const { settings, stateDir } = slurmPlace(where);
  return (jobs, options) =>
    runSlurmArray(jobs, { ...options, name: where.name, stateDir, settings });
}

function slurmPlace(where: { name: string; resultsDir: string; slurm?: SlurmSettings }) {
  const settings = where.slurm ?? readSlurmSettings();
  const stateDir = settings.sharedPath
    ? join(settings.sharedPath, where.name)
    : join(where.resultsDir, "slurm");
  return { settings, stateDir };
}

/**
 * The one-job launcher of an executor (what a search runs each trial with); local workers share
 * the cores among `concurrency` of them.
 *
 * @example
 * ```ts
 * const launch = launcherFor("slurm", { name: "lr", resultsDir: "results/ho/lr", concurrency: 2 });
 * ```
 */
export function launcherFor(
  executor: ExecutorName,
  where: { name: string; resultsDir: string; concurrency: number; slurm?: SlurmSettings },
): LaunchJob {
  if (executor === "local") {
    return (job, options) => runWorker(job, options, workerBlasThreads(where.concurrency));
  }
  if (executor !== "slurm") {
    throw new Error(`unknown executor '${executor}': use ${EXECUTORS.join(" or ")}`);
  }
  const { settings, stateDir } = slurmPlace(where);
  return slurmJobLauncher({ name: where.name, stateDir, settings });
}
