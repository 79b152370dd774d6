/**
 * A reader for MATLAB level-5 MAT-files (the format of SVHN's `*_32x32.mat`), numeric arrays
 * only, into typed arrays.
 *
 * Written here because the one npm reader (mat-for-js) converts arrays into nested JavaScript
 * arrays: SVHN's 225 MB of pixels would need many gigabytes that way.
 *
 * Layout: a 128-byte header (text, subsystem offset, version, endian indicator "IM" or "MI"),
 * then data elements, each an 8-byte tag (type, byte count) and its data padded to 8 bytes; a
 * tag whose upper 16 bits are non-zero is a "small element" with up to 4 bytes of data inside the
 * tag. miCOMPRESSED elements hold a zlib stream of further elements; miMATRIX elements hold array
 * flags (class), dimensions, the name and the real part, whose storage type may be narrower than
 * the class (MATLAB stores doubles holding small integers as uint8).
 *
 * @module
 */

/** Numeric MATLAB classes: name, the typed array returned, the storage type of the same width. */
const CLASSES = {
  6: ["double", Float64Array, 9],
  7: ["single", Float32Array, 7],
  8: ["int8", Int8Array, 1],
  9: ["uint8", Uint8Array, 2],
  10: ["int16", Int16Array, 3],
  11: ["uint16", Uint16Array, 4],
  12: ["int32", Int32Array, 5],
  13: ["uint32", Uint32Array, 6],
} as const;

/** The typed arrays a numeric MAT array decodes to. */
export type MatData =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** One numeric array of a MAT-file. */
export interface MatArray {
  name: string;
  /** MATLAB class: "double", "uint8", ... */
  className: string;
  /** Dimensions as MATLAB reports them (column-major: the first index varies fastest). */
  dims: number[];
  /** The real part, column-major. */
  data: MatData;
}

const MI_INT8 = 1;
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
/** Byte size and reader of each storage type. */
const STORAGE: Record<number, [number, (view: DataView, offset: number, le: boolean) => number]> = {
  1: [1, (v, o) => v.getInt8(o)],
  2: [1, (v, o) => v.getUint8(o)],
  3: [2, (v, o, le) => v.getInt16(o, le)],
  4: [2, (v, o, le) => v.getUint16(o, le)],
  5: [4, (v, o, le) => v.getInt32(o, le)],
  6: [4, (v, o, le) => v.getUint32(o, le)],
  7: [4, (v, o, le) => v.getFloat32(o, le)],
  9: [8, (v, o, le) => v.getFloat64(o, le)],
};

interface Element {
  type: number;
  data: Uint8Array;
  /** Offset of the next element. */
  next: number;
}

function readElement(bytes: Uint8Array, offset: number, le: boolean, source: string): Element {
  if (offset + 8 > bytes.length) throw new Error(`${source}: truncated MAT-file (element tag)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  const word = view.getUint32(0, le);
  if (word >>> 16 !== 0) {
    // Small data element: byte count in the upper half, data in the tag's last 4 bytes.
    const size = word >>> 16;
    return {
      type: word & 0xffff,
      data: bytes.subarray(offset + 4, offset + 4 + size),
      next: offset + 8,
    };
  }
  const size = view.getUint32(4, le);
  const start = offset + 8;
  if (start + size > bytes.length) {
    throw new Error(
      `${source}: truncated MAT-file: an element of ${size} bytes at offset ${offset} runs past ` +
        `the end (${bytes.length} bytes); delete the file and fetch it again`,
    );
  }
  // Compressed elements are not padded; all others are padded to 8 bytes.
  const padded = word === MI_COMPRESSED ? size : Math.ceil(size / 8) * 8;
  return { type: word, data: bytes.subarray(start, start + size), next: start + padded };
}

async function inflate(data: Uint8Array, source: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([data as BlobPart]).stream().pipeThrough(
      new DecompressionStream("deflate"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(
      `${source}: corrupt or truncated compressed MAT-file data (${(error as Error).message}); ` +
        `delete the file and fetch it again`,
    );
  }
}

function numericData(
  element: Element,
  [, Type, sameStorage]: typeof CLASSES[keyof typeof CLASSES],
  le: boolean,
  source: string,
): MatData {
  const storage = STORAGE[element.type];
  if (!storage) throw new Error(`${source}: unsupported MAT storage type ${element.type}`);
  const [width, read] = storage;
  const count = Math.floor(element.data.length / width);
  // Stored as the class itself on a little-endian file: the bytes are the values.
  if (le && element.type === sameStorage) return new Type(element.data.slice().buffer, 0, count);
  const out = new Type(count);
  const view = new DataView(element.data.buffer, element.data.byteOffset, element.data.byteLength);
  for (let i = 0; i < count; i++) out[i] = read(view, i * width, le);
  return out;
}

function parseMatrix(data: Uint8Array, le: boolean, source: string): MatArray | undefined {
  const flags = readElement(data, 0, le, source);
  const classId = new DataView(flags.data.buffer, flags.data.byteOffset, 8).getUint32(0, le) & 0xff;
  const dimsElement = readElement(data, flags.next, le, source);
  const dimsView = new DataView(dimsElement.data.buffer, dimsElement.data.byteOffset);
  const dims = Array.from(
    { length: dimsElement.data.length / 4 },
    (_, i) => dimsView.getInt32(4 * i, le),
  );
  const nameElement = readElement(data, dimsElement.next, le, source);
  const name = nameElement.type === MI_INT8 || nameElement.type === 2
    ? new TextDecoder().decode(nameElement.data)
    : "";
  const known = CLASSES[classId as keyof typeof CLASSES];
  if (!known) return undefined; // cell, struct, char, sparse...: not needed here
  const real = readElement(data, nameElement.next, le, source);
  const values = numericData(real, known, le, source);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (values.length !== expected) {
    throw new Error(
      `${source}: array '${name}' has ${values.length} values, its dimensions ` +
        `${dims.join("x")} need ${expected}; the file is corrupt`,
    );
  }
  return { name, className: known[0], dims, data: values };
}

/**
 * Read every numeric array of a level-5 MAT-file. `source` names the file in errors.
 *
 * @example
 * ```ts
 * const arrays = await readMat(await Deno.readFile("/root/data/test_32x32.mat"), "test_32x32.mat");
 * arrays.get("X")!.dims; // [32, 32, 3, 26032]
 * ```
 */
export async function readMat(bytes: Uint8Array, source: string): Promise<Map<string, MatArray>> {
  if (bytes.length < 128) throw new Error(`${source}: not a MAT-file (shorter than its header)`);
  const indicator = String.fromCharCode(bytes[126], bytes[127]);
  if (indicator !== "IM" && indicator !== "MI") {
    const text = new TextDecoder().decode(bytes.subarray(0, 10));
    throw new Error(
      `${source}: not a level-5 MAT-file (no endian indicator${
        text.startsWith("\x89HDF") ? "; this is MATLAB 7.3/HDF5, not supported" : ""
      })`,
    );
  }
  const le = indicator === "IM";
  const arrays = new Map<string, MatArray>();
  const visit = async (buffer: Uint8Array, start: number) => {
    let offset = start;
    while (offset < buffer.length) {
      const element = readElement(buffer, offset, le, source);
      if (element.type === MI_COMPRESSED) {
        await visit(await inflate(element.data, source), 0);
      } else if (element.type === MI_MATRIX) {
        const array = parseMatrix(element.data, le, source);
        if (array) arrays.set(array.name, array);
      }
      offset = element.next;
    }
  };
  await visit(bytes, 128);
  return arrays;
}
