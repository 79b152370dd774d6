/**
 * The `slurm` executor: runs a sweep's jobs as one Slurm job array (`sbatch --array=0-N%M`),
 * each array task one worker (the same entry and permissions as a local worker) whose protocol
 * output goes to a file next to its job description. Nothing depends on the submitting process:
 * it polls `squeue` and reads those files, and when it dies a new call attaches to the array it
 * left (from the submission manifests) instead of submitting again. Tasks that failed or were
 * lost (killed, cancelled, node failure: no result written) are resubmitted, and only those.
 * No accounting database is needed.
 *
 * Layout under the state directory: `submissions/<n>.json` (manifest: job id, keys, collected),
 * `submissions/<n>/<index>.json` (the job of array index `index`), `<index>.out` (its protocol
 * lines), `<index>.slurm.log` (Slurm's own output for the task), `<n>.sh` (the batch script).
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { REPO_ROOT } from "../config/ini.ts";
import { writeJsonAtomic } from "../results/mod.ts";
import type { PoolJob, PoolOptions, PoolOutcome } from "./pool.ts";
import { denoExecutable, workerArgs } from "./pool.ts";
import { decodeMessage, type WorkerMessage } from "./worker_main.ts";

/** Slurm settings (config.ini [SLURM]). */
export interface SlurmSettings {
  /** Partition (`--partition`); empty: the cluster's default. */
  partition: string;
  /** Time limit per task (`--time`, e.g. `02:00:00`); empty: the partition's. */
  time: string;
  /** CPUs per task (`--cpus-per-task`). */
  cpus: number;
  /** GPUs per task (`--gpus-per-task`; 0: none asked). */
  gpus: number;
  /** Further `#SBATCH` options, one per entry (e.g. `--mem=8G`, `--account=lab`). */
  extra: string[];
  /** Directory all nodes see for the executor's files (empty: `<results dir>/slurm`). */
  sharedPath: string;
  /** Seconds between two looks at the queue. */
  pollSeconds: number;
  /** How many times failed or lost tasks are resubmitted in one call. */
  resubmits: number;
  /** Environment for the Slurm commands (e.g. SLURM_CONF). */
  env?: Record<string, string>;
}

/** One submission's manifest. */
interface Manifest {
  jobId: string;
  /** Run key of each array index. */
  keys: string[];
  /** Log path of each array index (the run's log). */
  logs: string[];
  submittedAt: string;
  /** Whether a driver collected its results (false: it may still be running, or its driver died). */
  collected: boolean;
}

