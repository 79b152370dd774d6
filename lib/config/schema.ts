/**
 * The one configuration schema: a row per setting of a run, with its type, default, validator,
 * help, role, the commands that take it, whether the readable run uid shows it, and whether the
 * summary tables carry it as a column. The command-line options, the {@link TrainConfig} type,
 * defaults, validation, run identity, the comparison with a saved run, summary columns, sweep
 * grid keys and notebook parameter checks all derive from {@link SETTINGS}.
 *
 * Adding a setting is one row here plus its wiring where it takes effect. An MLP setting: its
 * name joins the `Pick`s of `ModelOptions` (lib/models/build.ts) and `MlpConfig`
 * (lib/models/mlp.ts), which take its type from here, and the MLP uses it. The values of the
 * model settings (model names, activations, classifier starts) are declared here, so models
 * import them and the config types from this bottom-layer module.
 *
 * @module
 */
import { BACKEND_NAMES } from "../backend/mod.ts";
import { DATASET_NAMES } from "../data/registry.ts";
import { LOSS_NAMES } from "../losses/mod.ts";
import { OPTIMIZER_NAMES, parseDecayType } from "../optim/mod.ts";

/**
 * Model names: the reference's, plus `vggNN_nobn` for VGG without batch norm (the reference's
 * VGG always has it).
 */
export const MODEL_NAMES = [
  "MLP",
  "resnet18",
  "resnet34",
  "resnet50",
  "vgg11",
  "vgg13",
  "vgg16",
  "vgg19",
  "vgg11_nobn",
  "vgg13_nobn",
  "vgg16_nobn",
  "vgg19_nobn",
] as const;
/** A model name. */
export type ModelName = typeof MODEL_NAMES[number];

/** Activations of the MLP's hidden layers (`none`: linear). */
export const ACTIVATIONS = ["relu", "sigmoid", "none"] as const;
/** One of {@link ACTIVATIONS}. */
export type Activation = typeof ACTIVATIONS[number];

/** Starting weights of the MLP classifier: PyTorch's default, or the simplex ETF. */
export const CLASSIFIER_INITS = ["default", "etf"] as const;
/** One of {@link CLASSIFIER_INITS}. */
export type ClassifierInit = typeof CLASSIFIER_INITS[number];

/**
 * The samples training metrics are measured on: those trained on, or every saved training sample
 * with the validation part (the reference's choice).
 */
export const TRAIN_METRICS_SAMPLES = ["trained", "all"] as const;

/** The commands that take run settings. */
export const COMMANDS = ["train", "train-large", "evaluate", "evaluate-large"] as const;
/** One of {@link COMMANDS}. */
export type CommandName = typeof COMMANDS[number];

/**
 * What a setting affects. Data, model and optimization settings change a run's results: they
 * make up its identity and must match for a finished run to be reused. Run-control settings
 * (where files are, which backend, whether to overwrite) do not.
 */
export type Role = "data" | "model" | "optimization" | "run-control";

/** A value that is not valid for a setting; the message says what is expected. */
export class SettingError extends Error {
  override name = "SettingError";
}

/** One row of the schema. */
export interface Setting<T> {
  /** What values it takes, for help texts and error messages. */
  type: string;
  default: T;
  /**
   * Check a value and return it typed: command-line text ("0.2", "0.1,0.3") or a typed value
   * (a sweep file's or a notebook's 0.2, [0.1, 0.3], true). Throws {@link SettingError}.
   */
  parse(value: unknown): T;
  help: string;
  role: Role;
  /** The commands that take it. */
  commands: readonly CommandName[];
  /** Which readable uids show it; the uid's digest covers the other result-affecting settings. */
  uid: readonly ("simple" | "large")[];
  /** Whether the summary tables (metrics.parquet, sweep summaries) carry it as a column. */
  column: boolean;
  /** Whether it affects results only under some other settings (e.g. `ls_alpha` with `--loss LS`). */
  appliesWhen?: (config: Readonly<Record<string, unknown>>) => boolean;
  /** A switch that is on by default (`bias`: the flag is `--no-bias`). */
  negatable?: boolean;
  /** Placeholder of the value in `--help` (switches have none). */
  placeholder?: string;
  /** A list value (per-class rates) goes to the summary column `<name>_per_class`. */
  perClass?: boolean;
}

