/**
 * Hyperparameter search: trials drawn by random search or by the TPE optimizer, each one run of
 * a sweep runner (`simple` or `large`) in a worker subprocess with a validation split, at most
 * `concurrency` at once; every epoch's validation accuracy goes to the early-stopping rule
 * (ASHA), which kills trials that fall behind. The trial table on disk makes a search resumable
 * after a kill. The best completed trial is retrained on the whole training set (no validation
 * split) and tested, as the reference does.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { Random } from "../data/random.ts";
import {
  bestSoFarSpec,
  paramsVsObjectiveSpec,
  saveFigure,
  validationCurvesSpec,
} from "../figures/mod.ts";
import { affectsResults, type SettingName, SETTINGS } from "../config/schema.ts";
import { readIniConfig } from "../config/ini.ts";
import { rowsToFrame, writeJsonAtomic, writeParquetAtomic } from "../results/mod.ts";
import type { Flags } from "../sweep/grid.ts";
import type { LaunchJob } from "../sweep/executor_slurm.ts";
import { launcherFor } from "../sweep/executor.ts";
import type { PoolJob } from "../sweep/pool.ts";
import {
  type RunConfig,
  runnerNamed,
  type RunnerRegistry,
  type SweepRunner,
} from "../sweep/runner.ts";
import { RUNNERS } from "../experiment/runners/mod.ts";
import { exists, isRunDirectory, lockRun } from "../runs/mod.ts";
import { Asha } from "./asha.ts";
import { checkSpace, type Params, referenceSpace, sampleSpace, type SearchSpace } from "./space.ts";
import { proposeTpe } from "./tpe.ts";
import {
  isSettled,
  readTrialTable,
  type TrialRecord,
  trialRows,
  type TrialTable,
  writeTrialTable,
} from "./trials.ts";

/** The optimizers, named as the reference's `--ho` flag names them. */
export const SEARCH_ALGORITHMS = ["random_search", "bayes_opt"] as const;
export type SearchAlgorithm = typeof SEARCH_ALGORITHMS[number];

/** A search: what to vary, how, and where the results go. */
export interface Search {
  name: string;
  /** A runner's name in the registry: `simple` (default) or `large`. */
  runner?: string;
  /** Training flags shared by every trial (names as on the command line, without `--`). */
  base: Flags;
  /** What to vary (default: the reference's space for the base loss). */
  space?: SearchSpace;
  algorithm: SearchAlgorithm;
  /** Number of trials (the reference's `--num_ho_runs`, default 20). */
  trials: number;
  /** Seed of the proposals (default: the base configuration's seed). */
  seed?: number;
  /** Validation share of each trial's training set (default 0.2, the reference's). */
  valSplit?: number;
  /** Early stopping; false for none. Default: grace 1 epoch, factor 2. */
  asha?: { grace: number; factor: number } | false;
  /** Directory of the trial table, trial runs, figures and the retrained best run. */
  resultsDir: string;
  /** Most trials at once (default config.ini [RESOURCES] MAXIMUM_CONCURRENT_JOBS). */
  concurrency?: number;
  /** Retrain and test the best configuration (default true). */
  retrain?: boolean;
}

/** Options of {@link runSearch}. */
export interface RunSearchOptions {
  /** Resume an existing trial table (the reference's `--continue_ho`); without it, an existing
   * table is an error. */
  resume?: boolean;
  /** How jobs run (default: a local worker subprocess each; see `launcherFor`). */
  launch?: LaunchJob;
  /** Status lines (default console.log). */
  log?: (line: string) => void;
  /** Abort: running trials are killed and stay to be rerun on resume. */
  signal?: AbortSignal;
  /** The runners a search may name and their worker entry (default: memdil's `RUNNERS`). */
  registry?: RunnerRegistry;
}

/** The retrained best configuration. */
export interface BestResult {
  trial: number;
  params: Params;
  objective: number;
  /** The retrained run's summary row (test accuracy and the other final metrics). */
  result: Record<string, unknown>;
  dir: string;
}

