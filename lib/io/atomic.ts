/**
 * The one atomic file writer: every file memdil writes for others to read (tables, models,
 * figures, the dataset cache, unpacked dataset files) goes through it, so a reader never sees a
 * partial file and a killed write leaves only a temporary file named `<path>.tmp-<pid>-<id>`.
 *
 * @module
 */

/**
 * Write bytes, text or a byte stream atomically: to a temporary name in the same directory
 * (created if need be), then rename. A failed write removes its temporary file.
 *
 * @example
 * ```ts
 * await writeFileAtomic("results/x.json", JSON.stringify({ a: 1 }));
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string | ReadableStream<Uint8Array>,
): Promise<void> {
  const directory = path.slice(0, path.lastIndexOf("/")) || ".";
  await Deno.mkdir(directory, { recursive: true });
  const temporary = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(temporary, data);
    else await Deno.writeFile(temporary, data);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
