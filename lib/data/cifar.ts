/**
 * CIFAR-10 and CIFAR-100, binary versions: fixed-size records of label byte(s) then 3072 pixel
 * bytes (the red, green and blue 32 x 32 planes, row-major), in `<data_dir>/cifar-10-batches-bin/`
 * and `<data_dir>/cifar-100-binary/` as the archives unpack. Missing files are downloaded as the
 * published archive (MD5-checked, resumable) and unpacked atomically.
 *
 * @module
 */
import { createTarDecoder } from "modern-tar";
import {
  allInOrder,
  checksumMismatch,
  DatasetNotFoundError,
  type DecodeOptions,
  downloadAllowed,
  isFile,
  type LoadOptions,
  md5Hex,
  notFoundMessage,
} from "./acquire.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { downloadFile } from "./download.ts";
import type { DatasetLocation, RawDataset, RawSplit } from "./idx_dataset.ts";

/** The description of a CIFAR binary distribution. */
export interface CifarSpec {
  /** The `--dataset` name. */
  name: string;
  title: string;
  /** Folder the archive unpacks to, under data_dir. */
  folder: string;
  archive: { name: string; url: string; md5: string };
  /** Train files then test files, with records per file and the member's MD5. */
  train: { name: string; records: number; md5: string }[];
  test: { name: string; records: number; md5: string }[];
  /** Label bytes per record (1: CIFAR-10; 2: CIFAR-100's coarse then fine label). */
  labelBytes: number;
  /** Which label byte is the class (CIFAR-100: 1, the fine label). */
  labelIndex: number;
  /** Other members worth unpacking (label names). */
  extras: string[];
}

const TORONTO = "https://www.cs.toronto.edu/~kriz";

/** CIFAR-10, binary version. Member MD5s as published for the unpacked archive. */
export const CIFAR10_SPEC: CifarSpec = {
  name: "cifar10",
  title: "CIFAR-10",
  folder: "cifar-10-batches-bin",
  archive: {
    name: "cifar-10-binary.tar.gz",
    url: `${TORONTO}/cifar-10-binary.tar.gz`,
    md5: "c32a1d4ab5d03f1284b67883e8d87530",
  },
  train: [
    ["data_batch_1.bin", "5dd7e06a14cb22eb9f671a540d1b7c25"],
    ["data_batch_2.bin", "5ea93a67294ea407fff1d09f752e9692"],
    ["data_batch_3.bin", "942cd6a4bcdd0dd3c604fbe906cb4421"],
    ["data_batch_4.bin", "ae636b3ba5c66a11e91e8cb52e771fcb"],
    ["data_batch_5.bin", "53f37980c15c3d472c316c40844f3f0d"],
  ].map(([name, md5]) => ({ name, md5, records: 10000 })),
  test: [{ name: "test_batch.bin", md5: "803d5f7f4d78ea53de84dbe85f74fb6d", records: 10000 }],
  labelBytes: 1,
  labelIndex: 0,
  extras: ["batches.meta.txt"],
};

/** CIFAR-100, binary version (fine labels). */
export const CIFAR100_SPEC: CifarSpec = {
  name: "cifar100",
  title: "CIFAR-100",
  folder: "cifar-100-binary",
  archive: {
    name: "cifar-100-binary.tar.gz",
    url: `${TORONTO}/cifar-100-binary.tar.gz`,
    md5: "03b5dce01913d631647c71ecec9e9cb8",
  },
  train: [{ name: "train.bin", md5: "6172c7755cfe09b2fe270c85cebc1b15", records: 50000 }],
  test: [{ name: "test.bin", md5: "4499cfba6c016c1be1438163640a0898", records: 10000 }],
  labelBytes: 2,
  labelIndex: 1,
  extras: ["fine_label_names.txt", "coarse_label_names.txt"],
};

const PIXELS = 3 * 32 * 32;

