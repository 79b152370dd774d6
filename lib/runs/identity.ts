/**
 * Run identity: the reference's readable uid plus a short digest of every other setting that
 * affects results, so that two different configurations never share a run directory; and the
 * comparison of a configuration with the one a run was trained with.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  type CommandName,
  DEFAULT_CONFIG,
  resultSettings,
  type SettingName,
  SETTINGS,
  type TrainConfig,
} from "../config/schema.ts";
import { FOUR_CLASS_SLOTS } from "../models/etf.ts";

/**
 * Format a number as Python's `repr(float)` does (0.2, 0.001, 0.0001, 1e-05, 0.0), so uids match
 * the reference's.
 *
 * @example
 * ```ts
 * pythonFloat(1e-5); // "1e-05"
 * pythonFloat(0); // "0.0"
 * ```
 */
export function pythonFloat(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "inf" : value < 0 ? "-inf" : "nan";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa, exponentText] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const positional = value.toFixed(Math.max(0, mantissa.replace(/^-?\d\.?/, "").length - exponent));
  return positional.includes(".") ? positional : `${positional}.0`;
}

/**
 * The reference's simple-model uid, e.g. `MLP_svhn_c2_ln0.2_LS0.1_relu_d9_w2048_wd0.001-0.0001_with_bn_s42`.
 * Four-class runs append `_4c{fc_noise_degree}` (and `_4c2d` with two features), as the reference
 * does. memdil's additions: a per-class label noise vector reads `ln0.1-0.3` (the rates joined by
 * "-"), and `--sample_size n` appends `_n{n}`, before the four-class part (the reference leaves both
 * out of the uid, so such runs would collide).
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "../config/schema.ts";
 * simpleModelUid({ ...DEFAULT_CONFIG, loss: "LS", label_noise: 0.2 });
 * ```
 */
export function simpleModelUid(
  config:
    & Pick<
      TrainConfig,
      | "model"
      | "dataset"
      | "classes"
      | "label_noise"
      | "loss"
      | "ls_alpha"
      | "act_fn"
      | "depth"
      | "width"
      | "weight_decay"
      | "feature_decay_rate"
      | "use_bn"
      | "seed"
    >
    & Partial<
      Pick<
        TrainConfig,
        "sample_size" | "fourclass_problem" | "fc_noise_degree" | "fourclass_twofeatures"
      >
    >
    & Partial<Pick<TrainConfig, "lr_alpha" | "sep_decay">>,
): string {
  const loss = lossTag(config);
  const noise = Array.isArray(config.label_noise)
    ? config.label_noise.map(pythonFloat).join("-")
    : pythonFloat(config.label_noise);
  const fourclass = config.fourclass_problem
    ? `_4c${pythonFloat(config.fc_noise_degree ?? 0.5)}` +
      (config.fourclass_twofeatures ? "_4c2d" : "")
    : "";
  // `_n` before `_4c`: in the four-class problem the subsample is drawn before the move.
  const suffix = (config.sample_size ? `_n${config.sample_size}` : "") + fourclass;
  return [
    config.model,
    config.dataset,
    `c${config.classes}`,
    `ln${noise}`,
    loss,
    config.act_fn,
    `d${config.depth}`,
    `w${config.width}`,
    `wd${pythonFloat(config.weight_decay)}-${pythonFloat(config.feature_decay_rate)}` +
    (config.sep_decay ? "sep" : ""),
    config.use_bn ? "with_bn" : "wo_bn",
    `s${config.seed}`,
  ].join("_") + suffix;
}

/** The loss part of a uid: LS and LR carry their alpha (LS0.1, LR0.1). */
function lossTag(
  config: Pick<TrainConfig, "loss" | "ls_alpha"> & Partial<Pick<TrainConfig, "lr_alpha">>,
) {
  if (config.loss === "LS") return `LS${pythonFloat(config.ls_alpha)}`;
  if (config.loss === "LR") return `LR${pythonFloat(config.lr_alpha ?? 0.1)}`;
  return config.loss;
}

/**
 * The reference's large-scale uid: dataset, "s"+seed, loss (+alpha), model, "wd"+wd, "lr"+lr,
 * e.g. `cifar10_s6_CrossEntropy_resnet18_wd0.0005_lr0.1`. The reference leaves label noise out
 * (runs at different noise would share a directory): a non-zero noise appends `_ln{eta}`.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "../config/schema.ts";
 * largeScaleUid({ ...DEFAULT_CONFIG, model: "resnet18", dataset: "cifar10" });
 * ```
 */