function row<T>(setting: Setting<T>): Setting<T> {
  return setting;
}

const TRAINING: readonly CommandName[] = ["train", "train-large", "evaluate", "evaluate-large"];
const SIMPLE: readonly CommandName[] = ["train", "evaluate"];
const LARGE: readonly CommandName[] = ["train-large", "evaluate-large"];

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value.trim() : undefined;
}

function integer(min: number, max = Infinity) {
  return (value: unknown): number => {
    const parsed = typeof value === "number" ? value : Number(text(value) || NaN);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
      throw new SettingError(`expected an integer ${range}, got ${show(value)}`);
    }
    return parsed;
  };
}

function real(min: number, max = Infinity, { exclusiveMin = false } = {}) {
  return (value: unknown): number => {
    const parsed = typeof value === "number" ? value : Number(text(value) || NaN);
    const belowMin = exclusiveMin ? parsed <= min : parsed < min;
    if (!Number.isFinite(parsed) || belowMin || parsed > max) {
      throw new SettingError(
        `expected a number in ${exclusiveMin ? "(" : "["}${min}, ${max}], got ${show(value)}`,
      );
    }
    return parsed;
  };
}

function choice<T extends string>(allowed: readonly T[]) {
  return (value: unknown): T => {
    if ((allowed as readonly unknown[]).includes(value)) return value as T;
    throw new SettingError(`expected one of ${allowed.join(" | ")}, got ${show(value)}`);
  };
}

function boolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw new SettingError(`expected true or false, got ${show(value)}`);
}

function show(value: unknown): string {
  return typeof value === "string" ? `'${value}'` : JSON.stringify(value) ?? String(value);
}

/**
 * Check a run uid: one non-empty path segment (no `/`, `\`, NUL, not `.` or `..`, no leading
 * dot, which marks memdil's own lock and staging names), so that a run directory is always
 * `<base>/<uid>` and never the base itself or a place outside it.
 *
 * @example
 * ```ts
 * validateUid("my_run"); // "my_run"
 * validateUid(".."); // throws SettingError
 * ```
 */
export function validateUid(value: unknown): string {
  if (typeof value !== "string" || value === "" || value.startsWith(".") || /[/\\\0]/.test(value)) {
    throw new SettingError(
      `expected a run name: one non-empty path segment without '/', '\\' or a leading '.', ` +
        `got ${show(value)}`,
    );
  }
  // File systems allow 255 bytes per name; memdil adds up to ~40 (`.<uid>.staging-<pid>`).
  if (new TextEncoder().encode(value).length > MAX_UID_BYTES) {
    throw new SettingError(
      `expected a run name of at most ${MAX_UID_BYTES} bytes, got one of ` +
        `${new TextEncoder().encode(value).length}; choose a shorter --uid`,
    );
  }
  return value;
}

/** The longest run name (bytes), leaving room for memdil's staging and lock names. */
export const MAX_UID_BYTES = 200;

/** `--label_noise`: one rate in [0, 1], or per-class rates (a list, or "0.1,0.3" as text). */
function labelNoise(value: unknown): number | number[] {
  const parts = typeof value === "string" ? value.split(",") : Array.isArray(value) ? value : [
    value,
  ];
  if (parts.length === 0) throw new SettingError("expected a rate or a list of rates, got []");
  const rates = parts.map((part) => real(0, 1)(part));
  return rates.length === 1 && !Array.isArray(value) ? rates[0] : rates;
}

/**
 * Every setting of a run, by its reference flag name. Defaults are the reference's, except
 * `dataset` (the reference defaults to `mnist`; memdil to `fashionmnist`, the one dataset
 * installable offline, from Debian) and memdil's own settings.
 */