/** What {@link runSearch} returns. */
export interface SearchResult {
  trials: TrialRecord[];
  best?: BestResult;
  /** Paths of the written files. */
  files: { table: string; parquet: string; best: string };
}

/**
 * Write a search's figures (`best_so_far`, `params_vs_objective`, `validation_curves`; each as
 * Vega-Lite JSON, SVG and PNG) into `dir`.
 *
 * @example
 * ```ts
 * import type { TrialTable } from "./trials.ts";
 * import { referenceSpace } from "./space.ts";
 * declare const table: TrialTable;
 * await saveSearchFigures("results/ho/lr/figures", table.trials, referenceSpace("LS"));
 * ```
 */
export async function saveSearchFigures(
  dir: string,
  trials: TrialRecord[],
  space: SearchSpace,
): Promise<void> {
  const params = Object.keys(space);
  const logScale = new Set(params.filter((p) => space[p].type === "loguniform"));
  await saveFigure(bestSoFarSpec(trials), join(dir, "best_so_far"));
  await saveFigure(
    paramsVsObjectiveSpec(trials, params, logScale),
    join(dir, "params_vs_objective"),
  );
  await saveFigure(validationCurvesSpec(trials), join(dir, "validation_curves"));
}

/** A search that cannot start; the message names the problem and the fix. */
export class SearchError extends Error {
  override name = "SearchError";
}

const TABLE_FILE = "trials.json";

/** A trial's generator: its own stream, so proposals do not depend on how many came before. */
function trialRandom(seed: number, trial: number): Random {
  return new Random((Math.imul(seed >>> 0, 0x9e3779b1) ^ (trial + 1) * 0x85ebca6b) >>> 0);
}

/**
 * The resolved definition of a search: everything that decides what its trials compute.
 *
 * @example
 * ```ts
 * const { definition } = searchDefinition({ name: "s", base: { loss: "LS" },
 *   algorithm: "random_search", trials: 4, resultsDir: "/tmp/s" });
 * console.log(definition.space); // the reference's LS space
 * ```
 */
export function searchDefinition(search: Search, registry: RunnerRegistry = RUNNERS) {
  const runner = runnerNamed(registry, search.runner ?? "simple");
  const base = runner.configure(search.base) as unknown as Record<string, unknown>;
  if (!(SEARCH_ALGORITHMS as readonly string[]).includes(search.algorithm)) {
    throw new SearchError(
      `unknown search algorithm '${search.algorithm}': use ${SEARCH_ALGORITHMS.join(" or ")}`,
    );
  }
  if (!(Number.isInteger(search.trials) && search.trials >= 1)) {
    throw new SearchError(`the number of trials must be an integer >= 1, got ${search.trials}`);
  }
  const space = checkSpace(search.space ?? referenceSpace(String(base.loss)));
  for (const [flag, dimension] of Object.entries(space)) {
    if (!Object.hasOwn(base, flag) || flag === "seed" || flag === "uid") {
      throw new SearchError(
        `search space dimension '${flag}' is not a flag of the '${runner.name}' runner a ` +
          `search can vary`,
      );
    }
    // Every value a trial can be given is checked now, as the command line would check it, so
    // no trial fails on it later (and a continued search never meets it).
    const values = dimension.type === "choice" ? dimension.values : [dimension.low, dimension.high];
    for (const value of values) {
      try {
        runner.configure({ ...(search.base as Flags), [flag]: value });
      } catch (error) {
        throw new SearchError(
          `search space dimension '${flag}': the value ${value} is not valid: ` +
            `${(error as Error).message}`,
        );
      }
    }
  }
  const valSplit = search.valSplit ?? 0.2;
  if (!(valSplit > 0 && valSplit < 1)) {
    throw new SearchError(`the validation split must be in (0, 1), got ${valSplit}`);
  }
  const epochs = Number(base.epochs);
  const asha: { grace: number; factor: number } | false = search.asha === false
    ? false
    : { grace: 1, factor: 2, ...search.asha };
  if (asha) new Asha({ ...asha, maxEpochs: epochs }); // validates the settings
  return {
    runner,
    definition: {
      name: search.name,
      runner: search.runner ?? "simple",
      algorithm: search.algorithm,
      trials: search.trials,
      seed: search.seed ?? Number(base.seed),
      valSplit,
      asha,
      space,
      base: withoutRunControl(base),
    },
  };
}

