/**
 * Sweep files: a sweep written as JSON, for `deno task sweep FILE`.
 *
 * ```json
 * {
 *   "name": "ce_vs_ls",
 *   "resultsDir": "results/sweeps/ce_vs_ls",
 *   "runner": "simple",
 *   "concurrency": 2,
 *   "base": { "epochs": 12, "width": 128, "depth": 4, "batch_size": 64, "backend": "wasm" },
 *   "grid": { "loss": ["CrossEntropy", "LS"], "label_noise": [0, 0.1, 0.2, 0.3], "seed": [1, 2] },
 *   "runs": [{ "loss": "LS", "ls_alpha": 0.3, "label_noise": 0.2, "seed": 1 }]
 * }
 * ```
 *
 * Keys: `name` (required), `resultsDir` (required; relative paths are relative to the
 * repository root, like config.ini's; it and `basePath` must lie under results/ or a place
 * config.ini names), `runner` (a registered runner's name: `simple` by default, or `large`), `concurrency` (default
 * config.ini [RESOURCES] MAXIMUM_CONCURRENT_JOBS), `executor` (`local` worker processes, the
 * default, or `slurm`: a job array, settings in config.ini [SLURM]), `basePath` (run directories; default
 * `<resultsDir>/runs`), `base` (flags shared by every run), `grid` (flag -> list of values: every
 * combination, first flag varying slowest) and `runs` (further runs, each merged over `base`).
 * Flags are `deno task train`'s, without `--`: a switch is `true`/`false` (`"bias": false` is
 * `--no-bias`), a per-class noise vector is a list. With neither `grid` nor `runs`, `base` is the
 * one run.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { isUnder, readIniConfig, REPO_ROOT, resultRoots } from "../config/ini.ts";
import { type ExecutorName, EXECUTORS } from "./executor.ts";
import { type Flags, type FlagValue, grid } from "./grid.ts";
import type { Sweep } from "./sweep.ts";

/** The JSON document of a sweep file. */
export interface SweepFile {
  name: string;
  resultsDir: string;
  runner?: string;
  concurrency?: number;
  executor?: ExecutorName;
  basePath?: string;
  base?: Flags;
  grid?: Record<string, FlagValue[]>;
  runs?: Flags[];
}

const KEYS = [
  "name",
  "resultsDir",
  "runner",
  "concurrency",
  "executor",
  "basePath",
  "base",
  "grid",
  "runs",
];

