/**
 * An exclusive lock per run: `<base>/.<uid>.lock`, held with an operating-system file lock for
 * as long as a process trains or evaluates the run. A second process asking for the same run is
 * refused at once, naming the holder; the lock of a process that died (killed, crashed) is
 * released by the operating system, so the next process takes it over.
 *
 * @module
 */

/** The run is in use by another process. */
export class RunLockedError extends Error {
  override name = "RunLockedError";
}

/** A held run lock. */
export interface RunLock {
  /** The lock file. */
  path: string;
  /** Process id of a previous holder that died without releasing it (taken over), if any. */
  takenOverFrom?: number;
  /** Remove the lock file and release the lock. */
  release(): void;
}

/**
 * The lock file of a run.
 *
 * @example
 * ```ts
 * lockPath("results/runs", "my_run"); // "results/runs/.my_run.lock"
 * ```
 */
export function lockPath(basePath: string, uid: string): string {
  return `${basePath}/.${uid}.lock`;
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number(Deno.readTextFileSync(path).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Take the exclusive lock of run `uid` under `basePath` (created if need be), or throw
 * {@link RunLockedError} at once when another process holds it. Sweeps and searches lock their
 * directory the same way (`what` names the holder in the refusal, e.g. `search lr`).
 *
 * @example
 * ```ts
 * const lock = lockRun("results/runs", "my_run");
 * try {
 *   // train
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export function lockRun(basePath: string, uid: string, what = `run ${uid}`): RunLock {
  Deno.mkdirSync(basePath, { recursive: true });
  const path = lockPath(basePath, uid);
  // A holder removes its file on release: a file opened just before that removal is locked in
  // vain, so the lock counts only when the path still names the locked file.
  for (let attempt = 0; attempt < 10; attempt++) {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    if (!file.tryLockSync(true)) {
      file.close();
      const holder = holderOf(path);
      throw new RunLockedError(
        `${what} is in use by ${holder ? `process ${holder}` : "another process"} (lock ` +
          `${path}): wait until it ends, or stop it; a lock of a process that no longer ` +
          `runs is taken over by itself`,
      );
    }
    let current: Deno.FileInfo | undefined;
    try {
      current = Deno.statSync(path);
    } catch {
      // Removed by its previous holder: try again.
    }
    if (current?.ino !== undefined && current.ino === file.statSync().ino) {
      const previous = holderOf(path);
      file.truncateSync(0);
      file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      return {
        path,
        takenOverFrom: previous !== undefined && previous !== Deno.pid ? previous : undefined,
        release() {
          try {
            Deno.removeSync(path);
          } catch {
            // Already gone: nothing to release but the lock itself.
          }
          file.close();
        },
      };
    }
    file.close();
  }
  throw new RunLockedError(`could not take the lock ${path}: it keeps being replaced`);
}

/**
 * Run `fn` holding the lock of the run directory `dir` (for work on an existing run, such as
 * evaluating it again).
 *
 * @example
 * ```ts
 * await withRunLock("results/runs/my_run", async () => {
 *   // evaluate it
 * });
 * ```
 */
export async function withRunLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const at = dir.lastIndexOf("/");
  const lock = lockRun(at > 0 ? dir.slice(0, at) : ".", dir.slice(at + 1));
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
