/**
 * Opening a run directory: its identity, its lock, the state an earlier (possibly killed) run
 * left it in, and what this run does about it.
 *
 * States: a run directory is one holding the run marker (`run.json`, written first); a directory
 * without it is *foreign* and is never staged over, replaced or deleted, whatever the flags. A
 * *finished* run's marker says so; a simple run killed after saving its model but before its
 * evaluation finished is *trained* (`deno task evaluate` evaluates it; `--force` reuses the
 * model); any other run directory is *unfinished* (a large-scale run resumes from its last
 * checkpoint; a simple run has nothing to recover and trains again with `--force`).
 *
 * Rules: nothing is created until training starts ({@link OpenedRun.create}); `--force` reuses a
 * model only when every result-affecting setting matches the saved ones (otherwise the
 * differences are named); `--force_retrain` trains in a staging directory beside the run and
 * replaces the old run only when the new one succeeds ({@link OpenedRun.commit}).
 *
 * @module
 */
import type { TrainConfig } from "../config/schema.ts";
import { validateUid } from "../config/schema.ts";
import { readJsonFile } from "../io/json.ts";
import { type RunKind, runUid, settingDifferences } from "./identity.ts";
import { lockRun, type RunLock } from "./lock.ts";
import {
  exists,
  isRunDirectory,
  readRunMarker,
  RUN_FILES,
  RUN_MARKER,
  RunExistsError,
  writeRunMarker,
} from "./files.ts";

/** What an earlier run left in a run directory (`foreign`: a directory that is not a run). */
export type RunState = "absent" | "foreign" | "finished" | "trained" | "unfinished";

/**
 * The state of a run directory.
 *
 * @example
 * ```ts
 * runState("results/runs/my_run"); // "absent" | "foreign" | "finished" | "trained" | "unfinished"
 * ```
 */
export function runState(dir: string): RunState {
  if (!exists(dir)) return "absent";
  const marker = readRunMarker(dir);
  if (!marker) return "foreign";
  if (typeof marker.finished === "string") return "finished";
  if (exists(`${dir}/${RUN_FILES.modelIndex}`) && exists(`${dir}/${RUN_FILES.modelWeights}`)) {
    return "trained";
  }
  return "unfinished";
}

/** A run directory opened for one process (holding the run's lock until {@link close}). */
export interface OpenedRun {
  uid: string;
  /** The run directory. */
  target: string;
  /** Where this process writes: the run directory, or a staging directory beside it. */
  dir: string;
  /** What was found. */
  state: RunState;
  /** Reuse the saved model instead of training (simple runs, `--force`). */
  reuse: boolean;
  /** Continue an unfinished large-scale run from its checkpoints. */
  resume: boolean;
  lock: RunLock;
  /** Create the directory this process writes (call when training starts). */
  create(): Promise<void>;
  /** Publish a staged run: the old run is replaced by the new one. */
  commit(): Promise<void>;
  /**
   * Release the lock. After a failure, a staging directory is removed, and so is a new simple
   * run's directory when it holds nothing to recover (no saved model).
   */
  close(succeeded: boolean): Promise<void>;
}

const STAGING = "staging";
const REPLACED = "replaced";
const STARTING = "starting";

/** Temporary files of the atomic writer (`<name>.tmp-<pid>-<id>`), left by a killed write. */
const TEMPORARY = /\.tmp-\d+-[0-9a-f]+$/;

/**
 * Remove what a killed run left: a replacement's staging directory beside the run, and the
 * atomic writer's temporary files in it (the caller holds the lock, so none is being written).
 */
async function cleanStaging(basePath: string, uid: string, target: string): Promise<void> {
  for (const dir of [target, `${target}/figures`]) {
    if (!exists(dir) || !isRunDirectory(target)) continue;
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && TEMPORARY.test(entry.name)) await Deno.remove(`${dir}/${entry.name}`);
    }
  }
  for (const entry of Deno.readDirSync(basePath)) {
    const path = `${basePath}/${entry.name}`;
    // Only memdil's own staging directories (a marker, or empty: killed before writing it).
    const ours = () => isRunDirectory(path) || isEmptyDirectory(path);
    if (entry.name.startsWith(`.${uid}.${STAGING}-`) && ours()) {
      await Deno.remove(path, { recursive: true });
    } else if (entry.name.startsWith(`.${uid}.${STARTING}-`) && holdsOnlyMarker(path)) {
      // Killed while the run directory was being made (see create()): nothing else was written.
      await Deno.remove(path, { recursive: true });
    } else if (entry.name.startsWith(`.${uid}.${REPLACED}-`) && ours()) {
      // Killed between the two renames of a replacement: the old run comes back.
      if (exists(target)) await Deno.remove(path, { recursive: true });
      else await Deno.rename(path, target);
    }
  }
}

/** A directory holding nothing but the run marker or the atomic writer's temporary copy of it. */
function holdsOnlyMarker(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory &&
      [...Deno.readDirSync(path)].every((entry) =>
        entry.isFile && (entry.name === RUN_MARKER ||
          (entry.name.startsWith(`${RUN_MARKER}.`) && TEMPORARY.test(entry.name)))
      );
  } catch {
    return false;
  }
}

function isEmptyDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory && [...Deno.readDirSync(path)].length === 0;
  } catch {
    return false;
  }
}

/**
 * The refusal for a directory that is in a run's place but is not one of memdil's runs.
 *
 * @example
 * ```ts
 * throw notARunError("results/runs/mysweep");
 * ```
 */
