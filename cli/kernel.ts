/**
 * memdil's Jupyter kernel: Deno's kernel confined in a bubblewrap sandbox
 * (lib/notebooks/sandbox.ts). Jupyter starts it through memdil's kernelspec as
 * `cli/launch.ts kernel {connection_file}`, so its permissions derive from config.ini at each
 * start, as every task's.
 *
 * - `deno task kernel <connection file>`: checks that the sandbox can be made, creates the result
 *   roots, binds them and the dataset places that exist writable, relays Jupyter's five channels
 *   into the sandbox (lib/notebooks/relay.ts) and runs the kernel there until it exits.
 * - `deno task kernel --install [--jupyter-path DIR]`: writes memdil's kernelspec (`memdil`,
 *   "Deno (memdil, sandboxed)") into the user's Jupyter data directory, or into `DIR/kernels`
 *   (a `JUPYTER_PATH` entry); scripts/setup.sh runs it.
 *
 * Exit codes: the kernel's; 1 when the sandbox cannot be made (the message names the fix); 2 for
 * a usage error.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { defaultIniPath, IniError, REPO_ROOT } from "../lib/config/ini.ts";
import { kernelSpecDir, kernelWritablePlaces } from "../lib/config/permissions.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import {
  CHANNELS,
  ConnectionFileError,
  readConnectionFile,
  relayIntoSandbox,
} from "../lib/notebooks/relay.ts";
import {
  checkSandbox,
  INNER_SCRIPT,
  kernelSpec,
  sandboxArgs,
  SandboxError,
} from "../lib/notebooks/sandbox.ts";

const USAGE = "usage: deno task kernel <connection file> | --install [--jupyter-path DIR] " +
  "(cli/launch.ts adds --relay-dir to the first)";

async function install(args: string[]): Promise<number> {
  const at = args.indexOf("--jupyter-path");
  if (args.length !== (at < 0 ? 1 : 3) || (at >= 0 && !args[at + 1])) {
    console.error(USAGE);
    return 2;
  }
  const dir = kernelSpecDir(at < 0 ? undefined : args[at + 1]);
  const text = JSON.stringify(kernelSpec(), null, 1) + "\n";
  const file = join(dir, "kernel.json");
  // Idempotent: rewritten only when it differs (another checkout, another deno).
  const current = await Deno.readTextFile(file).catch(() => undefined);
  if (current === text) return 0;
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(file, text);
  console.log(
    `kernel: installed Jupyter kernelspec "memdil" (Deno, sandboxed) in ${dir}` +
      (current === undefined ? "" : " (it started another checkout or deno)"),
  );
  return 0;
}

/** The places the kernel may write, existing ones only, symlinks resolved (bwrap binds paths). */
async function writablePlaces(): Promise<string[]> {
  const { roots, data } = kernelWritablePlaces();
  // Result roots are created, as every task creates them when it writes; a dataset place that is
  // not there stays absent (the sandbox has no network to download into it anyway).
  for (const root of roots) await Deno.mkdir(root, { recursive: true });
  return await existingRealPaths([...roots, ...data]);
}

/** The real paths (symlinks resolved: bwrap binds paths) of the places that exist. */
async function existingRealPaths(candidates: (string | undefined)[]): Promise<string[]> {
  const places: string[] = [];
  for (const place of candidates) {
    if (!place) continue;
    try {
      places.push(await Deno.realPath(place));
    } catch {
      // absent
    }
  }
  return places;
}

/**
 * What the kernel reads and a private /tmp must not hide: the repository, the Deno executable,
 * Deno's cache and config.ini's directory (existing ones, symlinks resolved).
 */
async function readablePlaces(): Promise<string[]> {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const cacheHome = env("XDG_CACHE_HOME") ?? (env("HOME") && join(env("HOME")!, ".cache"));
  return await existingRealPaths([
    REPO_ROOT,
    dirname(Deno.execPath()),
    env("DENO_DIR"),
    cacheHome && join(cacheHome, "deno"),
    dirname(defaultIniPath()),
  ]);
}

async function run(connectionFile: string, relayDir: string): Promise<number> {
  const info = readConnectionFile(connectionFile);
  await checkSandbox();
  const writable = await writablePlaces();
  // A fresh directory (its name was drawn by the launcher): one that exists is not ours.
  await Deno.mkdir(relayDir, { mode: 0o700 });
  try {
    await Deno.writeTextFile(`${relayDir}/connection.json`, JSON.stringify(info.raw), {
      mode: 0o600,
    });
    const relay = relayIntoSandbox(info, relayDir);
    const deno = Deno.execPath();
    const child = new Deno.Command("bwrap", {
      args: [
        ...sandboxArgs({ writable, relayDir, readable: await readablePlaces() }),
        "--",
        deno,
        "run",
        "--no-prompt",
        "--allow-read",
        `--allow-write=${relayDir}`,
        `--allow-net=${["127.0.0.1", ...CHANNELS.map((c) => `unix:${relayDir}/${c}`)].join(",")}`,
        `--allow-run=${deno}`,
        INNER_SCRIPT,
        relayDir,
      ],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    // Jupyter interrupts with a message (the kernelspec says so) and ends the kernel with SIGTERM
    // or SIGKILL to the whole process group; bwrap takes the sandbox with it (--die-with-parent).
    const stop = () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
    };
    const ignore = () => {};
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", ignore);
    // A frontend that kills only the process it started (the task launcher) would leave this one
    // holding the kernel's ports: it stops with its parent, and removes the relay's directory.
    const parent = Deno.ppid;
    const orphaned = setInterval(() => Deno.ppid !== parent && stop(), 1000);
    const status = await child.status;
    clearInterval(orphaned);
    Deno.removeSignalListener("SIGTERM", stop);
    Deno.removeSignalListener("SIGINT", ignore);
    relay.close();
    return status.signal ? 1 : status.code;
  } finally {
    await Deno.remove(relayDir, { recursive: true }).catch(() => {});
  }
}

/** Runs the command and returns its exit code. */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "--install") return await install(args);
  const [connectionFile, flag, relayDir] = args;
  if (args.length !== 3 || connectionFile.startsWith("-") || flag !== "--relay-dir") {
    console.error(USAGE);
    return 2;
  }
  try {
    return await run(connectionFile, relayDir);
  } catch (error) {
    if (
      error instanceof SandboxError || error instanceof IniError ||
      error instanceof ConnectionFileError
    ) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
