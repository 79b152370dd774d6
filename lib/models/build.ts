/**
 * Build the model a configuration names (the reference's `--model` and model flags).
 *
 * @module
 */
import { MODEL_NAMES, type TrainConfig } from "../config/schema.ts";
import { Mlp } from "./mlp.ts";
import type { Model } from "./layers.ts";
import { ResNet } from "./resnet.ts";
import { Vgg } from "./vgg.ts";

/**
 * The settings that choose and shape a model, by the reference's flag names and typed from the
 * schema (a run's configuration is passed here as it is): `model`, `bias` and `seed`; the MLP's
 * (defaults: the reference's width 1024, depth 6, relu, no batch norm, no layer norm, PyTorch's
 * classifier start); those of the convolutional models and the classifier (`ETF_fc`, `fixdim`,
 * `SOTA`); and the model's shape: `classes` and the MLP's penultimate features `feature_dim`
 * (default: classes; 2 with `--fourclass_twofeatures`).
 */
export type ModelOptions =
  & Pick<TrainConfig, "model" | "bias" | "seed">
  & Partial<
    Pick<
      TrainConfig,
      | "width"
      | "depth"
      | "act_fn"
      | "use_bn"
      | "use_layer_norm"
      | "classifier_init"
      | "ETF_fc"
      | "fixdim"
      | "SOTA"
    >
  >
  & { classes: number; feature_dim?: number };

/**
 * The model `options.model` names, its weights drawn from `options.seed`.
 *
 * @example
 * ```ts
 * const model = buildModel({ model: "resnet18", classes: 10, bias: true, seed: 6 });
 * ```
 */
export function buildModel(options: ModelOptions): Model {
  const shared = {
    classes: options.classes,
    bias: options.bias,
    etfClassifier: options.ETF_fc === true,
    fixdim: (options.fixdim ?? 0) !== 0,
  };
  if (options.model === "MLP") {
    if (shared.fixdim) throw new Error("--fixdim applies to ResNet and VGG, not to the MLP");
    if (options.SOTA) throw new Error("--SOTA (the CIFAR stem) applies to ResNet, not to the MLP");
    return new Mlp({
      inputSize: 3 * 32 * 32,
      width: options.width ?? 1024,
      depth: options.depth ?? 6,
      classes: options.classes,
      featureDim: options.feature_dim ?? options.classes,
      actFn: options.act_fn ?? "relu",
      useBn: options.use_bn ?? false,
      useLayerNorm: options.use_layer_norm === true,
      bias: options.bias,
      etfClassifier: shared.etfClassifier,
      classifierInit: options.classifier_init ?? "default",
    }, options.seed);
  }
  if ((options.classifier_init ?? "default") !== "default") {
    throw new Error(
      "--classifier_init applies to the MLP; ResNet and VGG take --ETF_fc (a fixed ETF classifier)",
    );
  }
  const resnet = /^resnet(18|34|50)$/.exec(options.model);
  if (resnet) {
    return new ResNet({
      ...shared,
      depth: Number(resnet[1]) as 18 | 34 | 50,
      sota: options.SOTA === true,
    }, options.seed);
  }
  const vgg = /^vgg(11|13|16|19)(_nobn)?$/.exec(options.model);
  if (vgg) {
    if (options.SOTA) throw new Error("--SOTA (the CIFAR stem) applies to ResNet, not to VGG");
    return new Vgg({
      ...shared,
      depth: Number(vgg[1]) as 11 | 13 | 16 | 19,
      batchNorm: vgg[2] === undefined,
    }, options.seed);
  }
  throw new Error(`unknown model '${options.model}': use one of ${MODEL_NAMES.join(", ")}`);
}

/**
 * The model of a run, from its settings: `classes` is the data's (4 in the four-class problem),
 * and the penultimate layer has as many features, or 2 with `fourclass_twofeatures`. The one
 * factory of run models (simple and large-scale runs, evaluation).
 *
 * @example
 * ```ts
 * const model = runModel({ model: "MLP", bias: true, seed: 6, width: 64, depth: 3 }, 2);
 * ```
 */
export function runModel(
  settings: Omit<ModelOptions, "classes" | "feature_dim"> & { fourclass_twofeatures?: boolean },
  classes: number,
): Model {
  return buildModel({
    ...settings,
    classes,
    feature_dim: settings.fourclass_twofeatures ? 2 : classes,
  });
}
