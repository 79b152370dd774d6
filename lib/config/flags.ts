/**
 * The command lines of `train`, `train-large`, `evaluate` and `evaluate-large`, and the one
 * validator of run settings that they and the sweeps call. Options, types, defaults and checks
 * come from the schema (lib/config/schema.ts); each command offers exactly the settings whose
 * row names it.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { parseBackendName } from "../backend/mod.ts";
import { readIniConfig } from "./ini.ts";
import { datasetInfo } from "../data/registry.ts";
import {
  type CommandName,
  DEFAULT_CONFIG,
  type Setting,
  SettingError,
  type SettingName,
  settingRows,
  SETTINGS,
  type TrainConfig,
} from "./schema.ts";

export { DEFAULT_CONFIG, type TrainConfig } from "./schema.ts";
export { DATASET_NAMES, type DatasetName } from "../data/registry.ts";

/**
 * Reference flags this build parses but does not implement yet, and the issue that brings them.
 * Passing one is an error, never silently ignored.
 */
const NOT_YET: Record<string, string> = {
  "--num_ho_runs": "hyperparameter optimization",
  "--ho": "hyperparameter optimization",
  "--continue_ho": "hyperparameter optimization",
};

/** An invalid command line: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Defaults with config.ini and the `MEMDIL_BACKEND` variable applied. */
export function configuredDefaults(): TrainConfig {
  const ini = readIniConfig();
  const fromEnv = Deno.env.get("MEMDIL_BACKEND");
  let backend = ini.backend;
  if (fromEnv !== undefined) {
    try {
      backend = parseBackendName(fromEnv);
    } catch (error) {
      throw new UsageError(`MEMDIL_BACKEND: ${(error as Error).message}`);
    }
  }
  return { ...DEFAULT_CONFIG, data_dir: ini.dataDir, backend };
}

/**
 * Parse a commander program's arguments with memdil's conventions: help goes to stdout, and any
 * command-line mistake becomes a {@link UsageError} (exit status 2 through `cli/common.ts`).
 *
 * @example
 * ```ts
 * const options = parseCommandLine(new Command("x").option("--n <n>"), ["--n", "3"]);
 * ```
 */
export function parseCommandLine(program: Command, argv: string[]): Record<string, unknown> {
  program.exitOverride().allowExcessArguments(false).configureOutput({
    writeErr: () => {},
    writeOut: (text: string) => console.log(text.trimEnd()),
  });
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") {
        throw error;
      }
      throw new UsageError(`${error.message.replace(/^error: /, "")}\n(see --help)`);
    }
    throw error;
  }
  return program.opts();
}

/** Combinations of data settings that do not fit together, as usage errors. */
function checkDataSettings(config: TrainConfig): void {
  const available = datasetInfo(config.dataset).classes;
  if (config.classes > available) {
    throw new UsageError(
      `--classes ${config.classes}: ${config.dataset} has ${available} classes (labels ` +
        `0..${available - 1}); pass --classes ${available} or fewer`,
    );
  }
  if (Array.isArray(config.label_noise) && config.label_noise.length !== config.classes) {
    throw new UsageError(
      `--label_noise lists ${config.label_noise.length} rates but --classes is ` +
        `${config.classes}: give one rate per class, or a single rate`,
    );
  }
  if (config.fourclass_problem && config.classes !== 2) {
    throw new UsageError(`--fourclass_problem needs --classes 2 (got ${config.classes})`);
  }
  if (config.fourclass_problem && Array.isArray(config.label_noise)) {
    throw new UsageError("--fourclass_problem takes a single --label_noise rate, not a list");
  }
  if (config.fourclass_twofeatures && !config.fourclass_problem) {
    throw new UsageError("--fourclass_twofeatures needs --fourclass_problem");
  }
}

/** Model settings that do not fit together, as usage errors. */
function checkModelSettings(config: TrainConfig, command: CommandName): void {
  const large = command === "train-large" || command === "evaluate-large";
  if (config.model === "MLP") {
    if (config.fixdim !== 0) {
      throw new UsageError("--fixdim applies to ResNet and VGG models, not to the MLP");
    }
    if (config.SOTA) throw new UsageError("--SOTA (the CIFAR stem) applies to ResNet models only");
  } else {
    if (!large) {
      throw new UsageError(
        `--model ${config.model} is a large-scale model: use deno task train-large`,
      );
    }
    if (config.SOTA && !config.model.startsWith("resnet")) {
      throw new UsageError("--SOTA (the CIFAR stem) applies to ResNet models only");
    }
    if (config.use_bn || config.use_layer_norm) {
      throw new UsageError(
        "--use_bn and --use_layer_norm are MLP options; VGG has batch norm unless vggNN_nobn",
      );
    }
  }
  if (large && config.optimizer === "LBFGS") {
    throw new UsageError(
      "--optimizer LBFGS is for simple models only (the reference's large-scale trainer " +
        "forbids it): use SGD or Adam, or deno task train",
    );
  }
}

/** Which commands take a setting, for the error when another command is given it. */
function takenBy(setting: Setting<unknown>): string {
  return setting.commands.join(", ");
}

/**
 * The one validator of run settings: the command line, sweeps and notebooks all call it. `given`
 * holds the settings set explicitly (typed values, or command-line text); the rest come from
 * `defaults`. Large-scale commands default to `--model resnet18` and every class of the
 * dataset. Throws {@link UsageError} naming the setting and what it takes.
 *
 * @example
 * ```ts
 * const config = validateConfig({ loss: "LS", label_noise: 0.2, epochs: 2 }, "train");
 * console.log(config.loss, config.lr); // LS 0.1
 * ```
 */
