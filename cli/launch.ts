/**
 * `deno task <name> ...`: the launcher every task line starts. It reads config.ini and the
 * command's flags, derives the command's permissions from them (lib/config/permissions.ts: the
 * result roots config.ini names are writable without editing deno.json; nothing else is), and
 * runs the command with exactly those and `--no-prompt` (a task never prompts), passing its exit
 * status through. Ctrl-C reaches the command itself, which stops as it documents.
 *
 * Exit codes: the command's; 2 for an unknown task or a config.ini that cannot be used.
 *
 * @module
 */
import { IniError } from "../lib/config/ini.ts";
import { TASK_SCRIPTS, type TaskName, taskPermissions } from "../lib/config/permissions.ts";

/** The Deno executable: this process's own when it may start it, else `deno` from PATH. */
function denoExecutable(): string {
  const own = Deno.execPath();
  return Deno.permissions.querySync({ name: "run", command: own }).state === "granted"
    ? own
    : "deno";
}

const SIGNALS: Partial<Record<Deno.Signal, number>> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };

async function main(): Promise<number> {
  const [task, ...args] = Deno.args;
  if (!task || !Object.hasOwn(TASK_SCRIPTS, task)) {
    console.error(
      `error: unknown task '${task ?? ""}': one of ${Object.keys(TASK_SCRIPTS).join(", ")}`,
    );
    return 2;
  }
  let permissions;
  try {
    permissions = taskPermissions(task as TaskName, args);
  } catch (error) {
    if (!(error instanceof IniError)) throw error;
    console.error(`error: ${error.message}`);
    return 2;
  }
  const child = new Deno.Command(denoExecutable(), {
    args: ["run", "--no-prompt", ...permissions.flags, permissions.script, ...permissions.args],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // The terminal sends Ctrl-C to the command too: the launcher only waits for it to end.
  const ignore = () => {};
  const forward = () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  };
  Deno.addSignalListener("SIGINT", ignore);
  Deno.addSignalListener("SIGTERM", forward);
  const status = await child.status;
  Deno.removeSignalListener("SIGINT", ignore);
  Deno.removeSignalListener("SIGTERM", forward);
  if (status.signal) return 128 + (SIGNALS[status.signal] ?? 1);
  return status.code;
}

if (import.meta.main) Deno.exit(await main());
