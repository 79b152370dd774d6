/**
 * The experiment configuration (a plain typed object) and the command line that fills it, with
 * the reference's flag names and defaults (docs/reference.md#flags-and-configuration).
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { BACKEND_NAMES, type BackendName, parseBackendName } from "../backend/mod.ts";
import { readIniConfig } from "./ini.ts";
import { datasetInfo } from "../data/registry.ts";
import { LOSS_NAMES, type LossName } from "../losses/mod.ts";
import { MODEL_NAMES, type ModelName } from "../models/build.ts";
import { OPTIMIZER_NAMES, type OptimizerName, parseDecayType } from "../optim/mod.ts";

/** Datasets of the reference (`--dataset`). */
export const DATASET_NAMES = ["mnist", "fashionmnist", "cifar10", "cifar100", "svhn"] as const;
/** One of {@link DATASET_NAMES}. */
export type DatasetName = typeof DATASET_NAMES[number];

/** Everything a simple-model run depends on. Field names are the reference's flag names. */
export interface TrainConfig {
  // Model
  model: ModelName;
  bias: boolean;
  /** Frozen simplex-ETF classifier (`--ETF_fc`). */
  ETF_fc: boolean;
  /** Non-zero: the last block of a ResNet/VGG outputs K channels (`--fixdim`). */
  fixdim: number;
  /** ResNet CIFAR stem (`--SOTA`). */
  SOTA: boolean;
  use_layer_norm: boolean;
  width: number;
  depth: number;
  act_fn: "relu" | "sigmoid" | "none";
  use_bn: boolean;
  // Hardware and reproducibility
  gpu_id: number;
  seed: number;
  backend: BackendName;
  // Data
  dataset: DatasetName;
  data_dir: string;
  val_split_prop: number;
  /** Scalar rate, or one rate per class (a comma list on the command line). */
  label_noise: number | number[];
  classes: number;
  /** Keep only the first sample_size training samples of each label (null: all). */
  sample_size: number | null;
  // Four-class (latent noise class) problem
  fourclass_problem: boolean;
  fc_noise_degree: number;
  fourclass_twofeatures: boolean;
  // Runs
  uid: string | null;
  force: boolean;
  force_retrain: boolean;
  /** Delete the checkpoints once the run is evaluated (large-scale runs). */
  delete_model: boolean;
  // Learning
  epochs: number;
  batch_size: number;
  loss: LossName;
  lr: number;
  optimizer: OptimizerName;
  weight_decay: number;
  /** `step`, or multistep `step_a_b_...` (milestone epochs). */
  decay_type: string;
  patience: number;
  gamma: number;
  /** Weight decay on the classifier and feature decay in the loss instead of the optimizer. */
  sep_decay: boolean;
  feature_decay_rate: number;
  /** L-BFGS curvature pairs. */
  history_size: number;
  ls_alpha: number;
  /** Label-relaxation alpha. */
  lr_alpha: number;
  // Evaluation
  eval_every: number;
  /** Recompute each batch in eval mode after the step for the training accuracy (docs/reference.md#losses-and-optimization). */
  eval_forward_pass: boolean;
  /**
   * Samples the `_train` metrics are measured on: `trained` (the samples the model was trained
   * on, memdil's default) or `all` (every saved training sample, validation part included, as
   * the reference does).
   */
  train_metrics_on: "trained" | "all";
}

/**
 * Defaults: the reference's, except `dataset` (the reference defaults to `mnist`; memdil to
 * `fashionmnist`, the one dataset installable offline here, from Debian) and memdil's own flags.
 */
export const DEFAULT_CONFIG: TrainConfig = {
  model: "MLP",
  bias: true,
  ETF_fc: false,
  fixdim: 0,
  SOTA: false,
  use_layer_norm: false,
  width: 1024,
  depth: 6,
  act_fn: "relu",
  use_bn: false,
  gpu_id: 0,
  seed: 6,
  backend: "auto",
  dataset: "fashionmnist",
  data_dir: "~/data",
  val_split_prop: 0.2,
  label_noise: 0.0,
  classes: 2,
  sample_size: null,
  fourclass_problem: false,
  fc_noise_degree: 0.5,
  fourclass_twofeatures: false,
  uid: null,
  force: false,
  force_retrain: false,
  delete_model: false,
  epochs: 200,
  batch_size: 128,
  loss: "CrossEntropy",
  lr: 0.1,
  optimizer: "SGD",
  weight_decay: 5e-4,
  decay_type: "step",
  patience: 40,
  gamma: 0.1,
  sep_decay: false,
  feature_decay_rate: 1e-4,
  history_size: 10,
  ls_alpha: 0.1,
  lr_alpha: 0.1,
  eval_every: 0,
  eval_forward_pass: false,
  train_metrics_on: "trained",
};

