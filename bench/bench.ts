/**
 * `deno task bench [--backends wasm,cpu,webgpu] [--workloads a,b,c,d] [--quick] [--out DIR]`:
 * training and evaluation speed of memdil against the PyTorch reference, side by side.
 *
 * Per backend (wasm always; cpu; webgpu when an adapter exists, labelled `software` on Mesa's
 * llvmpipe) one subprocess runs the workloads of `bench/workloads.ts` - tfjs holds one backend per
 * process - and prints its results as one JSON line. Then `bench/reference/torch_bench.py` runs
 * workloads a-c on PyTorch CPU (and CUDA where available) when an interpreter imports torch. The
 * table pairs each backend with PyTorch CUDA (a hardware webgpu adapter, when CUDA exists) or
 * PyTorch CPU (otherwise), with the ratio ours / PyTorch (below 1: we are faster). The JSON, with
 * machine, load, versions and date, goes to `results/bench/bench-<time>.json`.
 *
 * @module
 */
import { REPO_ROOT } from "../lib/config/ini.ts";
import { writeFileAtomic } from "../lib/runs/mod.ts";
import {
  EPOCH_SAMPLES,
  WORKLOAD_KEYS,
  WORKLOAD_NAMES,
  type WorkloadKey,
  type WorkloadResult,
  workloadSize,
} from "./workloads.ts";

const BACKENDS = ["wasm", "cpu", "webgpu"] as const;
type Backend = typeof BACKENDS[number];
const RESULT_PREFIX = "BENCH_RESULT ";
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-net",
];

/** Command-line options. */
interface BenchOptions {
  backends?: Backend[];
  workloads: WorkloadKey[];
  quick: boolean;
  out: string;
  worker?: Backend;
  reference: boolean;
}

/** A backend's results from its subprocess. */
interface BackendRun {
  backend: Backend;
  /** `hardware`, `software` (a fallback/CPU-emulated adapter) or `cpu` for wasm and cpu. */
  kind: string;
  adapter?: string;
  tfjs?: string;
  wasm?: { simd: boolean; threads: boolean };
  results: WorkloadResult[];
  error?: string;
}

/** The PyTorch reference's results, or why there are none. */
interface ReferenceRun {
  available: boolean;
  reason?: string;
  python?: string;
  torch?: string;
  cuda?: boolean;
  rows: ReferenceRow[];
}

interface ReferenceRow {
  workload: WorkloadKey;
  device: "cpu" | "cuda";
  device_name?: string;
  seconds_per_step: number;
  threads: number;
  steps: number;
}

function usage(message: string): never {
  console.error(`bench: ${message}`);
  console.error(
    "usage: deno task bench [--backends wasm,cpu,webgpu] [--workloads a,b,c,d] [--quick] " +
      "[--out DIR] [--no-reference]",
  );
  Deno.exit(2);
}

function listOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string) {
  if (!value) usage(`${flag} needs a value`);
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) usage(`${flag}: '${item}' is not one of ${allowed}`);
  }
  return items as T[];
}