/** The settings that change what a trial computes (a search may resume with other run control). */
function withoutRunControl(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).filter(([key]) =>
      !(key in SETTINGS) || affectsResults(key as SettingName)
    ),
  );
}

function differences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
    .map((key) => `${key}: ${JSON.stringify(a[key])} (asked: ${JSON.stringify(b[key])})`);
}

/**
 * Run (or resume) a search. Writes into `resultsDir`: `trials.json` (the trial table, updated as
 * trials progress), `trials/<uid>/` (trial runs), `logs/`, `trials.parquet`, and after the
 * retraining `best/<uid>/` and `best.json`.
 *
 * @example
 * ```ts
 * const result = await runSearch({
 *   name: "lr", base: { epochs: 4, width: 32, depth: 3, loss: "LS", backend: "wasm" },
 *   algorithm: "bayes_opt", trials: 12, resultsDir: "results/ho/lr", concurrency: 2,
 * });
 * console.log(result.best?.params, result.best?.result.test_acc);
 * ```
 */
export async function runSearch(
  search: Search,
  options: RunSearchOptions = {},
): Promise<SearchResult> {
  const registry = options.registry ?? RUNNERS;
  const { runner, definition } = searchDefinition(search, registry);
  const resultsDir = resolve(search.resultsDir);
  // One process per search: a second one (even with --continue_ho) is refused before anything
  // is deleted or rewritten, so trials.json has one writer.
  const lock = lockRun(resultsDir, "search", `search ${search.name} (${resultsDir})`);
  try {
    return await searchLocked(search, options, registry, runner, definition, resultsDir);
  } finally {
    lock.release();
  }
}

