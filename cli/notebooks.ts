/**
 * `deno task notebooks [NAME ...] [--param key=value ...] [--profile NAME]`
 *
 * Executes notebooks from `notebooks/` headlessly on memdil's sandboxed Deno kernel
 * (lib/notebooks/sandbox.ts; `--unconfined`: Deno's own kernel, every permission) with a profile
 * (default `quick`; the paper's settings only with `--profile paper`) and writes the executed
 * copies to `results/notebooks/NAME.PROFILE.ipynb`, with `-HASH` of the `--param` values when
 * there are any (`.failed.ipynb` when a cell fails): one copy per parameter set. See
 * `lib/notebooks/mod.ts` for the parameters convention.
 *
 * Exit codes: 0 all notebooks ran, 1 a notebook failed (or Jupyter or bubblewrap is missing), 2 usage error
 * (unknown flag, bad `--param`, unknown notebook / parameter / profile).
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { relative, resolve } from "node:path";
import { IniError, isUnder, readIniConfig, resultRoots } from "../lib/config/ini.ts";
import {
  checkSandbox,
  DEFAULT_NOTEBOOKS_DIR,
  DEFAULT_OUTPUT_DIR,
  DEFAULT_TIMEOUT_S,
  executeNotebook,
  type JsonValue,
  JupyterSetupError,
  listNotebooks,
  listProfiles,
  NotebookExecutionError,
  notebookParameters,
  NotebookUsageError,
  ParameterError,
  parseParamAssignment,
  planRuns,
  SandboxError,
} from "../lib/notebooks/mod.ts";

/** Parsed command-line options. */
interface CliOptions {
  param: [string, JsonValue][];
  profile: string;
  timeout: number;
  notebooksDir: string;
  outDir: string;
  list: boolean;
  unconfined: boolean;
  failFast: boolean;
  quiet: boolean;
}

