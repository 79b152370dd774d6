/**
 * Build the model a configuration names (the reference's `--model` and model flags).
 *
 * @module
 */
import { type Activation, type ClassifierInit, Mlp } from "./mlp.ts";
import type { Model } from "./layers.ts";
import { ResNet } from "./resnet.ts";
import { Vgg } from "./vgg.ts";

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

/**
 * The configuration fields that choose and shape a model (the reference's flag names). Their
 * types are the schema's (lib/config/schema.ts builds its rows from {@link MODEL_NAMES},
 * {@link ACTIVATIONS} and {@link CLASSIFIER_INITS}), and a run's configuration is passed here
 * as it is, so the compiler rejects a field whose type drifts from its setting.
 */
export interface ModelOptions {
  model: ModelName;
  classes: number;
  bias: boolean;
  seed: number;
  // MLP only (defaults: the reference's width 1024, depth 6, relu, no batch norm)
  width?: number;
  depth?: number;
  act_fn?: Activation;
  use_bn?: boolean;
  use_layer_norm?: boolean;
  /** Penultimate features of the MLP (default: classes; 2 with `--fourclass_twofeatures`). */
  feature_dim?: number;
  /** The MLP classifier's starting weight (default: PyTorch's; `etf`: the simplex ETF). */
  classifier_init?: ClassifierInit;
  // Convolutional models and the classifier
  ETF_fc?: boolean;
  fixdim?: number;
  SOTA?: boolean;
}

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