export function notARunError(dir: string): RunExistsError {
  return new RunExistsError(
    `${dir} exists but is not a memdil run directory (it has no ${RUN_MARKER}): memdil never ` +
      `replaces or deletes it, even with --force or --force_retrain; choose another --uid, or ` +
      `move that directory away`,
  );
}

function stateMessage(target: string, uid: string, state: RunState, kind: RunKind): string {
  if (kind === "large") {
    return state === "finished"
      ? `${target} holds a finished run: deno task evaluate-large --uid ${uid} evaluates its ` +
        `checkpoints again; pass --force_retrain to train it again (the old run is kept until ` +
        `the new one finishes), or choose another --uid`
      : `${target} holds an unfinished run`;
  }
  if (state === "finished") {
    return `${target} holds a finished run: pass --force to reuse its model (only with the same ` +
      `settings), --force_retrain to train again (the old run is kept until the new one ` +
      `finishes), deno task evaluate --uid ${uid} to evaluate it again, or choose another --uid`;
  }
  if (state === "trained") {
    return `${target} holds a trained model whose evaluation did not finish (the run was ` +
      `stopped): deno task evaluate --uid ${uid} evaluates it; --force reuses it, ` +
      `--force_retrain trains again`;
  }
  return `${target} holds a run whose training did not finish (stopped or failed; no model ` +
    `was saved): pass --force or --force_retrain to train it again, or choose another --uid`;
}

/**
 * The result-affecting settings in which `config` differs from those the run in `dir` was trained
 * with (its saved `args.json`; none when it has none), as {@link settingDifferences} words them.
 *
 * @example
 * ```ts
 * import type { TrainConfig } from "../config/schema.ts";
 * declare const config: TrainConfig;
 * savedSettingDifferences("results/runs/my_run", config, "simple"); // [] when they agree
 * ```
 */
export function savedSettingDifferences(
  dir: string,
  config: TrainConfig,
  kind: RunKind,
): string[] {
  const savedArgs = `${dir}/${RUN_FILES.args}`;
  return exists(savedArgs)
    ? settingDifferences(readJsonFile(savedArgs) as Record<string, unknown>, config, kind)
    : [];
}

/**
 * Open the run directory of `config` under `basePath` for a run of `kind`, applying the rules
 * above. Throws {@link RunExistsError} when the run directory is in the way (the message says
 * what the earlier run left and what recovers it), and a `RunLockedError` when another process
 * holds the run.
 *
 * @example
 * ```ts
 * import type { TrainConfig } from "../config/schema.ts";
 * declare const config: TrainConfig;
 * const run = await openRun("results/runs", config, "simple");
 * try {
 *   if (!run.reuse) await run.create(); // then train into run.dir
 *   await run.commit();
 *   await run.close(true);
 * } catch (error) {
 *   await run.close(false);
 *   throw error;
 * }
 * ```
 */
export async function openRun(
  basePath: string,
  config: TrainConfig,
  kind: RunKind,
): Promise<OpenedRun> {
  const uid = validateUid(runUid(config, kind));
  const target = `${basePath}/${uid}`;
  const lock = lockRun(basePath, uid);
  try {
    await cleanStaging(basePath, uid, target);
    const state = runState(target);
    const savedArgs = `${target}/${RUN_FILES.args}`;
    const differences = savedSettingDifferences(target, config, kind);
    const mismatch = () =>
      new RunExistsError(
        `${target} was trained with other settings: ${differences.join(", ")}; pass the same ` +
          `settings, --force_retrain to train it again with these, or choose another --uid`,
      );
    let staged = false;
    let reuse = false;
    let resume = false;
    if (state === "foreign") throw notARunError(target);
    if (state !== "absent") {
      if (config.force_retrain) staged = true;
      else if (kind === "large") {
        if (state === "finished") throw new RunExistsError(stateMessage(target, uid, state, kind));
        if (differences.length > 0) throw mismatch();
        resume = exists(savedArgs);
      } else if (!config.force) {
        throw new RunExistsError(stateMessage(target, uid, state, kind));
      } else if (state === "unfinished") staged = true;
      else {
        if (differences.length > 0) throw mismatch();
        reuse = true;
      }
    }
    const dir = staged ? `${basePath}/.${uid}.${STAGING}-${Deno.pid}` : target;
    let committed = !staged;
    return {
      uid,
      target,
      dir,
      state,
      reuse,
      resume,
      lock,
      async create() {
        if (exists(dir)) {
          if (!isRunDirectory(dir)) await writeRunMarker(dir, { uid, kind });
          return;
        }
        // Made aside with its marker, then renamed into place: a kill at any moment leaves either
        // no directory in the run's place or one known to be a run (never a foreign-looking one).
        const starting = `${basePath}/.${uid}.${STARTING}-${Deno.pid}`;
        await Deno.mkdir(starting, { recursive: true });
        await writeRunMarker(starting, { uid, kind });
        await Deno.rename(starting, dir);
      },
      async commit() {
        if (committed) return;
        const replaced = `${basePath}/.${uid}.${REPLACED}-${Deno.pid}`;
        await Deno.rename(target, replaced);
        await Deno.rename(dir, target);
        committed = true;
        await Deno.remove(replaced, { recursive: true });
      },
      async close(succeeded: boolean) {
        try {
          const nothingToRecover = kind === "simple" && state === "absent" &&
            runState(dir) === "unfinished";
          if (!committed || (!succeeded && nothingToRecover)) {
            await Deno.remove(dir, { recursive: true }).catch(() => {});
          }
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