/**
 * Decode CIFAR binary records: `labelBytes` label bytes, then 3072 pixel bytes (R, G, B planes).
 * A length that is not a whole number of records is an error naming `source`.
 *
 * @example
 * ```ts
 * const record = new Uint8Array(1 + 3072); record[0] = 7;
 * parseCifarRecords(record, 1, 0, "test_batch.bin").labels; // Uint8Array [7]
 * ```
 */
export function parseCifarRecords(
  bytes: Uint8Array,
  labelBytes: number,
  labelIndex: number,
  source: string,
): { images: Uint8Array; labels: Uint8Array; count: number } {
  const recordLength = labelBytes + PIXELS;
  if (bytes.length === 0 || bytes.length % recordLength !== 0) {
    throw new Error(
      `${source}: ${bytes.length} bytes is not a whole number of ${recordLength}-byte records; ` +
        `the file is truncated or not CIFAR binary: delete it and fetch it again`,
    );
  }
  const count = bytes.length / recordLength;
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const offset = i * recordLength;
    labels[i] = bytes[offset + labelIndex];
    images.set(bytes.subarray(offset + labelBytes, offset + recordLength), i * PIXELS);
  }
  return { images, labels, count };
}

function memberNames(spec: CifarSpec): string[] {
  return [...spec.train, ...spec.test].map((f) => f.name);
}

/**
 * Find the unpacked binary files in `<dir>/<folder>/` for data_dir and each system directory.
 *
 * @example
 * ```ts
 * locateCifar(CIFAR10_SPEC, { dataDir: "/root/data" })?.paths;
 * ```
 */
export function locateCifar(spec: CifarSpec, options: LoadOptions): DatasetLocation | undefined {
  for (const root of cifarSearchDirs(spec, options)) {
    const paths = memberNames(spec).map((name) => `${root}/${name}`);
    if (paths.every(isFile)) return { dir: root, paths };
  }
  return undefined;
}

/** Directories searched for a CIFAR dataset's files, in order. */
export function cifarSearchDirs(spec: CifarSpec, options: LoadOptions): string[] {
  return [options.dataDir, ...(options.systemDirs ?? [])].map((d) => `${d}/${spec.folder}`);
}

/** How to obtain a CIFAR dataset without a network. */
export function cifarHowToGet(spec: CifarSpec, dataDir: string): string {
  return `Download ${spec.archive.url} elsewhere, then unpack it in ${dataDir}/ ` +
    `('tar xzf ${spec.archive.name}' creates ${spec.folder}/), or put ${spec.archive.name} in ` +
    `${dataDir}/ and run 'deno task data fetch ${spec.name}'; the Python version (torchvision's default) is ` +
    `a different format. With network access it is downloaded automatically.`;
}

/**
 * Unpack the archive's wanted members into `<data_dir>/<folder>/`, each written to a temporary
 * name and renamed, so a reader never sees a partial file.
 *
 * @example
 * ```ts
 * await unpackCifarArchive(CIFAR10_SPEC, "/root/data/cifar-10-binary.tar.gz", "/root/data");
 * ```
 */
