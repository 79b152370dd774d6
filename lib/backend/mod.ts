/**
 * Compute backends: choose and initialise the TensorFlow.js backend every other module uses.
 *
 * `auto` prefers the native TensorFlow binding (`@tensorflow/tfjs-node-gpu`, then `tfjs-node`)
 * when it is installed and loads, then WebGPU when Deno exposes a *hardware* adapter, then WASM.
 * The choice and the reason each other backend was skipped are always reported.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's package entry registers no gradients (its ESM gradient files do not load in
// Deno); the umbrella package's bundle registers them all, in the shared global registry.
import "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";

export { tf };

/** Backend names accepted by `--backend`, the `MEMDIL_BACKEND` variable and config.ini. */
export const BACKEND_NAMES = ["auto", "tensorflow", "webgpu", "wasm", "cpu"] as const;
/** A backend name as given by the user. */
export type BackendName = typeof BACKEND_NAMES[number];

/** Outcome of {@link initBackend}: the backend running and why the others were not chosen. */
export interface BackendChoice {
  /** The tfjs backend now active (`tensorflow`, `webgpu`, `wasm` or `cpu`). */
  name: Exclude<BackendName, "auto">;
  /** Human-readable lines: why this one runs and why each other candidate was skipped. */
  report: string[];
}

/** npm packages tried, in order, for the native `tensorflow` backend. */
const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

/**
 * Where a GPU-host user installs tfjs-node(-gpu) with npm (README, "Backends"):
 * `MEMDIL_TFJS_NODE_DIR`, else `vendor/tfjs-node` in the repository. Packages are looked up
 * there and never fetched at run time, so a machine without them never downloads anything.
 */
function nativeInstallDir(): string {
  return Deno.env.get("MEMDIL_TFJS_NODE_DIR") ??
    new URL("../../vendor/tfjs-node", import.meta.url).pathname;
}

let active: BackendChoice | undefined;

/** Check a user-supplied backend name, throwing an error that lists the valid names. */
export function parseBackendName(value: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(
    `unknown backend '${value}': use one of ${BACKEND_NAMES.join(", ")} ` +
      `(flag --backend, variable MEMDIL_BACKEND or config.ini [COMPUTE] BACKEND)`,
  );
}

async function tryNative(): Promise<string | undefined> {
  const dir = nativeInstallDir();
  const failures: string[] = [];
  for (const name of NATIVE_PACKAGES) {
    const entry = `${dir}/node_modules/${name}/dist/index.js`;
    try {
      Deno.statSync(entry);
    } catch {
      failures.push(`${name} not installed in ${dir}`);
      continue;
    }
    try {
      // tfjs keeps its engine and kernel registry in globals, so the package's own copy of
      // tfjs-core registers 'tensorflow' with the engine this module uses.
      await import(`file://${entry}`);
      if (tf.findBackend("tensorflow")) return undefined;
      failures.push(`${name} loaded but registered no 'tensorflow' backend`);
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      failures.push(`${name} failed to load (${message})`);
    }
  }
  return failures.join("; ");
}

/**
 * Vulkan drivers on Linux (Mesa's among them) complain on stderr when XDG_RUNTIME_DIR is unset;
 * give them a private one, as a login session would.
 */
function ensureRuntimeDir(): void {
  if (Deno.build.os !== "linux" || Deno.env.get("XDG_RUNTIME_DIR")) return;
  const dir = `/tmp/memdil-runtime-${Deno.uid() ?? "user"}`;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.env.set("XDG_RUNTIME_DIR", dir);
}

async function webgpuAdapter(): Promise<{ ok: boolean; why: string }> {
  ensureRuntimeDir();
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) return { ok: false, why: "this runtime exposes no navigator.gpu" };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return { ok: false, why: `requestAdapter failed (${(error as Error).message})` };
  }
  if (!adapter) return { ok: false, why: "no WebGPU adapter found" };
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const fallback = (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const description = [info?.vendor, info?.device, info?.description].filter(Boolean).join(" ");
  if (fallback) {
    return { ok: false, why: `only a software (fallback) adapter: ${description || "unknown"}` };
  }
  return { ok: true, why: `hardware adapter: ${description || "unknown"}` };
}

async function activate(name: Exclude<BackendName, "auto">): Promise<void> {
  // Backends register themselves on import; load only the one that runs.
  if (name === "webgpu") await import("@tensorflow/tfjs-backend-webgpu");
  if (name === "wasm") await import("@tensorflow/tfjs-backend-wasm");
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
}

/**
 * Initialise the requested backend (once per process; later calls return the first choice).
 *
 * `auto`: tensorflow if a tfjs-node package loads, else webgpu on a hardware adapter, else wasm.
 * An explicit name is honoured even where `auto` would skip it (e.g. webgpu on Mesa's software
 * Vulkan driver) and fails with a clear error if it cannot start.
 *
 * @example
 * ```ts
 * const choice = await initBackend("wasm");
 * console.log(choice.report.join("\n"));
 * ```
 */
export async function initBackend(requested: BackendName = "auto"): Promise<BackendChoice> {
  if (active) {
    if (requested !== "auto" && requested !== active.name) {
      throw new Error(
        `backend already initialised as '${active.name}' in this process; ` +
          `cannot switch to '${requested}'`,
      );
    }
    return active;
  }
  const report: string[] = [];
  let name: Exclude<BackendName, "auto">;
  if (requested === "auto") {
    const nativeFailure = await tryNative();
    if (nativeFailure === undefined) {
      name = "tensorflow";
      report.push("tensorflow: native TensorFlow binding loaded");
    } else {
      report.push(`tensorflow skipped: ${nativeFailure}`);
      const gpu = await webgpuAdapter();
      if (gpu.ok) {
        name = "webgpu";
        report.push(`webgpu: ${gpu.why}`);
      } else {
        report.push(`webgpu skipped: ${gpu.why}`);
        name = "wasm";
        report.push("wasm: portable WebAssembly backend (deterministic on every machine)");
      }
    }
  } else {
    name = requested;
    if (name === "tensorflow") {
      const failure = await tryNative();
      if (failure !== undefined) {
        throw new Error(
          `backend 'tensorflow' is not available: ${failure}. Install it on a GPU host as the ` +
            `README's "Backends" section says, or choose --backend auto|webgpu|wasm|cpu`,
        );
      }
    }
    if (name === "webgpu") {
      const gpu = await webgpuAdapter();
      if (!gpu.ok && gpu.why.startsWith("this runtime")) {
        throw new Error(`backend 'webgpu' is not available: ${gpu.why}`);
      }
      report.push(`webgpu: ${gpu.why}`);
    }
    report.push(`${name}: requested explicitly`);
  }
  await activate(name);
  active = { name, report };
  return active;
}

/** The backend chosen by {@link initBackend}, or undefined before it ran. */
export function activeBackend(): BackendChoice | undefined {
  return active;
}