function parseOptions(args: string[]): BenchOptions {
  const options: BenchOptions = {
    workloads: [...WORKLOAD_KEYS],
    quick: false,
    out: `${REPO_ROOT}/results/bench`,
    reference: true,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--quick") options.quick = true;
    else if (arg === "--no-reference") options.reference = false;
    else if (arg === "--backends") options.backends = listOf(args[++i], BACKENDS, arg);
    else if (arg === "--workloads") options.workloads = listOf(args[++i], WORKLOAD_KEYS, arg);
    else if (arg === "--out") options.out = args[++i] ?? usage("--out needs a directory");
    else if (arg === "--worker") options.worker = listOf(args[++i], BACKENDS, arg)[0];
    else usage(`unknown argument '${arg}'`);
  }
  return options;
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

/** Worker mode: run the workloads on one backend and print the results as one JSON line. */
async function runWorker(backend: Backend, options: BenchOptions): Promise<void> {
  const { initBackend, tf } = await import("../lib/backend/mod.ts");
  const { runWorkload } = await import("./workloads.ts");
  await initBackend(backend);
  const run: BackendRun = { backend, kind: "cpu", tfjs: tf.version_core, results: [] };
  if (backend === "wasm") {
    // tfjs-wasm picks its SIMD and threaded binaries from feature tests at start-up.
    const env = tf.env();
    run.wasm = {
      simd: await env.getAsync("WASM_HAS_SIMD_SUPPORT") as boolean,
      threads: await env.getAsync("WASM_HAS_MULTITHREAD_SUPPORT") as boolean,
    };
  }
  if (backend === "webgpu") {
    const adapter = await webgpuAdapter();
    run.kind = adapter?.software ? "software" : "hardware";
    run.adapter = adapter?.description;
  }
  for (const key of options.workloads) {
    // A software adapter (llvmpipe) is as slow as the cpu backend: short runs like it.
    const size = workloadSize(key, run.kind === "software" ? "cpu" : backend, options.quick);
    console.error(`bench: ${backend} ${key}: ${WORKLOAD_NAMES[key]} ...`);
    run.results.push(await runWorkload(key, size));
  }
  console.log(RESULT_PREFIX + JSON.stringify(run));
}

async function runBackend(backend: Backend, options: BenchOptions): Promise<BackendRun> {
  const args = [
    "run",
    // bench/device.sh runs offline from a packed DENO_DIR.
    ...(Deno.env.get("MEMDIL_BENCH_CACHED_ONLY") ? ["--cached-only"] : []),
    ...PERMISSIONS,
    new URL(import.meta.url).pathname,
    "--worker",
    backend,
    "--workloads",
    options.workloads.join(","),
    ...(options.quick ? ["--quick"] : []),
  ];
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(output.stdout).split("\n")
    .find((l) => l.startsWith(RESULT_PREFIX));
  if (output.code !== 0 || !line) {
    return {
      backend,
      kind: "unknown",
      results: [],
      error: `the ${backend} subprocess exited with code ${output.code}`,
    };
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as BackendRun;
}

/** The first interpreter that imports torch: $MEMDIL_TORCH_PYTHON, /usr/bin/python3, python3. */
async function torchPython(): Promise<{ python: string; torch: string; cuda: boolean } | string> {
  const candidates = [Deno.env.get("MEMDIL_TORCH_PYTHON"), "/usr/bin/python3", "python3"]
    .filter((c): c is string => Boolean(c));
  const probe = "import json, torch; print(json.dumps({'torch': torch.__version__, " +
    "'cuda': torch.cuda.is_available()}))";
  for (const python of candidates) {
    try {
      const out = await new Deno.Command(python, { args: ["-c", probe], stderr: "null" })
        .output();
      if (out.code === 0) return { python, ...JSON.parse(new TextDecoder().decode(out.stdout)) };
    } catch {
      // Not installed: try the next candidate.
    }
  }
  return `no Python interpreter imports torch (tried ${candidates.join(", ")}; ` +
    "set MEMDIL_TORCH_PYTHON, or install python3-torch)";
}

async function runReference(options: BenchOptions): Promise<ReferenceRun> {
  const keys = options.workloads.filter((k) => k !== "d");
  if (!options.reference) return { available: false, reason: "--no-reference", rows: [] };
  if (keys.length === 0) {
    return { available: false, reason: "no workload with a reference", rows: [] };
  }
  const found = await torchPython();
  if (typeof found === "string") return { available: false, reason: found, rows: [] };
  const rows: ReferenceRow[] = [];
  for (const device of found.cuda ? ["cpu", "cuda"] : ["cpu"]) {
    console.error(`bench: PyTorch ${device} (${found.python}) ...`);
    const out = await new Deno.Command(found.python, {
      args: [
        `${REPO_ROOT}/bench/reference/torch_bench.py`,
        "--device",
        device,
        "--workloads",
        keys.join(","),
        ...(options.quick ? ["--quick"] : []),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
      if (line.startsWith("{")) rows.push(JSON.parse(line));
    }
  }
  return { available: true, python: found.python, torch: found.torch, cuda: found.cuda, rows };
}

/** The PyTorch device a backend is compared with: CUDA for a hardware GPU, else CPU. */
function referenceFor(run: BackendRun, reference: ReferenceRun, key: WorkloadKey) {
  const device = run.kind === "hardware" && reference.cuda ? "cuda" : "cpu";
  return reference.rows.find((r) => r.workload === key && r.device === device);
}

/** One table row per backend and workload: ours, PyTorch, ratio. */
function tableRows(runs: BackendRun[], reference: ReferenceRun): string[][] {
  const rows: string[][] = [];
  for (const run of runs) {
    const label = run.backend === "webgpu" ? `webgpu (${run.kind})` : run.backend;
    if (run.error) rows.push([label, "-", "", run.error, "", ""]);
    for (const result of run.results) {
      const ref = referenceFor(run, reference, result.workload);
      let ours: string, theirs = "", ratio = "", unit: string;
      if (result.workload === "d") {
        unit = "samples/s";
        ours = result.samples_per_second!.toFixed(0);
        theirs = "(no reference)";
      } else if (result.workload === "a") {
        unit = `s/epoch*`;
        ours = result.epoch_seconds_extrapolated!.toFixed(1);
        if (ref) {
          const refEpoch = ref.seconds_per_step * Math.ceil(EPOCH_SAMPLES / 16);
          theirs = `${refEpoch.toFixed(1)} (${ref.device}, ${ref.threads} thr)`;
          ratio = (result.epoch_seconds_extrapolated! / refEpoch).toFixed(2);
        }
      } else {
        unit = "ms/step";
        ours = (1000 * result.seconds_per_step!).toFixed(1);
        if (ref) {
          theirs = `${
            (1000 * ref.seconds_per_step).toFixed(1)
          } (${ref.device}, ${ref.threads} thr)`;
          ratio = (result.seconds_per_step! / ref.seconds_per_step).toFixed(2);
        }
      }
      if (!ref && result.workload !== "d") {
        theirs = reference.available ? "(not run)" : "unavailable";
      }
      rows.push([label, result.workload + " " + result.name, unit, ours, theirs, ratio]);
    }
  }
  return rows;
}

function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  return [
    line(header),
    "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|",
    ...rows.map(line),
  ]
    .join("\n");
}

async function cpuModel(): Promise<string> {
  try {
    const text = await Deno.readTextFile("/proc/cpuinfo");
    return text.match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  if (options.worker) return await runWorker(options.worker, options);
  const wantsWebgpu = !options.backends || options.backends.includes("webgpu");
  const adapter = wantsWebgpu ? await webgpuAdapter() : undefined;
  const backends = options.backends ??
    (adapter ? ["wasm", "cpu", "webgpu"] as Backend[] : ["wasm", "cpu"] as Backend[]);
  const loadBefore = Deno.loadavg();
  const runs: BackendRun[] = [];
  for (const backend of backends) {
    if (backend === "webgpu" && !adapter) {
      runs.push({ backend, kind: "none", results: [], error: "no WebGPU adapter on this host" });
      continue;
    }
    runs.push(await runBackend(backend, options));
  }
  const reference = await runReference(options);
  const loadAfter = Deno.loadavg();
  const header = ["backend", "workload", "unit", "memdil", "PyTorch", "memdil/PyTorch"];
  const table = formatTable(header, tableRows(runs, reference));
  console.log(table);
  console.log(
    `* extrapolated to one epoch of ${EPOCH_SAMPLES} samples (${
      Math.ceil(EPOCH_SAMPLES / 16)
    } steps of 16) from the median of the timed steps. Ratio below 1: memdil is faster.`,
  );
  if (!reference.available) console.log(`PyTorch reference unavailable: ${reference.reason}`);
  console.log(
    `load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ${
      loadAfter.map((l) => l.toFixed(2)).join(" ")
    } after; ${navigator.hardwareConcurrency} CPUs${options.quick ? "; --quick" : ""}`,
  );
  const date = new Date().toISOString();
  const report = {
    date,
    quick: options.quick,
    machine: {
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
      cpu_model: await cpuModel(),
      load_average_before: loadBefore,
      load_average_after: loadAfter,
      webgpu_adapter: adapter?.description ?? null,
    },
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      tfjs: runs.find((r) => r.tfjs)?.tfjs,
    },
    backends: runs,
    reference,
    table: { header, rows: tableRows(runs, reference) },
  };
  const path = `${options.out}/bench-${date.slice(0, 19).replaceAll(":", "-")}.json`;
  await writeFileAtomic(path, JSON.stringify(report, null, 2) + "\n");
  console.log(`wrote ${path}`);
}

if (import.meta.main) await main();
