/**
 * `deno task search [search options] [training flags]`: a hyperparameter search over training
 * runs. Search options: `--ho random_search|bayes_opt` (default random_search), `--num_ho_runs N`
 * (trials, default 20), `--continue_ho` (resume the search in the results directory),
 * `--space FILE` (JSON search space; default the reference's), `--large` (trials are
 * `train-large` runs), `--name NAME`, `--results_dir DIR` (default config.ini HO_EXP_PATH, or
 * HO_EXP_LN_PATH with label noise, plus the name), `--concurrency N`, `--executor local|slurm`,
 * `--asha_grace N`, `--asha_factor F`, `--no_asha`, `--no_retrain`. Every other flag is a
 * training flag (`deno task train`'s, or `train-large`'s with `--large`), shared by all trials.
 *
 * Exit codes: 0 done, 1 failure (a trial failed: continue with --continue_ho), 2 usage error,
 * 130 interrupted (continue with --continue_ho).
 *
 * @module
 */
import { join } from "node:path";
import { readIniConfig, resolvePath } from "../lib/config/ini.ts";
import { parseTrainArgs, parseTrainLargeArgs, UsageError } from "../lib/config/flags.ts";
import { rowsToFrame } from "../lib/results/mod.ts";
import {
  checkSpace,
  formatParams,
  runSearch,
  SEARCH_ALGORITHMS,
  type SearchAlgorithm,
  SearchError,
  SearchSpaceError,
  trialRows,
} from "../lib/search/mod.ts";
import { type ExecutorName, EXECUTORS, launcherFor } from "../lib/sweep/mod.ts";
import { runCli } from "./common.ts";

/** Search options: name -> whether it takes a value. */
const OPTIONS: Record<string, boolean> = {
  "--ho": true,
  "--num_ho_runs": true,
  "--continue_ho": false,
  "--space": true,
  "--large": false,
  "--name": true,
  "--results_dir": true,
  "--concurrency": true,
  "--executor": true,
  "--asha_grace": true,
  "--asha_factor": true,
  "--no_asha": false,
  "--no_retrain": false,
};

const HELP = `Usage: deno task search [search options] [training flags]

Hyperparameter search over training runs (each trial with a 20% validation split, objective:
validation accuracy), then the best configuration retrained on the whole training set and tested.

Search options:
  --ho <name>          random_search (default) or bayes_opt (TPE)
  --num_ho_runs <n>    number of trials (default 20)
  --continue_ho        resume the search in the results directory (finished trials are kept)
  --space <file>       JSON search space (default: lr log-uniform [1e-5, 0.5], gamma in
                       {0.01, 0.1, 0.5}, and ls_alpha / lr_alpha uniform [0.01, 0.25] for LS / LR)
  --large              trials are train-large runs (ResNet/VGG on full datasets)
  --name <name>        search name (default: <ho>_<loss>_<dataset>)
  --results_dir <dir>  where it goes (default: config.ini HO_EXP_PATH or HO_EXP_LN_PATH / name)
  --concurrency <n>    most trials at once (default: config.ini MAXIMUM_CONCURRENT_JOBS)
  --executor <name>    local (default) or slurm (config.ini [SLURM])
  --asha_grace <n>     epochs before a trial can be stopped early (default 1)
  --asha_factor <f>    keep the best 1/f at each rung (default 2)
  --no_asha            no early stopping
  --no_retrain         do not retrain the best configuration
Training flags: those of deno task train (or train-large with --large), shared by every trial.`;

