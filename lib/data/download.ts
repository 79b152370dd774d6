/**
 * Downloading one dataset file: resumable (HTTP range requests continue a `.partial` file left by
 * an interrupted download), verified by MD5 and published only by an atomic rename, with a
 * progress bar on a terminal. Two processes fetching the same file are serialized by a lock file.
 *
 * @module
 */
import cliProgress from "cli-progress";
import { createHash } from "node:crypto";

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** Expected MD5 (hex) of the complete file; a mismatch deletes the download and throws. */
  md5?: string;
  /** Draw a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
  /** Status lines (default: console.error). */
  log?: (line: string) => void;
}

/** A download that failed: HTTP error, checksum mismatch, interrupted transfer. */
export class DownloadError extends Error {
  override name = "DownloadError";
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Take `${target}.lock`, stealing it from a process that no longer exists. */
async function acquireLock(target: string): Promise<() => Promise<void>> {
  const lock = `${target}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await Deno.open(lock, { write: true, createNew: true });
      await file.write(new TextEncoder().encode(String(Deno.pid)));
      file.close();
      return () => Deno.remove(lock).catch(() => {});
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      const owner = Number(await Deno.readTextFile(lock).catch(() => "0"));
      if (owner && owner !== Deno.pid && processAlive(owner)) {
        throw new DownloadError(
          `${target} is being downloaded by process ${owner} (lock ${lock}); wait for it, or ` +
            `delete the lock file if that process is not a download`,
        );
      }
      await Deno.remove(lock).catch(() => {});
    }
  }
  throw new DownloadError(`cannot take the download lock ${lock}; delete it and retry`);
}

/**
 * Hex MD5 of a file, read in chunks (datasets are hundreds of megabytes).
 *
 * @example
 * ```ts
 * const digest = await md5OfFile("/root/data/test_32x32.mat");
 * ```
 */
export async function md5OfFile(path: string): Promise<string> {
  const hash = createHash("md5");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk); // closes the file at the end
  return hash.digest("hex");
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** Whether this runs in the notebook kernel's sandbox (false where the variable may not be read). */
function sandboxed(): boolean {
  try {
    return Deno.env.get("MEMDIL_SANDBOX") === "1";
  } catch {
    return false;
  }
}

/**
 * Download `url` to `target`. An interrupted download leaves `${target}.partial`, which the next
 * call continues with a range request (or restarts when the server ignores ranges). The finished
 * file is checked against `md5` and renamed into place, so `target` only ever appears complete.
 *
 * @example
 * ```ts
 * await downloadFile(
 *   "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
 *   "/root/data/MNIST/raw/t10k-labels-idx1-ubyte.gz",
 *   { md5: "ec29112dd5afa0611ce80d1b7f02629c" },
 * );
 * ```
 */
export async function downloadFile(
  url: string,
  target: string,
  options: DownloadOptions = {},
): Promise<void> {
  const log = options.log ?? ((line: string) => console.error(line));
  // The notebook kernel's sandbox (lib/notebooks/sandbox.ts sets this) has no network at all.
  if (sandboxed()) {
    throw new DownloadError(
      `cannot download ${url} in the notebook kernel's sandbox, which has no network: fetch the ` +
        "dataset first with `deno task data fetch NAME`, then run the notebook again",
    );
  }
  await Deno.mkdir(target.slice(0, target.lastIndexOf("/")) || ".", { recursive: true });
  const release = await acquireLock(target);
  const partial = `${target}.partial`;
  try {
    let have = 0;
    try {
      have = (await Deno.stat(partial)).size;
    } catch {
      have = 0;
    }
    let response: Response;
    try {
      response = await fetch(url, have > 0 ? { headers: { Range: `bytes=${have}-` } } : {});
    } catch (error) {
      throw new DownloadError(
        `cannot reach ${url} (${(error as Error).message}): no network access here?`,
      );
    }
    if (response.status === 416) {
      // The partial file already holds everything the server has: verify it below.
      await response.body?.cancel();
    } else if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new DownloadError(`download of ${url} failed: HTTP ${response.status}`);
    } else {
      const resumed = response.status === 206 && have > 0;
      if (!resumed) have = 0;
      const length = Number(response.headers.get("content-length") ?? NaN);
      const total = Number.isFinite(length) ? have + length : NaN;
      log(
        `downloading ${url}` + (resumed ? ` (resuming at ${megabytes(have)} MB)` : "") +
          (Number.isFinite(total) ? ` (${megabytes(total)} MB)` : ""),
      );
      const showBar = (options.progress ?? Deno.stderr.isTerminal()) && Number.isFinite(total);
      const bar = showBar
        ? new cliProgress.SingleBar({
          format: "{file} [{bar}] {percentage}% {value}/{total} MB",
          hideCursor: true,
        }, cliProgress.Presets.shades_classic)
        : undefined;
      const name = target.slice(target.lastIndexOf("/") + 1);
      bar?.start(Number(megabytes(total)), Number(megabytes(have)), { file: name });
      const file = await Deno.open(partial, {
        write: true,
        create: true,
        append: resumed,
        truncate: !resumed,
      });
      let received = have;
      try {
        for await (const chunk of response.body) {
          await file.write(chunk);
          received += chunk.length;
          bar?.update(Number(megabytes(received)));
        }
      } catch (error) {
        throw new DownloadError(
          `download of ${url} was interrupted at ${megabytes(received)} MB ` +
            `(${(error as Error).message}); run the command again to resume it`,
        );
      } finally {
        file.close();
        bar?.stop();
      }
      if (Number.isFinite(total) && received !== total) {
        throw new DownloadError(
          `download of ${url} is incomplete: ${received} of ${total} bytes; run the command ` +
            `again to resume it`,
        );
      }
    }
    if (options.md5) {
      const digest = await md5OfFile(partial);
      if (digest !== options.md5) {
        await Deno.remove(partial).catch(() => {});
        throw new DownloadError(
          `${url}: checksum mismatch (md5 ${digest}, expected ${options.md5}); the download was ` +
            `deleted and nothing was saved as ${target}`,
        );
      }
    }
    await Deno.rename(partial, target);
  } finally {
    await release();
  }
}