export const SETTINGS = {
  // Model
  model: row({
    type: "model name",
    default: "MLP" as ModelName,
    parse: choice(MODEL_NAMES),
    help: "MLP | resnet18|34|50 | vgg11|13|16|19 (with BN) | vggNN_nobn",
    role: "model",
    commands: TRAINING,
    uid: ["simple", "large"],
    column: true,
    placeholder: "<name>",
  }),
  bias: row({
    type: "switch",
    default: true,
    parse: boolean,
    help: "classifier without bias",
    role: "model",
    commands: TRAINING,
    uid: [],
    column: true,
    negatable: true,
  }),
  ETF_fc: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "classifier fixed to a simplex ETF (not trained)",
    role: "model",
    commands: TRAINING,
    uid: [],
    column: true,
  }),
  classifier_init: row({
    type: CLASSIFIER_INITS.join(" | "),
    default: "default" as ClassifierInit,
    parse: choice(CLASSIFIER_INITS),
    help: "MLP classifier's starting weight: PyTorch's default, or the simplex ETF, then " +
      "trained (--ETF_fc keeps it fixed)",
    role: "model",
    commands: TRAINING,
    uid: [],
    column: true,
  }),
  fixdim: row({
    type: "integer >= 0",
    default: 0,
    parse: integer(0),
    help: "non-zero: the last ResNet/VGG block outputs K channels",
    role: "model",
    commands: LARGE,
    uid: [],
    column: false,
    placeholder: "<n>",
  }),
  SOTA: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "ResNet CIFAR stem: 3x3 stride-1 first convolution, no max-pool",
    role: "model",
    commands: LARGE,
    uid: [],
    column: false,
  }),
  use_layer_norm: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "LayerNorm after each hidden linear layer of the MLP",
    role: "model",
    commands: TRAINING,
    uid: [],
    column: true,
  }),
  width: row({
    type: "integer >= 1",
    default: 1024,
    parse: integer(1),
    help: "MLP width",
    role: "model",
    commands: TRAINING,
    uid: ["simple"],
    column: true,
    placeholder: "<n>",
  }),
  depth: row({
    type: "integer >= 2",
    default: 6,
    parse: integer(2),
    help: "MLP depth (linear layers)",
    role: "model",
    commands: TRAINING,
    uid: ["simple"],
    column: true,
    placeholder: "<n>",
  }),
  act_fn: row({
    type: "activation",
    default: "relu" as Activation,
    // The reference treats any activation name other than relu and sigmoid as "no activation".
    parse: (value: unknown): Activation => {
      if (typeof value !== "string") throw new SettingError(`expected a name, got ${show(value)}`);
      return value === "relu" || value === "sigmoid" ? value : "none";
    },
    help: "relu | sigmoid | anything else = none",
    role: "model",
    commands: TRAINING,
    uid: ["simple"],
    column: true,
    placeholder: "<name>",
  }),
  use_bn: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "batch normalization after each hidden linear layer",
    role: "model",
    commands: TRAINING,
    uid: ["simple"],
    column: true,
  }),
  // Hardware and reproducibility
  gpu_id: row({
    type: "integer >= 0",
    default: 0,
    parse: integer(0),
    help: "GPU index (native backend)",
    role: "run-control",
    commands: ["train", "train-large"],
    uid: [],
    column: false,
    placeholder: "<n>",
  }),
  seed: row({
    // Generators take 32 bits: a larger seed would alias a smaller one (2^32 + 6 and 6).
    type: "integer in [0, 4294967295]",
    default: 6,
    parse: integer(0, 2 ** 32 - 1),
    help: "random seed (label noise, split, initialization, batch order)",
    role: "data",
    commands: TRAINING,
    uid: ["simple", "large"],
    column: true,
    placeholder: "<n>",
  }),
  backend: row({
    type: "backend name",
    default: "auto" as (typeof BACKEND_NAMES)[number],
    parse: choice(BACKEND_NAMES),
    help: `compute backend: ${
      BACKEND_NAMES.join(" | ")
    } (env MEMDIL_BACKEND, config.ini [COMPUTE])`,
    role: "run-control",
    commands: TRAINING,
    uid: [],
    column: false,
    placeholder: "<name>",
  }),
  // Data
  dataset: row({
    type: "dataset name",
    default: "fashionmnist" as (typeof DATASET_NAMES)[number],
    parse: choice(DATASET_NAMES),
    help: DATASET_NAMES.join(" | "),
    role: "data",
    commands: TRAINING,
    uid: ["simple", "large"],
    column: true,
    placeholder: "<name>",
  }),
  data_dir: row({
    type: "directory",
    default: "~/data",
    parse: (value: unknown): string => {
      if (typeof value !== "string" || value === "") {
        throw new SettingError(`expected a directory, got ${show(value)}`);
      }
      // A file is not a dataset root (the datasets would silently come from elsewhere); a
      // directory that does not exist yet is one a download creates.
      let isFile = false;
      try {
        isFile = !Deno.statSync(value.replace(/^~(?=\/|$)/, Deno.env.get("HOME") ?? "~"))
          .isDirectory;
      } catch {
        // absent (or unreadable): left to the loaders, which name where they looked
      }
      if (isFile) throw new SettingError(`${show(value)} exists and is not a directory`);
      return value;
    },
    help: "dataset root (config.ini [DATA])",
    role: "run-control",
    commands: TRAINING,
    uid: [],
    column: false,
    placeholder: "<dir>",
  }),
  skip_checksums: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "use dataset files whose checksums differ from the published ones (a subset, a " +
      "re-compressed mirror) once their format checks pass; each such file is named in a warning",
    // Other files may hold other data: such runs are told apart from runs on the published ones.
    role: "data",
    commands: TRAINING,
    uid: [],
    column: true,
  }),
  val_split_prop: row({
    type: "number in [0, 0.9]",
    default: 0.2,
    parse: real(0, 0.9),
    help: "validation share of the training set (0 disables)",
    role: "data",
    commands: TRAINING,
    uid: [],
    column: true,
    placeholder: "<p>",
  }),
  label_noise: row({
    type: "rate in [0, 1], or one per class",
    default: 0 as number | number[],
    parse: labelNoise,
    help: "label noise rate, or one rate per class: 0.1,0.3",
    role: "data",
    commands: TRAINING,
    uid: ["simple", "large"],
    column: true,
    perClass: true,
    placeholder: "<eta>",
  }),
  classes: row({
    type: "integer >= 2, at most the dataset's classes",
    default: 2,
    parse: integer(2),
    help: "number of classes (labels 0..k-1); train-large: every class of the dataset",
    role: "data",
    commands: TRAINING,
    uid: ["simple"],
    column: true,
    placeholder: "<k>",
  }),
  sample_size: row({
    type: "integer >= 1, or null for all",
    default: null as number | null,
    parse: (value: unknown): number | null => value === null ? null : integer(1)(value),
    help: "keep the first n training samples of each label",
    role: "data",
    commands: TRAINING,
    uid: ["simple"],
    column: true,
    placeholder: "<n>",
  }),
  // Four-class (latent noise class) problem
  fourclass_problem: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "latent noise class: label c moves to c+2 (two classes only)",
    role: "data",
    commands: SIMPLE,
    uid: ["simple"],
    column: true,
  }),
  fc_noise_degree: row({
    type: "number in [0, 1]",
    default: 0.5,
    parse: real(0, 1),
    help: "probability of the move to the latent class",
    role: "data",
    commands: SIMPLE,
    uid: ["simple"],
    column: true,
    appliesWhen: (config) => config.fourclass_problem === true,
    placeholder: "<p>",
  }),
  fourclass_twofeatures: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "four-class problem with 2 penultimate features",
    role: "model",
    commands: SIMPLE,
    uid: ["simple"],
    column: true,
  }),
  // Runs
  uid: row({
    type: "run name",
    default: null as string | null,
    parse: (value: unknown): string | null => value === null ? null : validateUid(value),
    help: "run directory name (default: the readable uid of the settings plus a digest of " +
      "the others)",
    role: "run-control",
    commands: TRAINING,
    uid: [],
    column: false,
    placeholder: "<name>",
  }),
  force: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "reuse the finished (or trained but not evaluated) model of an existing run with the " +
      "same settings",
    role: "run-control",
    commands: ["train", "train-large", "evaluate-large"],
    uid: [],
    column: false,
  }),
  force_retrain: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "train again; the old run is replaced only when the new one succeeds",
    role: "run-control",
    commands: ["train", "train-large"],
    uid: [],
    column: false,
  }),
  delete_model: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "delete the checkpoints after evaluation",
    role: "run-control",
    commands: ["train-large"],
    uid: [],
    column: false,
  }),
  // Learning
  epochs: row({
    type: "integer >= 1",
    default: 200,
    parse: integer(1),
    help: "epochs",
    role: "optimization",
    commands: TRAINING,
    uid: [],
    column: true,
    placeholder: "<n>",
  }),
  batch_size: row({
    type: "integer >= 1",
    default: 128,
    parse: integer(1),
    help: "batch size",
    role: "optimization",
    commands: TRAINING,
    uid: [],
    column: true,
    placeholder: "<n>",
  }),
  loss: row({
    type: "loss name",
    default: "CrossEntropy" as (typeof LOSS_NAMES)[number],
    parse: choice(LOSS_NAMES),
    help: LOSS_NAMES.join(" | "),
    role: "optimization",
    commands: TRAINING,
    uid: ["simple", "large"],
    column: true,
    placeholder: "<name>",
  }),
  lr: row({
    type: "number > 0",
    default: 0.1,
    parse: real(0, Infinity, { exclusiveMin: true }),
    help: "learning rate",
    role: "optimization",
    commands: TRAINING,
    uid: ["large"],
    column: true,
    placeholder: "<rate>",
  }),
  optimizer: row({
    type: "optimizer name",
    default: "SGD" as (typeof OPTIMIZER_NAMES)[number],
    parse: choice(OPTIMIZER_NAMES),
    help: "SGD (momentum 0.9) | Adam | LBFGS (train only)",
    role: "optimization",
    commands: TRAINING,
    uid: [],
    column: true,
    placeholder: "<name>",
  }),
  weight_decay: row({
    type: "number >= 0",
    default: 5e-4,
    parse: real(0),
    help: "weight decay (coupled, every parameter)",
    role: "optimization",
    commands: TRAINING,
    uid: ["simple", "large"],
    column: true,
    placeholder: "<wd>",
  }),
  decay_type: row({
    type: "step or step_a_b_...",
    default: "step",
    parse: (value: unknown): string => {
      if (typeof value !== "string") throw new SettingError(`expected text, got ${show(value)}`);
      try {
        parseDecayType(value);
      } catch (error) {
        throw new SettingError((error as Error).message);
      }
      return value;
    },
    help: "step, or multistep step_a_b_... (decay at epochs a, b, ...)",
    role: "optimization",
    commands: TRAINING,
    uid: [],
    column: false,
    placeholder: "<type>",
  }),
  patience: row({
    type: "integer >= 1",
    default: 40,
    parse: integer(1),
    help: "step size (epochs) of the step decay",
    role: "optimization",
    commands: TRAINING,
    uid: [],
    column: false,
    appliesWhen: (config) => config.decay_type === "step",
    placeholder: "<epochs>",
  }),
  gamma: row({
    type: "number in [0, 1]",
    default: 0.1,
    parse: real(0, 1),
    help: "step decay factor",
    role: "optimization",
    commands: TRAINING,
    uid: [],
    column: false,
    placeholder: "<factor>",
  }),
  sep_decay: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "weight decay on the classifier and feature decay in the loss only",
    role: "optimization",
    commands: TRAINING,
    uid: ["simple"],
    column: false,
  }),
  feature_decay_rate: row({
    type: "number >= 0",
    default: 1e-4,
    parse: real(0),
    help: "feature decay with --sep_decay",
    role: "optimization",
    commands: TRAINING,
    uid: ["simple"],
    column: false,
    appliesWhen: (config) => config.sep_decay === true,
    placeholder: "<fd>",
  }),
  history_size: row({
    type: "integer >= 1",
    default: 10,
    parse: integer(1),
    help: "L-BFGS history size",
    role: "optimization",
    commands: SIMPLE,
    uid: [],
    column: false,
    appliesWhen: (config) => config.optimizer === "LBFGS",
    placeholder: "<n>",
  }),
  ls_alpha: row({
    type: "number in [0, 1]",
    default: 0.1,
    parse: real(0, 1),
    help: "label smoothing alpha (--loss LS)",
    role: "optimization",
    commands: TRAINING,
    uid: ["simple", "large"],
    column: true,
    appliesWhen: (config) => config.loss === "LS",
    placeholder: "<alpha>",
  }),
  lr_alpha: row({
    type: "number in [0, 1]",
    default: 0.1,
    parse: real(0, 1),
    help: "label relaxation alpha (--loss LR)",
    role: "optimization",
    commands: TRAINING,
    uid: ["simple", "large"],
    column: false,
    appliesWhen: (config) => config.loss === "LR",
    placeholder: "<alpha>",
  }),
  // Evaluation
  eval_every: row({
    type: "integer >= 0",
    default: 0,
    parse: integer(0),
    help: "also evaluate NC and M-D metrics every n epochs (0: at the end)",
    role: "run-control",
    commands: ["train"],
    uid: [],
    column: false,
    placeholder: "<n>",
  }),
  eval_forward_pass: row({
    type: "switch",
    default: false,
    parse: boolean,
    help: "training accuracy from a second, eval-mode forward pass per batch, as the reference " +
      "logs it (slower; default: from the training pass)",
    role: "optimization",
    commands: TRAINING,
    uid: [],
    column: false,
  }),
  train_metrics_on: row({
    type: TRAIN_METRICS_SAMPLES.join(" | "),
    default: "trained" as (typeof TRAIN_METRICS_SAMPLES)[number],
    parse: choice(TRAIN_METRICS_SAMPLES),
    help: "training metrics on the trained samples, or on all saved training samples with the " +
      "validation part (the reference's choice)",
    // What is measured, not what is trained: a run may be evaluated again either way, and its
    // metrics row records the choice.
    role: "run-control",
    commands: SIMPLE,
    uid: [],
    column: true,
    placeholder: "<samples>",
  }),
};

