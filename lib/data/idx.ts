/**
 * IDX files (the MNIST family's format), gzip-compressed or not.
 *
 * Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, each
 * dimension as a big-endian uint32, then the data.
 *
 * @module
 */

/** A decoded IDX array of unsigned bytes. */
export interface IdxArray {
  /** Sizes of each dimension, e.g. [60000, 28, 28] for images, [60000] for labels. */
  shape: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * Gunzip bytes with the runtime's DecompressionStream; a truncated or corrupt stream is an error
 * naming `source`.
 *
 * @example
 * ```ts
 * const raw = await gunzip(Deno.readFileSync("train-labels-idx1-ubyte.gz"), "labels");
 * ```
 */
export async function gunzip(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(
      `${source}: corrupt or truncated gzip data (${(error as Error).message}); ` +
        `delete the file and fetch it again`,
    );
  }
}

/**
 * Parse an uncompressed IDX unsigned-byte array. `source` names the file in errors.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]);
 * parseIdx(bytes, "labels"); // { shape: [2], data: Uint8Array [7, 9] }
 * ```
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${source}: not an IDX file (bad magic number)`);
  }
  if (bytes[2] !== 0x08) {
    throw new Error(
      `${source}: IDX type code 0x${bytes[2].toString(16)} unsupported (expected 0x08, ubyte)`,
    );
  }
  const dims = bytes[3];
  const headerLength = 4 + 4 * dims;
  if (dims === 0 || bytes.length < headerLength) {
    throw new Error(`${source}: truncated IDX header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerLength;
  if (actual !== expected) {
    throw new Error(
      `${source}: IDX file ${actual < expected ? "truncated" : "has trailing bytes"}: ` +
        `header says ${shape.join("x")} = ${expected} values, file holds ${actual}; ` +
        `delete it and fetch it again`,
    );
  }
  return { shape, data: bytes.subarray(headerLength) };
}

/**
 * Read an IDX file from disk, decompressing it when it is gzip.
 *
 * @example
 * ```ts
 * const labels = await readIdxFile("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
 * ```
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const bytes = await Deno.readFile(path);
  return parseIdx(isGzip(bytes) ? await gunzip(bytes, path) : bytes, path);
}
