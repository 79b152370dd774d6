/**
 * The files of a run directory: their names, the atomic writer, and the tensor format of a
 * saved model (also used by checkpoints).
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";

export { writeFileAtomic };

/**
 * The run marker: written first, when memdil creates a run directory (`{ memdil_run, uid, kind,
 * started }`), and rewritten with `finished` (and the backend, epochs, ...) when the run
 * finished. Only a directory holding it is one of memdil's runs: nothing else is ever staged
 * over, replaced or deleted.
 */
export const RUN_MARKER = "run.json";
/**
 * The one list of file names inside a run directory (runs, sweeps, summaries and the gallery
 * all name files through it).
 */
export const RUN_FILES = {
  marker: RUN_MARKER,
  args: "args.json",
  trainingSet: "training_set.parquet",
  modelWeights: "model.bin",
  modelIndex: "model.json",
  history: "history.parquet",
  metrics: "metrics.parquet",
  classMetrics: "class_metrics.parquet",
  features: "features.parquet",
  classifier: "classifier.parquet",
  summary: "metrics.json",
  log: "log.txt",
  trainingSetInfo: "training_set.json",
  figures: "figures",
  epochMetrics: "epoch_metrics.parquet",
  epochClassMetrics: "epoch_class_metrics.parquet",
  epochMatrices: "epoch_matrices.parquet",
  epochSummary: "epoch_metrics.json",
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

/** What a run marker holds. */
export interface RunMarker {
  /** Format tag: `1`. */
  memdil_run?: number;
  uid: string;
  kind?: string;
  started?: string;
  /** When the run finished (absent while it is unfinished). */
  finished?: string;
  [key: string]: unknown;
}

/**
 * The run marker of `dir`, or undefined when `dir` is not one of memdil's runs (no marker, or one
 * that is not a marker).
 *
 * @example
 * ```ts
 * readRunMarker("results/runs/my_run")?.finished; // ISO time, or undefined
 * ```
 */
export function readRunMarker(dir: string): RunMarker | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Deno.readTextFileSync(`${dir}/${RUN_MARKER}`));
  } catch {
    return undefined;
  }
  const marker = value as RunMarker;
  return marker !== null && typeof marker === "object" && typeof marker.uid === "string"
    ? marker
    : undefined;
}

/**
 * Whether `dir` is one of memdil's run directories (it holds a run marker).
 *
 * @example
 * ```ts
 * isRunDirectory("results/runs/my_run"); // true
 * isRunDirectory("results"); // false
 * ```
 */
export function isRunDirectory(dir: string): boolean {
  return readRunMarker(dir) !== undefined;
}

/**
 * Whether `dir` holds a finished run (its marker says so).
 *
 * @example
 * ```ts
 * isFinishedRun("results/runs/my_run"); // true once the run finished
 * ```
 */
export function isFinishedRun(dir: string): boolean {
  return typeof readRunMarker(dir)?.finished === "string";
}

/**
 * Write the marker of a run directory being created (or being evaluated again: `fields` then
 * carry what the earlier marker held, without `finished`).
 *
 * @example
 * ```ts
 * declare const dir: string;
 * await writeRunMarker(dir, { uid: "my_run", kind: "simple" });
 * ```
 */
export async function writeRunMarker(dir: string, fields: RunMarker): Promise<void> {
  await writeFileAtomic(
    `${dir}/${RUN_MARKER}`,
    JSON.stringify({ memdil_run: 1, started: new Date().toISOString(), ...fields }, null, 1),
  );
}

/**
 * Mark the run in `dir` unfinished (before its results are rewritten, e.g. by an evaluation):
 * a run stopped half way is then never taken for a finished one.
 *
 * @example
 * ```ts
 * declare const dir: string;
 * await markRunUnfinished(dir);
 * ```
 */
export async function markRunUnfinished(dir: string): Promise<void> {
  const marker = readRunMarker(dir);
  if (!marker?.finished) return;
  const { finished: _finished, ...rest } = marker;
  await writeRunMarker(dir, rest);
}

/**
 * Run `rewrite`, which rewrites some of the results of the run in `dir` (an evaluation of its
 * checkpoints), with the run marked unfinished meanwhile, so that one stopped half way (even by
 * kill -9) never looks finished with tables of two evaluations. The marker then says
 * `reevaluating` (when that began): a run finished before its training ended is told apart from
 * one whose re-evaluation was stopped, and the next re-evaluation that runs to its end finishes it
 * again. A run that was not finished stays unfinished (only its training finishes it).
 *
 * @example
 * ```ts
 * declare const dir: string;
 * await whileRewriting(dir, async () => {
 *   // rewrite the per-epoch tables
 * });
 * ```
 */
export async function whileRewriting<T>(dir: string, rewrite: () => Promise<T>): Promise<T> {
  const marker = readRunMarker(dir);
  if (!marker || (!marker.finished && !marker.reevaluating)) return await rewrite();
  const { finished: _finished, ...rest } = marker;
  await writeRunMarker(dir, {
    ...rest,
    reevaluating: rest.reevaluating ?? new Date().toISOString(),
  });
  const result = await rewrite();
  const { reevaluating: _since, ...done } = readRunMarker(dir) ?? marker;
  await writeRunMarker(dir, { ...done, finished: new Date().toISOString() });
  return result;
}

