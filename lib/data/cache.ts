/**
 * Decoded, resized datasets cached on disk, so a sweep of many runs decodes each dataset once.
 *
 * A cache file holds both splits as 8-bit 32 x 32 pixels (1 channel for the MNIST family, 3 for
 * CIFAR and SVHN) and labels; normalization is applied later, per batch if need be. Its name is
 * keyed by a hash of the source files' contents (their MD5s) and of the transform, so a changed
 * file or transform never reads a stale cache; its header holds a SHA-256 of its content (the
 * header's own fields included),
 * checked on every load (a damaged cache is rebuilt) and by `deno task data verify`. One process
 * builds a cache at a time (a lock file beside it; the others wait, then read it); it writes to a
 * temporary name and renames, so every reader sees a complete file, and the temporary files of
 * a killed build are removed by the next builder.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../io/atomic.ts";
import type { LoadOptions } from "./acquire.ts";
import { md5OfFile } from "./download.ts";
import type { RawSplit } from "./idx_dataset.ts";
import { resizeBilinear } from "./preprocess.ts";
import { type DatasetInfo, datasetInfo } from "./registry.ts";

/** Side length of the cached (and model input) images. */
export const PREPARED_SIZE = 32;
const PLANE = PREPARED_SIZE * PREPARED_SIZE;
const MAGIC = "MEMDILC1";
/** Bump when the cache layout or the transform's implementation changes. */
const CACHE_VERSION = 2;

/** One split ready for batching: 8-bit 32 x 32 images and labels. */
export interface PreparedSplit {
  /** n x channels x 32 x 32 bytes. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** 1 (grayscale, replicated to 3 channels when normalized) or 3. */
  channels: 1 | 3;
}

/** A dataset ready for a run. */
export interface PreparedDataset {
  info: DatasetInfo;
  train: PreparedSplit;
  test: PreparedSplit;
  /** Directory the dataset files were found in. */
  source: string;
  /** The source files read. */
  files: string[];
  /** The cache file used or written (undefined with the cache off). */
  cacheFile?: string;
  /** Whether the splits came from the cache. */
  fromCache: boolean;
}

/** Options of {@link loadPrepared}. */
export interface PrepareOptions extends LoadOptions {
  /**
   * Cache directory; null turns the cache off. Default: `MEMDIL_CACHE_DIR`, else `data/cache/`
   * in the repository.
   */
  cacheDir?: string | null;
}

/** The default cache directory. */
export function defaultCacheDir(): string {
  return Deno.env.get("MEMDIL_CACHE_DIR") ??
    new URL("../../data/cache", import.meta.url).pathname;
}

/**
 * Resize a decoded split to 32 x 32 (Pillow's bilinear filter, as torchvision's Resize) unless it
 * already is; channels are kept as stored.
 *
 * @example
 * ```ts
 * import type { RawDataset } from "./idx_dataset.ts";
 * declare const raw: RawDataset;
 * const prepared = prepareSplit(raw.train); // 28 x 28 grayscale -> 1 x 32 x 32
 * ```
 */
export function prepareSplit(raw: RawSplit): PreparedSplit {
  const channels = (raw.channels ?? 1) as 1 | 3;
  if (raw.height === PREPARED_SIZE && raw.width === PREPARED_SIZE) {
    return { pixels: raw.images, labels: raw.labels, count: raw.count, channels };
  }
  const inPlane = raw.height * raw.width;
  const pixels = new Uint8Array(raw.count * channels * PLANE);
  for (let p = 0; p < raw.count * channels; p++) {
    pixels.set(
      resizeBilinear(
        raw.images.subarray(p * inPlane, (p + 1) * inPlane),
        raw.height,
        raw.width,
        PREPARED_SIZE,
        PREPARED_SIZE,
      ),
      p * PLANE,
    );
  }
  return { pixels, labels: raw.labels, count: raw.count, channels };
}

async function cacheKey(
  info: DatasetInfo,
  files: string[],
  verify: boolean,
  skipChecksums: boolean,
): Promise<string> {
  const digests = [];
  for (const file of files) digests.push(await md5OfFile(file));
  const transform = {
    version: CACHE_VERSION,
    dataset: info.name,
    resize: `pillow-bilinear ${info.imageSize} -> ${PREPARED_SIZE}`,
    channels: info.channels,
    verify,
    // A cache built from files with other checksums must not serve a load that checks them.
    checksums: skipChecksums ? "skipped" : "published",
  };
  return createHash("sha256").update(JSON.stringify({ transform, digests })).digest("hex")
    .slice(0, 20);
}

function sha256(parts: Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/** The header's fields as the checksum sees them. */
function headerBytes(fields: object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(fields));
}

function encodeCache(train: PreparedSplit, test: PreparedSplit): Uint8Array {
  const payload = [train.pixels, train.labels, test.pixels, test.labels];
  const fields = {
    train: { count: train.count, channels: train.channels },
    test: { count: test.count, channels: test.channels },
  };
  const header = new TextEncoder().encode(JSON.stringify({
    ...fields,
    // The checksum covers the header's fields too: an edited count is a damaged file.
    sha256: sha256([headerBytes(fields), ...payload]),
  }));
  const size = 8 + 4 + header.length + payload.reduce((n, part) => n + part.length, 0);
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(MAGIC));
  new DataView(out.buffer).setUint32(8, header.length, true);
  let offset = 12;
  for (const part of [header, ...payload]) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A decoded cache file, or why it cannot be used. */
type DecodedCache = { train: PreparedSplit; test: PreparedSplit } | { problem: string };

