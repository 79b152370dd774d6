/**
 * Bounded parallelism for sweeps: each run is one `deno run` of the worker entry, with only the
 * permissions a run needs, at most `concurrency` at a time. A run that fails (error, crash,
 * killed) is reported with the tail of its log; the others go on.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { defaultIniPath, realPathAhead, REPO_ROOT } from "../config/ini.ts";
import { DATA_HOSTS } from "../config/permissions.ts";
import { openBlasPath } from "../backend/blas/openblas.ts";
import { defaultCacheDir } from "../data/cache.ts";
import { decodeMessage, type WorkerJob, type WorkerMessage } from "./worker_main.ts";

export { DATA_HOSTS };

/** Where Debian's dataset packages put their files (read by the data loaders). */
const SYSTEM_DATASETS = "/usr/share/datasets";

/**
 * The directory of Deno's npm cache that holds this project's packages (their wasm files and
 * native addons are read and loaded at run time), or undefined when packages live in the
 * repository (a `node_modules` directory, already readable).
 *
 * @example
 * ```ts
 * npmCacheDir(); // e.g. "/root/.cache/deno/npm"
 * ```
 */
export function npmCacheDir(): string | undefined {
  const resolved = import.meta.resolve("commander");
  if (!resolved.startsWith("file:")) return undefined;
  const path = fromFileUrl(resolved);
  const at = path.indexOf("/registry.npmjs.org/");
  return at > 0 ? path.slice(0, at) : undefined;
}

/** Paths and hosts a worker may touch. */
export interface WorkerAccess {
  /** Directory holding the run directories (read and written). */
  basePath: string;
  /** Dataset roots (read; written when a dataset is downloaded there). */
  dataDirs: string[];
  /** Further readable paths (e.g. the run directories of other sweeps of one Slurm array). */
  extraRead?: string[];
  /** The worker entry module to run (a runner registry's `worker`). */
  worker: string;
}

/**
 * `deno run` arguments for one worker: read the repository, config.ini, the npm cache, the data
 * and the run directories; write only the run directories, the data directories and the dataset cache; load
 * native code only from the npm cache and OpenBLAS's directory; reach only the dataset mirrors;
 * no subprocesses.
 *
 * @example
 * ```ts
 * import type { RunnerRegistry } from "./runner.ts";
 * declare const RUNNERS: RunnerRegistry;
 * const args = workerArgs({ basePath: "/tmp/runs", dataDirs: ["/root/data"], worker: RUNNERS.worker });
 * // ["run", "--no-prompt", "--allow-read=...", ..., ".../lib/experiment/runners/worker.ts"]
 * ```
 */
export function workerArgs(access: WorkerAccess): string[] {
  const npm = npmCacheDir();
  const blasDir = dirname(openBlasPath());
  const read = [
    REPO_ROOT,
    // The config.ini memdil reads: MEMDIL_CONFIG may name one outside the repository.
    defaultIniPath(),
    access.basePath,
    ...access.dataDirs,
    SYSTEM_DATASETS,
    ...(npm ? [npm] : []),
    blasDir,
    ...(access.extraRead ?? []),
  ];
  // Workers share the dataset cache: the first builds it (one writer, under its lock file).
  const write = [access.basePath, ...access.dataDirs, defaultCacheDir()];
  return [
    "run",
    "--no-prompt",
    `--config=${join(REPO_ROOT, "deno.json")}`,
    `--allow-read=${withRealPaths(read).join(",")}`,
    `--allow-write=${withRealPaths(write).join(",")}`,
    // tfjs and polars probe environment variables and system facts (CPU count, OS release).
    "--allow-env",
    "--allow-sys",
    `--allow-ffi=${unique([npm ?? REPO_ROOT, blasDir]).join(",")}`,
    `--allow-net=${DATA_HOSTS.join(",")}`,
    access.worker,
  ];
}

function unique(paths: string[]): string[] {
  return [...new Set(paths.filter((p) => p !== ""))];
}

/**
 * Each path, and where it really is when a symlink leads there (a results directory that is a
 * symlink must not lock the workers out of their own runs).
 */
function withRealPaths(paths: string[]): string[] {
  return unique(paths.flatMap((path) => [path, realPathAhead(path)]));
}

/** One run for the pool. */
export interface PoolJob {
  /** Unique key (the run uid). */
  key: string;
  /** What the worker runs. */
  job: WorkerJob;
  /** The worker's stdout and stderr go here (overwritten). */
  logPath: string;
  /** Permissions of the worker. */
  access: WorkerAccess;
}

/** How a pool job ended. */
export interface PoolOutcome {
  key: string;
  status: "finished" | "failed";
  /** Wall-clock seconds of the worker. */
  seconds: number;
  /** Why it failed: the worker's error message, or its exit status. */
  error?: string;
  /** Last lines of its log, for failure reports. */
  logTail?: string[];
  logPath: string;
}

/** Options of {@link runPool}. */
export interface PoolOptions {
  /** Most workers alive at once (at least 1). */
  concurrency: number;
  /** Every protocol message of a worker. */
  onMessage?: (key: string, message: WorkerMessage) => void;
  /** Called when a job starts (worker spawned) and when it ends. */
  onStart?: (key: string) => void;
  onEnd?: (outcome: PoolOutcome) => void;
  /** Abort: running workers are killed (their runs stay unfinished), queued ones never start. */
  signal?: AbortSignal;
}

