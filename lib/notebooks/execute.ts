/**
 * Headless execution of parameterised notebooks via nbclient, on memdil's sandboxed Deno kernel
 * (./sandbox.ts) or, when asked, on Deno's own.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { applyParameters, type JsonValue, type Notebook, parseParameters } from "./parameters.ts";
import { ensureDenoKernel, findJupyter, HELPER_ENV, HELPER_PATH } from "./jupyter.ts";
import { checkSandbox, KERNEL_NAME, kernelSpec } from "./sandbox.ts";

/** Repository root (two levels above this file). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(
  /\/$/,
  "",
);
/** Default directory holding the notebooks: `<repo>/notebooks`. */
export const DEFAULT_NOTEBOOKS_DIR: string = join(REPO_ROOT, "notebooks");
/** Default directory for executed copies: `<repo>/results/notebooks`. */
export const DEFAULT_OUTPUT_DIR: string = join(REPO_ROOT, "results", "notebooks");
/** Default per-cell timeout in seconds. */
export const DEFAULT_TIMEOUT_S = 3600;
/**
 * Default wait, in seconds, for a cell's outputs once the kernel replied that it finished. Past
 * it the cell fails (`IOPubTimeout`): Deno's kernel can corrupt its output channel when a large
 * output (a figure) meets a reader that falls behind, and no output arrives after that.
 */
export const DEFAULT_IOPUB_TIMEOUT_S = 120;

/** Raised for bad invocations: unknown notebook, unknown profile, malformed profile file. */
export class NotebookUsageError extends Error {
  /** Creates a NotebookUsageError. */
  constructor(message: string) {
    super(message);
    this.name = "NotebookUsageError";
  }
}

/** Details of a failed notebook run. */
export interface CellFailure {
  /** `cell` (the cell raised), `timeout`, `dead_kernel` or `other` (e.g. kernel did not start). */
  kind: "cell" | "timeout" | "dead_kernel" | "other";
  /** Error name reported by the kernel, e.g. `TypeError`. */
  ename: string;
  /** Error message reported by the kernel. */
  evalue: string;
  /** 0-based index of the failing cell in `notebook.cells`, when known. */
  index?: number;
  /** 1-based number of the failing cell among the code cells, when known. */
  code_index?: number;
  /** Number of code cells in the notebook. */
  code_total?: number;
  /** Source of the failing cell. */
  source?: string;
  /** Kernel traceback lines (may contain ANSI colours). */
  traceback?: string[];
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Raised by {@link executeNotebook} when the notebook fails; the partial copy is kept. */
export class NotebookExecutionError extends Error {
  /** Notebook base name. */
  readonly notebook: string;
  /** What failed, where. */
  readonly failure: CellFailure;
  /** Path of the partially executed copy (`NAME.failed.ipynb`), if one was written. */
  readonly partialPath?: string;

