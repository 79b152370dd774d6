/**
 * The MNIST family's distribution (four IDX files, gzip or not, in torchvision's
 * `<data_dir>/<Folder>/raw/`): locate, download, verify and decode. MNIST and Fashion-MNIST are
 * each one {@link IdxDatasetSpec}.
 *
 * @module
 */
import {
  allInOrder,
  checksumMismatch,
  type DatasetFile,
  DatasetNotFoundError,
  type DecodeOptions,
  downloadAllowed,
  downloadFiles,
  findFiles,
  type LoadOptions,
  md5Hex,
  notFoundMessage,
} from "./acquire.ts";
import { gunzip, isGzip, parseIdx } from "./idx.ts";

/** One split of an image-classification dataset as stored: 8-bit images and labels. */
export interface RawSplit {
  /** Pixels, n x channels x height x width, row-major (channel-major per image). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  /** 1 (grayscale, the default when absent) or 3 (RGB planes). */
  channels?: number;
}

/** A decoded dataset: both splits, and the directory they came from. */
export interface RawDataset {
  train: RawSplit;
  test: RawSplit;
  /** Directory the files were read from. */
  source: string;
}

/** Where a dataset's files were found. */
export interface DatasetLocation {
  /** Directory holding the files. */
  dir: string;
  /** Full path of each file, in the dataset's file order. */
  paths: string[];
}

/** The description of an IDX dataset distribution. */
export interface IdxDatasetSpec {
  /** Human name, e.g. "MNIST". */
  title: string;
  /** torchvision's folder under data_dir, e.g. "MNIST" (files in `<folder>/raw/`). */
  folder: string;
  /** Train images, train labels, test images, test labels, with their published MD5s. */
  files: DatasetFile[];
  /** MD5 of each file's decompressed content, where known (copies may be recompressed). */
  contentMd5?: Record<string, string>;
  /** Directories searched after data_dir by default (e.g. a Debian package's). */
  systemDirs: string[];
  /** Samples in the train and test splits. */
  counts: { train: number; test: number };
  /** Extra advice for getting the files offline. */
  offlineHint?: string;
}

/** The directories searched for an IDX dataset, in order. */
export function idxSearchDirs(spec: IdxDatasetSpec, options: LoadOptions): string[] {
  return [`${options.dataDir}/${spec.folder}/raw`, ...(options.systemDirs ?? spec.systemDirs)];
}

/**
 * Find the four files (each gzip or not) in the first directory that has them all.
 *
 * @example
 * ```ts
 * import { MNIST_SPEC } from "./mnist.ts";
 * const found = locateIdxDataset(MNIST_SPEC, { dataDir: "/root/data" });
 * ```
 */
export function locateIdxDataset(
  spec: IdxDatasetSpec,
  options: LoadOptions,
): DatasetLocation | undefined {
  const paths = findFiles(idxSearchDirs(spec, options), spec.files.map((f) => f.name));
  return paths && { dir: paths[0].slice(0, paths[0].lastIndexOf("/")), paths };
}

/** How to obtain an IDX dataset without a network. */
export function idxHowToGet(spec: IdxDatasetSpec, dataDir: string): string {
  return `Copy the four IDX files (gzip or not) into ${dataDir}/${spec.folder}/raw/` +
    (spec.offlineHint ? `, or ${spec.offlineHint}` : "") +
    `, or run with network access to download them (${spec.files[0].url.replace(/[^/]*$/, "")}).`;
}

/**
 * Locate the dataset, downloading it into `<data_dir>/<folder>/raw/` when it is nowhere.
 *
 * @example
 * ```ts
 * import { MNIST_SPEC } from "./mnist.ts";
 * const { paths } = await acquireIdxDataset(MNIST_SPEC, { dataDir: "/root/data" });
 * ```
 */