export function largeScaleUid(
  config: Pick<
    TrainConfig,
    | "dataset"
    | "seed"
    | "loss"
    | "ls_alpha"
    | "lr_alpha"
    | "model"
    | "weight_decay"
    | "lr"
    | "label_noise"
  >,
): string {
  const noise = Array.isArray(config.label_noise)
    ? config.label_noise.map(pythonFloat).join("-")
    : config.label_noise === 0
    ? ""
    : pythonFloat(config.label_noise);
  return [
    config.dataset,
    `s${config.seed}`,
    lossTag(config),
    config.model,
    `wd${pythonFloat(config.weight_decay)}`,
    `lr${pythonFloat(config.lr)}`,
  ].join("_") + (noise ? `_ln${noise}` : "");
}

/** The two kinds of runs: simple (MLP, `train`) and large-scale (`train-large`). */
export type RunKind = "simple" | "large";

const TRAINING_COMMAND: Record<RunKind, CommandName> = { simple: "train", large: "train-large" };

/**
 * A short digest (8 hex digits) of the result-affecting settings that the readable uid of `kind`
 * does not show, leaving out settings at their default (so adding a setting with a neutral
 * default keeps existing runs' uids) and settings that do not apply (ls_alpha without LS).
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "../config/schema.ts";
 * settingsDigest({ ...DEFAULT_CONFIG, lr: 0.05 }, "simple"); // e.g. "5d0c1a9e"
 * ```
 */
export function settingsDigest(config: TrainConfig, kind: RunKind): string {
  const entries = resultSettings(config, TRAINING_COMMAND[kind])
    .filter((name) => !SETTINGS[name].uid.includes(kind))
    .filter((name) => JSON.stringify(config[name]) !== JSON.stringify(DEFAULT_CONFIG[name]))
    .sort()
    .map((name): [string, unknown] => [name, config[name]]);
  return createHash("sha256")
    .update(JSON.stringify([...entries, ...revisedStart(config)]))
    .digest("hex").slice(0, 8);
}

/**
 * A start whose definition changed after runs were trained with it joins the digest with its
 * current definition, so a run trained with an earlier one is never reused (or labelled) under
 * today's settings. The four-class, two-feature `etf` start ordered its quadrant rows 0, 1, 2, 3
 * until 2026-12-05; since then each class sits next to its latent class ({@link FOUR_CLASS_SLOTS}).
 */
function revisedStart(config: TrainConfig): [string, unknown][] {
  const quadrantStart = config.classifier_init === "etf" && !config.ETF_fc &&
    config.fourclass_problem && config.fourclass_twofeatures;
  return quadrantStart ? [["classifier_slots", FOUR_CLASS_SLOTS]] : [];
}

/**
 * The run directory name of a configuration: `--uid` when given, else the readable uid
 * ({@link simpleModelUid} or {@link largeScaleUid}) and the {@link settingsDigest}, e.g.
 * `MLP_fashionmnist_c2_ln0.2_CrossEntropy_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6_1f2e3d4c`.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "../config/schema.ts";
 * runUid({ ...DEFAULT_CONFIG, epochs: 2 }, "simple");
 * ```
 */
export function runUid(config: TrainConfig, kind: RunKind): string {
  if (config.uid !== null) return config.uid;
  const readable = kind === "simple" ? simpleModelUid(config) : largeScaleUid(config);
  return `${readable}_${settingsDigest(config, kind)}`;
}

/**
 * The result-affecting settings in which `config` differs from a run's saved settings (its
 * `args.json`; a setting it lacks had its default), as `--name value (the run used value)`.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG } from "../config/schema.ts";
 * settingDifferences({ ...DEFAULT_CONFIG }, { ...DEFAULT_CONFIG, bias: false }, "simple");
 * // ["--bias false (the run used true)"]
 * ```
 */
export function settingDifferences(
  saved: Readonly<Record<string, unknown>>,
  config: TrainConfig,
  kind: RunKind,
): string[] {
  const before = { ...DEFAULT_CONFIG, ...saved } as TrainConfig;
  const command = TRAINING_COMMAND[kind];
  const names = new Set<SettingName>([
    ...resultSettings(before, command),
    ...resultSettings(config, command),
  ]);
  return [...names]
    .filter((name) => JSON.stringify(before[name]) !== JSON.stringify(config[name]))
    .map((name) =>
      `--${name} ${JSON.stringify(config[name])} (the run used ${JSON.stringify(before[name])})`
    );
}