function decodeCache(bytes: Uint8Array): DecodedCache {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    return { problem: "not a memdil dataset cache" };
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch {
    return { problem: "its header is damaged" };
  }
  let offset = 12 + headerLength;
  const take = (n: number) => bytes.subarray(offset, offset += n);
  const split = (h: { count: number; channels: 1 | 3 }): PreparedSplit => ({
    pixels: take(h.count * h.channels * PLANE),
    labels: take(h.count),
    count: h.count,
    channels: h.channels,
  });
  const valid = (h: unknown) => {
    const s = h as { count?: unknown; channels?: unknown } | null;
    return s !== null && typeof s === "object" && Number.isInteger(s.count) &&
      (s.count as number) >= 0 && (s.channels === 1 || s.channels === 3);
  };
  if (!valid(header?.train) || !valid(header?.test)) return { problem: "its header is damaged" };
  const train = split(header.train);
  const test = split(header.test);
  if (offset !== bytes.length) return { problem: "truncated" };
  const fields = {
    train: { count: header.train.count, channels: header.train.channels },
    test: { count: header.test.count, channels: header.test.channels },
  };
  const payload = [train.pixels, train.labels, test.pixels, test.labels];
  if (sha256([headerBytes(fields), ...payload]) !== header.sha256) {
    return { problem: "its content does not match its checksum (damaged)" };
  }
  return { train, test };
}

/**
 * Check one cache file's content against the checksum in its header: undefined when it is
 * whole, else what is wrong (`deno task data verify`).
 *
 * @example
 * ```ts
 * const problem = await checkCacheFile("data/cache/fashionmnist-0123.bin");
 * ```
 */
export async function checkCacheFile(path: string): Promise<string | undefined> {
  const decoded = decodeCache(await Deno.readFile(path));
  return "problem" in decoded ? decoded.problem : undefined;
}

/** Read a cache file; a damaged one is removed (and rebuilt by the caller) with a note. */
async function readCache(path: string) {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return undefined;
  }
  const decoded = decodeCache(bytes);
  if (!("problem" in decoded)) return decoded;
  console.error(`note: the dataset cache ${path} is unusable (${decoded.problem}): rebuilding it`);
  await Deno.remove(path).catch(() => {});
  return undefined;
}

/** Hold the build lock of a cache file (waiting for another builder), or undefined if read-only. */
async function lockCacheBuild(cacheFile: string): Promise<Deno.FsFile | undefined> {
  try {
    await Deno.mkdir(cacheFile.slice(0, cacheFile.lastIndexOf("/")), { recursive: true });
    const file = await Deno.open(`${cacheFile}.lock`, { read: true, write: true, create: true });
    await file.lock(true);
    return file;
  } catch {
    return undefined;
  }
}

/** Remove temporary files of killed builds (the caller holds the build lock). */
async function removeStaleTemporaries(cacheFile: string): Promise<void> {
  const dir = cacheFile.slice(0, cacheFile.lastIndexOf("/"));
  const prefix = `${cacheFile.slice(dir.length + 1)}.tmp-`;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(prefix)) await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
  }
}

/**
 * Locate (or download) a dataset and return both splits as 32 x 32 bytes, from the cache when a
 * cache of the same files and transform exists, otherwise decoding, verifying and caching them.
 *
 * @example
 * ```ts
 * const data = await loadPrepared("fashionmnist", { dataDir: "/root/data" });
 * console.log(data.train.count, data.fromCache);
 * ```
 */
export async function loadPrepared(
  name: string,
  options: PrepareOptions,
): Promise<PreparedDataset> {
  const info = datasetInfo(name);
  const location = await info.acquire(options);
  const verify = options.verify ?? true;
  const skipChecksums = options.skipChecksums ?? false;
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const base = { info, source: location.dir, files: location.paths };
  if (cacheDir === null) return { ...base, ...await decodePrepared(info, location, options) };
  const key = await cacheKey(info, location.paths, verify, skipChecksums);
  let cacheFile: string | undefined = `${cacheDir}/${info.name}-${key}.bin`;
  const cached = await readCache(cacheFile);
  if (cached) return { ...base, ...cached, cacheFile, fromCache: true };
  const lock = await lockCacheBuild(cacheFile);
  try {
    // Another process may have built it while this one waited for the lock.
    const built = lock ? await readCache(cacheFile) : undefined;
    if (built) return { ...base, ...built, cacheFile, fromCache: true };
    const { train, test } = await decodePrepared(info, location, options);
    if (!lock) {
      console.error(`note: cannot write the dataset cache in ${cacheDir} (read-only?)`);
      return { ...base, train, test, fromCache: false };
    }
    await removeStaleTemporaries(cacheFile);
    try {
      await writeFileAtomic(cacheFile, encodeCache(train, test));
    } catch (error) {
      // A full disk or a read-only checkout still runs, only without the cache.
      console.error(
        `note: cannot write the dataset cache ${cacheFile}: ${(error as Error).message}`,
      );
      cacheFile = undefined;
    }
    return { ...base, train, test, cacheFile, fromCache: false };
  } finally {
    lock?.close();
  }
}

async function decodePrepared(
  info: DatasetInfo,
  location: Awaited<ReturnType<DatasetInfo["acquire"]>>,
  options: PrepareOptions,
): Promise<{ train: PreparedSplit; test: PreparedSplit; fromCache: false }> {
  const raw = await info.decode(location, options);
  for (const [name, split] of [["train", raw.train], ["test", raw.test]] as const) {
    const bad = split.labels.findIndex((label) => label >= info.classes);
    if (bad >= 0) {
      throw new Error(
        `${location.dir}: ${name} sample ${bad} has label ${split.labels[bad]}, not a class of ` +
          `${info.title} (0..${info.classes - 1}): the files are not ${info.title}`,
      );
    }
  }
  return { train: prepareSplit(raw.train), test: prepareSplit(raw.test), fromCache: false };
}
