/**
 * memdil notebooks: run Jupyter notebooks headlessly on the Deno kernel, with parameters.
 *
 * ## Parameters convention
 *
 * Each notebook has exactly one code cell tagged `parameters` (cell metadata
 * `"tags": ["parameters"]`, as in papermill). Every non-blank line of it is a `//` comment or
 *
 * ```text
 * const name = <JSON-compatible literal>; // optional comment
 * ```
 *
 * (single-line literal; an optional `: Type` annotation is allowed). An override replaces the
 * literal in place. `--param key=value` values are parsed as JSON when they parse, otherwise
 * taken as strings (`--param sizes=[0,0.1]`, `--param optimizer=adam`). Unknown keys are
 * errors that name the notebook and list its parameters.
 *
 * ## Profiles
 *
 * `notebooks/profiles/NAME.json` holds `{ "<notebook name>": { "<param>": value, ... } }`.
 * Explicit overrides win over the profile.
 *
 * ## Execution
 *
 * A small Python helper (`run_notebook.py`) drives nbclient with Debian's Jupyter
 * (`/usr/bin/python3`, or `$MEMDIL_PYTHON`), on memdil's kernel: Deno's kernel confined by
 * bubblewrap (`sandbox.ts`: the filesystem read-only but for the result roots and dataset places,
 * no network, a private /tmp), its kernelspec given to the run alone. With `unconfined` it is
 * Deno's own kernel `deno` (installed with `deno jupyter --install` when missing), every cell with
 * every permission. The kernel's working directory is the notebook's own
 * directory — exactly what JupyterLab / VS Code do — because the Deno kernel resolves relative
 * imports against its working directory (not against the `.ipynb` file, which it never sees).
 * So a notebook in `notebooks/` imports repo modules with
 *
 * ```text
 * import { something } from "../lib/some/mod.ts";
 * ```
 *
 * and that works the same interactively and headless; the repo's `deno.json` (import map) is
 * found by walking up from that directory. Executed copies go to `results/notebooks/NAME.ipynb`
 * (`NAME.LABEL.ipynb` with a parameter-set label; written atomically); a failing run leaves
 * `NAME[.LABEL].failed.ipynb` instead.
 *
 * @example
 * ```ts
 * for (const run of await planRuns({ names: ["train"], params: { lr: 0.1 } })) {
 *   const res = await executeNotebook(run.path, { overrides: run.overrides });
 *   console.log(res.outputPath);
 * }
 * ```
 *
 * @module
 */

export * from "./parameters.ts";
export * from "./jupyter.ts";
export * from "./sandbox.ts";
export {
  type CellFailure,
  DEFAULT_IOPUB_TIMEOUT_S,
  DEFAULT_NOTEBOOKS_DIR,
  DEFAULT_OUTPUT_DIR,
  DEFAULT_TIMEOUT_S,
  executeNotebook,
  type ExecuteOptions,
  type ExecuteResult,
  listNotebooks,
  listProfiles,
  NotebookExecutionError,
  notebookName,
  notebookParameters,
  NotebookUsageError,
  type PlannedRun,
  type PlanOptions,
  planRuns,
  type Profile,
  type ProgressEvent,
  readNotebook,
  readProfile,
  REPO_ROOT,
  resolveNotebooks,
} from "./execute.ts";