  /** Creates a NotebookExecutionError; the message is formatted from `failure`. */
  constructor(notebook: string, failure: CellFailure, partialPath?: string) {
    super(formatFailure(notebook, failure, partialPath));
    this.name = "NotebookExecutionError";
    this.notebook = notebook;
    this.failure = failure;
    this.partialPath = partialPath;
  }
}

function formatFailure(notebook: string, f: CellFailure, partialPath?: string): string {
  const lines: string[] = [];
  if (f.index !== undefined) {
    const what = f.kind === "timeout"
      ? "timed out in"
      : f.kind === "dead_kernel"
      ? "lost its kernel in"
      : "failed in";
    lines.push(
      `notebook "${notebook}" ${what} code cell ${f.code_index} of ${f.code_total} ` +
        `(cells[${f.index}] of the notebook):`,
    );
    const src = (f.source ?? "").split("\n");
    for (const l of src.slice(0, 3)) {
      lines.push(`  | ${l.length > 120 ? l.slice(0, 117) + "..." : l}`);
    }
    if (src.length > 3) lines.push(`  | ... (${src.length - 3} more lines)`);
  } else {
    lines.push(`notebook "${notebook}" failed:`);
  }
  const headline = `${f.ename}: ${f.evalue}`;
  lines.push(`  ${headline}`);
  const tb = (f.traceback ?? []).flatMap((t) => t.replace(ANSI, "").split("\n"))
    .filter((t) => t.trim() !== "");
  const rest = tb[0]?.trim() === headline.trim() ? tb.slice(1) : tb;
  for (const l of rest.slice(0, 15)) lines.push(`  ${l}`);
  if (rest.length > 15) lines.push(`  ... (${rest.length - 15} more traceback lines)`);
  if (f.kind === "cell" && f.evalue === "Execution failed" && rest.length === 0) {
    lines.push(
      "  (the Deno kernel gives no detail here: usually a syntax error in the cell, " +
        "or a failed module import/compile)",
    );
  }
  if (partialPath) lines.push(`partially executed copy: ${partialPath}`);
  return lines.join("\n");
}

/** Progress events reported while a notebook runs. */
export interface ProgressEvent {
  /** Notebook base name. */
  notebook: string;
  /** 0-based index in `notebook.cells`. */
  index: number;
  /** 1-based number among the code cells. */
  code_index: number;
  /** Number of code cells. */
  code_total: number;
  /** First line of the cell source. */
  firstLine: string;
}

/** Options of {@link executeNotebook}. */
export interface ExecuteOptions {
  /** Parameter overrides (see `applyParameters`). */
  overrides?: Record<string, JsonValue>;
  /** Directory receiving `NAME.ipynb` / `NAME.failed.ipynb`; default `<repo>/results/notebooks`. */
  outputDir?: string;
  /**
   * Names the parameter set: the executed copy is then `NAME.LABEL.ipynb` (failed:
   * `NAME.LABEL.failed.ipynb`), so runs with other parameters do not overwrite it.
   */
  label?: string;
  /** Per-cell timeout in seconds; default 3600. */
  timeout?: number;
  /**
   * Seconds to wait for a cell's outputs once the kernel replied that the cell finished; past
   * it the cell fails with `IOPubTimeout` (default 120, see {@link DEFAULT_IOPUB_TIMEOUT_S}).
   */
  iopubTimeout?: number;
  /** Kernel start-up timeout in seconds; default 120. */
  startupTimeout?: number;
  /**
   * Jupyter kernel name; default memdil's sandboxed Deno kernel (`memdil`, lib/notebooks/sandbox.ts;
   * its kernelspec is given to this run only), or `deno` with `unconfined`.
   */
  kernelName?: string;
  /**
   * Run on Deno's own kernel, every cell with every permission, instead of the sandboxed one
   * (where bubblewrap cannot be had); default false.
   */
  unconfined?: boolean;
  /**
   * Working directory of the kernel; default the notebook's own directory, as in JupyterLab
   * and VS Code, so relative imports/paths mean the same interactively and headless.
   */
  cwd?: string;
  /** Install Deno's own kernelspec when missing, for `unconfined` runs (default true). */
  installKernel?: boolean;
  /** Called when each code cell starts. */
  onProgress?: (event: ProgressEvent) => void;
  /** Receives the progress lines cells print (a sweep's per-run lines, `sweep [i/n] ...`). */
  onOutputLine?: (line: string) => void;
  /** Receives diagnostic lines (kernel install notices, helper/kernel stderr). */
  log?: (line: string) => void;
  /** Extra metadata stored under `metadata.memdil` of the executed copy. */
  metadata?: Record<string, JsonValue>;
}

/** Result of a successful {@link executeNotebook}. */
export interface ExecuteResult {
  /** Notebook base name. */
  notebook: string;
  /** Path of the executed copy. */
  outputPath: string;
  /** Effective parameters (defaults merged with overrides). */
  parameters: Record<string, JsonValue>;
  /** Wall time of the execution, seconds. */
  seconds: number;
}

/**
 * Reads and parses an `.ipynb` file; throws {@link NotebookUsageError} when it is not a notebook.
 *
 * @example
 * ```ts
 * const nb = await readNotebook("notebooks/train.ipynb");
 * ```
 */
export async function readNotebook(path: string): Promise<Notebook> {
  let nb: Notebook;
  try {
    nb = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new NotebookUsageError(`${path} is not valid JSON: ${err.message}`);
  }
  if (!nb || !Array.isArray(nb.cells) || typeof nb.metadata !== "object") {
    throw new NotebookUsageError(`${path} is not an nbformat v4 notebook (no cells/metadata)`);
  }
  return nb;
}

/** Notebook base name: `notebooks/train.ipynb` → `train`. */
export function notebookName(path: string): string {
  return basename(path).replace(/\.ipynb$/, "");
}

/** Helper stderr lines that are noise, not diagnostics. */
const NOISE = [
  /"deno jupyter" is unstable/,
  /Debugger warning|frozen modules|-Xfrozen_modules|PYDEVD_DISABLE_FILE_VALIDATION|Debugging will proceed/,
];

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

/**
 * Reads a notebook, applies parameter overrides, executes it headlessly with nbclient on
 * memdil's sandboxed Deno kernel (Deno's own with `unconfined`) and writes the executed copy
 * atomically to `<outputDir>/NAME.ipynb` (any stale `NAME.failed.ipynb` is removed). When a cell fails, the partial copy goes to
 * `<outputDir>/NAME.failed.ipynb`, nothing is written under the success name, and a
 * {@link NotebookExecutionError} is thrown. Where the sandbox cannot be made a `SandboxError`
 * is thrown before anything runs. Unknown override keys throw `ParameterError` before
 * anything runs.
 *
 * @example
 * ```ts
 * const res = await executeNotebook("notebooks/train.ipynb", {
 *   overrides: { lr: 0.1 },
 *   outputDir: "/tmp/out",
 * });
 * console.log(res.outputPath); // /tmp/out/train.ipynb
 * ```
 */
export async function executeNotebook(
  path: string,
  options: ExecuteOptions = {},
): Promise<ExecuteResult> {
  const name = notebookName(path);
  const absPath = resolve(path);
  const log = options.log ?? ((line: string) => console.error(line));
  const nb = await readNotebook(absPath);
  const prepared = applyParameters(nb, options.overrides ?? {}, name);
  const memdil = prepared.metadata.memdil as Record<string, unknown>;
  Object.assign(memdil, options.metadata ?? {}, { source: path });
  const kernelName = options.kernelName ?? (options.unconfined ? "deno" : KERNEL_NAME);
  const spec = kernelName === KERNEL_NAME ? kernelSpec() : undefined;
  prepared.metadata.kernelspec = kernelName === "deno"
    ? { name: "deno", display_name: "Deno", language: "typescript" }
    : spec
    ? { name: KERNEL_NAME, display_name: spec.display_name, language: spec.language }
    : { ...(prepared.metadata.kernelspec as object ?? {}), name: kernelName };

  const probe = await findJupyter();
  // Never unconfined without being asked: a sandbox that cannot be made is an error naming why.
  if (spec) await checkSandbox();
  if (options.installKernel !== false && kernelName === "deno") {
    await ensureDenoKernel(log, kernelName);
  }

  const outputDir = resolve(options.outputDir ?? DEFAULT_OUTPUT_DIR);
  const stem = options.label ? `${name}.${options.label}` : name;
  const request = {
    notebook: prepared,
    kernel_name: kernelName,
    kernelspec: spec,
    timeout: options.timeout ?? DEFAULT_TIMEOUT_S,
    iopub_timeout: options.iopubTimeout ?? DEFAULT_IOPUB_TIMEOUT_S,
    startup_timeout: options.startupTimeout ?? 120,
    cwd: resolve(options.cwd ?? dirname(absPath)),
    output: join(outputDir, `${stem}.ipynb`),
    failed_output: join(outputDir, `${stem}.failed.ipynb`),
  };
  const child = new Deno.Command(probe.python, {
    args: [HELPER_PATH, "--execute"],
    env: HELPER_ENV,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();

  const sourceLines = prepared.cells.map((c) =>
    (Array.isArray(c.source) ? c.source.join("") : c.source).split("\n")[0]
  );
  const stderrTail: string[] = [];
  const stderrDone = (async () => {
    for await (const line of readLines(child.stderr)) {
      if (NOISE.some((re) => re.test(line))) continue;
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
      log(`[${name}] ${line}`);
    }
  })();
  let result: Record<string, unknown> | undefined;
  const stdoutNoise: string[] = [];
  for await (const line of readLines(child.stdout)) {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch {
      stdoutNoise.push(line);
      continue;
    }
    if (event.event === "cell") {
      const index = event.index as number;
      options.onProgress?.({
        notebook: name,
        index,
        code_index: event.code_index as number,
        code_total: event.code_total as number,
        firstLine: sourceLines[index] ?? "",
      });
    } else if (event.event === "line") {
      options.onOutputLine?.(event.text as string);
    } else if (event.event === "result" || event.event === "missing") {
      result = event;
    }
  }
  const status = await child.status;
  await stderrDone;

  if (result?.event === "result" && result.status === "ok") {
    return {
      notebook: name,
      outputPath: result.path as string,
      parameters: memdil.parameters as Record<string, JsonValue>,
      seconds: result.seconds as number,
    };
  }
  if (result?.event === "result" && result.status === "error") {
    throw new NotebookExecutionError(name, result.error as CellFailure, result.path as string);
  }
  const detail = result?.event === "missing"
    ? String(result.message)
    : [...stdoutNoise, ...stderrTail.slice(-1)].join("\n") +
      (stderrTail.length > 1 ? `\n(full helper output above, prefixed with [${name}])` : "");
  throw new NotebookExecutionError(name, {
    kind: "other",
    ename: "HelperError",
    evalue: `the nbclient helper (${probe.python}) exited with code ${status.code}` +
      (detail ? `:\n${detail}` : ""),
  });
}

/**
 * Lists the notebook base names (sorted) in a directory; hidden files and checkpoints are
 * skipped.
 *
 * @example
 * ```ts
 * await listNotebooks(); // ["baseline", "train"]
 * ```
 */
export async function listNotebooks(dir: string = DEFAULT_NOTEBOOKS_DIR): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".ipynb") && !entry.name.startsWith(".")) {
        names.push(notebookName(entry.name));
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

function availableList(items: string[], what: string): string {
  return items.length ? `available ${what}: ${items.join(", ")}` : `no ${what} are available`;
}

/**
 * Resolves notebook names (with or without `.ipynb`) to paths under `dir`; no names means every
 * notebook in `dir`. Throws {@link NotebookUsageError} listing the available notebooks when a
 * name is unknown.
 *
 * @example
 * ```ts
 * await resolveNotebooks(["train.ipynb"]); // [".../notebooks/train.ipynb"]
 * ```
 */
export async function resolveNotebooks(
  names: string[],
  dir: string = DEFAULT_NOTEBOOKS_DIR,
): Promise<string[]> {
  const available = await listNotebooks(dir);
  const wanted = names.length ? names.map((n) => notebookName(n)) : available;
  const unknown = wanted.filter((n) => !available.includes(n));
  if (unknown.length) {
    throw new NotebookUsageError(
      `unknown notebook${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} in ${dir}; ` +
        availableList(available, "notebooks"),
    );
  }
  return [...new Set(wanted)].map((n) => join(dir, `${n}.ipynb`));
}

/** A profile: per-notebook parameter values, `{ "<notebook>": { "<param>": value } }`. */
export type Profile = Record<string, Record<string, JsonValue>>;

/**
 * Lists the profile names available in `<notebooksDir>/profiles`.
 *
 * @example
 * ```ts
 * await listProfiles(); // ["fast", "full"]
 * ```
 */
export async function listProfiles(
  notebooksDir: string = DEFAULT_NOTEBOOKS_DIR,
): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(notebooksDir, "profiles"))) {
      if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name.slice(0, -5));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

