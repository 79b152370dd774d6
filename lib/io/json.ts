/**
 * Reading a JSON file memdil wrote (settings, tables, markers): a file that is not valid JSON is
 * an error naming the file, not a bare "Unexpected end of JSON input".
 *
 * @module
 */

/** A file that cannot be read as what it should be; the message names the file. */
export class FileFormatError extends Error {
  override name = "FileFormatError";
}

/**
 * Parse the JSON file at `path`; a missing file throws `Deno.errors.NotFound` as it is, a file
 * that does not parse throws {@link FileFormatError} naming it.
 *
 * @example
 * ```ts
 * const args = readJsonFile("results/runs/my_run/args.json");
 * ```
 */
export function readJsonFile(path: string): unknown {
  const text = Deno.readTextFileSync(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(
      `${path} is not valid JSON (${(error as Error).message}): it is damaged or was edited; ` +
        `restore it, or remove the directory it belongs to`,
    );
  }
}
