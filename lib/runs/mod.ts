/**
 * Run directories (docs/reference.md#run-directories): the uid scheme, the refuse/reuse rules, atomic writes, and
 * saving and loading the trained model.
 *
 * @module
 */
import type { TrainConfig } from "../config/flags.ts";

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
 * "-"), and `--sample_size n` appends `_n{n}` (the reference leaves both out of the uid, so such
 * runs would collide).
 *
 * @example
 * ```ts
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
  const suffix = fourclass + (config.sample_size ? `_n${config.sample_size}` : "");
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

/** Marker file whose presence means the run finished (written last, atomically). */
export const COMPLETE_MARKER = "run.json";
/** File names inside a run directory. */
export const RUN_FILES = {
  args: "args.json",
  trainingSet: "training_set.parquet",
  modelWeights: "model.bin",
  modelIndex: "model.json",
  history: "history.parquet",
  metrics: "metrics.parquet",
  features: "features.parquet",
  classifier: "classifier.parquet",
  summary: "metrics.json",
  log: "log.txt",
} as const;

/** A run directory that is refused without `--force`. */
export class RunExistsError extends Error {
  override name = "RunExistsError";
}

/** True when the path exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Write bytes or text atomically: to a temporary name in the same directory, then rename, so a
 * reader never sees a partial file.
 *
 * @example
 * ```ts
 * await writeFileAtomic("results/x.json", JSON.stringify({ a: 1 }));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const directory = path.slice(0, path.lastIndexOf("/")) || ".";
  await Deno.mkdir(directory, { recursive: true });
  const temporary = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(temporary, data);
    else await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** Whether a run directory holds a finished run. */
export function isFinished(dir: string): boolean {
  return exists(`${dir}/${COMPLETE_MARKER}`);
}

/** What to do with a run directory. */
export interface RunPlan {
  dir: string;
  /** Reuse the finished model found there instead of training. */
  reuseModel: boolean;
}

/**
 * Apply the reference's rules: a new directory is created; an existing one is an error unless
 * `force`; with `force`, a finished model is reused unless `forceRetrain`, otherwise the old
 * contents are removed before training again.
 *
 * @example
 * ```ts
 * const plan = await planRunDirectory("results/runs", "my_run", { force: false, forceRetrain: false });
 * ```
 */
export async function planRunDirectory(
  basePath: string,
  uid: string,
  options: { force: boolean; forceRetrain: boolean },
): Promise<RunPlan> {
  const dir = `${basePath}/${uid}`;
  if (exists(dir)) {
    if (!options.force) {
      throw new RunExistsError(
        `run directory ${dir} already exists; pass --force to reuse its finished model ` +
          `(with --force_retrain to train again), or choose another --uid`,
      );
    }
    if (isFinished(dir) && !options.forceRetrain) return { dir, reuseModel: true };
    await Deno.remove(dir, { recursive: true });
  }
  await Deno.mkdir(dir, { recursive: true });
  return { dir, reuseModel: false };
}

/** A named tensor value as saved in a model file. */
export interface SavedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/**
 * Save tensors as `model.bin` (float32, little-endian, concatenated) plus `model.json` (names,
 * shapes, offsets), each written atomically.
 *
 * @example
 * ```ts
 * await saveTensors(dir, [{ name: "w", shape: [2], values: new Float32Array([1, 2]) }]);
 * ```
 */
export async function saveTensors(dir: string, tensors: SavedTensor[]): Promise<void> {
  const total = tensors.reduce((sum, t) => sum + t.values.length, 0);
  const buffer = new Float32Array(total);
  const index: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    buffer.set(tensor.values, offset);
    index.push({ name: tensor.name, shape: tensor.shape, offset, length: tensor.values.length });
    offset += tensor.values.length;
  }
  await writeFileAtomic(`${dir}/${RUN_FILES.modelWeights}`, new Uint8Array(buffer.buffer));
  await writeFileAtomic(
    `${dir}/${RUN_FILES.modelIndex}`,
    JSON.stringify({ format: "memdil-float32-v1", tensors: index }, null, 2),
  );
}

/**
 * Load tensors saved by {@link saveTensors}.
 *
 * @example
 * ```ts
 * const values = await loadTensors(dir); // Map name -> Float32Array
 * ```
 */
export async function loadTensors(dir: string): Promise<Map<string, Float32Array>> {
  const index = JSON.parse(await Deno.readTextFile(`${dir}/${RUN_FILES.modelIndex}`)) as {
    tensors: { name: string; offset: number; length: number }[];
  };
  const bytes = await Deno.readFile(`${dir}/${RUN_FILES.modelWeights}`);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Map(
    index.tensors.map((t) => [t.name, all.slice(t.offset, t.offset + t.length)]),
  );
}
