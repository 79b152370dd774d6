/**
 * Per-epoch checkpoints of large-scale runs: everything needed to evaluate an epoch afterwards
 * and to resume training exactly where it stopped.
 *
 * Format (`memdil-checkpoint-v1`): a directory `<run>/epoch_NNN` (NNN = the 1-based epoch just
 * finished, at least 3 digits, as the reference's `epoch_NNN.pth`) holding
 *
 * - `model.bin` + `model.json`: the model's state (parameters, frozen ones included, and
 *   batch-norm running statistics), float32 little-endian, concatenated; the JSON lists
 *   `{ name, shape, offset, length }` per tensor (torchvision names; tfjs layouts: convolution
 *   kernels [kh, kw, in, out], linear weights [in, out]);
 * - `optimizer.bin` + `optimizer.json`: the optimizer's state in the same format, named
 *   `<parameter>/momentum_buffer` (SGD) or `<parameter>/exp_avg`, `/exp_avg_sq`, `/step` (Adam);
 * - `checkpoint.json`: `{ format, epoch, optimizer, lr, history }`, history being the training
 *   records of epochs 1..epoch.
 *
 * A checkpoint is written into a temporary directory `.epoch_NNN.tmp-*` in the run directory and
 * renamed to `epoch_NNN` only when complete, so an `epoch_NNN` directory is always whole; a
 * killed write leaves only a temporary directory, removed by {@link removeStaleCheckpoints}.
 *
 * @module
 */
import { DamagedFileError, loadTensors, type SavedTensor, saveTensors } from "../runs/files.ts";

/** Format tag written into every checkpoint. */
export const CHECKPOINT_FORMAT = "memdil-checkpoint-v1";

/** A named float32 tensor. */
export type NamedTensor = SavedTensor;

/** The JSON part of a checkpoint. */
export interface CheckpointInfo<Record = unknown> {
  format: typeof CHECKPOINT_FORMAT;
  /** 1-based epoch just finished. */
  epoch: number;
  optimizer: string;
  /** Learning rate of that epoch. */
  lr: number;
  /** Training records of epochs 1..epoch. */
  history: Record[];
}

/** A loaded checkpoint. */
export interface Checkpoint<Record = unknown> extends CheckpointInfo<Record> {
  dir: string;
  model: Map<string, Float32Array>;
  optimizerState: Map<string, Float32Array>;
}

/**
 * Directory name of the checkpoint of `epoch` (`epoch_001`, ..., `epoch_200`, `epoch_1000`).
 *
 * @example
 * ```ts
 * checkpointName(7); // "epoch_007"
 * ```
 */
export function checkpointName(epoch: number): string {
  return `epoch_${String(epoch).padStart(3, "0")}`;
}

const CHECKPOINT_PATTERN = /^epoch_(\d{3,})$/;
const STALE_PATTERN = /^\.epoch_\d{3,}\.tmp-/;

/**
 * Write the checkpoint of `info.epoch` atomically (temporary directory, then rename). An
 * existing checkpoint of that epoch is replaced.
 *
 * @example
 * ```ts
 * import type { StateTensor } from "../optim/mod.ts";
 * declare const runDir: string, history: Record<string, number>[];
 * declare const modelTensors: StateTensor[], optimizerTensors: StateTensor[];
 * await writeCheckpoint(runDir, { format: CHECKPOINT_FORMAT, epoch: 3, optimizer: "SGD",
 *   lr: 0.1, history }, modelTensors, optimizerTensors);
 * ```
 */