export async function acquireIdxDataset(
  spec: IdxDatasetSpec,
  options: LoadOptions,
): Promise<DatasetLocation> {
  const found = locateIdxDataset(spec, options);
  if (found) return found;
  const dirs = idxSearchDirs(spec, options);
  const names = spec.files.map((f) => f.name).map((n) => `${n} (or ${n.replace(/\.gz$/, "")})`);
  const help = (failure?: string) =>
    notFoundMessage(spec.title, names, dirs, idxHowToGet(spec, options.dataDir), failure);
  if (!downloadAllowed(options)) throw new DatasetNotFoundError(help());
  try {
    const paths = await downloadFiles(dirs[0], spec.files, options);
    return { dir: dirs[0], paths };
  } catch (error) {
    throw new DatasetNotFoundError(help((error as Error).message));
  }
}

/** Decode one IDX file and check it: published MD5, else content MD5, and its shape. */
async function decodeVerified(
  spec: IdxDatasetSpec,
  path: string,
  file: DatasetFile,
  shape: number[],
  options: DecodeOptions,
) {
  const verify = options.verify ?? true;
  const bytes = await Deno.readFile(path);
  const gzip = isGzip(bytes);
  const content = gzip ? await gunzip(bytes, path) : bytes;
  const parsed = parseIdx(content, path);
  if (!verify) return parsed;
  const published = gzip && md5Hex(bytes) === file.md5;
  const expectedContent = spec.contentMd5?.[file.name];
  if (!published && (expectedContent !== undefined || gzip)) {
    const digest = expectedContent ? md5Hex(content) : md5Hex(bytes);
    const expected = expectedContent ?? file.md5;
    if (digest !== expected) {
      checksumMismatch(
        `${path}: ${expectedContent ? "content " : ""}checksum mismatch (md5 ${digest}, ` +
          `expected ${expected}) for ${spec.title}`,
        options,
      );
    }
  }
  // A copy used with --skip_checksums may be a subset: its sample count may differ, not the rest.
  const compared = options.skipChecksums ? 1 : 0;
  if (parsed.shape.slice(compared).join("x") !== shape.slice(compared).join("x")) {
    throw new Error(
      `${path}: holds ${parsed.shape.join("x")} values, ${spec.title} has ${shape.join("x")}; ` +
        `the file is truncated or not ${spec.title}: delete it and fetch it again`,
    );
  }
  return parsed;
}

/**
 * Decode and verify the four files found by {@link locateIdxDataset}.
 *
 * @example
 * ```ts
 * import { MNIST_SPEC } from "./mnist.ts";
 * import type { LoadOptions } from "./acquire.ts";
 * declare const options: LoadOptions;
 * const raw = await decodeIdxDataset(MNIST_SPEC, await acquireIdxDataset(MNIST_SPEC, options));
 * ```
 */
export async function decodeIdxDataset(
  spec: IdxDatasetSpec,
  location: DatasetLocation,
  options: DecodeOptions = {},
): Promise<RawDataset> {
  const { train, test } = spec.counts;
  const shapes = [[train, 28, 28], [train], [test, 28, 28], [test]];
  const [trainImages, trainLabels, testImages, testLabels] = await allInOrder(
    location.paths.map((path, i) => decodeVerified(spec, path, spec.files[i], shapes[i], options)),
  );
  for (
    const [images, labels, i] of [[trainImages, trainLabels, 0], [
      testImages,
      testLabels,
      2,
    ]] as const
  ) {
    if (
      images.shape.length !== 3 || labels.shape.length !== 1 || images.shape[0] !== labels.shape[0]
    ) {
      throw new Error(
        `${location.paths[i]} (${images.shape.join("x")}) and ${location.paths[i + 1]} ` +
          `(${labels.shape.join("x")}) do not match: expected n x h x w images and n labels`,
      );
    }
  }
  const split = (images: typeof trainImages, labels: typeof trainLabels): RawSplit => ({
    images: images.data,
    labels: labels.data,
    count: labels.shape[0],
    height: images.shape[1],
    width: images.shape[2],
    channels: 1,
  });
  return {
    train: split(trainImages, trainLabels),
    test: split(testImages, testLabels),
    source: location.dir,
  };
}
