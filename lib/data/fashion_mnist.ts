/**
 * Fashion-MNIST: locate (or download) the IDX files and decode them, verifying their content.
 *
 * Search order: `<data_dir>/FashionMNIST/raw/` (torchvision's layout), then the directory of
 * Debian's `dataset-fashion-mnist` package, then a download from the canonical source.
 *
 * @module
 */
import { type DatasetFile, downloadFiles, findFiles, md5Hex } from "./acquire.ts";
import { gunzip, isGzip, parseIdx } from "./idx.ts";

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

/**
 * MD5 of each file's *decompressed* content. Copies differ in their gzip bytes (Debian
 * recompresses them) but must agree on the content.
 */
const CONTENT_MD5: Record<string, string> = {
  "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
  "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
  "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
  "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
};

/** One split of an image-classification dataset as stored: 8-bit images and labels. */
export interface RawSplit {
  /** Pixels, n x height x width, row-major (grayscale). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/** Options for {@link loadFashionMnist}. */
export interface LoadOptions {
  /** Root data directory (`--data_dir`); searched as `<data_dir>/FashionMNIST/raw/`. */
  dataDir: string;
  /** Extra directories searched after data_dir (default: Debian's package directory). */
  systemDirs?: string[];
  /** Download when no copy is found (default: true unless MEMDIL_OFFLINE is set). */
  download?: boolean;
}

async function decodeVerified(path: string, name: string) {
  const bytes = await Deno.readFile(path);
  const content = isGzip(bytes) ? await gunzip(bytes, path) : bytes;
  const parsed = parseIdx(content, path);
  const digest = md5Hex(content);
  if (digest !== CONTENT_MD5[name]) {
    throw new Error(
      `${path}: content checksum mismatch (md5 ${digest}, expected ${CONTENT_MD5[name]}); ` +
        `the file is corrupt or not Fashion-MNIST: delete it and fetch it again`,
    );
  }
  return parsed;
}

/**
 * Locate, verify and decode Fashion-MNIST's train and test splits.
 *
 * @example
 * ```ts
 * const { train, test, source } = await loadFashionMnist({ dataDir: "/root/data" });
 * console.log(train.count, test.count, source); // 60000 10000 /usr/share/datasets/fashion-mnist
 * ```
 */
export async function loadFashionMnist(
  options: LoadOptions,
): Promise<{ train: RawSplit; test: RawSplit; source: string }> {
  const rawDir = `${options.dataDir}/FashionMNIST/raw`;
  const dirs = [rawDir, ...(options.systemDirs ?? [DEBIAN_FASHION_MNIST_DIR])];
  const names = FASHION_MNIST_FILES.map((f) => f.name);
  let paths = findFiles(dirs, names);
  if (!paths) {
    const download = options.download ?? !Deno.env.get("MEMDIL_OFFLINE");
    const where = dirs.map((d) => `  ${d}/`).join("\n");
    const help = `Fashion-MNIST not found. Looked for ${names.join(", ")} (gzip or not) in:\n` +
      `${where}\nGet it with 'apt-get install dataset-fashion-mnist' (Debian), or copy the ` +
      `four IDX files into ${rawDir}/, or run with network access to download them.`;
    if (!download) throw new Error(help);
    try {
      paths = await downloadFiles(rawDir, FASHION_MNIST_FILES);
    } catch (error) {
      throw new Error(`${help}\nDownload failed: ${(error as Error).message}`);
    }
  }
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    paths.map((path, i) => decodeVerified(path, names[i])),
  );
  const split = (images: typeof trainImages, labels: typeof trainLabels): RawSplit => ({
    images: images.data,
    labels: labels.data,
    count: labels.shape[0],
    height: images.shape[1],
    width: images.shape[2],
  });
  return {
    train: split(trainImages, trainLabels),
    test: split(testImages, testLabels),
    source: paths[0].slice(0, paths[0].lastIndexOf("/")),
  };
}
