/**
 * Locating Debian's Jupyter (a Python interpreter that can `import nbclient`) and making sure
 * the Deno kernelspec is installed.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** Path of the Python helper that drives nbclient. */
export const HELPER_PATH: string = fileURLToPath(new URL("./run_notebook.py", import.meta.url));

/** Hint printed whenever nbclient cannot be found. */
export const INSTALL_HINT = "apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel";

/** Raised when Jupyter or the Deno kernel is unavailable. */
export class JupyterSetupError extends Error {
  /** Creates a JupyterSetupError. */
  constructor(message: string) {
    super(message);
    this.name = "JupyterSetupError";
  }
}

/** What the helper's `--probe` reports. */
export interface JupyterProbe {
  /** Interpreter that imports nbclient (absolute path, from `sys.executable`). */
  python: string;
  /** nbclient version. */
  nbclient: string;
  /** Installed kernelspecs by name. */
  kernelspecs: Record<
    string,
    { resource_dir: string; argv: string[]; executable_exists: boolean }
  >;
}

/** Environment given to the helper: silences debugpy's frozen-modules warning. */
export const HELPER_ENV: Record<string, string> = { PYDEVD_DISABLE_FILE_VALIDATION: "1" };

function pythonCandidates(): string[] {
  const out: string[] = [];
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("MEMDIL_PYTHON");
  } catch {
    fromEnv = undefined; // --allow-env not granted: fall back to the defaults
  }
  if (fromEnv) out.push(fromEnv);
  // Debian's interpreter first: the `python3` on PATH may be a pyenv one without Jupyter.
  out.push("/usr/bin/python3", "python3", "python");
  return [...new Set(out)];
}

async function probeWith(python: string): Promise<JupyterProbe | "missing" | undefined> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(python, {
      args: [HELPER_PATH, "--probe"],
      env: HELPER_ENV,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw new JupyterSetupError(
        `cannot run ${python}: ${(err as Error).message} (grant --allow-run)`,
      );
    }
    throw err;
  }
  const text = new TextDecoder().decode(output.stdout).trim();
  if (output.code === 3) return "missing";
  if (output.code !== 0) return undefined;
  try {
    return JSON.parse(text.split("\n").at(-1)!) as JupyterProbe;
  } catch {
    return undefined;
  }
}

let cachedProbe: Promise<JupyterProbe> | undefined;

async function searchJupyter(candidates: string[]): Promise<JupyterProbe> {
  const tried: string[] = [];
  for (const python of candidates) {
    const probe = await probeWith(python);
    if (probe && probe !== "missing") return probe;
    tried.push(`${python} (${probe === "missing" ? "no nbclient" : "not found"})`);
  }
  throw new JupyterSetupError(
    `no Python interpreter with Jupyter's nbclient was found (tried ${tried.join(", ")}); ` +
      `install it with: ${INSTALL_HINT} (or point MEMDIL_PYTHON at a suitable python)`,
  );
}

/**
 * Finds a Python interpreter that can import nbclient, trying `$MEMDIL_PYTHON`,
 * `/usr/bin/python3`, `python3` and `python` in that order (or only `candidates` when given).
 * The default search is cached per process unless `refresh` is set. Throws
 * {@link JupyterSetupError} with the apt-get hint when none works.
 *
 * @example
 * ```ts
 * const { python, nbclient } = await findJupyter();
 * ```
 */
export function findJupyter(
  options: { refresh?: boolean; candidates?: string[] } = {},
): Promise<JupyterProbe> {
  if (options.candidates) return searchJupyter(options.candidates);
  if (!cachedProbe || options.refresh) {
    cachedProbe = searchJupyter(pythonCandidates());
    cachedProbe.catch(() => cachedProbe = undefined);
  }
  return cachedProbe;
}

/**
 * Makes sure the Deno kernelspec (`deno`, as written by `deno jupyter --install`) is installed
 * and points at an existing executable; installs it (or re-installs with `--force` when stale)
 * otherwise. Idempotent; `log` receives a line when something was installed.
 *
 * @example
 * ```ts
 * await ensureDenoKernel((line) => console.error(line));
 * ```
 */
export async function ensureDenoKernel(
  log: (line: string) => void = () => {},
  kernelName = "deno",
): Promise<void> {
  const probe = await findJupyter();
  const spec = probe.kernelspecs[kernelName];
  let force = false;
  if (spec) {
    if (spec.executable_exists) return;
    force = true;
  }
  const deno = Deno.execPath();
  const args = ["jupyter", "--install", "--name", kernelName];
  if (force) args.push("--force");
  log(
    `notebooks: Jupyter kernelspec "${kernelName}" ${
      force ? "points at a missing deno executable" : "is not installed"
    }; running \`deno ${args.join(" ")}\``,
  );
  let out: Deno.CommandOutput | undefined;
  // The running deno first; `deno` from PATH when --allow-run only lists names/symlinks.
  for (const exe of [deno, "deno"]) {
    try {
      out = await new Deno.Command(exe, { args, stdout: "piped", stderr: "piped" }).output();
      break;
    } catch (err) {
      if (exe === "deno" || !(err instanceof Deno.errors.NotCapable)) {
        throw new JupyterSetupError(
          `cannot run \`deno ${args.join(" ")}\`: ${(err as Error).message}`,
        );
      }
    }
  }
  if (!out) throw new JupyterSetupError(`cannot run \`deno ${args.join(" ")}\``);
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new JupyterSetupError(`\`deno ${args.join(" ")}\` failed:\n${text.trim()}`);
  }
  const refreshed = await findJupyter({ refresh: true });
  if (!refreshed.kernelspecs[kernelName]) {
    throw new JupyterSetupError(
      `\`deno ${args.join(" ")}\` succeeded but Jupyter still does not list kernel ` +
        `"${kernelName}" (check JUPYTER_PATH / JUPYTER_DATA_DIR)`,
    );
  }
  log(`notebooks: installed Jupyter kernelspec "${kernelName}"`);
}