export function validateConfig(
  given: Record<string, unknown>,
  command: CommandName = "train",
  defaults: TrainConfig = configuredDefaults(),
): TrainConfig {
  const config: TrainConfig = { ...defaults };
  const large = command === "train-large" || command === "evaluate-large";
  if (large) config.model = "resnet18";
  const values = config as Record<SettingName, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (`--${key}` in NOT_YET) {
      throw new UsageError(`--${key} (${NOT_YET[`--${key}`]}) is not implemented yet`);
    }
    if (!(key in SETTINGS)) {
      throw new UsageError(`unknown setting '${key}' (see deno task ${command} --help)`);
    }
    const name = key as SettingName;
    const setting: Setting<unknown> = SETTINGS[name];
    if (!setting.commands.includes(command)) {
      throw new UsageError(
        `--${key} is not a setting of ${command} (it is for ${takenBy(setting)})`,
      );
    }
    // A sweep's null leaves a setting's default, except where null is a value (sample_size).
    if (value === null && setting.default !== null) continue;
    try {
      values[name] = setting.parse(value);
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      throw new UsageError(`--${key}: ${error.message}`);
    }
  }
  if (large && given.classes === undefined) config.classes = datasetInfo(config.dataset).classes;
  checkDataSettings(config);
  checkModelSettings(config, command);
  return config;
}

const DESCRIPTIONS: Record<CommandName, string> = {
  train: "Train a simple model (MLP) with label noise, then evaluate NC and M-D metrics.",
  "train-large": "Train a ResNet/VGG (or MLP) on a full dataset with optional label noise, " +
    "checkpointing every epoch (epoch_NNN) and resuming from the last complete checkpoint, " +
    "then evaluate NC metrics.",
  evaluate: "Evaluate a trained run again: NC and M-D metrics, tables and figures from its saved " +
    "model and training set. Name the run with --uid or with the settings that trained it.",
  "evaluate-large": "Evaluate every per-epoch checkpoint of a large-scale run. Name the run " +
    "with --uid or with the settings that trained it.",
};

/** The commander program of a command: exactly the options whose schema row names it. */
function commandProgram(command: CommandName, defaults: TrainConfig): Command {
  const program = new Command(command).description(DESCRIPTIONS[command]);
  for (const [name, setting] of settingRows()) {
    if (!setting.commands.includes(command)) continue;
    if (setting.type === "switch") {
      program.addOption(new Option(`--${setting.negatable ? "no-" : ""}${name}`, setting.help));
      continue;
    }
    const fallback = (defaults as Record<string, unknown>)[name];
    const shown = fallback === null ? "" : ` (default: ${JSON.stringify(fallback)})`;
    program.addOption(
      new Option(`--${name} ${setting.placeholder ?? "<value>"}`, setting.help + shown)
        .argParser((text: string) => {
          try {
            return setting.parse(text);
          } catch (error) {
            throw new InvalidArgumentError((error as Error).message);
          }
        }),
    );
  }
  if (command === "train") {
    for (const [flag, what] of Object.entries(NOT_YET)) {
      program.addOption(
        new Option(`${flag} [value]`, `not implemented yet: ${what}`).argParser((): never => {
          throw new InvalidArgumentError(`${flag} (${what}) is not implemented yet`);
        }),
      );
    }
  }
  return program;
}

/** A parsed command line: the whole configuration, and the settings given explicitly. */
export interface ParsedRunArgs {
  config: TrainConfig;
  given: Partial<TrainConfig>;
}

/**
 * Parse a command line of `train`, `train-large`, `evaluate` or `evaluate-large`. Throws
 * {@link UsageError} for an unknown flag, an invalid value, a flag of another command, or a flag
 * not implemented yet.
 *
 * @example
 * ```ts
 * const { config, given } = parseRunArgs(["--uid", "x", "--label_noise", "0.2"], "evaluate");
 * console.log(given); // { uid: "x", label_noise: 0.2 }
 * ```
 */
export function parseRunArgs(
  argv: string[],
  command: CommandName,
  defaults: TrainConfig = configuredDefaults(),
): ParsedRunArgs {
  const program = commandProgram(command, defaults);
  const options = parseCommandLine(program, argv);
  const given: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    if (program.getOptionValueSource(key) === "cli") given[key] = options[key];
  }
  return { config: validateConfig(given, command, defaults), given: given as Partial<TrainConfig> };
}

/**
 * Parse `deno task train` (or `evaluate`) arguments into a {@link TrainConfig}.
 *
 * @example
 * ```ts
 * const config = parseTrainArgs(["--loss", "LS", "--label_noise", "0.2"]);
 * console.log(config.loss, config.label_noise);
 * ```
 */
export function parseTrainArgs(
  argv: string[],
  defaults: TrainConfig = configuredDefaults(),
  command: CommandName = "train",
): TrainConfig {
  return parseRunArgs(argv, command, defaults).config;
}

/**
 * Parse `deno task train-large` arguments: the large-scale defaults (model resnet18; every class
 * of the dataset unless `--classes` is given) and checks (no L-BFGS).
 *
 * @example
 * ```ts
 * const config = parseTrainLargeArgs(["--dataset", "cifar10", "--epochs", "200"]);
 * console.log(config.model, config.classes); // resnet18 10
 * ```
 */
export function parseTrainLargeArgs(
  argv: string[],
  defaults: TrainConfig = configuredDefaults(),
): TrainConfig {
  return parseRunArgs(argv, "train-large", defaults).config;
}