function collectParam(value: string, previous: [string, JsonValue][]): [string, JsonValue][] {
  try {
    return [...previous, parseParamAssignment(value)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected seconds > 0");
  return n;
}

function display(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

function buildProgram(): Command {
  return new Command()
    .name("deno task notebooks")
    .description(
      "Execute notebooks headlessly on the Deno Jupyter kernel (nbclient), with parameters.\n" +
        "Exit codes: 0 ok, 1 a notebook failed, 2 usage error.",
    )
    .argument("[names...]", "notebook base names under the notebooks dir (default: all)")
    .addOption(
      new Option(
        "--param <key=value>",
        "override a parameter (JSON if it parses, else string); repeatable",
      ).argParser(collectParam).default([], "none"),
    )
    .addOption(
      new Option(
        "--profile <name>",
        "apply <notebooks dir>/profiles/<name>.json; `paper` is the paper's settings (weeks on " +
          "a CPU); `defaults` runs the notebooks' own parameters",
      ).default("quick"),
    )
    .addOption(
      new Option("--timeout <seconds>", "per-cell timeout").argParser(positiveSeconds).default(
        DEFAULT_TIMEOUT_S,
      ),
    )
    .addOption(
      new Option("--notebooks-dir <dir>", "where notebooks live").default(
        DEFAULT_NOTEBOOKS_DIR,
        "<repo>/notebooks",
      ),
    )
    .addOption(
      new Option("--out-dir <dir>", "where executed copies are written").default(
        DEFAULT_OUTPUT_DIR,
        "<repo>/results/notebooks",
      ),
    )
    .addOption(
      new Option("--list", "list notebooks with their parameters, and profiles; run nothing")
        .default(false),
    )
    .addOption(
      new Option(
        "--unconfined",
        "run on Deno's own kernel, every cell with every permission, not in memdil's sandbox " +
          "(where bubblewrap cannot be had; docs/permissions.md)",
      ).default(false),
    )
    .addOption(new Option("--fail-fast", "stop after the first failing notebook").default(false))
    .addOption(new Option("--quiet", "no per-cell progress on stderr").default(false))
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      // commander would read FORCE_COLOR/CLICOLOR_FORCE from the environment (needs --allow-env)
      getOutHasColors: () => Deno.stdout.isTerminal() && !Deno.noColor,
      getErrHasColors: () => Deno.stderr.isTerminal() && !Deno.noColor,
    });
}

/**
 * The name of a parameter set in executed copies' file names: the profile, plus the first 8 hex
 * digits of the SHA-256 of the `--param` values when there are any.
 */
async function parameterSetLabel(
  profile: string,
  params: Record<string, JsonValue>,
): Promise<string> {
  const keys = Object.keys(params).sort();
  if (keys.length === 0) return profile;
  const text = JSON.stringify(keys.map((key) => [key, params[key]]));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${profile}-${hex.slice(0, 8)}`;
}

async function list(dir: string): Promise<void> {
  const names = await listNotebooks(dir);
  console.log(`notebooks in ${display(dir)}:${names.length ? "" : " (none)"}`);
  for (const name of names) {
    let params: string;
    try {
      const p = await notebookParameters(`${dir}/${name}.ipynb`);
      params = Object.entries(p).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ") ||
        "(no parameters)";
    } catch (err) {
      params = `(invalid parameters cell: ${(err as Error).message})`;
    }
    console.log(`  ${name}  ${params}`);
  }
  const profiles = await listProfiles(dir);
  console.log(`profiles: ${profiles.length ? profiles.join(", ") : "(none)"}`);
}

/** Runs the CLI and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(args, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === "commander.helpDisplayed" || err.code === "commander.help" ||
          err.code === "commander.version"
        ? 0
        : 2;
    }
    throw err;
  }
  const opts = program.opts<CliOptions>();
  const names = program.args;
  const log = (line: string) => console.error(line);
  if (opts.list) {
    await list(opts.notebooksDir);
    return 0;
  }

  // Executed copies go where every other result goes: results/ or a place config.ini names.
  try {
    const roots = resultRoots(readIniConfig());
    if (!isUnder(resolve(opts.outDir), roots)) {
      log(
        `error: --out-dir ${opts.outDir} is outside the places memdil writes results ` +
          `(${roots.join(", ")}); choose one under them, or configure the place in config.ini`,
      );
      return 2;
    }
  } catch (err) {
    if (!(err instanceof IniError)) throw err;
    log(`error: ${err.message}`);
    return 2;
  }

  let runs;
  const profile = opts.profile === "defaults" ? undefined : opts.profile;
  try {
    runs = await planRuns({
      names,
      params: Object.fromEntries(opts.param),
      profile,
      notebooksDir: opts.notebooksDir,
    });
  } catch (err) {
    if (err instanceof NotebookUsageError || err instanceof ParameterError) {
      log(`error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (runs.length === 0) {
    log(`error: no notebooks in ${display(opts.notebooksDir)}`);
    return 2;
  }

  if (opts.profile === "paper" || opts.profile === "defaults") {
    log(
      `notebooks: profile ${opts.profile}: the paper's settings take days to weeks on a CPU ` +
        "(docs/notebooks.md); `--profile quick` (the default) runs in minutes",
    );
  }
  if (opts.unconfined) {
    log(
      "notebooks: warning: --unconfined: the cells run on Deno's own kernel with every " +
        "permission (any file, the network, any program), not in memdil's sandbox",
    );
  } else {
    // Checked once before anything runs: never unconfined without being asked.
    try {
      await checkSandbox();
    } catch (err) {
      if (!(err instanceof SandboxError)) throw err;
      log(`error: ${err.message}`);
      return 1;
    }
  }
  const label = await parameterSetLabel(opts.profile, Object.fromEntries(opts.param));
  const failed: string[] = [];
  for (const run of runs) {
    const shown = Object.entries(run.overrides).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    log(`notebooks: running ${run.name}${shown.length ? ` (${shown.join(" ")})` : ""}`);
    try {
      const res = await executeNotebook(run.path, {
        overrides: run.overrides,
        outputDir: opts.outDir,
        label,
        timeout: opts.timeout,
        unconfined: opts.unconfined,
        log,
        metadata: { profile: opts.profile },
        onProgress: opts.quiet
          ? undefined
          : (e) => log(`  [${e.notebook} ${e.code_index}/${e.code_total}] ${e.firstLine.trim()}`),
        onOutputLine: opts.quiet ? undefined : (line) => log(`  [${run.name}] ${line}`),
      });
      console.log(
        `ok      ${run.name} -> ${display(res.outputPath)} (${res.seconds.toFixed(1)} s)`,
      );
    } catch (err) {
      if (err instanceof JupyterSetupError || err instanceof SandboxError) {
        log(`error: ${err.message}`);
        return 1;
      }
      if (!(err instanceof NotebookExecutionError)) throw err;
      log(`error: ${err.message}`);
      console.log(
        `FAILED  ${run.name}${err.partialPath ? ` -> ${display(err.partialPath)}` : ""}`,
      );
      failed.push(run.name);
      if (opts.failFast) break;
    }
  }
  if (failed.length) {
    log(`notebooks: ${failed.length} of ${runs.length} failed: ${failed.join(", ")}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