function splitArgs(args: string[]) {
  const search: Record<string, string | true> = {};
  const training: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i].split(/=(.*)/s, 2);
    if (!(name in OPTIONS)) {
      training.push(args[i]);
      continue;
    }
    if (!OPTIONS[name]) {
      search[name] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value (see --help)`);
    search[name] = value;
  }
  return { search, training };
}

function positive(name: string, value: string | true | undefined, integer: boolean, min: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isFinite(n) && n >= min && (!integer || Number.isInteger(n)))) {
    throw new UsageError(`${name}: expected ${integer ? "an integer" : "a number"} >= ${min}`);
  }
  return n;
}

if (import.meta.main) {
  await runCli(async (args) => {
    if (args.includes("--help") || args.includes("-h")) {
      console.log(HELP);
      return;
    }
    const { search: o, training } = splitArgs(args);
    const large = o["--large"] === true;
    const base = large ? parseTrainLargeArgs(training) : parseTrainArgs(training);
    const algorithm = String(o["--ho"] ?? "random_search");
    if (!(SEARCH_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new UsageError(`--ho: expected ${SEARCH_ALGORITHMS.join(" or ")}, got '${algorithm}'`);
    }
    const executor = String(o["--executor"] ?? "local");
    if (!(EXECUTORS as readonly string[]).includes(executor)) {
      throw new UsageError(`--executor: expected ${EXECUTORS.join(" or ")}, got '${executor}'`);
    }
    let space;
    if (o["--space"] !== undefined) {
      const path = String(o["--space"]);
      try {
        space = checkSpace(JSON.parse(Deno.readTextFileSync(path)));
      } catch (error) {
        throw new UsageError(`--space ${path}: ${(error as Error).message}`);
      }
    }
    const name = String(o["--name"] ?? `${algorithm}_${base.loss}_${base.dataset}`);
    const ini = readIniConfig();
    const noisy = Array.isArray(base.label_noise)
      ? base.label_noise.some((r) => r > 0)
      : base.label_noise > 0;
    const resultsDir = o["--results_dir"] !== undefined
      ? resolvePath(String(o["--results_dir"]))
      : join(noisy ? ini.paths.hoExpLnPath : ini.paths.hoExpPath, name);
    const controller = new AbortController();
    const stop = () => {
      console.error("\nsearch: stopping; continue it with --continue_ho");
      controller.abort();
    };
    Deno.addSignalListener("SIGINT", stop);
    const concurrency = positive("--concurrency", o["--concurrency"], true, 1) ??
      ini.resources.maximumConcurrentJobs;
    let result;
    try {
      result = await runSearch({
        name,
        runner: large ? "large" : "simple",
        base: { ...base },
        space,
        algorithm: algorithm as SearchAlgorithm,
        trials: positive("--num_ho_runs", o["--num_ho_runs"], true, 1) ?? 20,
        resultsDir,
        concurrency,
        asha: o["--no_asha"] ? false : {
          grace: positive("--asha_grace", o["--asha_grace"], true, 1) ?? 1,
          factor: positive("--asha_factor", o["--asha_factor"], false, 2) ?? 2,
        },
        retrain: !o["--no_retrain"],
      }, {
        resume: o["--continue_ho"] === true,
        signal: controller.signal,
        launch: launcherFor(executor as ExecutorName, { name, resultsDir, concurrency }),
        log: (line) => console.error(line),
      });
    } catch (error) {
      if (error instanceof SearchError || error instanceof SearchSpaceError) {
        throw new UsageError(error.message);
      }
      throw error;
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
    }
    const rows = trialRows(result.trials).map(({ val_curve: _, ...row }) => row);
    console.log(rowsToFrame(rows).toString());
    console.log(`trials: ${result.files.parquet} (table ${result.files.table})`);
    if (controller.signal.aborted) Deno.exit(130);
    if (result.best) {
      console.log(
        `best: trial ${result.best.trial} (${formatParams(result.best.params)}), validation ` +
          `accuracy ${result.best.objective.toFixed(4)}; retrained on the whole training set: ` +
          `test accuracy ${Number(result.best.result.test_acc).toFixed(4)} (${result.best.dir})`,
      );
    }
    const failed = result.trials.filter((t) => t.status === "failed").length;
    if (failed > 0) throw new Error(`${failed} trial(s) failed; continue with --continue_ho`);
  });
}