export async function unpackCifarArchive(
  spec: CifarSpec,
  archive: string,
  dataDir: string,
): Promise<void> {
  const wanted = new Set([...memberNames(spec), ...spec.extras].map((n) => `${spec.folder}/${n}`));
  const outDir = `${dataDir}/${spec.folder}`;
  await Deno.mkdir(outDir, { recursive: true });
  const file = await Deno.open(archive);
  const entries = file.readable.pipeThrough(new DecompressionStream("gzip")).pipeThrough(
    createTarDecoder(),
  );
  const unpacked = new Set<string>();
  try {
    for await (const entry of entries) {
      const name = entry.header.name.replace(/^\.\//, "");
      if (!wanted.has(name)) {
        await entry.body.cancel();
        continue;
      }
      const target = `${dataDir}/${name}`;
      await writeFileAtomic(target, entry.body);
      unpacked.add(name);
    }
  } catch (error) {
    throw new Error(
      `${archive}: corrupt or truncated archive (${(error as Error).message}); delete it and ` +
        `fetch it again`,
    );
  }
  const missing = memberNames(spec).filter((n) => !unpacked.has(`${spec.folder}/${n}`));
  if (missing.length > 0) {
    throw new Error(`${archive}: has no ${missing.join(", ")}; it is not ${spec.title} binary`);
  }
}

/**
 * Locate the binary files; otherwise unpack `<data_dir>/<archive>` if it is there, else download
 * the archive (when allowed) and unpack it.
 *
 * @example
 * ```ts
 * const location = await acquireCifar(CIFAR10_SPEC, { dataDir: "/root/data" });
 * ```
 */
export async function acquireCifar(
  spec: CifarSpec,
  options: LoadOptions,
): Promise<DatasetLocation> {
  const found = locateCifar(spec, options);
  if (found) return found;
  const archive = `${options.dataDir}/${spec.archive.name}`;
  const help = (failure?: string) =>
    notFoundMessage(
      spec.title,
      memberNames(spec),
      cifarSearchDirs(spec, options),
      cifarHowToGet(spec, options.dataDir),
      failure,
    );
  if (!isFile(archive)) {
    if (!downloadAllowed(options)) throw new DatasetNotFoundError(help());
    const url = options.baseUrl ? `${options.baseUrl}/${spec.archive.name}` : spec.archive.url;
    try {
      await downloadFile(url, archive, {
        md5: (options.verify ?? true) ? spec.archive.md5 : undefined,
        progress: options.progress,
      });
    } catch (error) {
      throw new DatasetNotFoundError(help((error as Error).message));
    }
  }
  await unpackCifarArchive(spec, archive, options.dataDir);
  return locateCifar(spec, { ...options, systemDirs: [] })!;
}

async function readSplit(
  spec: CifarSpec,
  files: CifarSpec["train"],
  paths: string[],
  options: DecodeOptions,
): Promise<RawSplit> {
  const verify = options.verify ?? true;
  const parts = await allInOrder(paths.map(async (path, i) => {
    const bytes = await Deno.readFile(path);
    const expectedLength = files[i].records * (spec.labelBytes + PIXELS);
    const recordLength = spec.labelBytes + PIXELS;
    // A copy used with --skip_checksums may be a subset: whole records, any number of them.
    const wrongLength = options.skipChecksums
      ? bytes.length % recordLength !== 0
      : bytes.length !== expectedLength;
    if (verify && wrongLength) {
      throw new Error(
        `${path}: ${bytes.length} bytes, ${spec.title}'s ${files[i].name} has ${expectedLength}; ` +
          `the file is ${bytes.length < expectedLength ? "truncated" : "not " + spec.title}: ` +
          `delete it and fetch it again`,
      );
    }
    const records = parseCifarRecords(bytes, spec.labelBytes, spec.labelIndex, path);
    if (verify && md5Hex(bytes) !== files[i].md5) {
      checksumMismatch(
        `${path}: checksum mismatch (md5 ${md5Hex(bytes)}, expected ${files[i].md5})`,
        options,
      );
    }
    return records;
  }));
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const part of parts) {
    images.set(part.images, offset * PIXELS);
    labels.set(part.labels, offset);
    offset += part.count;
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

/**
 * Decode (and verify: sizes and member MD5s) the files found by {@link locateCifar}.
 *
 * @example
 * ```ts
 * import type { DatasetLocation } from "./idx_dataset.ts";
 * declare const location: DatasetLocation;
 * const { train, test } = await decodeCifar(CIFAR10_SPEC, location);
 * ```
 */
export async function decodeCifar(
  spec: CifarSpec,
  location: DatasetLocation,
  options: DecodeOptions = {},
): Promise<RawDataset> {
  const trainPaths = location.paths.slice(0, spec.train.length);
  const testPaths = location.paths.slice(spec.train.length);
  return {
    train: await readSplit(spec, spec.train, trainPaths, options),
    test: await readSplit(spec, spec.test, testPaths, options),
    source: location.dir,
  };
}
