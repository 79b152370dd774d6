/**
 * The files of a run directory: their names, the atomic writer, and the tensor format of a
 * saved model (also used by checkpoints).
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";

export { writeFileAtomic };

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

/** A named tensor value as saved in a model file. */
export interface SavedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** A tensor to be saved holds NaN or an infinity: the model diverged. */
export class NonFiniteError extends Error {
  override name = "NonFiniteError";
}

/**
 * Save tensors as `<base>.bin` (float32, little-endian, concatenated) plus `<base>.json` (names,
 * shapes, offsets), each written atomically: the one tensor format of saved models and
 * checkpoints. A tensor holding NaN or an infinity is refused ({@link NonFiniteError}), so a
 * diverged model is never saved as if it were trained.
 *
 * @example
 * ```ts
 * declare const dir: string;
 * await saveTensors(dir, [{ name: "w", shape: [2], values: new Float32Array([1, 2]) }]);
 * ```
 */
export async function saveTensors(
  dir: string,
  tensors: SavedTensor[],
  base = "model",
): Promise<void> {
  const total = tensors.reduce((sum, t) => sum + t.values.length, 0);
  const buffer = new Float32Array(total);
  const index: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    if (!tensor.values.every(Number.isFinite)) {
      throw new NonFiniteError(`${tensor.name} holds NaN or infinite values: not saved`);
    }
    buffer.set(tensor.values, offset);
    index.push({ name: tensor.name, shape: tensor.shape, offset, length: tensor.values.length });
    offset += tensor.values.length;
  }
  await writeFileAtomic(`${dir}/${base}.bin`, new Uint8Array(buffer.buffer));
  await writeFileAtomic(
    `${dir}/${base}.json`,
    JSON.stringify({ format: "memdil-float32-v1", tensors: index }, null, 1),
  );
}

/**
 * Load tensors saved by {@link saveTensors}.
 *
 * @example
 * ```ts
 * declare const dir: string;
 * const values = await loadTensors(dir); // Map name -> Float32Array
 * ```
 */
export async function loadTensors(dir: string, base = "model"): Promise<Map<string, Float32Array>> {
  const index = JSON.parse(await Deno.readTextFile(`${dir}/${base}.json`)) as {
    tensors: { name: string; offset: number; length: number }[];
  };
  const bytes = await Deno.readFile(`${dir}/${base}.bin`);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Map(
    index.tensors.map((t) => [t.name, all.slice(t.offset, t.offset + t.length)]),
  );
}