/** A setting's name. */
export type SettingName = keyof typeof SETTINGS;

/** Everything a run depends on: one plain typed object, field names the reference's flags. */
export type TrainConfig = {
  -readonly [K in SettingName]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never;
};

/**
 * The schema's rows as a list of `[name, row]`, in schema order.
 *
 * @example
 * ```ts
 * for (const [name, setting] of settingRows()) console.log(name, setting.role);
 * ```
 */
export function settingRows(): [SettingName, Setting<unknown>][] {
  return Object.entries(SETTINGS) as [SettingName, Setting<unknown>][];
}

/** Every default, from the schema. */
export const DEFAULT_CONFIG: TrainConfig = Object.fromEntries(
  settingRows().map(([name, setting]) => [name, setting.default]),
) as TrainConfig;

/**
 * Whether a setting changes what a run computes (its role is not run-control).
 *
 * @example
 * ```ts
 * affectsResults("lr"); // true
 * affectsResults("backend"); // false
 * ```
 */
export function affectsResults(name: SettingName): boolean {
  return SETTINGS[name].role !== "run-control";
}

/**
 * The result-affecting settings that matter for `config` on `command`: data, model and
 * optimization settings the command takes, leaving out those that do not apply (ls_alpha
 * without --loss LS, ...).
 *
 * @example
 * ```ts
 * resultSettings(DEFAULT_CONFIG, "train").includes("lr"); // true
 * resultSettings(DEFAULT_CONFIG, "train").includes("ls_alpha"); // false: CrossEntropy
 * ```
 */
