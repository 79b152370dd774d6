/**
 * Finding dataset files on disk and downloading the missing ones, verified by checksum.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** One file of a dataset distribution. */
export interface DatasetFile {
  /** File name as distributed (e.g. `train-images-idx3-ubyte.gz`). */
  name: string;
  /** MD5 of the file as downloaded from `url`. */
  md5: string;
  /** Where the canonical distribution serves it. */
  url: string;
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
 * Download files into `dir`, each verified against its MD5 and stored atomically (temporary
 * name, then rename), so an interrupted download never leaves a file that looks complete.
 *
 * @example
 * ```ts
 * await downloadFiles("/root/data/FashionMNIST/raw", files);
 * ```
 */
export async function downloadFiles(dir: string, files: DatasetFile[]): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const file of files) {
    const target = `${dir}/${file.name}`;
    paths.push(target);
    if (isFile(target) && md5Hex(await Deno.readFile(target)) === file.md5) continue;
    console.error(`downloading ${file.url}`);
    const response = await fetch(file.url);
    if (!response.ok || !response.body) {
      throw new Error(`download of ${file.url} failed: HTTP ${response.status}`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    const digest = md5Hex(bytes);
    if (digest !== file.md5) {
      throw new Error(
        `${file.url}: checksum mismatch (md5 ${digest}, expected ${file.md5}); nothing was saved`,
      );
    }
    const temporary = `${target}.part-${Deno.pid}`;
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, target);
  }
  return paths;
}