/**
 * Reference flags that belong to another command here, and where they went. Passing one is an
 * error naming that command, never silently ignored.
 */
const NOT_YET: Record<string, string> = {
  "--num_ho_runs": "hyperparameter optimization: `deno task search`",
  "--ho": "hyperparameter optimization: `deno task search`",
  "--continue_ho": "hyperparameter optimization: `deno task search`",
};

/** Values of choice flags that the reference has but this build does not implement yet. */
const NOT_YET_VALUES: Record<string, string[]> = {};

/** An invalid command line: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

function integer(min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}, got '${value}'`);
    }
    return parsed;
  };
}

function real(min: number, max = Infinity, { exclusiveMin = false } = {}) {
  return (value: string): number => {
    const parsed = Number(value);
    const belowMin = exclusiveMin ? parsed <= min : parsed < min;
    if (value.trim() === "" || !Number.isFinite(parsed) || belowMin || parsed > max) {
      const range = `${exclusiveMin ? "(" : "["}${min}, ${max}]`;
      throw new InvalidArgumentError(`expected a number in ${range}, got '${value}'`);
    }
    return parsed;
  };
}

function choice<T extends string>(flag: keyof typeof NOT_YET_VALUES | string, allowed: T[]) {
  return (value: string): T => {
    if ((allowed as string[]).includes(value)) return value as T;
    if (NOT_YET_VALUES[flag]?.includes(value)) {
      throw new InvalidArgumentError(
        `'${value}' is a reference value this build does not implement yet; use ${
          allowed.join(" | ")
        }`,
      );
    }
    throw new InvalidArgumentError(`expected one of ${allowed.join(" | ")}, got '${value}'`);
  };
}

/** `--label_noise`: one rate in [0, 1], or a comma list of per-class rates. */
function labelNoise(value: string): number | number[] {
  const rates = value.split(",").map((part) => real(0, 1)(part.trim()));
  return rates.length === 1 ? rates[0] : rates;
}

function activation(value: string): TrainConfig["act_fn"] {
  // The reference treats any activation name other than relu and sigmoid as "no activation".
  return value === "relu" || value === "sigmoid" ? value : "none";
}