export function resultSettings(config: TrainConfig, command: CommandName): SettingName[] {
  return settingRows().filter(([name, setting]) =>
    affectsResults(name) && setting.commands.includes(command) &&
    (setting.appliesWhen?.(config as Record<string, unknown>) ?? true)
  ).map(([name]) => name);
}

/** The summary columns of a configuration, in schema order. */
export const SUMMARY_COLUMNS: SettingName[] = settingRows().filter(([, s]) => s.column).map((
  [name],
) => name);

/**
 * The configuration columns of a summary row for `command`: each column setting the command
 * takes, null where it does not apply (ls_alpha without LS); a per-class list goes to
 * `<name>_per_class` (comma-joined), its own column staying numeric.
 *
 * @example
 * ```ts
 * summaryColumns({ ...DEFAULT_CONFIG, label_noise: [0.1, 0.3] }, "train");
 * // { model: "MLP", ..., label_noise: null, label_noise_per_class: "0.1,0.3", ... }
 * ```
 */
export function summaryColumns(
  config: TrainConfig,
  command: CommandName,
): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  for (const name of SUMMARY_COLUMNS) {
    const setting: Setting<unknown> = SETTINGS[name];
    if (!setting.commands.includes(command)) continue;
    const value = config[name];
    const applies = setting.appliesWhen?.(config as Record<string, unknown>) ?? true;
    columns[name] = applies && !Array.isArray(value) ? value : null;
    if (setting.perClass) {
      columns[`${name}_per_class`] = Array.isArray(value) ? value.join(",") : null;
    }
  }
  return columns;
}

