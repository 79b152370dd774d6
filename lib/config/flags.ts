/**
 * The command lines of `train`, `train-large`, `evaluate` and `evaluate-large`: options, help,
 * types and defaults from the schema (lib/config/schema.ts), each command offering exactly the
 * settings whose row names it; the values go to the one validator (lib/config/validate.ts).
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { type CommandName, settingRows, type TrainConfig } from "./schema.ts";
import { configuredDefaults, OTHER_COMMANDS, UsageError, validateConfig } from "./validate.ts";

export { DEFAULT_CONFIG, type TrainConfig } from "./schema.ts";
export { configuredDefaults, UsageError, validateConfig } from "./validate.ts";
export { DATASET_NAMES, type DatasetName } from "../data/registry.ts";

/**
 * Parse a commander program's arguments with memdil's conventions: help goes to stdout, and any
 * command-line mistake becomes a {@link UsageError} (exit status 2 through `cli/common.ts`).
 *
 * @example
 * ```ts
 * import { Command } from "commander";
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
    for (const [flag, what] of Object.entries(OTHER_COMMANDS)) {
      program.addOption(
        new Option(`${flag} [value]`, `not here: ${what}`).hideHelp().argParser((): never => {
          throw new InvalidArgumentError(`${flag} is not a flag of this command (${what})`);
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
 * {@link UsageError} for an unknown flag, an invalid value, or a flag of another command (the
 * HO flags belong to `deno task search`).
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