/**
 * Reads `<notebooksDir>/profiles/NAME.json` and validates its shape. Throws
 * {@link NotebookUsageError} listing the available profiles when it does not exist.
 *
 * @example
 * ```ts
 * const fast = await readProfile("fast"); // { train: { epochs: 1 } }
 * ```
 */
export async function readProfile(
  name: string,
  notebooksDir: string = DEFAULT_NOTEBOOKS_DIR,
): Promise<Profile> {
  const file = join(notebooksDir, "profiles", `${name.replace(/\.json$/, "")}.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new NotebookUsageError(
      `unknown profile "${name}" (no ${file}); ` +
        availableList(await listProfiles(notebooksDir), "profiles"),
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new NotebookUsageError(`profile ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(data) || !Object.values(data as object).every(isObject)) {
    throw new NotebookUsageError(
      `profile ${file} must be a JSON object {"<notebook>": {"<param>": value, ...}, ...}`,
    );
  }
  return data as Profile;
}

/** A validated run: which notebook, with which overrides. */
export interface PlannedRun {
  /** Notebook base name. */
  name: string;
  /** Notebook path. */
  path: string;
  /** Overrides to apply: profile entries, then explicit parameters (which win). */
  overrides: Record<string, JsonValue>;
}

/** Options of {@link planRuns}. */
export interface PlanOptions {
  /**
   * Notebook names; empty = the notebooks the profile configures, or without a profile all
   * notebooks in `notebooksDir` (a profile for one notebook never runs the others on their
   * defaults).
   */
  names?: string[];
  /** Explicit overrides applied to every selected notebook (they win over the profile). */
  params?: Record<string, JsonValue>;
  /** Profile name under `<notebooksDir>/profiles`. */
  profile?: string;
  /** Notebook directory; default `<repo>/notebooks`. */
  notebooksDir?: string;
}

