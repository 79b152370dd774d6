/**
 * The one validator of run settings, for the command line, sweeps and notebooks: each value
 * checked by its schema row, the command's own settings only, defaults from config.ini and
 * `MEMDIL_BACKEND`, and the combinations that do not fit together.
 *
 * @module
 */
import { parseBackendName } from "../backend/mod.ts";
import { datasetInfo } from "../data/registry.ts";
import { readIniConfig } from "./ini.ts";
import {
  type CommandName,
  DEFAULT_CONFIG,
  type Setting,
  SettingError,
  type SettingName,
  SETTINGS,
  type TrainConfig,
} from "./schema.ts";

/**
 * Reference flags that belong to another command here, and where they went. Passing one is an
 * error naming that command, never silently ignored.
 */
export const OTHER_COMMANDS: Record<string, string> = {
  "--num_ho_runs": "hyperparameter optimization: `deno task search`",
  "--ho": "hyperparameter optimization: `deno task search`",
  "--continue_ho": "hyperparameter optimization: `deno task search`",
};

/** An invalid command line: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Defaults with config.ini (data directory, backend) and the `MEMDIL_BACKEND` variable applied.
 *
 * @example
 * ```ts
 * configuredDefaults().backend; // "auto" unless config.ini or MEMDIL_BACKEND say otherwise
 * ```
 */
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
    if (`--${key}` in OTHER_COMMANDS) {
      throw new UsageError(
        `--${key} is not a flag of this command (${OTHER_COMMANDS[`--${key}`]})`,
      );
    }
    if (!(key in SETTINGS)) {
      throw new UsageError(`unknown setting '${key}' (see deno task ${command} --help)`);
    }
    const name = key as SettingName;
    const setting: Setting<unknown> = SETTINGS[name];
    // A whole configuration passed back (sweeps, searches) carries every setting at its default.
    const atDefault = JSON.stringify(value) === JSON.stringify(setting.default);
    if (!setting.commands.includes(command) && !atDefault) {
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