export async function writeCheckpoint<Record>(
  runDir: string,
  info: CheckpointInfo<Record>,
  model: NamedTensor[],
  optimizerState: NamedTensor[],
): Promise<string> {
  const name = checkpointName(info.epoch);
  const final = `${runDir}/${name}`;
  const temporary = `${runDir}/.${name}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(temporary, { recursive: true });
  try {
    await saveTensors(temporary, model, "model");
    await saveTensors(temporary, optimizerState, "optimizer");
    await Deno.writeTextFile(`${temporary}/checkpoint.json`, JSON.stringify(info, null, 1));
    // The rename publishes the checkpoint; an existing one of the same epoch goes first.
    await Deno.remove(final, { recursive: true }).catch(() => {});
    await Deno.rename(temporary, final);
  } catch (error) {
    await Deno.remove(temporary, { recursive: true }).catch(() => {});
    throw error;
  }
  return final;
}

/**
 * The epochs that have a complete checkpoint in `runDir`, ascending.
 *
 * @example
 * ```ts
 * declare const runDir: string;
 * listCheckpoints(runDir); // [1, 2, 3]
 * ```
 */
export function listCheckpoints(runDir: string): number[] {
  const epochs: number[] = [];
  try {
    for (const entry of Deno.readDirSync(runDir)) {
      const match = CHECKPOINT_PATTERN.exec(entry.name);
      if (!entry.isDirectory || !match) continue;
      try {
        Deno.statSync(`${runDir}/${entry.name}/checkpoint.json`);
        epochs.push(Number(match[1]));
      } catch {
        // Not a checkpoint of this format.
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return epochs.sort((a, b) => a - b);
}

/**
 * Load the checkpoint of `epoch`.
 *
 * @example
 * ```ts
 * import type { Model } from "../models/mod.ts";
 * declare const runDir: string, model: Model;
 * const checkpoint = await loadCheckpoint(runDir, 3);
 * model.load(checkpoint.model);
 * ```
 */
export async function loadCheckpoint<Record = unknown>(
  runDir: string,
  epoch: number,
): Promise<Checkpoint<Record>> {
  const dir = `${runDir}/${checkpointName(epoch)}`;
  const path = `${dir}/checkpoint.json`;
  let info: CheckpointInfo<Record>;
  try {
    info = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new DamagedFileError(`${path} is damaged (${(error as Error).message})`);
  }
  if (info?.format !== CHECKPOINT_FORMAT) {
    throw new DamagedFileError(
      `${path} is not a ${CHECKPOINT_FORMAT} checkpoint (format '${info?.format}')`,
    );
  }
  if (info.epoch !== epoch || !Array.isArray(info.history)) {
    throw new DamagedFileError(
      `${path} is damaged: it names epoch ${info.epoch} in the directory of epoch ${epoch}, ` +
        `or has no history`,
    );
  }
  return {
    ...info,
    dir,
    model: await loadTensors(dir, "model"),
    optimizerState: await loadTensors(dir, "optimizer"),
  };
}

/**
 * The latest checkpoint of `runDir` that loads intact (see {@link loadCheckpoint}), or undefined
 * when there is none; each damaged later one is reported to `log` by name and skipped (training
 * then resumes from the intact one and writes the later epochs again).
 *
 * @example
 * ```ts
 * declare const runDir: string;
 * const checkpoint = await loadLastIntactCheckpoint(runDir, console.log);
 * ```
 */
export async function loadLastIntactCheckpoint<Record = unknown>(
  runDir: string,
  log: (line: string) => void,
): Promise<Checkpoint<Record> | undefined> {
  for (const epoch of listCheckpoints(runDir).reverse()) {
    try {
      return await loadCheckpoint<Record>(runDir, epoch);
    } catch (error) {
      if (!(error instanceof DamagedFileError)) throw error;
      log(`checkpoint of epoch ${epoch} skipped: ${error.message}`);
    }
  }
  return undefined;
}

/**
 * Remove temporary directories left by checkpoint writes that were killed.
 *
 * @example
 * ```ts
 * declare const runDir: string;
 * await removeStaleCheckpoints(runDir);
 * ```
 */
export async function removeStaleCheckpoints(runDir: string): Promise<string[]> {
  const removed: string[] = [];
  for await (const entry of Deno.readDir(runDir)) {
    if (STALE_PATTERN.test(entry.name)) {
      await Deno.remove(`${runDir}/${entry.name}`, { recursive: true });
      removed.push(entry.name);
    }
  }
  return removed;
}

/**
 * Delete every checkpoint of a run (`--delete_model`, after evaluation).
 *
 * @example
 * ```ts
 * declare const runDir: string;
 * await deleteCheckpoints(runDir);
 * ```
 */
export async function deleteCheckpoints(runDir: string): Promise<number> {
  const epochs = listCheckpoints(runDir);
  for (const epoch of epochs) {
    await Deno.remove(`${runDir}/${checkpointName(epoch)}`, { recursive: true });
  }
  await removeStaleCheckpoints(runDir);
  return epochs.length;
}