const LOG_TAIL_LINES = 20;

/**
 * BLAS threads for each of `concurrency` workers: `MEMDIL_BLAS_THREADS` when set, else the
 * machine's cores shared out, so workers times threads never exceeds the cores (at least 1).
 *
 * @example
 * ```ts
 * workerBlasThreads(2); // 1 on a 2-core machine
 * ```
 */
export function workerBlasThreads(concurrency: number): number {
  const chosen = Number(Deno.env.get("MEMDIL_BLAS_THREADS"));
  if (Number.isInteger(chosen) && chosen >= 1) return chosen;
  return Math.max(1, Math.floor((navigator.hardwareConcurrency || 1) / concurrency));
}

/**
 * Run every job in a worker subprocess, at most `concurrency` at once, in order. Resolves when
 * all have ended, with one outcome per started job; it never rejects for a failing run.
 *
 * @example
 * ```ts
 * declare const jobs: PoolJob[];
 * const outcomes = await runPool(jobs, { concurrency: 2 });
 * console.log(outcomes.filter((o) => o.status === "failed").length, "failed");
 * ```
 */
export async function runPool(jobs: PoolJob[], options: PoolOptions): Promise<PoolOutcome[]> {
  if (!(Number.isInteger(options.concurrency) && options.concurrency >= 1)) {
    throw new Error(
      `sweep concurrency must be an integer >= 1, got ${options.concurrency}: set ` +
        `config.ini [RESOURCES] MAXIMUM_CONCURRENT_JOBS (or the sweep's concurrency)`,
    );
  }
  const outcomes: PoolOutcome[] = [];
  let next = 0;
  const lane = async () => {
    while (next < jobs.length && !options.signal?.aborted) {
      const job = jobs[next++];
      options.onStart?.(job.key);
      const outcome = await runWorker(job, options, workerBlasThreads(options.concurrency));
      outcomes.push(outcome);
      options.onEnd?.(outcome);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, jobs.length) }, () => lane()),
  );
  return outcomes;
}

/**
 * Run one job in a worker subprocess (what {@link runPool} does for each job); `signal` kills it.
 * `blasThreads`: the worker's BLAS threads (default: the cores of one worker alone).
 *
 * @example
 * ```ts
 * declare const job: PoolJob;
 * const outcome = await runWorker(job, { onMessage: (key, message) => console.log(message) });
 * ```
 */
export async function runWorker(
  job: PoolJob,
  options: Pick<PoolOptions, "onMessage" | "signal">,
  blasThreads: number = workerBlasThreads(1),
): Promise<PoolOutcome> {
  const started = performance.now();
  await Deno.mkdir(dirname(job.logPath), { recursive: true });
  const logFile = await Deno.open(job.logPath, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const tail: string[] = [];
  let error: string | undefined;
  let done = false;
  const logLine = (line: string) => {
    logFile.writeSync(encoder.encode(line + "\n"));
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
  };
  const child = new Deno.Command(denoExecutable(), {
    args: workerArgs(job.access),
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", MEMDIL_BLAS_THREADS: String(blasThreads) },
  }).spawn();
  const kill = () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  };
  options.signal?.addEventListener("abort", kill, { once: true });
  try {
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode(JSON.stringify(job.job)));
    await writer.close();
    const readStdout = (async () => {
      for await (const line of lines(child.stdout)) {
        const message = decodeMessage(line);
        if (!message) {
          logLine(line);
          continue;
        }
        if (message.type === "error") {
          error = message.message;
          logLine(message.stack ?? message.message);
        }
        if (message.type === "done") done = true;
        options.onMessage?.(job.key, message);
      }
    })();
    const readStderr = (async () => {
      for await (const line of lines(child.stderr)) logLine(line);
    })();
    const [status] = await Promise.all([child.status, readStdout, readStderr]);
    const seconds = (performance.now() - started) / 1000;
    if (status.success && done) {
      return { key: job.key, status: "finished", seconds, logPath: job.logPath };
    }
    const reason = error ??
      (status.signal
        ? `worker killed by ${status.signal}`
        : `worker exited with status ${status.code} before finishing`);
    return {
      key: job.key,
      status: "failed",
      seconds,
      error: reason,
      logTail: [...tail],
      logPath: job.logPath,
    };
  } finally {
    options.signal?.removeEventListener("abort", kill);
    logFile.close();
  }
}

/**
 * The Deno executable to start workers with: this process's own binary when it may run it, else
 * `deno` from PATH (`--allow-run=deno` grants the PATH entry, which may be a symlink).
 *
 * @example
 * ```ts
 * denoExecutable(); // e.g. "/usr/local/bin/deno"
 * ```
 */
export function denoExecutable(): string {
  const own = Deno.execPath();
  return Deno.permissions.querySync({ name: "run", command: own }).state === "granted"
    ? own
    : "deno";
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, at).replace(/\r$/, "");
      buffer = buffer.slice(at + 1);
    }
  }
  if (buffer !== "") yield buffer;
}
