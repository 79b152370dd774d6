/**
 * One process of `deno task bench`: start one tfjs backend (tfjs holds one per process), then
 * either describe it (`--probe`) or take one measurement of one workload, and print the outcome
 * as one `BENCH_RESULT {json}` line on stdout, with the process's peak resident memory.
 *
 *   deno run <permissions> bench/worker.ts --backend wasm --probe
 *   deno run <permissions> bench/worker.ts --backend wasm --workload b --steps 50
 *
 * @module
 */
import { Command, Option } from "commander";
import { BACKEND_NAMES, type BackendName, initBackend, tf } from "../lib/backend/mod.ts";
import { parseCommandLine } from "../lib/config/flags.ts";
import { runCli } from "../cli/common.ts";
import { type Measurement, runWorkload, WORKLOAD_KEYS, type WorkloadKey } from "./workloads.ts";

/** Prefix of the one stdout line a worker's parent reads. */
export const RESULT_PREFIX = "BENCH_RESULT ";

/** What a worker found out about its backend. */
export interface BackendInfo {
  backend: Exclude<BackendName, "auto">;
  /** `hardware` or `software` for a WebGPU adapter, `cpu` for every other backend. */
  kind: "cpu" | "hardware" | "software";
  adapter?: string;
  /** BLAS threads of the native CPU backend. */
  blas_threads?: number;
  tfjs: string;
  wasm?: { simd: boolean; threads: boolean };
}

/** A worker's line: its backend, its measurement (none for a probe) and its peak RSS. */
export interface WorkerResult extends BackendInfo {
  measurement?: Measurement;
  /** Peak resident memory of the worker process (null where it cannot be read). */
  peak_rss_bytes: number | null;
}

/** The WebGPU adapter of this runtime: its description and whether it is software. */
async function webgpuAdapter(): Promise<{ description: string; software: boolean } | undefined> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  const adapter = await gpu?.requestAdapter({ powerPreference: "high-performance" })
    .catch(() => null);
  if (!adapter) return undefined;
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const description = [info?.vendor, info?.architecture, info?.device, info?.description]
    .filter(Boolean).join(" ") || "unknown";
  const fallback = (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return { description, software: fallback || /llvmpipe|lavapipe|swiftshader/i.test(description) };
}

/**
 * Peak resident set size of this process: getrusage(2)'s ru_maxrss (KiB on Linux), through FFI
 * because Deno reads /proc/self/status only with every permission. Null off Linux.
 */
function peakRssBytes(): number | null {
  if (Deno.build.os !== "linux") return null;
  const libc = Deno.dlopen("libc.so.6", {
    getrusage: { parameters: ["i32", "buffer"], result: "i32" },
  });
  try {
    // struct rusage: two struct timevals (4 longs), then ru_maxrss, then 11 more longs.
    const usage = new BigInt64Array(18);
    const RUSAGE_SELF = 0;
    return libc.symbols.getrusage(RUSAGE_SELF, usage) === 0 ? Number(usage[4]) * 1024 : null;
  } finally {
    libc.close();
  }
}

async function describe(backend: BackendInfo["backend"]): Promise<BackendInfo> {
  const choice = await initBackend(backend);
  const info: BackendInfo = { backend, kind: "cpu", tfjs: tf.version_core };
  if (choice.blasThreads !== undefined) info.blas_threads = choice.blasThreads;
  if (backend === "wasm") {
    // tfjs-wasm picks its SIMD and threaded binaries from feature tests at start-up.
    const env = tf.env();
    info.wasm = {
      simd: await env.getAsync("WASM_HAS_SIMD_SUPPORT") as boolean,
      threads: await env.getAsync("WASM_HAS_MULTITHREAD_SUPPORT") as boolean,
    };
  }
  if (backend === "webgpu") {
    const adapter = await webgpuAdapter();
    info.kind = adapter?.software ? "software" : "hardware";
    info.adapter = adapter?.description;
  }
  return info;
}

async function main(args: string[]): Promise<void> {
  const program = new Command("bench/worker.ts")
    .description("one bench measurement on one backend (started by bench/bench.ts)")
    .addOption(
      new Option("--backend <name>", "tfjs backend").choices(BACKEND_NAMES.slice(1))
        .makeOptionMandatory(),
    )
    .addOption(new Option("--probe", "only start the backend and describe it").default(false))
    .addOption(new Option("--workload <key>", "workload to measure").choices(WORKLOAD_KEYS))
    .addOption(
      new Option("--steps <n>", "timed steps (a-c) or samples (d)").argParser(Number),
    );
  const options = parseCommandLine(program, args) as {
    backend: BackendInfo["backend"];
    probe: boolean;
    workload?: WorkloadKey;
    steps?: number;
  };
  const info = await describe(options.backend);
  let measurement: Measurement | undefined;
  if (!options.probe) {
    if (!options.workload || !(options.steps! >= 1)) {
      throw new Error("--workload and --steps (at least 1) are needed unless --probe");
    }
    measurement = await runWorkload(options.workload, { steps: options.steps! });
  }
  const result: WorkerResult = { ...info, measurement, peak_rss_bytes: peakRssBytes() };
  console.log(RESULT_PREFIX + JSON.stringify(result));
}

if (import.meta.main) await runCli(main);
