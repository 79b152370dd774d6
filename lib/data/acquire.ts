/**
 * Finding dataset files on disk and downloading the missing ones, verified by checksum.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { downloadFile } from "./download.ts";

/** One file of a dataset distribution. */
export interface DatasetFile {
  /** File name as distributed (e.g. `train-images-idx3-ubyte.gz`). */
  name: string;
  /** MD5 of the file as downloaded from `url`. */
  md5: string;
  /** Where the canonical distribution serves it. */
  url: string;
}

/** Options shared by every dataset loader. */
export interface LoadOptions {
  /** Root data directory (`--data_dir`). */
  dataDir: string;
  /** Extra directories searched after data_dir (each dataset has its defaults). */
  systemDirs?: string[];
  /** Download when no copy is found (default: true unless MEMDIL_OFFLINE is set). */
  download?: boolean;
  /** Download from this base URL instead of the canonical ones (tests, local mirrors). */
  baseUrl?: string;
  /** Progress bar while downloading (default: when stderr is a terminal). */
  progress?: boolean;
  /**
   * Check published checksums and the dataset's sample counts (default: true). `false` is for
   * small fixtures written in the real format: files must still parse and agree with each other.
   */
  verify?: boolean;
  /**
   * Use files whose checksums differ from the published ones (a user's own subset, a
   * re-compressed mirror) once their format and consistency checks pass, warning with each
   * file's name (`--skip_checksums`).
   */
  skipChecksums?: boolean;
}

/** What decoding a dataset's files takes from {@link LoadOptions}. */
export type DecodeOptions = Pick<LoadOptions, "verify" | "skipChecksums">;

/**
 * A file's checksum differs from the published one: an error naming the fix, or with
 * `skipChecksums` a warning naming the file.
 *
 * @example
 * ```ts
 * checksumMismatch("/data/x.gz: checksum mismatch (md5 ab, expected cd)", { skipChecksums: true });
 * ```
 */
export function checksumMismatch(message: string, options: DecodeOptions): void {
  if (options.skipChecksums) {
    console.error(`warning: ${message}; used anyway (--skip_checksums)`);
    return;
  }
  throw new Error(
    `${message}; the file is corrupt or not the published one: delete it and fetch it again, ` +
      `or pass --skip_checksums to use your own well-formed copy`,
  );
}

/** No copy of a dataset was found and none could be downloaded. */
export class DatasetNotFoundError extends Error {
  override name = "DatasetNotFoundError";
}

/** Whether loaders may download: the option, else unless `MEMDIL_OFFLINE` is set. */
export function downloadAllowed(options: Pick<LoadOptions, "download">): boolean {
  return options.download ?? !Deno.env.get("MEMDIL_OFFLINE");
}

/** Hex MD5 of some bytes. */
export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** True when a path exists and is a file. */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Find a directory holding every wanted file; each name may also be present without its `.gz`.
 * Returns the full path of each file, or undefined when no directory has them all.
 *
 * @example
 * ```ts
 * const found = findFiles(["/usr/share/datasets/fashion-mnist"], ["t10k-labels-idx1-ubyte.gz"]);
 * ```
 */
export function findFiles(dirs: string[], names: string[]): string[] | undefined {
  for (const dir of dirs) {
    const paths = names.map((name) =>
      [`${dir}/${name}`, `${dir}/${name.replace(/\.gz$/, "")}`].find(isFile)
    );
    if (paths.every((p) => p !== undefined)) return paths as string[];
  }
  return undefined;
}

/**
 * Download files into `dir`, each resumable, verified against its MD5 and stored atomically
 * (see {@link downloadFile}). A file already there with the right MD5 is kept.
 *
 * @example
 * ```ts
 * declare const files: DatasetFile[];
 * await downloadFiles("/root/data/FashionMNIST/raw", files);
 * ```
 */
export async function downloadFiles(
  dir: string,
  files: DatasetFile[],
  options: Pick<LoadOptions, "baseUrl" | "progress"> = {},
): Promise<string[]> {
  const created = await createDirectories(dir);
  const paths: string[] = [];
  try {
    for (const file of files) {
      const target = `${dir}/${file.name}`;
      paths.push(target);
      if (isFile(target) && md5Hex(await Deno.readFile(target)) === file.md5) continue;
      const url = options.baseUrl ? `${options.baseUrl}/${file.name}` : file.url;
      await downloadFile(url, target, { md5: file.md5, progress: options.progress });
    }
  } catch (error) {
    // A failed download (offline, say) leaves no empty directories behind: those this call
    // created and that are still empty go again, innermost first.
    for (const path of created.reverse()) await Deno.remove(path).catch(() => {});
    throw error;
  }
  return paths;
}

/** Create `dir` and its missing parents; returns those created, outermost first. */
async function createDirectories(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let path = dir; path !== "" && path !== "/" && !isDirectory(path);) {
    missing.unshift(path);
    path = path.slice(0, path.lastIndexOf("/"));
  }
  await Deno.mkdir(dir, { recursive: true });
  return missing;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * The message for a dataset that is nowhere: which files, where they were looked for, how to get
 * them offline, and why the download did not happen.
 *
 * @example
 * ```ts
 * throw new DatasetNotFoundError(notFoundMessage("MNIST", ["train-images-idx3-ubyte.gz"],
 *   ["/root/data/MNIST/raw"], "copy them into /root/data/MNIST/raw/"));
 * ```
 */
export function notFoundMessage(
  title: string,
  names: string[],
  dirs: string[],
  howToGet: string,
  downloadFailure?: string,
): string {
  return `${title} not found. Looked for ${names.join(", ")} in:\n` +
    dirs.map((d) => `  ${d}/`).join("\n") + `\n${howToGet}` +
    (downloadFailure === undefined
      ? "\n(Downloading is off: MEMDIL_OFFLINE is set or download was disabled.)"
      : `\nDownload failed: ${downloadFailure}`);
}

/**
 * Like `Promise.all`, but when several fail, the error thrown is the first in input order rather
 * than the first in time, so a dataset with several bad files always names the same one.
 *
 * @example
 * ```ts
 * declare const trainPath: string, testPath: string;
 * declare function decode(path: string): Promise<Uint8Array>;
 * const [train, test] = await allInOrder([decode(trainPath), decode(testPath)]);
 * ```
 */
export async function allInOrder<T>(tasks: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
