/**
 * `deno task reproduce [--profile quick|paper] [--param key=value ...]`: the
 * `memorization_dilation` notebook's sweep from the command line, without Jupyter. Parameters
 * are the notebook's parameters cell, then the profile, then `--param` overrides.
 *
 * @module
 */
import { Command, Option } from "commander";
import { join } from "node:path";
import { type NoiseSweepParams, runNoiseSweep } from "../lib/paper/mod.ts";
import {
  checkParameterValue,
  DEFAULT_NOTEBOOKS_DIR,
  type JsonValue,
  notebookParameters,
  NotebookUsageError,
  ParameterError,
  parseParamAssignment,
  readProfile,
} from "../lib/notebooks/mod.ts";
import { parseCommandLine, UsageError } from "../lib/config/flags.ts";
import { runCli } from "./common.ts";

const NOTEBOOK = "memorization_dilation";

/** The notebook's parameters, then the profile's, then the `--param` overrides, checked. */
async function notebookParams(
  options: { profile: string; param?: string[] },
): Promise<NoiseSweepParams> {
  const notebook = join(DEFAULT_NOTEBOOKS_DIR, `${NOTEBOOK}.ipynb`);
  const defaults = await notebookParameters(notebook);
  const profile = (await readProfile(options.profile))[NOTEBOOK] ?? {};
  const overrides: Record<string, JsonValue> = {};
  for (const assignment of options.param ?? []) {
    const [key, value] = parseParamAssignment(assignment);
    if (!(key in defaults)) {
      throw new UsageError(
        `unknown parameter '${key}'; the notebook has ${Object.keys(defaults).join(", ")}`,
      );
    }
    checkParameterValue(key, defaults[key], value, NOTEBOOK);
    overrides[key] = value;
  }
  const params = { ...defaults, ...profile, ...overrides } as unknown as NoiseSweepParams;
  // The notebook's paths are relative to the notebooks directory, as when it runs there.
  params.resultsDir = join(DEFAULT_NOTEBOOKS_DIR, params.resultsDir);
  return params;
}

if (import.meta.main) {
  await runCli(async (args) => {
    const program = new Command("reproduce")
      .description(
        `Run the ${NOTEBOOK} notebook's sweep (CE vs LS over label noise) from the command line.`,
      )
      .addOption(new Option("--profile <name>", "parameter profile from notebooks/profiles")
        .default("quick"))
      .addOption(new Option("--param <key=value>", "override one notebook parameter (repeatable)")
        .argParser((value: string, previous: string[] = []) => [...previous, value]));
    parseCommandLine(program, args);
    const options = program.opts<{ profile: string; param?: string[] }>();
    const params = await notebookParams(options).catch((error) => {
      // An unknown profile or parameter, or a bad value: the command line's mistake.
      if (error instanceof ParameterError || error instanceof NotebookUsageError) {
        throw new UsageError(error.message);
      }
      throw error;
    });
    const started = performance.now();
    const sweep = await runNoiseSweep(params);
    console.log(
      sweep.summary.select(
        "loss",
        "label_noise",
        "seed",
        "train_acc",
        "test_acc",
        "nc1_train",
        "dilation_train",
        "memorization_sum_train",
      ).toString(),
    );
    if (sweep.comparison) {
      console.log(`\n${sweep.comparison.memorizationReport}`);
      console.log(
        "\nPer noise level, LS minus CE (raw, clean spread): mean over seeds [paired 95% " +
          "t-interval], seeds matched/bounded/all, p and Holm-adjusted p across the noisy " +
          "levels. Noise 0 is shown, not counted.\n",
      );
      console.log(sweep.comparison.levelText);
      console.log(
        "\nVerdict: the primary endpoint of each claim over seeds, Holm-adjusted across the " +
          "three claims; levels +/-/all: noisy levels decided for / against the paper.\n",
      );
      console.log(sweep.comparison.verdictText);
      console.log(
        `\nComparison tables: ${params.resultsDir}/comparison.parquet, verdict.parquet, ` +
          "comparison_runs.parquet, comparison_levels.parquet, comparison_paired.parquet, " +
          "comparison_seeds.parquet",
      );
    }
    const minutes = ((performance.now() - started) / 60000).toFixed(1);
    console.log(
      `\nfinished in ${minutes} min. Summary table: ${params.resultsDir}/summary.parquet`,
    );
    console.log(`Figures (.png, .svg, .vl.json): ${params.resultsDir}/figures/`);
    console.log(`Runs (tables, models, per-run figures): ${params.resultsDir}/runs/`);
    if (sweep.failures.length > 0) {
      throw new Error(`${sweep.failures.length} run(s) failed (reported above); rerun to retry`);
    }
  });
}
