/**
 * MNIST: the four IDX files in torchvision's `<data_dir>/MNIST/raw/` (gzip or not), downloaded
 * from torchvision's mirror when missing, each gzip file verified by its published MD5.
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

const MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist";

/** The four distribution files with the MD5s torchvision publishes. */
export const MNIST_FILES: DatasetFile[] = [
  ["train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"],
  ["train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"],
  ["t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"],
  ["t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"],
].map(([name, md5]) => ({ name, md5, url: `${MIRROR}/${name}` }));

/**
 * MNIST's distribution. Only the gzip files have published checksums: an uncompressed copy (as
 * torchvision also leaves in raw/) is checked by its IDX header and size alone.
 */
export const MNIST_SPEC: IdxDatasetSpec = {
  title: "MNIST",
  folder: "MNIST",
  files: MNIST_FILES,
  systemDirs: [],
  counts: { train: 60000, test: 10000 },
};

/**
 * Locate (or download), verify and decode MNIST's train and test splits.
 *
 * @example
 * ```ts
 * const { train, test } = await loadMnist({ dataDir: "/root/data" });
 * console.log(train.count, test.count); // 60000 10000
 * ```
 */
export async function loadMnist(options: LoadOptions): Promise<RawDataset> {
  return decodeIdxDataset(MNIST_SPEC, await acquireIdxDataset(MNIST_SPEC, options), options);
}
