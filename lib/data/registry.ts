/**
 * Every dataset memdil reads, by its `--dataset` name: where its files are looked for, how it is
 * fetched and decoded, and its input transform (docs/reference.md#data). Adding a dataset is one loader
 * module plus one entry here.
 *
 * @module
 */
import type { DecodeOptions, LoadOptions } from "./acquire.ts";
import {
  acquireCifar,
  CIFAR100_SPEC,
  CIFAR10_SPEC,
  cifarHowToGet,
  cifarSearchDirs,
  decodeCifar,
  locateCifar,
} from "./cifar.ts";
import { FASHION_MNIST_SPEC } from "./fashion_mnist.ts";
import {
  acquireIdxDataset,
  type DatasetLocation,
  decodeIdxDataset,
  type IdxDatasetSpec,
  idxHowToGet,
  idxSearchDirs,
  locateIdxDataset,
  type RawDataset,
} from "./idx_dataset.ts";
import { MNIST_SPEC } from "./mnist.ts";
import { MNIST_NORMALIZATION, type Normalization } from "./preprocess.ts";
import {
  acquireSvhn,
  decodeSvhn,
  locateSvhn,
  SVHN_COUNTS,
  svhnHowToGet,
  svhnSearchDirs,
} from "./svhn.ts";

/** Datasets of the reference (`--dataset`). */
export const DATASET_NAMES = ["mnist", "fashionmnist", "cifar10", "cifar100", "svhn"] as const;
/** One of {@link DATASET_NAMES}. */
export type DatasetName = typeof DATASET_NAMES[number];

/** CIFAR-10/100 and SVHN: per-channel mean and std (the reference's constants). */
export const CIFAR_NORMALIZATION: Normalization = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2023, 0.1994, 0.201],
};

/** One dataset: facts, locations, acquisition, decoding and transform. */
export interface DatasetInfo {
  name: DatasetName;
  title: string;
  /** Classes in the full dataset. */
  classes: number;
  /** Samples in the full train and test splits. */
  counts: { train: number; test: number };
  /** Stored image channels (1: grayscale, replicated to 3; 3: RGB) and side length. */
  channels: 1 | 3;
  imageSize: number;
  /** Per-channel normalization after scaling to [0, 1]. */
  normalization: Normalization;
  /** The files that make up the dataset (names as distributed). */
  fileNames: string[];
  /** Directories searched for the files, in order. */
  searchDirs(options: LoadOptions): string[];
  /** An existing copy, or undefined (no download). */
  locate(options: LoadOptions): DatasetLocation | undefined;
  /** An existing copy, else a download into data_dir; a clear error when neither works. */
  acquire(options: LoadOptions): Promise<DatasetLocation>;
  /** Decode and verify the files. */
  decode(location: DatasetLocation, options?: DecodeOptions): Promise<RawDataset>;
  /** How to obtain the files without a network. */
  howToGet(dataDir: string): string;
}

function idxDataset(
  name: DatasetName,
  spec: IdxDatasetSpec,
): DatasetInfo {
  return {
    name,
    title: spec.title,
    classes: 10,
    counts: spec.counts,
    channels: 1,
    imageSize: 28,
    normalization: MNIST_NORMALIZATION,
    fileNames: spec.files.map((f) => f.name),
    searchDirs: (options) => idxSearchDirs(spec, options),
    locate: (options) => locateIdxDataset(spec, options),
    acquire: (options) => acquireIdxDataset(spec, options),
    decode: (location, options) => decodeIdxDataset(spec, location, options),
    howToGet: (dataDir) => idxHowToGet(spec, dataDir),
  };
}

function cifarDataset(name: DatasetName, spec: typeof CIFAR10_SPEC, classes: number): DatasetInfo {
  const count = (files: typeof spec.train) => files.reduce((n, f) => n + f.records, 0);
  return {
    name,
    title: spec.title,
    classes,
    counts: { train: count(spec.train), test: count(spec.test) },
    channels: 3,
    imageSize: 32,
    normalization: CIFAR_NORMALIZATION,
    fileNames: [...spec.train, ...spec.test].map((f) => `${spec.folder}/${f.name}`),
    searchDirs: (options) => cifarSearchDirs(spec, options),
    locate: (options) => locateCifar(spec, options),
    acquire: (options) => acquireCifar(spec, options),
    decode: (location, options) => decodeCifar(spec, location, options),
    howToGet: (dataDir) => cifarHowToGet(spec, dataDir),
  };
}

/** The registry: every `--dataset` value. */
export const DATASETS: Record<DatasetName, DatasetInfo> = {
  mnist: idxDataset("mnist", MNIST_SPEC),
  fashionmnist: idxDataset("fashionmnist", FASHION_MNIST_SPEC),
  cifar10: cifarDataset("cifar10", CIFAR10_SPEC, 10),
  cifar100: cifarDataset("cifar100", CIFAR100_SPEC, 100),
  svhn: {
    name: "svhn",
    title: "SVHN",
    classes: 10,
    counts: SVHN_COUNTS,
    channels: 3,
    imageSize: 32,
    normalization: CIFAR_NORMALIZATION,
    fileNames: ["train_32x32.mat", "test_32x32.mat"],
    searchDirs: svhnSearchDirs,
    locate: locateSvhn,
    acquire: acquireSvhn,
    decode: decodeSvhn,
    howToGet: svhnHowToGet,
  },
};

/**
 * The registry entry of a dataset name; an unknown name is an error listing the known ones.
 *
 * @example
 * ```ts
 * datasetInfo("svhn").normalization.mean; // [0.4914, 0.4822, 0.4465]
 * ```
 */
export function datasetInfo(name: string): DatasetInfo {
  const info = DATASETS[name as DatasetName];
  if (!info) {
    throw new Error(`unknown dataset '${name}'; known: ${Object.keys(DATASETS).join(", ")}`);
  }
  return info;
}

/** Expand a leading `~` to the home directory. */
export function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/")
    ? (Deno.env.get("HOME") ?? "/root") + path.slice(1)
    : path;
}