async function searchLocked(
  search: Search,
  options: RunSearchOptions,
  registry: RunnerRegistry,
  runner: SweepRunner,
  definition: ReturnType<typeof searchDefinition>["definition"],
  resultsDir: string,
): Promise<SearchResult> {
  const log = options.log ?? console.log;
  const concurrency = search.concurrency ?? readIniConfig().resources.maximumConcurrentJobs;
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new SearchError(`search concurrency must be an integer >= 1, got ${concurrency}`);
  }
  const launch = options.launch ??
    launcherFor("local", { name: search.name, resultsDir, concurrency });
  const tablePath = join(resultsDir, TABLE_FILE);
  const existing = readTrialTable(tablePath);
  if (existing && !options.resume) {
    throw new SearchError(
      `a search already exists in ${resultsDir}: continue it (--continue_ho), or give this one ` +
        `another name or results directory`,
    );
  }
  if (existing) {
    const diff = differences(existing.definition, definition);
    if (diff.length > 0) {
      throw new SearchError(
        `the search in ${resultsDir} was started with other settings (${diff.join("; ")}); ` +
          `continue it with its own settings, or start a new search elsewhere`,
      );
    }
  }
  const table: TrialTable = existing ?? { definition, trials: [] };
  const base = runner.configure(search.base) as unknown as Record<string, unknown>;
  const trialsDir = join(resultsDir, "trials");
  const dataDirs = typeof base.data_dir === "string" ? [base.data_dir] : [];
  const access = { basePath: trialsDir, dataDirs, worker: registry.worker };
  const maxEpochs = Number(base.epochs);
  const asha = definition.asha ? new Asha({ ...definition.asha, maxEpochs }) : undefined;

  // Rebuild the early-stopping state from settled trials, in the order they finished.
  const settled = table.trials.filter(isSettled)
    .sort((a, b) => (a.finished_order ?? 0) - (b.finished_order ?? 0));
  for (const trial of settled) {
    trial.val_curve.forEach((v, e) => v !== null && asha?.report(trial.uid, e + 1, v));
  }
  let finishedCount = settled.length;
  for (const trial of table.trials) {
    if (!isSettled(trial)) {
      Object.assign(trial, {
        status: "pending",
        stop_reason: null,
        val_curve: [],
        objective: null,
        seconds: null,
      });
    }
  }

  let saving = Promise.resolve();
  const save = () => (saving = saving.then(() => writeTrialTable(tablePath, table)));
  await Deno.mkdir(resultsDir, { recursive: true });
  await save();

  const trialConfig = (params: Params, uid: string, valSplit: number) =>
    runner.configure({
      ...(base as Flags),
      ...params,
      val_split_prop: valSplit,
      uid,
    });

  const propose = (trial: number): Params => {
    const rng = trialRandom(definition.seed, trial);
    if (definition.algorithm === "random_search") return sampleSpace(definition.space, rng);
    const observations = table.trials.filter((t) => isSettled(t) && t.objective !== null)
      .map((t) => ({ params: t.params, value: t.objective! }));
    return proposeTpe(definition.space, observations, rng);
  };

  const runTrial = async (index: number) => {
    let trial = table.trials[index];
    if (trial && isSettled(trial)) return;
    if (!trial) {
      const uid = `trial_${String(index).padStart(3, "0")}`;
      trial = {
        trial: index,
        uid,
        params: propose(index),
        status: "pending",
        stop_reason: null,
        val_curve: [],
        objective: null,
        seconds: null,
        finished_order: null,
      };
      table.trials[index] = trial;
    }
    const config = trialConfig(trial.params, trial.uid, definition.valSplit);
    // A trial that is not settled starts from scratch: whatever an interrupted attempt left in
    // its directory (even a finished model whose result was never recorded) would let the runner
    // skip epochs, and their validation reports with them.
    const trialDir = join(trialsDir, trial.uid);
    if (exists(trialDir) && !isRunDirectory(trialDir) && !isEmpty(trialDir)) {
      throw new SearchError(
        `${trialDir} is in a trial's place but is not a memdil run directory: it is never ` +
          `deleted; move it away, then continue the search`,
      );
    }
    await Deno.remove(trialDir, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    trial.status = "running";
    await save();
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    let stopReason: string | undefined;
    const outcome = await launch({
      key: trial.uid,
      job: { runner: definition.runner, config, basePath: trialsDir },
      logPath: join(resultsDir, "logs", `${trial.uid}.log`),
      access,
    }, {
      signal: controller.signal,
      onMessage(_key, message) {
        // Only epoch reports carrying a validation accuracy count (a runner may report more).
        if (message.type !== "epoch" || stopReason) return;
        const value = message.values?.val_acc;
        if (typeof value !== "number") return;
        trial.val_curve[message.epoch - 1] = value;
        trial.objective = value;
        const decision = asha && message.epoch < maxEpochs
          ? asha.report(trial.uid, message.epoch, value)
          : { stop: false as const };
        if (decision.stop) {
          stopReason = decision.reason;
          controller.abort();
        }
        save();
      },
    }).finally(() => options.signal?.removeEventListener("abort", abort));
    trial.seconds = outcome.seconds;
    if (stopReason) {
      Object.assign(trial, { status: "stopped", stop_reason: stopReason });
    } else if (outcome.status === "finished" && trial.val_curve.length === maxEpochs) {
      Object.assign(trial, { status: "completed", stop_reason: `completed ${maxEpochs} epochs` });
    } else if (outcome.status === "finished") {
      Object.assign(trial, {
        status: "failed",
        stop_reason: `finished with ${trial.val_curve.length} of ${maxEpochs} validation ` +
          `reports; the objective needs one per epoch`,
      });
    } else {
      Object.assign(trial, {
        status: options.signal?.aborted ? "pending" : "failed",
        stop_reason: outcome.error ?? "failed",
      });
    }
    if (isSettled(trial)) trial.finished_order = finishedCount++;
    log(
      `${trial.uid} ${trial.status}: ${formatParams(trial.params)} -> val_acc ` +
        `${trial.objective?.toFixed(4) ?? "-"} (${trial.stop_reason})`,
    );
    await save();
  };

  let next = 0;
  const lane = async () => {
    while (next < definition.trials && !options.signal?.aborted) await runTrial(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, definition.trials) }, lane));
  await saving;

  const files = {
    table: tablePath,
    parquet: join(resultsDir, "trials.parquet"),
    best: join(resultsDir, "best.json"),
  };
  await writeParquetAtomic(rowsToFrame(trialRows(table.trials)), files.parquet);
  await saveSearchFigures(join(resultsDir, "figures"), table.trials, definition.space);
  if (options.signal?.aborted) return { trials: table.trials, files };
  const failed = table.trials.filter((t) => t.status === "failed");
  if (failed.length > 0) {
    log(`${failed.length} trial(s) failed; they run again when the search is continued`);
  }

  const bestTrial = bestCompleted(table.trials);
  if (!bestTrial || search.retrain === false) return { trials: table.trials, files };
  const best = await retrainBest(bestTrial, trialConfig, runner, {
    definition,
    resultsDir,
    access: { ...access, basePath: join(resultsDir, "best") },
    launch,
    log,
    signal: options.signal,
  });
  if (best) await writeJsonAtomic(files.best, best);
  return { trials: table.trials, best, files };
}

