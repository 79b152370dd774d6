/**
 * Worker entry of a sweep: runs ONE run in its own process (so on its own backend) and reports
 * to the parent. The job arrives as JSON on stdin ({@link WorkerJob}); messages go to stdout as
 * lines starting with {@link MESSAGE_PREFIX} followed by JSON ({@link WorkerMessage}); anything
 * else on stdout or stderr is the run's log. The parent starts a registry's worker entry (a module
 * calling {@link workerMain} with the registry's runners) with `deno run` and only the
 * permissions a run needs (see `workerArgs` in pool.ts).
 *
 * @module
 */
import { type RunConfig, runnerNamed, type SweepRunner } from "./runner.ts";

/** What the parent asks a worker to do. */
export interface WorkerJob {
  /** Runner name (a key of the worker's registry). */
  runner: string;
  /** The full, validated configuration. */
  config: RunConfig;
  /** Directory holding the run directories. */
  basePath: string;
}

/** A message from a worker to its parent. */
export type WorkerMessage =
  | { type: "start"; pid: number }
  | { type: "epoch"; epoch: number; epochs: number; values?: Record<string, number | null> }
  | { type: "done"; seconds: number }
  | { type: "error"; message: string; stack?: string };

/** Start of every protocol line on a worker's stdout. */
export const MESSAGE_PREFIX = "@@memdil-sweep ";

/**
 * Encode a message as one protocol line (with the newline).
 *
 * @example
 * ```ts
 * encodeMessage({ type: "done", seconds: 1.5 }); // '@@memdil-sweep {"type":"done","seconds":1.5}\n'
 * ```
 */
export function encodeMessage(message: WorkerMessage): string {
  return `${MESSAGE_PREFIX}${JSON.stringify(message)}\n`;
}

/**
 * Decode a stdout line: the message, or undefined for an ordinary log line.
 *
 * @example
 * ```ts
 * decodeMessage('@@memdil-sweep {"type":"start","pid":7}'); // { type: "start", pid: 7 }
 * decodeMessage("epoch 1/2: loss 0.3"); // undefined
 * ```
 */
export function decodeMessage(line: string): WorkerMessage | undefined {
  if (!line.startsWith(MESSAGE_PREFIX)) return undefined;
  try {
    return JSON.parse(line.slice(MESSAGE_PREFIX.length)) as WorkerMessage;
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();
function send(message: WorkerMessage): void {
  Deno.stdout.writeSync(encoder.encode(encodeMessage(message)));
}

/** Exit when the parent is gone (its pid changes): see {@link workerMain}. */
function exitWithParent(): void {
  const parent = Deno.ppid;
  const watch = setInterval(() => {
    if (Deno.ppid !== parent) Deno.exit(1);
  }, 1000);
  Deno.unrefTimer(watch);
}

/**
 * The body of a worker entry: read the job from stdin, run it with the runner of that name in
 * `runners`, report to the parent; resolves to the exit status.
 *
 * @example
 * ```ts
 * import type { RunnerRegistry } from "./runner.ts";
 * declare const RUNNERS: RunnerRegistry;
 * if (import.meta.main) Deno.exit(await workerMain(RUNNERS.runners));
 * ```
 */
export async function workerMain(
  runners: Readonly<Record<string, SweepRunner>>,
): Promise<number> {
  // A worker whose driver died (even by kill -9) stops within a second: its run restarts when the
  // driver runs again, and must not race with that second attempt in the same directory.
  exitWithParent();
  const job = JSON.parse(await new Response(Deno.stdin.readable).text()) as WorkerJob;
  send({ type: "start", pid: Deno.pid });
  const started = performance.now();
  try {
    const runner = runnerNamed({ runners, worker: "" }, job.runner);
    await runner.run(job.config, {
      basePath: job.basePath,
      onEpoch: (progress) => send({ type: "epoch", ...progress }),
      log: (line) => console.error(line),
    });
    send({ type: "done", seconds: (performance.now() - started) / 1000 });
    return 0;
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    send({ type: "error", message: err.message, stack: err.stack });
    return 1;
  }
}