/** A sweep file that cannot be used; the message names the problem and the fix. */
export class SweepFileError extends Error {
  override name = "SweepFileError";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isFlagValue(value: unknown): value is FlagValue {
  return value === null || ["string", "number", "boolean"].includes(typeof value) ||
    (Array.isArray(value) && value.every((v) => typeof v === "number"));
}

function checkFlags(where: string, flags: unknown): Flags {
  if (!isObject(flags)) throw new SweepFileError(`${where} must be an object of flag values`);
  for (const [flag, value] of Object.entries(flags)) {
    if (flag.startsWith("-")) {
      throw new SweepFileError(`${where}: write flag '${flag}' without the leading dashes`);
    }
    if (!isFlagValue(value)) {
      throw new SweepFileError(
        `${where}.${flag}: a flag value is a string, number, boolean, null or list of numbers`,
      );
    }
  }
  return flags as Flags;
}

/**
 * Turn a sweep file's document into a {@link Sweep} (`path` names the file in errors).
 *
 * @example
 * ```ts
 * const sweep = sweepFromDocument({
 *   name: "s",
 *   resultsDir: "results/s",
 *   base: { epochs: 2 },
 *   grid: { loss: ["CrossEntropy", "LS"] },
 * }, "s.json");
 * console.log(sweep.runs.length); // 2
 * ```
 */
export function sweepFromDocument(document: unknown, path: string): Sweep {
  if (!isObject(document)) throw new SweepFileError(`${path}: a sweep file is a JSON object`);
  const unknown = Object.keys(document).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0) {
    throw new SweepFileError(
      `${path}: unknown key(s) ${unknown.join(", ")}; a sweep file has ${KEYS.join(", ")}`,
    );
  }
  const file = document as unknown as SweepFile;
  for (const key of ["name", "resultsDir"] as const) {
    if (typeof file[key] !== "string" || file[key] === "") {
      throw new SweepFileError(`${path}: "${key}" (a non-empty string) is required`);
    }
  }
  if (file.runner !== undefined && !isRunnerName(file.runner)) {
    throw new SweepFileError(
      `${path}: "runner" is a runner's name, such as "simple" or "large" (never a path or ` +
        `URL), got ${JSON.stringify(file.runner)}`,
    );
  }
  if (
    file.concurrency !== undefined &&
    !(Number.isInteger(file.concurrency) && file.concurrency >= 1)
  ) {
    throw new SweepFileError(`${path}: "concurrency" must be an integer >= 1`);
  }
  if (file.executor !== undefined && !EXECUTORS.includes(file.executor)) {
    throw new SweepFileError(`${path}: "executor" is one of ${EXECUTORS.join(", ")}`);
  }
  const base = checkFlags(`${path}: base`, file.base ?? {});
  const runs: Flags[] = [];
  if (file.grid !== undefined) {
    if (!isObject(file.grid)) {
      throw new SweepFileError(`${path}: "grid" maps flags to lists of values`);
    }
    for (const [flag, values] of Object.entries(file.grid)) {
      if (!Array.isArray(values) || values.length === 0 || !values.every(isFlagValue)) {
        throw new SweepFileError(
          `${path}: grid.${flag} must be a non-empty list of flag values, e.g. [0, 0.1, 0.2]`,
        );
      }
    }
    runs.push(...grid(base, file.grid));
  }
  if (file.runs !== undefined) {
    if (!Array.isArray(file.runs)) throw new SweepFileError(`${path}: "runs" is a list of flags`);
    file.runs.forEach((run, i) =>
      runs.push({ ...base, ...checkFlags(`${path}: runs[${i}]`, run) })
    );
  }
  if (file.grid === undefined && file.runs === undefined) runs.push(base);
  if (file.basePath !== undefined && (typeof file.basePath !== "string" || file.basePath === "")) {
    throw new SweepFileError(`${path}: "basePath" is a non-empty string`);
  }
  const resultsDir = confinedPath(path, "resultsDir", file.resultsDir);
  return {
    name: file.name,
    runner: file.runner,
    concurrency: file.concurrency,
    executor: file.executor,
    resultsDir,
    basePath: file.basePath ? confinedPath(path, "basePath", file.basePath) : undefined,
    runs,
  };
}

/**
 * Whether `value` can be a runner's name: a plain word, never a path or URL.
 *
 * @example
 * ```ts
 * isRunnerName("simple"); // true
 * isRunnerName("/tmp/evil.ts"); // false
 * ```
 */
export function isRunnerName(value: unknown): value is string {
  return typeof value === "string" && /^[a-z][a-z0-9_]*$/.test(value);
}

/**
 * A directory named by a data file (sweep or search), resolved (relative to the repository
 * root) and confined to memdil's result roots: results/ and the places config.ini names. A data
 * file never widens where memdil writes or what it deletes.
 *
 * @example
 * ```ts
 * confinedPath("s.json", "resultsDir", "results/sweeps/s"); // "/repo/results/sweeps/s"
 * ```
 */
export function confinedPath(file: string, key: string, value: string): string {
  const resolved = resolve(isAbsolute(value) ? value : join(REPO_ROOT, value));
  const roots = resultRoots(readIniConfig());
  if (!isUnder(resolved, roots)) {
    throw new SweepFileError(
      `${file}: "${key}" ${value} is outside the places memdil writes results (${
        roots.join(", ")
      }); put it under one of them, or configure the place in config.ini [PATHS]`,
    );
  }
  return resolved;
}

/**
 * Read and check a sweep file.
 *
 * @example
 * ```ts
 * const sweep = await readSweepFile("sweeps/ce_vs_ls_quick.json");
 * ```
 */
export async function readSweepFile(path: string): Promise<Sweep> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new SweepFileError(`cannot read sweep file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new SweepFileError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  return sweepFromDocument(document, path);
}