function isEmpty(dir: string): boolean {
  try {
    return [...Deno.readDirSync(dir)].length === 0;
  } catch {
    return false;
  }
}

/**
 * The completed trial with the highest objective (ties: the earlier trial), if any.
 *
 * @example
 * ```ts
 * import type { TrialTable } from "./trials.ts";
 * declare const table: TrialTable;
 * bestCompleted(table.trials)?.params;
 * ```
 */
export function bestCompleted(trials: TrialRecord[]): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const t of trials) {
    if (t.status !== "completed" || t.objective === null) continue;
    if (!best || t.objective > best.objective!) best = t;
  }
  return best;
}

async function retrainBest(
  trial: TrialRecord,
  trialConfig: (params: Params, uid: string, valSplit: number) => RunConfig,
  runner: SweepRunner,
  context: {
    definition: { runner: string };
    resultsDir: string;
    access: PoolJob["access"];
    launch: LaunchJob;
    log: (line: string) => void;
    signal?: AbortSignal;
  },
): Promise<BestResult | undefined> {
  const uid = `best_${trial.uid}`;
  const dir = join(context.access.basePath, uid);
  const config = trialConfig(trial.params, uid, 0);
  if (!runner.isFinished(dir)) {
    context.log(`retraining ${trial.uid} on the whole training set: ${formatParams(trial.params)}`);
    const outcome = await context.launch({
      key: uid,
      job: {
        runner: context.definition.runner,
        config,
        basePath: context.access.basePath,
      },
      logPath: join(context.resultsDir, "logs", `${uid}.log`),
      access: context.access,
    }, { signal: context.signal });
    if (outcome.status !== "finished") {
      throw new Error(
        `retraining the best configuration failed: ${outcome.error}; log: ${outcome.logPath}`,
      );
    }
  }
  const result = await runner.readResult(dir);
  return { trial: trial.trial, params: trial.params, objective: trial.objective!, result, dir };
}

/**
 * Parameters as a short line, e.g. `lr=0.0123 gamma=0.1`.
 *
 * @example
 * ```ts
 * formatParams({ lr: 0.012345, gamma: 0.1 }); // "lr=0.01235 gamma=0.1"
 * ```
 */
export function formatParams(params: Params): string {
  return Object.entries(params).map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(" ");
}