/** A setting's name in camelCase (`batch_size` -> `batchSize`), as notebooks and experiments write it. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/**
 * The settings by their camelCase names, typed from the schema: an experiment's parameters are a
 * `Pick` of these, turned into flags by {@link settingFlags}.
 */
export type SettingParams = { -readonly [K in SettingName as CamelCase<K>]: TrainConfig[K] };

/** A setting's camelCase name. */
export type SettingParamName = keyof SettingParams;

/**
 * The camelCase name of a setting (`batch_size` -> `batchSize`, `ETF_fc` -> `ETFFc`).
 *
 * @example
 * ```ts
 * camelCase("weight_decay"); // "weightDecay"
 * ```
 */
export function camelCase<S extends string>(name: S): CamelCase<S> {
  return name.replace(/_([^_])/g, (_, letter: string) => letter.toUpperCase()) as CamelCase<S>;
}

const SETTING_OF_PARAM = new Map<string, SettingName>(
  settingRows().map(([name]) => [camelCase(name), name]),
);

/**
 * The setting a parameter name stands for: its camelCase name (`batchSize`) or the setting's own
 * name (`batch_size`); undefined for a name that is no setting (`noiseLevels`).
 *
 * @example
 * ```ts
 * settingOfParam("weightDecay"); // "weight_decay"
 * settingOfParam("noiseLevels"); // undefined
 * ```
 */
export function settingOfParam(name: string): SettingName | undefined {
  return SETTING_OF_PARAM.get(name) ??
    (Object.hasOwn(SETTINGS, name) ? name as SettingName : undefined);
}

/**
 * The flags (setting names) of the camelCase parameters `names` of `params`, in the order of
 * `names`; an undefined parameter leaves its setting's default.
 *
 * @example
 * ```ts
 * const params = { batchSize: 64, useBn: true, seeds: [1, 2] };
 * settingFlags(params, ["batchSize", "useBn"]);
 * // { batch_size: 64, use_bn: true }
 * ```
 */
export function settingFlags<N extends SettingParamName>(
  params: Partial<Pick<SettingParams, N>>,
  names: readonly N[],
): Partial<TrainConfig> {
  const flags: Record<string, unknown> = {};
  for (const name of names) {
    if (params[name] !== undefined) flags[SETTING_OF_PARAM.get(name)!] = params[name];
  }
  return flags as Partial<TrainConfig>;
}
