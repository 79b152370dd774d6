/**
 * SVHN (cropped digits): `train_32x32.mat` and `test_32x32.mat` at the top of data_dir, as
 * torchvision keeps them. Each holds `X` (32 x 32 x 3 x n uint8, column-major) and `y` (n x 1,
 * digits 1..10 where 10 means 0); labels 10 become 0, as torchvision and the reference do.
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
  isFile,
  type LoadOptions,
  notFoundMessage,
} from "./acquire.ts";
import { md5OfFile } from "./download.ts";
import type { DatasetLocation, RawDataset, RawSplit } from "./idx_dataset.ts";
import { readMat } from "./matlab.ts";

const UFLDL = "http://ufldl.stanford.edu/housenumbers";

/** The train and test files with the MD5s torchvision publishes. */
export const SVHN_FILES: DatasetFile[] = [
  ["train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"],
  ["test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"],
].map(([name, md5]) => ({ name, md5, url: `${UFLDL}/${name}` }));

/** Samples in SVHN's train and test files. */
export const SVHN_COUNTS = { train: 73257, test: 26032 };

/** Directories searched for SVHN's files, in order. */
export function svhnSearchDirs(options: LoadOptions): string[] {
  return [options.dataDir, ...(options.systemDirs ?? [])];
}

/**
 * Find both files in data_dir (or a system directory).
 *
 * @example
 * ```ts
 * locateSvhn({ dataDir: "/root/data" })?.paths;
 * ```
 */
export function locateSvhn(options: LoadOptions): DatasetLocation | undefined {
  for (const dir of svhnSearchDirs(options)) {
    const paths = SVHN_FILES.map((f) => `${dir}/${f.name}`);
    if (paths.every(isFile)) return { dir, paths };
  }
  return undefined;
}

/** How to obtain SVHN without a network. */
export function svhnHowToGet(dataDir: string): string {
  return `Copy train_32x32.mat and test_32x32.mat (from ${UFLDL}/) into ${dataDir}/, or run ` +
    `with network access to download them.`;
}

/**
 * Locate SVHN, downloading the missing files into data_dir when allowed.
 *
 * @example
 * ```ts
 * const location = await acquireSvhn({ dataDir: "/root/data" });
 * ```
 */
export async function acquireSvhn(options: LoadOptions): Promise<DatasetLocation> {
  const found = locateSvhn(options);
  if (found) return found;
  const help = (failure?: string) =>
    notFoundMessage(
      "SVHN",
      SVHN_FILES.map((f) => f.name),
      svhnSearchDirs(options),
      svhnHowToGet(options.dataDir),
      failure,
    );
  if (!downloadAllowed(options)) throw new DatasetNotFoundError(help());
  try {
    return {
      dir: options.dataDir,
      paths: await downloadFiles(options.dataDir, SVHN_FILES, options),
    };
  } catch (error) {
    throw new DatasetNotFoundError(help((error as Error).message));
  }
}

/**
 * Decode one SVHN MAT-file into channel-major 3 x 32 x 32 images and labels 0..9.
 *
 * @example
 * ```ts
 * const split = await decodeSvhnFile("/root/data/test_32x32.mat");
 * split.count; // 26032
 * ```
 */
export async function decodeSvhnFile(path: string): Promise<RawSplit> {
  const arrays = await readMat(await Deno.readFile(path), path);
  const x = arrays.get("X");
  const y = arrays.get("y");
  if (!x || !y || x.dims.length !== 4 || x.className !== "uint8") {
    throw new Error(`${path}: no uint8 array X (32 x 32 x 3 x n) and y: not an SVHN file`);
  }
  const [height, width, channels, count] = x.dims;
  if (height !== 32 || width !== 32 || channels !== 3 || y.data.length !== count) {
    throw new Error(
      `${path}: X is ${x.dims.join("x")} and y has ${y.data.length} labels; SVHN has ` +
        `32x32x3xn and n labels`,
    );
  }
  // X[h, w, c, n] sits at h + 32 w + 1024 c + 3072 n (column-major); torchvision transposes it
  // to n x c x h x w, i.e. each plane goes from column-major to row-major.
  const source = x.data as Uint8Array;
  const images = new Uint8Array(source.length);
  for (let plane = 0; plane < count * 3; plane++) {
    const offset = plane * 1024;
    for (let w = 0; w < 32; w++) {
      for (let h = 0; h < 32; h++) images[offset + h * 32 + w] = source[offset + w * 32 + h];
    }
  }
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const digit = y.data[i];
    if (!(digit >= 1 && digit <= 10 && Number.isInteger(digit))) {
      throw new Error(`${path}: label ${digit} at ${i} is not a digit 1..10: not an SVHN file`);
    }
    labels[i] = digit === 10 ? 0 : digit;
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

/**
 * Decode (and verify: published MD5 and sample counts) the files found by {@link locateSvhn}.
 *
 * @example
 * ```ts
 * const { train, test } = await decodeSvhn(await acquireSvhn({ dataDir: "/root/data" }));
 * ```
 */
export async function decodeSvhn(
  location: DatasetLocation,
  options: DecodeOptions = {},
): Promise<RawDataset> {
  const verify = options.verify ?? true;
  const [train, test] = await allInOrder(location.paths.map(decodeSvhnFile));
  if (verify) {
    for (const [i, path] of location.paths.entries()) {
      const digest = await md5OfFile(path);
      if (digest !== SVHN_FILES[i].md5) {
        checksumMismatch(
          `${path}: checksum mismatch (md5 ${digest}, expected ${SVHN_FILES[i].md5})`,
          options,
        );
      }
    }
  }
  return { train, test, source: location.dir };
}
