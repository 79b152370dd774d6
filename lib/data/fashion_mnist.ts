/**
 * Fashion-MNIST: locate (or download) the IDX files and decode them, verifying their content.
 *
 * Search order: `<data_dir>/FashionMNIST/raw/` (torchvision's layout), then the directory of
 * Debian's `dataset-fashion-mnist` package, then a download from the canonical source.
 *
 * @module
 */
import type { DatasetFile, LoadOptions } from "./acquire.ts";
import {
  acquireIdxDataset,
  decodeIdxDataset,
  type IdxDatasetSpec,
  type RawDataset,
} from "./idx_dataset.ts";

/** Directory of Debian's `dataset-fashion-mnist` package. */
export const DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

const MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com";

/** The four distribution files with their published (torchvision) MD5s. */
export const FASHION_MNIST_FILES: DatasetFile[] = [
  ["train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"],
  ["train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"],
  ["t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"],
  ["t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"],
].map(([name, md5]) => ({ name, md5, url: `${MIRROR}/${name}` }));

/** Fashion-MNIST's distribution. */
export const FASHION_MNIST_SPEC: IdxDatasetSpec = {
  title: "Fashion-MNIST",
  folder: "FashionMNIST",
  files: FASHION_MNIST_FILES,
  // MD5 of each file's *decompressed* content. Copies differ in their gzip bytes (Debian
  // recompresses them) but must agree on the content.
  contentMd5: {
    "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
  },
  systemDirs: [DEBIAN_FASHION_MNIST_DIR],
  counts: { train: 60000, test: 10000 },
  offlineHint: "'apt-get install dataset-fashion-mnist' (Debian)",
};

/**
 * Locate, verify and decode Fashion-MNIST's train and test splits.
 *
 * @example
 * ```ts
 * const { train, test, source } = await loadFashionMnist({ dataDir: "/root/data" });
 * console.log(train.count, test.count, source); // 60000 10000 /usr/share/datasets/fashion-mnist
 * ```
 */
export async function loadFashionMnist(options: LoadOptions): Promise<RawDataset> {
  return decodeIdxDataset(
    FASHION_MNIST_SPEC,
    await acquireIdxDataset(FASHION_MNIST_SPEC, options),
    options,
  );
}
