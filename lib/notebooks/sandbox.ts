/**
 * The notebook kernel's sandbox. Deno's Jupyter kernel (Deno 2.9.6) takes no permission flags and
 * runs every cell with all permissions, so memdil confines it at the OS level with bubblewrap
 * (`bwrap`): the kernel and every process it starts (sweep workers) see the filesystem read-only
 * except the places a training task may write (`kernelWritablePlaces` in
 * lib/config/permissions.ts), a private `/tmp` and `/run`, no network (their own empty network
 * namespace), no other process (their own PID namespace) and no capabilities.
 *
 * Jupyter reaches the kernel through a relay (lib/notebooks/relay.ts): the kernel listens on its
 * own loopback, which only the sandbox sees, and each of the five ZMQ channels is carried over a
 * unix socket in a directory bound into the sandbox.
 *
 * Without bwrap, or where it cannot make a namespace, nothing runs unconfined silently:
 * {@link checkSandbox} throws a {@link SandboxError} naming the problem and the fix.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { KERNEL_NAME } from "../config/kernel.ts";
import { launcherArgs } from "../config/permissions.ts";

export { KERNEL_NAME };

/** Set (to `1`) in the sandbox's environment, so a cell can tell where it runs. */
export const SANDBOX_ENV = "MEMDIL_SANDBOX";

/** The script started inside the sandbox: the inner half of the relay, parent of the kernel. */
export const INNER_SCRIPT: string = fileURLToPath(
  new URL("./sandboxed_kernel.ts", import.meta.url),
);

/** The repository root (the kernelspec starts `cli/launch.ts kernel` from it). */
const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

/** How to install bubblewrap, or to do without the sandbox, as error messages say it. */
export const SANDBOX_FIX =
  "install bubblewrap (`apt-get install bubblewrap`; scripts/setup.sh does), or pass " +
  "--unconfined to `deno task notebooks` to run the notebooks with every permission";

/** The sandbox cannot be made: bwrap is missing or the kernel forbids its namespaces. */
export class SandboxError extends Error {
  /** Creates a SandboxError. */
  constructor(message: string) {
    super(message);
    this.name = "SandboxError";
  }
}

/** What {@link sandboxArgs} confines. */
export interface SandboxOptions {
  /** Places bound writable (existing directories, symlinks resolved by the caller). */
  writable: string[];
  /** The relay's directory, bound writable at the same path (its sockets). */
  relayDir?: string;
  /** Working directory inside (default: this process's). */
  cwd?: string;
  /**
   * Places the kernel reads (the repository, Deno's cache, config.ini's directory): shown
   * read-only where they lie under the private `/tmp` or `/run` (a checkout in /tmp, as CI makes).
   */
  readable?: string[];
}

/** Devices of a GPU (WebGPU on Vulkan needs them): bound where they exist, nothing else of /dev. */
function gpuDevices(): string[] {
  const devices: string[] = [];
  try {
    for (const entry of Deno.readDirSync("/dev")) {
      if (entry.name === "dri" || entry.name.startsWith("nvidia")) {
        devices.push(`/dev/${entry.name}`);
      }
    }
  } catch {
    // no /dev to look at: no devices
  }
  return devices.sort();
}

/**
 * The bwrap arguments (before the command) of the kernel's sandbox.
 *
 * @example
 * ```ts
 * const args = sandboxArgs({ writable: ["/repo/results"], relayDir: "/tmp/memdil-kernel-x1" });
 * new Deno.Command("bwrap", { args: [...args, "--", "deno", "jupyter", "--kernel"] });
 * ```
 */