/**
 * Resolves names, reads the profile and checks every override against each notebook's
 * parameters cell before anything is executed. Throws `NotebookUsageError` / `ParameterError`.
 *
 * @example
 * ```ts
 * const runs = await planRuns({ names: ["train"], params: { lr: 0.1 }, profile: "fast" });
 * for (const r of runs) await executeNotebook(r.path, { overrides: r.overrides });
 * ```
 */
export async function planRuns(options: PlanOptions = {}): Promise<PlannedRun[]> {
  const dir = options.notebooksDir ?? DEFAULT_NOTEBOOKS_DIR;
  const profile = options.profile ? await readProfile(options.profile, dir) : {};
  const names = options.names?.length ? options.names : Object.keys(profile);
  const paths = await resolveNotebooks(names, dir);
  const runs: PlannedRun[] = [];
  for (const path of paths) {
    const name = notebookName(path);
    const overrides = { ...(profile[name] ?? {}), ...(options.params ?? {}) };
    const nb = await readNotebook(path);
    applyParameters(nb, overrides, name); // validation only
    runs.push({ name, path, overrides });
  }
  return runs;
}

/**
 * Describes the parameters of a notebook file (name → default value).
 *
 * @example
 * ```ts
 * await notebookParameters("notebooks/train.ipynb"); // { lr: 0.01, epochs: 10 }
 * ```
 */
export async function notebookParameters(path: string): Promise<Record<string, JsonValue>> {
  const nb = await readNotebook(path);
  return Object.fromEntries(parseParameters(nb, notebookName(path)).map((d) => [d.name, d.value]));
}