/**
 * Mark the run in `dir` finished, recording `facts` (backend, epochs, ...) in its marker.
 *
 * @example
 * ```ts
 * declare const dir: string;
 * await markRunFinished(dir, { uid: "my_run", backend: "wasm", epochs: 2 });
 * ```
 */
export async function markRunFinished(
  dir: string,
  facts: { uid: string; [key: string]: unknown },
): Promise<void> {
  const marker = readRunMarker(dir) ?? { uid: facts.uid };
  await writeRunMarker(dir, { ...marker, ...facts, finished: new Date().toISOString() });
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

/** A saved file that cannot be used (truncated, edited, damaged, not finite); named in the message. */
export class DamagedFileError extends Error {
  override name = "DamagedFileError";
}

const TENSOR_FORMAT = "memdil-float32-v1";

interface TensorIndexEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** SHA-256 of the index (the header) and the values: the checksum of a saved tensor file. */
async function tensorChecksum(index: TensorIndexEntry[], bytes: Uint8Array): Promise<string> {
  const header = new TextEncoder().encode(
    JSON.stringify({ format: TENSOR_FORMAT, tensors: index }),
  );
  const whole = new Uint8Array(header.length + bytes.length);
  whole.set(header);
  whole.set(bytes, header.length);
  const digest = await crypto.subtle.digest("SHA-256", whole);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Save tensors as `<base>.bin` (float32, little-endian, concatenated) plus `<base>.json` (names,
 * shapes, offsets, and a SHA-256 of the index and the values), each written atomically: the one
 * tensor format of saved models and checkpoints. A tensor holding NaN or an infinity is refused
 * ({@link NonFiniteError}), so a diverged model is never saved as if it were trained.
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
  const index: TensorIndexEntry[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    if (!tensor.values.every(Number.isFinite)) {
      throw new NonFiniteError(`${tensor.name} holds NaN or infinite values: not saved`);
    }
    buffer.set(tensor.values, offset);
    index.push({ name: tensor.name, shape: tensor.shape, offset, length: tensor.values.length });
    offset += tensor.values.length;
  }
  const bytes = new Uint8Array(buffer.buffer);
  await writeFileAtomic(`${dir}/${base}.bin`, bytes);
  await writeFileAtomic(
    `${dir}/${base}.json`,
    JSON.stringify(
      { format: TENSOR_FORMAT, tensors: index, sha256: await tensorChecksum(index, bytes) },
      null,
      1,
    ),
  );
}

/**
 * Load tensors saved by {@link saveTensors}, checking them first: the index is well formed, the
 * values file has the size it names, the checksum (of index and values) matches, and every value
 * is finite. A file failing any check is never used: {@link DamagedFileError} names it.
 *
 * @example
 * ```ts
 * declare const dir: string;
 * const values = await loadTensors(dir); // Map name -> Float32Array
 * ```
 */
export async function loadTensors(dir: string, base = "model"): Promise<Map<string, Float32Array>> {
  const indexPath = `${dir}/${base}.json`;
  const valuesPath = `${dir}/${base}.bin`;
  const damaged = (path: string, why: string) =>
    new DamagedFileError(
      `${path} is damaged (${why}): it is not used; train the run again (--force_retrain), or ` +
        `restore the file`,
    );
  let document: { format?: unknown; tensors?: unknown; sha256?: unknown };
  try {
    document = JSON.parse(await Deno.readTextFile(indexPath));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw error;
    throw damaged(indexPath, `not valid JSON: ${(error as Error).message}`);
  }
  const index = document?.tensors as TensorIndexEntry[];
  const wellFormed = document?.format === TENSOR_FORMAT && Array.isArray(index) &&
    index.every((t) =>
      t !== null && typeof t === "object" && typeof t.name === "string" &&
      Number.isInteger(t.offset) && Number.isInteger(t.length) && t.offset >= 0 && t.length >= 0
    );
  if (!wellFormed) throw damaged(indexPath, `not a ${TENSOR_FORMAT} index`);
  const bytes = await Deno.readFile(valuesPath);
  const expected = 4 * index.reduce((n, t) => Math.max(n, t.offset + t.length), 0);
  if (bytes.byteLength !== expected) {
    throw damaged(valuesPath, `${bytes.byteLength} bytes where its index names ${expected}`);
  }
  // Files saved before the checksum existed are checked for size and finiteness only.
  if (document.sha256 !== undefined && document.sha256 !== await tensorChecksum(index, bytes)) {
    throw damaged(valuesPath, `its checksum does not match ${indexPath}`);
  }
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const tensors = new Map<string, Float32Array>();
  for (const t of index) {
    const values = all.slice(t.offset, t.offset + t.length);
    if (!values.every(Number.isFinite)) {
      throw damaged(valuesPath, `${t.name} holds NaN or infinite values`);
    }
    tensors.set(t.name, values);
  }
  return tensors;
}