export function sandboxArgs(options: SandboxOptions): string[] {
  // Parents before children, so that a writable place inside another stays bound.
  const writable = [...new Set(options.writable)].sort((a, b) => a.length - b.length);
  const cwd = options.cwd ?? Deno.cwd();
  const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
  // What the kernel reads (its code, its cache, the notebook's directory, where it starts) and the
  // private /tmp or /run would hide is shown read-only, before the writable places are bound (one
  // of them may lie inside).
  const shown = [...new Set([cwd, ...(options.readable ?? [])])]
    .filter((path) => ["/tmp", "/run"].some((dir) => under(path, dir)))
    .filter((path) => !writable.some((place) => under(path, place)))
    .sort((a, b) => a.length - b.length);
  return [
    // Own user (even as root: capabilities then apply to the sandbox's namespace only, and are
    // dropped anyway), PID, network, IPC, UTS and cgroup namespaces.
    "--unshare-all",
    "--unshare-user",
    // Nor may anything in it make a user namespace of its own (less of the kernel to reach).
    "--disable-userns",
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--new-session",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    ...gpuDevices().flatMap((device) => ["--dev-bind", device, device]),
    "--proc",
    "/proc",
    // Private /tmp and /run: the host's unix sockets there (D-Bus, munge, a container engine's)
    // are out of reach, and temporary files stay in the sandbox.
    "--tmpfs",
    "/tmp",
    "--tmpfs",
    "/run",
    "--perms",
    "0700",
    "--dir",
    "/tmp/runtime",
    "--setenv",
    "XDG_RUNTIME_DIR",
    "/tmp/runtime",
    "--setenv",
    "TMPDIR",
    "/tmp",
    "--setenv",
    SANDBOX_ENV,
    "1",
    ...shown.flatMap((place) => ["--ro-bind", place, place]),
    ...writable.flatMap((place) => ["--bind", place, place]),
    ...(options.relayDir ? ["--bind", options.relayDir, options.relayDir] : []),
    "--chdir",
    cwd,
  ];
}

/**
 * Turns bwrap's failure into a {@link SandboxError} naming the problem and the fix.
 *
 * @example
 * ```ts
 * sandboxFailure("bwrap: setting up uid map: Permission denied").message;
 * // "... user namespaces ... sysctl ..."
 * ```
 */
export function sandboxFailure(detail: string): SandboxError {
  const text = detail.trim();
  if (/namespace|uid map|Permission denied|Operation not permitted|ENOSPC/i.test(text)) {
    return new SandboxError(
      `the notebook kernel cannot be confined: bwrap cannot create its namespaces (${text}). ` +
        "This system forbids unprivileged user namespaces: allow them (Debian: `sysctl -w " +
        "kernel.unprivileged_userns_clone=1`; Ubuntu 24.04: `sysctl -w " +
        "kernel.apparmor_restrict_unprivileged_userns=0`; where user.max_user_namespaces is 0: " +
        "`sysctl -w user.max_user_namespaces=15000`), or pass --unconfined to " +
        "`deno task notebooks` to run the notebooks with every permission",
    );
  }
  return new SandboxError(
    `the notebook kernel cannot be confined: bwrap failed (${text || "no message"}); ` +
      SANDBOX_FIX,
  );
}

/**
 * Checks that the kernel's sandbox can be made here: bwrap runs `true` in the very namespaces
 * and mounts of {@link sandboxArgs}. Throws {@link SandboxError} (bwrap missing, namespaces
 * forbidden) naming the fix.
 *
 * @example
 * ```ts
 * await checkSandbox(); // throws SandboxError where notebooks cannot be confined
 * ```
 */
export async function checkSandbox(): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("bwrap", {
      args: [...sandboxArgs({ writable: [], cwd: "/" }), "--", "true"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SandboxError(
        "the notebook kernel cannot be confined: bwrap (bubblewrap) is not installed; " +
          SANDBOX_FIX,
      );
    }
    throw error;
  }
  if (!out.success) throw sandboxFailure(new TextDecoder().decode(out.stderr));
}

/**
 * memdil's kernelspec (`kernel.json`): Deno's kernel started in its sandbox through the task
 * launcher (`cli/launch.ts kernel`, permissions derived from config.ini at each start). Interrupts
 * go as messages: a signal would end the launcher, not the cell.
 *
 * @example
 * ```ts
 * const spec = kernelSpec();
 * spec.argv.at(-1); // "{connection_file}"
 * ```
 */
export function kernelSpec(): {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: string;
  metadata: Record<string, unknown>;
} {
  return {
    argv: [Deno.execPath(), ...launcherArgs("kernel", ["{connection_file}"])],
    display_name: "Deno (memdil, sandboxed)",
    language: "typescript",
    interrupt_mode: "message",
    metadata: { memdil: { repo: REPO_ROOT } },
  };
}
