/**
 * Compute backends: choose and initialise the TensorFlow.js backend every other module uses.
 *
 * `auto` prefers the native TensorFlow binding (`@tensorflow/tfjs-node-gpu`, then `tfjs-node`)
 * when it is installed and loads, then WebGPU when Deno exposes a *hardware* adapter, then the
 * native CPU backend `openblas` (tfjs-wasm with its matrix products in OpenBLAS, on every core)
 * when the library loads, then WASM. The choice and the reason each other backend was skipped
 * are always reported.
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { tf } from "./tf.ts";
import type { BackendName } from "./backend_name.ts";
import { registerBlasBackend } from "./blas_backend.ts";
import { loadNativeTensorflow } from "./native_tensorflow.ts";
import { openBlasPath, openOpenBlas } from "./blas/openblas.ts";
import type { BlasProvider } from "./blas/provider.ts";

/** Outcome of {@link initBackend}: the backend running and why the others were not chosen. */
export interface BackendChoice {
  /** The tfjs backend now active (`tensorflow`, `webgpu`, `openblas`, `wasm` or `cpu`). */
  name: Exclude<BackendName, "auto">;
  /**
   * Threads of the native CPU backend's BLAS (results may depend on it, so runs record it);
   * undefined for the other backends.
   */
  blasThreads?: number;
  /** Human-readable lines: why this one runs and why each other candidate was skipped. */
  report: string[];
}

let active: BackendChoice | undefined;

/**
 * Threads for the native CPU backend: `MEMDIL_BLAS_THREADS` when set (sweep workers get their
 * share of the cores this way), else every core of this machine.
 *
 * @example
 * ```ts
 * blasThreads(); // 2 on a 2-core machine
 * ```
 */
export function blasThreads(): number {
  const chosen = Deno.env.get("MEMDIL_BLAS_THREADS");
  if (chosen === undefined || chosen === "") return navigator.hardwareConcurrency || 1;
  const threads = Number(chosen);
  if (!(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`MEMDIL_BLAS_THREADS must be an integer >= 1, got '${chosen}'`);
  }
  return threads;
}

/** OpenBLAS loaded with {@link blasThreads} threads, or why it could not be loaded. */
function tryOpenBlas(): { blas: BlasProvider } | { why: string } {
  const path = openBlasPath();
  try {
    return { blas: openOpenBlas(path, blasThreads()) };
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return {
      why: `cannot load OpenBLAS from ${path} (${message}); install Debian's ` +
        `libopenblas0-pthread (scripts/setup.sh does) or point MEMDIL_OPENBLAS_LIB at the library`,
    };
  }
}

function describeBlas(blas: BlasProvider): string {
  return `${blas.description}, ${blas.threads()} threads (MEMDIL_BLAS_THREADS)`;
}

/** True when `descriptor` is granted already; never prompts (a probe asks for nothing). */
function granted(descriptor: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(descriptor).state === "granted";
}

/**
 * Vulkan's Wayland loader prints `error: XDG_RUNTIME_DIR is invalid or not set` when
 * XDG_RUNTIME_DIR is unset; a login session sets it. Give the probe a private directory when this
 * process may create one, else a path nobody but root can create (`/nonexistent`): the loader
 * then finds no display socket, as a headless probe should, and stays quiet. Only permissions
 * already granted are used, so the probe never prompts.
 */
function ensureRuntimeDir(): void {
  if (Deno.build.os !== "linux") return;
  if (!granted({ name: "env", variable: "XDG_RUNTIME_DIR" })) return;
  if (Deno.env.get("XDG_RUNTIME_DIR")) return;
  let dir = "/nonexistent";
  if (granted({ name: "sys", kind: "uid" })) {
    const own = `/tmp/memdil-runtime-${Deno.uid() ?? "user"}`;
    if (granted({ name: "write", path: own })) {
      try {
        Deno.mkdirSync(own, { recursive: true, mode: 0o700 });
        dir = own;
      } catch {
        // keep /nonexistent
      }
    }
  }
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

async function activate(name: Exclude<BackendName, "auto">, blas?: BlasProvider): Promise<void> {
  // Backends register themselves on import; load only the one that runs.
  if (name === "webgpu") await import("@tensorflow/tfjs-backend-webgpu");
  if (name === "wasm" || blas) await import("@tensorflow/tfjs-backend-wasm");
  if (blas) {
    // The native backend is the wasm backend's instance with BLAS kernels (blas_backend.ts).
    if (!(await tf.setBackend("wasm"))) throw new Error("backend 'wasm' failed to initialise");
    registerBlasBackend(blas, tf.findBackend("wasm") as unknown as BackendWasm);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
}

/**
 * Initialise the requested backend (once per process; later calls return the first choice).
 *
 * `auto`: tensorflow if a tfjs-node package loads, else webgpu on a hardware adapter, else
 * openblas if OpenBLAS loads, else wasm.
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
  let blas: BlasProvider | undefined;
  if (requested === "auto") {
    const nativeFailure = loadNativeTensorflow();
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
        const openblas = tryOpenBlas();
        if ("blas" in openblas) {
          name = "openblas";
          blas = openblas.blas;
          report.push(`openblas: native CPU backend, ${describeBlas(blas)}`);
        } else {
          report.push(`openblas skipped: ${openblas.why}`);
          name = "wasm";
          report.push("wasm: portable WebAssembly backend (deterministic on every machine)");
        }
      }
    }
  } else {
    name = requested;
    if (name === "tensorflow") {
      const failure = loadNativeTensorflow();
      if (failure !== undefined) {
        throw new Error(
          `backend 'tensorflow' is not available: ${failure}. Install it on a GPU host as the ` +
            `docs/backends.md says, or choose --backend auto|webgpu|openblas|wasm|cpu`,
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
    if (name === "openblas") {
      const openblas = tryOpenBlas();
      if (!("blas" in openblas)) {
        throw new Error(`backend 'openblas' is not available: ${openblas.why}`);
      }
      blas = openblas.blas;
      report.push(`openblas: ${describeBlas(blas)}`);
    }
    report.push(`${name}: requested explicitly`);
  }
  await activate(name, blas);
  active = blas ? { name, report, blasThreads: blas.threads() } : { name, report };
  return active;
}

/** The backend chosen by {@link initBackend}, or undefined before it ran. */
export function activeBackend(): BackendChoice | undefined {
  return active;
}
