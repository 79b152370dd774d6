/**
 * What a sweep runs: a runner turns flag values into a validated configuration, names its run
 * directory, tells finished runs apart, and (inside a worker subprocess) trains and evaluates
 * one run. `simple` is the MLP experiment of `deno task train`; a runner can also be any module
 * whose default export is a {@link SweepRunner} (named by URL), which is how other experiments
 * and the tests plug in.
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
 * Built-in runners, by name: module URLs whose default export is the runner (memdil's two kinds
 * of runs live with the experiments; the sweep machinery only loads them by name).
 */
export const BUILTIN_RUNNERS: Record<string, string> = {
  simple: new URL("../experiment/runners/simple.ts", import.meta.url).href,
  large: new URL("../experiment/runners/large.ts", import.meta.url).href,
};

/**
 * The module URL a runner name stands for: a built-in name, or a module URL / absolute path.
 *
 * @example
 * ```ts
 * runnerModule("simple"); // file:///.../lib/experiment/runners/simple.ts
 * ```
 */
export function runnerModule(runner: string): string {
  if (runner in BUILTIN_RUNNERS) return BUILTIN_RUNNERS[runner];
  if (/^(file|https?):/.test(runner)) return runner;
  if (runner.startsWith("/")) return new URL(`file://${runner}`).href;
  throw new Error(
    `unknown sweep runner '${runner}': use one of ${
      Object.keys(BUILTIN_RUNNERS).join(", ")
    }, or a module URL / absolute path whose default export is a runner`,
  );
}

/**
 * Load a runner by name or module URL.
 *
 * @example
 * ```ts
 * const runner = await loadRunner("simple");
 * console.log(runner.uid(runner.configure({ loss: "LS" })));
 * ```
 */
export async function loadRunner(runner: string): Promise<SweepRunner> {
  const module = await import(runnerModule(runner));
  const loaded = module.default as SweepRunner | undefined;
  if (!loaded || typeof loaded.run !== "function" || typeof loaded.configure !== "function") {
    throw new Error(`sweep runner module ${runner} has no default export with run and configure`);
  }
  return loaded;
}