async function slurmCommand(
  command: string,
  args: string[],
  settings: SlurmSettings,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  let result;
  try {
    result = await new Deno.Command(command, {
      args,
      env: settings.env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(
      `cannot run ${command} (${(error as Error).message}): the slurm executor needs the Slurm ` +
        `client commands on PATH (Debian: apt-get install slurm-client) and --allow-run`,
    );
  }
  const decoder = new TextDecoder();
  return {
    ok: result.success,
    stdout: decoder.decode(result.stdout).trim(),
    stderr: decoder.decode(result.stderr).trim(),
  };
}

/**
 * The batch script of a submission: `#SBATCH` lines from the settings, then one worker whose
 * job is read from the array index's file and whose protocol lines go to its `.out` file.
 *
 * @example
 * ```ts
 * declare const settings: SlurmSettings;
 * const script = batchScript({ name: "s", dir: "/shared/s/submissions/0", tasks: 4,
 *   concurrency: 2, args: ["run", "worker.ts"], settings });
 * ```
 */
export function batchScript(options: {
  name: string;
  dir: string;
  tasks: number;
  concurrency: number;
  args: string[];
  settings: SlurmSettings;
  deno?: string;
}): string {
  const { settings, dir } = options;
  const sbatch = [
    `--job-name=memdil-${options.name}`,
    `--array=0-${options.tasks - 1}%${options.concurrency}`,
    `--output=${dir}/%a.slurm.log`,
    `--cpus-per-task=${settings.cpus}`,
    ...(settings.partition ? [`--partition=${settings.partition}`] : []),
    ...(settings.time ? [`--time=${settings.time}`] : []),
    ...(settings.gpus > 0 ? [`--gpus-per-task=${settings.gpus}`] : []),
    ...settings.extra,
  ];
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return [
    "#!/bin/bash",
    ...sbatch.map((option) => `#SBATCH ${option}`),
    "set -u",
    `cd ${quote(REPO_ROOT)}`,
    `task=${quote(dir)}/"$SLURM_ARRAY_TASK_ID"`,
    `log="$(cat "$task.log_path")"`,
    // BLAS threads: the CPUs Slurm gave the task.
    `export MEMDIL_BLAS_THREADS="\${SLURM_CPUS_PER_TASK:-${settings.cpus}}"`,
    `exec env NO_COLOR=1 ${quote(options.deno ?? denoExecutable())} ${
      options.args.map(quote).join(" ")
    } < "$task.json" > "$task.out" 2> "$log"`,
    "",
  ].join("\n");
}

/**
 * How one array task ended, from its protocol file: finished, failed, or lost (no result).
 *
 * @example
 * ```ts
 * taskOutcome("/shared/tiny/slurm/submissions/0/1.out"); // { status: "lost" } when never written
 * ```
 */
export function taskOutcome(
  outPath: string,
): { status: "finished" | "failed" | "lost"; error?: string; seconds?: number } {
  let text: string;
  try {
    text = Deno.readTextFileSync(outPath);
  } catch {
    return { status: "lost" };
  }
  const messages = text.split("\n").map(decodeMessage).filter((m) => m !== undefined);
  const done = messages.find((m) => m.type === "done");
  if (done?.type === "done") return { status: "finished", seconds: done.seconds };
  const error = messages.find((m) => m.type === "error");
  if (error?.type === "error") return { status: "failed", error: error.message };
  return { status: "lost" };
}

/** Array tasks of a job still in the queue (pending or running). */
async function queuedTasks(jobId: string, settings: SlurmSettings): Promise<number> {
  const result = await slurmCommand("squeue", ["-h", "-r", "-j", jobId, "-o", "%i %T"], settings);
  if (!result.ok) {
    if (/invalid job id/i.test(result.stderr)) return 0; // long gone from the queue
    throw new Error(`squeue failed for job ${jobId}: ${result.stderr}`);
  }
  return result.stdout === "" ? 0 : result.stdout.split("\n").length;
}

/** Poll until no task of the job is queued; `onPoll` sees each round. */
async function waitForJob(
  jobId: string,
  settings: SlurmSettings,
  signal?: AbortSignal,
  onPoll?: () => void,
): Promise<void> {
  while (!signal?.aborted) {
    onPoll?.();
    if (await queuedTasks(jobId, settings) === 0) return;
    await new Promise((r) => setTimeout(r, settings.pollSeconds * 1000));
  }
}

function readManifests(stateDir: string): { path: string; manifest: Manifest }[] {
  const dir = join(stateDir, "submissions");
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile && /^\d+\.json$/.test(e.name))
    .map((e) => ({ n: Number(e.name.slice(0, -5)), path: join(dir, e.name) }))
    .sort((a, b) => a.n - b.n)
    .map(({ path }) => ({ path, manifest: JSON.parse(Deno.readTextFileSync(path)) as Manifest }));
}

/** Submit jobs as one array; returns the manifest (written before this returns). */
async function submit(
  jobs: PoolJob[],
  stateDir: string,
  name: string,
  concurrency: number,
  settings: SlurmSettings,
): Promise<{ path: string; dir: string; manifest: Manifest }> {
  // Number the submission by creating its directory (atomic, so concurrent submitters differ).
  await Deno.mkdir(join(stateDir, "submissions"), { recursive: true });
  let n = readManifests(stateDir).length;
  let dir = join(stateDir, "submissions", String(n));
  for (;; dir = join(stateDir, "submissions", String(++n))) {
    try {
      await Deno.mkdir(dir);
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  const basePaths = [...new Set(jobs.map((j) => j.access.basePath))];
  const access = {
    basePath: jobs[0].access.basePath,
    dataDirs: [...new Set(jobs.flatMap((j) => j.access.dataDirs))],
    extraRead: [...new Set([...basePaths, ...jobs.flatMap((j) => j.access.extraRead ?? [])])],
    worker: jobs[0].access.worker,
  };
  for (const [index, job] of jobs.entries()) {
    await Deno.mkdir(dirname(job.logPath), { recursive: true });
    await Deno.writeTextFile(join(dir, `${index}.json`), JSON.stringify(job.job));
    await Deno.writeTextFile(join(dir, `${index}.log_path`), job.logPath);
  }
  const script = join(stateDir, "submissions", `${n}.sh`);
  await Deno.writeTextFile(
    script,
    batchScript({
      name,
      dir,
      tasks: jobs.length,
      concurrency,
      args: workerArgs(access),
      settings,
    }),
  );
  const result = await slurmCommand("sbatch", ["--parsable", script], settings);
  if (!result.ok) {
    throw new Error(
      `sbatch refused the array (${result.stderr}); check config.ini [SLURM] (partition, time, ` +
        `extra options); the script is ${script}`,
    );
  }
  const manifest: Manifest = {
    jobId: result.stdout.split(";")[0],
    keys: jobs.map((j) => j.key),
    logs: jobs.map((j) => j.logPath),
    submittedAt: new Date().toISOString(),
    collected: false,
  };
  const path = join(stateDir, "submissions", `${n}.json`);
  await writeJsonAtomic(path, manifest);
  return { path, dir, manifest };
}

/** Options of {@link runSlurmArray}. */
export interface SlurmArrayOptions extends PoolOptions {
  /** Job name (shown by squeue as `memdil-<name>`). */
  name: string;
  /** Where submissions are kept (on storage every node sees). */
  stateDir: string;
  settings: SlurmSettings;
}

/**
 * Run the jobs on Slurm: attach to arrays a dead driver left, submit the rest as one array with
 * at most `concurrency` tasks at once, wait, and resubmit only failed or lost tasks (up to
 * `settings.resubmits` times). Resolves with one outcome per job, like the local pool.
 *
 * @example
 * ```ts
 * import type { PoolJob } from "./pool.ts";
 * declare const jobs: PoolJob[], settings: SlurmSettings;
 * const outcomes = await runSlurmArray(jobs, {
 *   name: "tiny", stateDir: "/shared/tiny/slurm", concurrency: 2, settings,
 * });
 * ```
 */
export async function runSlurmArray(
  jobs: PoolJob[],
  options: SlurmArrayOptions,
): Promise<PoolOutcome[]> {
  const { settings, signal } = options;
  const stateDir = resolve(options.stateDir);
  const byKey = new Map(jobs.map((job) => [job.key, job]));
  const outcomes = new Map<string, PoolOutcome>();
  const errors = new Map<string, string>();
  const started = performance.now();

  // Collect a submission's results for the keys asked for now; mark it collected.
  const collect = async (path: string, dir: string, manifest: Manifest) => {
    manifest.keys.forEach((key, index) => {
      const job = byKey.get(key);
      if (!job || outcomes.has(key)) return;
      const task = taskOutcome(join(dir, `${index}.out`));
      if (task.status === "finished") {
        const outcome: PoolOutcome = {
          key,
          status: "finished",
          seconds: task.seconds ?? (performance.now() - started) / 1000,
          logPath: job.logPath,
        };
        outcomes.set(key, outcome);
        options.onEnd?.(outcome);
      } else {
        errors.set(
          key,
          task.error ??
            `lost: Slurm task ${manifest.jobId}_${index} ended without a result (killed, ` +
              `cancelled, time limit or node failure); see ${join(dir, `${index}.slurm.log`)}`,
        );
      }
    });
    manifest.collected = true;
    await writeJsonAtomic(path, manifest);
  };

  // Arrays a previous driver submitted but never collected: wait for them, then take their results.
  for (const { path, manifest } of readManifests(stateDir)) {
    if (manifest.collected || !manifest.keys.some((key) => byKey.has(key))) continue;
    await waitForJob(manifest.jobId, settings, signal);
    if (signal?.aborted) break;
    await collect(path, path.slice(0, -5), manifest);
  }

  for (let attempt = 0; attempt <= settings.resubmits && !signal?.aborted; attempt++) {
    const pending = jobs.filter((job) => !outcomes.has(job.key));
    if (pending.length === 0) break;
    const submission = await submit(
      pending,
      stateDir,
      options.name,
      options.concurrency,
      settings,
    );
    for (const job of pending) options.onStart?.(job.key);
    const cancel = () =>
      slurmCommand("scancel", [submission.manifest.jobId], settings).catch(() => {});
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      await waitForJob(
        submission.manifest.jobId,
        settings,
        signal,
        () => reportProgress(submission.dir, submission.manifest, options.onMessage),
      );
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
    if (signal?.aborted) break;
    await collect(submission.path, submission.dir, submission.manifest);
  }

  return jobs.map((job) => {
    const done = outcomes.get(job.key);
    if (done) return done;
    const outcome: PoolOutcome = {
      key: job.key,
      status: "failed",
      seconds: (performance.now() - started) / 1000,
      error: signal?.aborted ? "the sweep was stopped" : errors.get(job.key) ?? "not run",
      logPath: job.logPath,
    };
    options.onEnd?.(outcome);
    return outcome;
  });
}

/** Pass each task's new protocol lines on (progress displays; a search's epoch reports). */
const seenLines = new Map<string, number>();
function reportProgress(
  dir: string,
  manifest: Manifest,
  onMessage: ((key: string, message: WorkerMessage) => void) | undefined,
): void {
  if (!onMessage) return;
  manifest.keys.forEach((key, index) => {
    const path = join(dir, `${index}.out`);
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch {
      return;
    }
    // Only whole lines: the last one may still be being written.
    const lines = text.slice(0, text.lastIndexOf("\n") + 1).split("\n").slice(0, -1);
    const seen = seenLines.get(path) ?? 0;
    for (const line of lines.slice(seen)) {
      const message = decodeMessage(line);
      if (message) onMessage(key, message);
    }
    seenLines.set(path, lines.length);
  });
}

/** Runs one job (a search trial) and reports its worker messages while it runs. */
export type LaunchJob = (
  job: PoolJob,
  options: Pick<PoolOptions, "onMessage" | "signal">,
) => Promise<PoolOutcome>;

/**
 * One job at a time on Slurm, for searches: each job is a one-task array; its protocol lines are
 * passed on as they appear (the early-stopping rule reads them) and `signal` cancels it
 * (`scancel`). The first call cancels arrays a dead driver left uncollected, since the search
 * runs their trials again.
 *
 * @example
 * ```ts
 * import type { PoolJob } from "./pool.ts";
 * declare const job: PoolJob, settings: SlurmSettings;
 * const launch = slurmJobLauncher({ name: "lr", stateDir: "/shared/lr/slurm", settings });
 * const outcome = await launch(job, { onMessage: (key, message) => console.log(message) });
 * ```
 */
export function slurmJobLauncher(
  where: { name: string; stateDir: string; settings: SlurmSettings },
): LaunchJob {
  const { settings } = where;
  const stateDir = resolve(where.stateDir);
  let cleaned: Promise<void> | undefined;
  const cancelLeftovers = async () => {
    for (const { path, manifest } of readManifests(stateDir)) {
      if (manifest.collected) continue;
      await slurmCommand("scancel", [manifest.jobId], settings);
      manifest.collected = true;
      await writeJsonAtomic(path, manifest);
    }
  };
  return async (job, { onMessage, signal }) => {
    await (cleaned ??= cancelLeftovers());
    const started = performance.now();
    const { path, dir, manifest } = await submit([job], stateDir, where.name, 1, settings);
    const cancel = () => {
      slurmCommand("scancel", [manifest.jobId], settings).catch(() => {});
    };
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      await waitForJob(
        manifest.jobId,
        settings,
        undefined,
        () => reportProgress(dir, manifest, onMessage),
      );
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
    reportProgress(dir, manifest, onMessage);
    manifest.collected = true;
    await writeJsonAtomic(path, manifest);
    const task = taskOutcome(join(dir, "0.out"));
    const seconds = task.seconds ?? (performance.now() - started) / 1000;
    return task.status === "finished"
      ? { key: job.key, status: "finished", seconds, logPath: job.logPath }
      : {
        key: job.key,
        status: "failed",
        seconds,
        error: task.error ?? `Slurm job ${manifest.jobId} ended without a result`,
        logPath: job.logPath,
      };
  };
}