/** Options of the `train` command; `evaluate` shares the run-locating ones. */
function addTrainOptions(program: Command, defaults: TrainConfig): Command {
  const d = defaults;
  const opt = (flags: string, description: string) => new Option(flags, description);
  program
    .addOption(
      opt("--model <name>", "MLP | resnet18|34|50 | vgg11|13|16|19 (with BN) | vggNN_nobn")
        .default(d.model).argParser(choice("model", [...MODEL_NAMES])),
    )
    .addOption(opt("--no-bias", "classifier without bias"))
    .addOption(opt("--ETF_fc", "classifier fixed to a simplex ETF (not trained)"))
    .addOption(
      opt("--fixdim <n>", "non-zero: the last ResNet/VGG block outputs K channels")
        .default(d.fixdim).argParser(integer(0)),
    )
    .addOption(opt("--SOTA", "ResNet CIFAR stem: 3x3 stride-1 first convolution, no max-pool"))
    .addOption(opt("--use_layer_norm", "LayerNorm after each hidden linear layer of the MLP"))
    .addOption(opt("--width <n>", "MLP width").default(d.width).argParser(integer(1)))
    .addOption(
      opt("--depth <n>", "MLP depth (linear layers)").default(d.depth).argParser(
        integer(2),
      ),
    )
    .addOption(
      opt("--act_fn <name>", "relu | sigmoid | anything else = none").default(d.act_fn)
        .argParser(activation),
    )
    .addOption(opt("--use_bn", "batch normalization after each hidden linear layer"))
    .addOption(
      opt("--gpu_id <n>", "GPU index (native backend)").default(d.gpu_id).argParser(
        integer(0),
      ),
    )
    .addOption(opt("--seed <n>", "random seed").default(d.seed).argParser(integer(0)))
    .addOption(
      opt("--backend <name>", "compute backend (env MEMDIL_BACKEND, config.ini [COMPUTE])")
        .default(d.backend).choices(BACKEND_NAMES as unknown as string[]),
    )
    .addOption(
      opt("--dataset <name>", "dataset").default(d.dataset).argParser(
        choice("dataset", [...DATASET_NAMES]),
      ),
    )
    .addOption(opt("--data_dir <dir>", "dataset root (config.ini [DATA])").default(d.data_dir))
    .addOption(
      opt("--val_split_prop <p>", "validation share of the training set (0 disables)")
        .default(d.val_split_prop).argParser(real(0, 0.9)),
    )
    .addOption(
      opt("--label_noise <eta>", "label noise rate, or one rate per class: 0.1,0.3")
        .default(d.label_noise).argParser(labelNoise),
    )
    .addOption(
      opt("--classes <k>", "number of classes (labels 0..k-1)").default(d.classes)
        .argParser(integer(2)),
    )
    .addOption(
      opt("--sample_size <n>", "keep the first n training samples of each label")
        .argParser(integer(1)),
    )
    .addOption(
      opt("--fourclass_problem", "latent noise class: label c moves to c+2 (two classes only)"),
    )
    .addOption(
      opt("--fc_noise_degree <p>", "probability of the move to the latent class")
        .default(d.fc_noise_degree).argParser(real(0, 1)),
    )
    .addOption(opt("--fourclass_twofeatures", "four-class problem with 2 penultimate features"))
    .addOption(opt("--uid <name>", "run directory name (default: derived from the flags)"))
    .addOption(opt("--force", "reuse or overwrite an existing run directory"))
    .addOption(opt("--force_retrain", "retrain even if the run has a finished model"))
    .addOption(opt("--epochs <n>", "epochs").default(d.epochs).argParser(integer(1)))
    .addOption(opt("--batch_size <n>", "batch size").default(d.batch_size).argParser(integer(1)))
    .addOption(
      opt("--loss <name>", LOSS_NAMES.join(" | ")).default(d.loss).argParser(
        choice("loss", LOSS_NAMES),
      ),
    )
    .addOption(
      opt("--lr <rate>", "learning rate").default(d.lr).argParser(
        real(0, Infinity, { exclusiveMin: true }),
      ),
    )
    .addOption(
      opt("--optimizer <name>", "SGD (momentum 0.9) | Adam | LBFGS (simple models)")
        .default(d.optimizer).argParser(choice("optimizer", [...OPTIMIZER_NAMES])),
    )
    .addOption(
      opt("--weight_decay <wd>", "weight decay (coupled, every parameter)")
        .default(d.weight_decay).argParser(real(0)),
    )
    .addOption(
      opt("--decay_type <type>", "step, or multistep step_a_b_... (decay at epochs a, b, ...)")
        .default(d.decay_type).argParser((value: string) => {
          try {
            parseDecayType(value);
          } catch (error) {
            throw new InvalidArgumentError((error as Error).message);
          }
          return value;
        }),
    )
    .addOption(
      opt("--patience <epochs>", "step size of the step decay").default(d.patience)
        .argParser(integer(1)),
    )
    .addOption(opt("--gamma <factor>", "step decay factor").default(d.gamma).argParser(real(0, 1)))
    .addOption(
      opt("--feature_decay_rate <fd>", "feature decay with --sep_decay (also in the run uid)")
        .default(d.feature_decay_rate).argParser(real(0)),
    )
    .addOption(
      opt("--sep_decay", "weight decay on the classifier and feature decay in the loss only"),
    )
    .addOption(
      opt(
        "--eval_forward_pass",
        "training accuracy from a second, eval-mode forward pass per batch, as the reference " +
          "logs it (slower; default: from the training pass)",
      ),
    )
    .addOption(
      opt("--history_size <n>", "L-BFGS history size").default(d.history_size)
        .argParser(integer(1)),
    )
    .addOption(
      opt("--lr_alpha <alpha>", "label relaxation alpha").default(d.lr_alpha).argParser(
        real(0, 1),
      ),
    )
    .addOption(opt("--delete_model", "delete the checkpoints after evaluation (train-large)"))
    .addOption(
      opt("--ls_alpha <alpha>", "label smoothing alpha").default(d.ls_alpha).argParser(
        real(0, 1),
      ),
    )
    .addOption(
      opt("--eval_every <n>", "also evaluate NC and M-D metrics every n epochs (0: at the end)")
        .default(d.eval_every).argParser(integer(0)),
    )
    .addOption(
      opt(
        "--train_metrics_on <samples>",
        "training metrics on the trained samples, or on all saved training samples with the " +
          "validation part (the reference's choice)",
      ).choices(["trained", "all"]).default(d.train_metrics_on),
    );
  for (const [flag, what] of Object.entries(NOT_YET)) {
    program.addOption(
      new Option(`${flag} [value]`, `not here: ${what}`).hideHelp(false)
        .argParser((): never => {
          throw new InvalidArgumentError(`${flag} is not a flag of this command (${what})`);
        }),
    );
  }
  return program;
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

/** Check a NOT_YET flag was not given; commander only calls the parser when a value is given. */
function rejectUnimplemented(options: Record<string, unknown>) {
  for (const flag of Object.keys(NOT_YET)) {
    if (options[flag.slice(2)] !== undefined) {
      throw new UsageError(`${flag} is not a flag of this command (${NOT_YET[flag]})`);
    }
  }
}

/** Combinations of data flags the reference rejects, as usage errors. */
function checkDataFlags(config: TrainConfig): void {
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

/** Model flags that do not fit together, as usage errors. */
function checkModelFlags(config: TrainConfig, command: string): void {
  if (config.model === "MLP") {
    if (config.fixdim !== 0) {
      throw new UsageError("--fixdim applies to ResNet and VGG models, not to the MLP");
    }
    if (config.SOTA) throw new UsageError("--SOTA (the CIFAR stem) applies to ResNet models only");
  } else {
    if (command !== "train-large") {
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
  if (command === "train-large" && config.optimizer === "LBFGS") {
    throw new UsageError(
      "--optimizer LBFGS is for simple models only (the reference's large-scale trainer " +
        "forbids it): use SGD or Adam, or deno task train",
    );
  }
  if (config.ETF_fc && config.classes < 2) {
    throw new UsageError("--ETF_fc needs at least 2 classes");
  }
}

const DESCRIPTIONS = {
  train: "Train a simple model (MLP) with label noise, then evaluate NC and M-D metrics.",
  "train-large": "Train a ResNet/VGG (or MLP) on a full dataset with optional label noise, " +
    "checkpointing every epoch (epoch_NNN) and resuming from the last complete checkpoint, " +
    "then evaluate NC metrics.",
  evaluate: "Evaluate a trained run again: NC and M-D metrics, tables and figures from its saved " +
    "model and training set. Name the run with --uid or with the flags that trained it.",
};

/**
 * Parse `deno task train-large` arguments: the `train` flags with the large-scale defaults
 * (model resnet18; every class of the dataset unless `--classes` is given) and checks
 * (no L-BFGS).
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
  const config = parseTrainArgs(argv, { ...defaults, model: "resnet18" }, "train-large");
  const classesGiven = argv.some((arg) => arg === "--classes" || arg.startsWith("--classes="));
  if (!classesGiven) {
    config.classes = datasetInfo(config.dataset).classes;
    checkDataFlags(config);
  }
  return config;
}

/**
 * Parse `deno task train` (or `evaluate`) arguments into a {@link TrainConfig}. Throws
 * {@link UsageError} for an unknown flag, an invalid value or a flag not implemented yet.
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
  command: keyof typeof DESCRIPTIONS = "train",
): TrainConfig {
  const program = addTrainOptions(
    new Command(command).description(DESCRIPTIONS[command]),
    defaults,
  );
  const options = parseCommandLine(program, argv);
  rejectUnimplemented(options);
  const config = { ...defaults };
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof TrainConfig)[]) {
    if (options[key] !== undefined) (config as Record<string, unknown>)[key] = options[key];
  }
  config.bias = options.bias !== false;
  config.use_bn = options.use_bn === true;
  config.force = options.force === true;
  config.force_retrain = options.force_retrain === true;
  config.uid = (options.uid as string | undefined) ?? null;
  config.sample_size = (options.sample_size as number | undefined) ?? defaults.sample_size;
  config.fourclass_problem = options.fourclass_problem === true;
  config.fourclass_twofeatures = options.fourclass_twofeatures === true;
  config.ETF_fc = options.ETF_fc === true;
  config.SOTA = options.SOTA === true;
  config.use_layer_norm = options.use_layer_norm === true;
  config.sep_decay = options.sep_decay === true;
  config.eval_forward_pass = options.eval_forward_pass === true;
  config.delete_model = options.delete_model === true;
  checkDataFlags(config);
  checkModelFlags(config, command);
  return config;
}
