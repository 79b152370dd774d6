/**
 * What a sweep runs: a runner turns flag values into a validated configuration, names its run
 * directory, tells finished runs apart, and (inside a worker subprocess) trains and evaluates
 * one run. Runners come from a {@link RunnerRegistry} built above this layer (memdil's: `simple`,
 * the MLP experiment of `deno task train`, and `large`), which is how the tests plug in theirs.
 *
 * @module
 */
import type { Flags } from "./grid.ts";

/**
 * A configuration as a runner holds it: a plain JSON-able object; `seed` is what the summary
 * averages over, `data_dir` (when present) is made readable to the worker.
 */
export interface RunConfig {
  seed: number;
  data_dir?: string;
}

/** What a worker reports while a run trains. */
export interface EpochProgress {
  /** Epochs finished so far. */
  epoch: number;
  /** Epochs in total. */
  epochs: number;
  /** A few numbers worth showing (loss, accuracies). */
  values?: Record<string, number | null>;
}

/** Given to {@link SweepRunner.run} inside a worker. */
export interface RunContext {
  /** Directory holding the run directories. */
  basePath: string;
  /** Report the end of an epoch (shown by the sweep's progress display). */
  onEpoch(progress: EpochProgress): void;
  /** Diagnostic lines; they go to the run's log file. */
  log(line: string): void;
}

/**
 * One kind of run a sweep can hold.
 *
 * @example
 * ```ts
 * const runner: SweepRunner = {
 *   name: "echo",
 *   configure: (flags) => ({ seed: 0, ...flags }),
 *   uid: (config) => `echo_s${config.seed}`,
 *   isFinished: (dir) => { try { Deno.statSync(`${dir}/done`); return true; } catch { return false; } },
 *   readResult: (dir) => JSON.parse(Deno.readTextFileSync(`${dir}/done`)),
 *   run: async (config, context) => {
 *     const dir = `${context.basePath}/echo_s${config.seed}`;
 *     await Deno.mkdir(dir, { recursive: true });
 *     await Deno.writeTextFile(`${dir}/done`, JSON.stringify(config));
 *   },
 * };
 * ```
 */
export interface SweepRunner<C extends RunConfig = RunConfig> {
  /** Short name shown in progress and tables. */
  name: string;
  /** Validate flag values (as the command line would) and complete them with the defaults. */
  configure(flags: Flags): C;
  /** Name of the run's directory under the base path. */
  uid(config: C): string;
  /** Whether the run directory holds a finished run (reused, not trained again). */
  isFinished(dir: string): boolean;
  /** The finished run's summary row: configuration columns and final metrics. */
  readResult(dir: string): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Train and evaluate one run, writing its directory (called in a worker subprocess). */
  run(config: C, context: RunContext): Promise<void>;
  /** A one-line label of a configuration for progress displays (default: the uid). */
  label?(config: C): string;
  /**
   * How the finished run in `dir` differs from `config` in what it computes (a reused run must
   * not differ), as readable phrases; default: no check.
   */
  differences?(dir: string, config: C): string[];
}

/**
 * The runners a sweep or search may name, and the worker entry that holds the very same
 * runners: code, never data. Sweep and search files name a runner by its key here (no paths, no
 * URLs, nothing imported because a file says so); the registry is built above the sweep
 * machinery (memdil's own is `RUNNERS` in lib/experiment/runners) and passed down.
 *
 * @example
 * ```ts
 * declare const echoRunner: SweepRunner;
 * const registry: RunnerRegistry = {
 *   runners: { echo: echoRunner },
 *   worker: "/repo/lib/experiment/runners/worker.ts", // calls workerMain(registry.runners)
 * };
 * ```
 */
export interface RunnerRegistry {
  /** The runners by name. */
  runners: Readonly<Record<string, SweepRunner>>;
  /** Absolute path of the worker entry module, which runs `workerMain` with these runners. */
  worker: string;
}

/** A runner name that is not in the registry. */
export class UnknownRunnerError extends Error {
  override name = "UnknownRunnerError";
}

/**
 * The runner of `name` in `registry`, or {@link UnknownRunnerError} naming the known ones.
 *
 * @example
 * ```ts
 * declare const RUNNERS: RunnerRegistry;
 * const runner = runnerNamed(RUNNERS, "simple");
 * console.log(runner.uid(runner.configure({ loss: "LS" })));
 * ```
 */
export function runnerNamed(registry: RunnerRegistry, name: unknown): SweepRunner {
  if (typeof name === "string" && Object.hasOwn(registry.runners, name)) {
    return registry.runners[name];
  }
  throw new UnknownRunnerError(
    `unknown runner ${JSON.stringify(name)}: use one of ${
      Object.keys(registry.runners).join(", ")
    } (runners are named, never given as paths or URLs)`,
  );
}
