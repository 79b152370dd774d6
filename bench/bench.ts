/**
 * `deno task bench`: memdil against the PyTorch reference, measured interleaved in one run.
 *
 * For each workload (a paper MLP, b small MLP, c ResNet-18 step, d NC + M-D evaluation) the
 * bench runs `--pairs` rounds. A round is one measurement of every memdil backend, then one of
 * every PyTorch setting (CPU at torch's default thread count, CPU at 2 threads, CUDA where torch
 * sees it), each in a fresh process (`bench/worker.ts`, `bench/reference/torch_bench.py`), so the
 * two sides alternate (A B A B ...) and the i-th measurements of both sides share the machine's
 * state. The report gives each side's median with min-max, the ratio memdil / PyTorch pair by
 * pair (against the faster CPU setting by median, or CUDA for a hardware WebGPU adapter), the
 * peak resident memory of both sides' processes, and the 1-minute load average before and after
 * each workload; it is printed and written to `results/bench/bench-<time>.json` and `.md`.
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { BACKEND_NAMES } from "../lib/backend/mod.ts";
import { parseCommandLine, UsageError } from "../lib/config/flags.ts";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { writeFileAtomic } from "../lib/runs/mod.ts";
import { runCli } from "../cli/common.ts";
import {
  formatStats,
  inUnit,
  markdownTable,
  pairRatios,
  type Stats,
  stats,
  workloadUnit,
} from "./summary.ts";
import { type BackendInfo, RESULT_PREFIX, type WorkerResult } from "./worker.ts";
import {
  defaultSize,
  EPOCH_SAMPLES,
  EVALUATION_SAMPLES,
  WORKLOAD_KEYS,
  WORKLOAD_NAMES,
  type WorkloadKey,
} from "./workloads.ts";

/** Every backend name but `auto`: the bench measures each that starts here. */
const BACKENDS = BACKEND_NAMES.filter((name) => name !== "auto") as BackendInfo["backend"][];
type Backend = typeof BACKENDS[number];

/**
 * What a memdil worker may do: read its inputs and libraries, load native code, read the OS, and
 * write only under /tmp (lib/backend gives Mesa's Vulkan driver a runtime directory there).
 */
const WORKER_PERMISSIONS = [
  "--allow-read",
  "--allow-write=/tmp",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
];
const WORKER = `${REPO_ROOT}/bench/worker.ts`;
const TORCH_BENCH = `${REPO_ROOT}/bench/reference/torch_bench.py`;
/** Interpreters tried for the PyTorch side, in order (Debian's python3-torch first). */
const PYTHONS = ["/usr/bin/python3", "python3"];

/** Command-line options. */
export interface BenchOptions {
  /** Backends to measure; undefined: every backend that starts here. */
  backends?: Backend[];
  workloads: WorkloadKey[];
  pairs: number;
  /** Timed training steps per measurement (a-c), both sides; undefined: per-workload defaults. */
  steps?: number;
  /** Evaluated samples per measurement (d); undefined: 60,000 (10,000 on slow backends). */
  samples?: number;
  out: string;
  reference: boolean;
}

/** A backend as the bench found it: running (with its description) or skipped, and why. */
interface BackendEntry {
  backend: Backend;
  label: string;
  info?: BackendInfo;
  skipped?: string;
}

/** One PyTorch configuration measured against memdil. */
interface TorchSetting {
  key: "cpu-default" | "cpu-2" | "cuda";
  label: string;
  device: "cpu" | "cuda";
  /** Passed as `--threads`; undefined: torch's own default. */
  threads?: number;
}

/** The PyTorch side: where it runs and which settings, or why it does not. */
interface Reference {
  available: boolean;
  reason?: string;
  python?: string;
  torch?: string;
  default_threads?: number;
  cuda?: boolean;
  /** /proc/cpuinfo's model name, read by the Python probe (Deno reads /proc only with -A). */
  cpu_model?: string;
  settings: TorchSetting[];
}

/** One process's measurement, in the order the bench took it. */
interface Measured {
  order: number;
  pair: number;
  side: "memdil" | "pytorch";
  /** Backend name (memdil) or setting key (PyTorch). */
  name: string;
  steps: number;
  /** Seconds per step (a-c) or for `steps` samples (d); null when the process failed. */
  seconds: number | null;
  /** `seconds` in the workload's unit. */
  value: number | null;
  threads?: number;
  peak_rss_bytes: number | null;
  /** The whole process, start-up included. */
  wall_seconds: number;
  error?: string;
}

/** One side's measurements of one workload, summarized. */
interface SideSummary {
  label: string;
  steps: number;
  values: number[];
  stats?: Stats;
  /** Largest peak RSS over its processes. */
  peak_rss_bytes: number | null;
  error?: string;
}

/** memdil / PyTorch of one backend, pair by pair. */
interface RatioSummary {
  against: TorchSetting["key"];
  per_pair: number[];
  stats: Stats;
}

/** Everything measured for one workload. */
interface WorkloadReport {
  key: WorkloadKey;
  name: string;
  unit: string;
  load_before: number[];
  load_after: number[];
  sequence: Measured[];
  /** Backends left out of this workload by default, and why. */
  not_run: Record<string, string>;
  memdil: Record<string, SideSummary>;
  pytorch: Record<string, SideSummary>;
  ratios: Record<string, RatioSummary>;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(`expected an integer >= 1, got '${value}'`);
  }
  return parsed;
}

function listOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value.split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (items.length === 0 || unknown.length > 0) {
      throw new InvalidArgumentError(`'${unknown[0] ?? value}' is not one of ${allowed.join(",")}`);
    }
    return items as T[];
  };
}

/**
 * Parse the bench's command line (`--help` prints the usage and exits 0; mistakes exit 2).
 *
 * @example
 * ```ts
 * const options = parseBenchOptions(["--backends", "wasm", "--pairs", "3"]);
 * ```
 */
export function parseBenchOptions(args: string[]): BenchOptions {
  const program = new Command("deno task bench")
    .description(
      "memdil against PyTorch, interleaved: per workload, --pairs rounds of one measurement " +
        "per memdil backend then one per PyTorch setting, each in its own process",
    )
    .addOption(
      new Option(
        "--backends <list>",
        `comma-separated, of ${BACKENDS.join(",")} (default: every one that starts here)`,
      ).argParser(listOf(BACKENDS)),
    )
    .addOption(
      new Option("--workloads <list>", "a paper MLP, b small MLP, c ResNet-18, d NC + M-D eval")
        .argParser(listOf(WORKLOAD_KEYS)).default([...WORKLOAD_KEYS], "a,b,c,d"),
    )
    .addOption(
      new Option("--pairs <n>", "rounds per workload (memdil and PyTorch once each)")
        .argParser(positiveInteger).default(3),
    )
    .addOption(
      new Option(
        "--steps <n>",
        "timed training steps per measurement of a-c, both sides (default: a 20, b 50, c 3; " +
          "on cpu and software WebGPU a 2, b 5, c 1)",
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option(
        "--samples <n>",
        "samples per evaluation of d, time scaled to 60,000 (default: 60000; on cpu and " +
          "software WebGPU 10000)",
      ).argParser(positiveInteger),
    )
    .addOption(
      new Option("--out <dir>", "where the JSON and Markdown reports go")
        .default(`${REPO_ROOT}/results/bench`, "results/bench"),
    )
    .addOption(new Option("--no-reference", "memdil only: skip PyTorch"));
  const options = parseCommandLine(program, args);
  return options as unknown as BenchOptions;
}

/** Whether a backend is one of the slow ones that time fewer steps. */
function isSlow(info: BackendInfo): boolean {
  return info.backend === "cpu" || info.kind === "software";
}

function labelOf(info: BackendInfo): string {
  if (info.backend === "webgpu") return `webgpu (${info.kind})`;
  return info.blas_threads ? `${info.backend} (${info.blas_threads} thr)` : info.backend;
}

/** The last non-empty line of a failed process's stderr, for the report. */
function lastLine(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes).trim().split("\n").filter(Boolean).at(-1) ?? "";
}

/** Run `bench/worker.ts` with `args`; its result line, or why there is none. */
async function runWorker(backend: Backend, args: string[]): Promise<WorkerResult | string> {
  // `deno` from PATH: the task's --allow-run=deno grants that entry (often a symlink).
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      // bench/device.sh runs offline from a packed DENO_DIR.
      ...(Deno.env.get("MEMDIL_BENCH_CACHED_ONLY") ? ["--cached-only"] : []),
      ...WORKER_PERMISSIONS,
      WORKER,
      "--backend",
      backend,
      ...args,
    ],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(output.stdout).split("\n")
    .find((l) => l.startsWith(RESULT_PREFIX));
  if (output.code === 0 && line) return JSON.parse(line.slice(RESULT_PREFIX.length));
  return `exit code ${output.code}: ${lastLine(output.stderr) || "no output"}`;
}

/** Start each backend once to see whether it runs here and what it is. */
async function probeBackends(options: BenchOptions): Promise<BackendEntry[]> {
  const entries: BackendEntry[] = [];
  for (const backend of options.backends ?? BACKENDS) {
    console.error(`bench: starting ${backend} ...`);
    const probe = await runWorker(backend, ["--probe"]);
    if (typeof probe === "string") {
      if (options.backends) {
        throw new Error(`backend '${backend}' does not start here (${probe}); leave it out`);
      }
      entries.push({ backend, label: backend, skipped: probe });
    } else {
      const { peak_rss_bytes: _, measurement: __, ...info } = probe;
      entries.push({ backend, label: labelOf(info), info });
    }
  }
  return entries;
}

/** Run `torch_bench.py` with `args`; its JSON line, or why there is none. */
async function runPython(
  python: string,
  args: string[],
): Promise<Record<string, unknown> | string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(python, {
      args: [TORCH_BENCH, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${python} not found`;
    throw error;
  }
  const line = new TextDecoder().decode(output.stdout).split("\n").find((l) => l.startsWith("{"));
  if (output.code === 0 && line) return JSON.parse(line);
  return `exit code ${output.code}: ${lastLine(output.stderr) || "no output"}`;
}

/** The first interpreter that runs the PyTorch side, and the settings it is measured at. */
async function findReference(options: BenchOptions): Promise<Reference> {
  if (!options.reference) return { available: false, reason: "--no-reference", settings: [] };
  const failures: string[] = [];
  for (const python of PYTHONS) {
    const probe = await runPython(python, ["--probe"]);
    if (typeof probe === "string") {
      failures.push(`${python}: ${probe}`);
      continue;
    }
    const threads = probe.threads as number;
    const settings: TorchSetting[] = [{
      key: "cpu-default",
      label: `PyTorch CPU, default ${threads} thr`,
      device: "cpu",
    }];
    if (threads !== 2) {
      settings.push({ key: "cpu-2", label: "PyTorch CPU, 2 thr", device: "cpu", threads: 2 });
    }
    if (probe.cuda) settings.push({ key: "cuda", label: "PyTorch CUDA", device: "cuda" });
    return {
      available: true,
      python,
      torch: probe.torch as string,
      default_threads: threads,
      cuda: probe.cuda as boolean,
      cpu_model: probe.cpu_model as string,
      settings,
    };
  }
  return {
    available: false,
    reason: `no interpreter runs torch (${failures.join("; ")}); install python3-torch`,
    settings: [],
  };
}

function summarize(label: string, runs: Measured[]): SideSummary {
  const failed = runs.find((r) => r.error);
  const values = runs.map((r) => r.value).filter((v): v is number => v !== null);
  const peaks = runs.map((r) => r.peak_rss_bytes).filter((p): p is number => p !== null);
  return {
    label,
    steps: runs[0].steps,
    values,
    stats: failed ? undefined : stats(values),
    peak_rss_bytes: peaks.length ? Math.max(...peaks) : null,
    error: failed?.error,
  };
}

/** The PyTorch setting a backend is compared with: CUDA for a hardware GPU, else the faster CPU. */
function referenceSetting(
  info: BackendInfo,
  pytorch: Record<string, SideSummary>,
): TorchSetting["key"] | undefined {
  if (info.kind === "hardware" && pytorch.cuda?.stats) return "cuda";
  const cpu = (["cpu-default", "cpu-2"] as const).filter((key) => pytorch[key]?.stats);
  return cpu.sort((x, y) => pytorch[x].stats!.median - pytorch[y].stats!.median)[0];
}

/** Measure one workload: `pairs` rounds of every backend, then every PyTorch setting. */
async function benchWorkload(
  key: WorkloadKey,
  all: BackendEntry[],
  reference: Reference,
  options: BenchOptions,
): Promise<WorkloadReport> {
  const sequence: Measured[] = [];
  const settings = key === "d" ? [] : reference.settings; // no PyTorch evaluation workload
  const notRun: Record<string, string> = {};
  if (key === "c" && !options.backends) {
    // A ResNet-18 step takes 25-40 s on the slow fallbacks: 3 pairs would double the bench.
    for (const { backend, info } of all.filter((e) => isSlow(e.info!))) {
      notRun[backend] = `slow fallback: \`--backends ${info!.backend} --workloads c\` measures it`;
    }
  }
  const backends = all.filter((e) => !notRun[e.backend]);
  const loadBefore = Deno.loadavg();
  for (let pair = 1; pair <= options.pairs; pair++) {
    for (const { backend, info } of backends) {
      const steps = (key === "d" ? options.samples : options.steps) ??
        defaultSize(key, isSlow(info!)).steps;
      const started = performance.now();
      const result = await runWorker(backend, ["--workload", key, "--steps", String(steps)]);
      const seconds = typeof result === "string" ? null : result.measurement!.seconds;
      sequence.push({
        order: sequence.length + 1,
        pair,
        side: "memdil",
        name: backend,
        steps,
        seconds,
        value: seconds === null ? null : inUnit(key, seconds, steps),
        peak_rss_bytes: typeof result === "string" ? null : result.peak_rss_bytes,
        wall_seconds: (performance.now() - started) / 1000,
        error: typeof result === "string" ? result : undefined,
      });
      report(key, pair, options.pairs, labelOf(info!), sequence.at(-1)!);
    }
    for (const setting of settings) {
      const steps = options.steps ?? defaultSize(key, false).steps;
      const started = performance.now();
      const result = await runPython(reference.python!, [
        "--workload",
        key,
        "--steps",
        String(steps),
        "--device",
        setting.device,
        ...(setting.threads ? ["--threads", String(setting.threads)] : []),
      ]);
      const seconds = typeof result === "string" ? null : result.seconds_per_step as number;
      sequence.push({
        order: sequence.length + 1,
        pair,
        side: "pytorch",
        name: setting.key,
        steps,
        seconds,
        value: seconds === null ? null : inUnit(key, seconds, steps),
        threads: typeof result === "string" ? undefined : result.threads as number,
        peak_rss_bytes: typeof result === "string" ? null : result.peak_rss_bytes as number,
        wall_seconds: (performance.now() - started) / 1000,
        error: typeof result === "string" ? result : undefined,
      });
      report(key, pair, options.pairs, setting.label, sequence.at(-1)!);
    }
  }
  const loadAfter = Deno.loadavg();
  const memdil: Record<string, SideSummary> = {};
  for (const { backend, info } of backends) {
    memdil[backend] = summarize(labelOf(info!), sequence.filter((m) => m.name === backend));
  }
  const pytorch: Record<string, SideSummary> = {};
  for (const setting of settings) {
    pytorch[setting.key] = summarize(setting.label, sequence.filter((m) => m.name === setting.key));
  }
  const ratios: Record<string, RatioSummary> = {};
  for (const { backend, info } of backends) {
    const against = referenceSetting(info!, pytorch);
    if (!against || !memdil[backend].stats) continue;
    const perPair = pairRatios(memdil[backend].values, pytorch[against].values);
    ratios[backend] = { against, per_pair: perPair, stats: stats(perPair) };
  }
  return {
    key,
    name: WORKLOAD_NAMES[key],
    unit: workloadUnit(key),
    load_before: loadBefore,
    load_after: loadAfter,
    sequence,
    not_run: notRun,
    memdil,
    pytorch,
    ratios,
  };
}

function report(key: WorkloadKey, pair: number, pairs: number, label: string, m: Measured) {
  const value = m.value === null
    ? `failed (${m.error})`
    : `${m.value.toFixed(2)} ${workloadUnit(key)}`;
  console.error(`bench: ${key} pair ${pair}/${pairs}: ${label}: ${value}`);
}

function mib(bytes: number | null | undefined): string {
  return bytes == null ? "-" : (bytes / 2 ** 20).toFixed(0);
}

/** The report's table: one row per workload and backend. */
function tableOf(workloads: WorkloadReport[], backends: BackendEntry[], reference: Reference) {
  const short: Record<TorchSetting["key"], string> = {
    "cpu-default": "default",
    "cpu-2": "2 thr",
    cuda: "CUDA",
  };
  const header = [
    "workload",
    "backend",
    "unit",
    "memdil",
    ...reference.settings.map((s) => s.label),
    "memdil / PyTorch",
    "peak RSS MiB memdil / PyTorch",
    "load 1-min before, after",
  ];
  const rows: string[][] = [];
  for (const w of workloads) {
    for (const { backend, label } of backends) {
      const load = `${w.load_before[0].toFixed(2)}, ${w.load_after[0].toFixed(2)}`;
      if (w.not_run[backend]) {
        const dash = reference.settings.map(() => "-");
        rows.push([`${w.key} ${w.name}`, label, w.unit, "not run", ...dash, "-", "-", load]);
        continue;
      }
      const ours = w.memdil[backend];
      const ratio = w.ratios[backend];
      const cell = (side?: SideSummary) =>
        !side ? "-" : side.stats ? formatStats(side.stats) : "failed";
      const against = ratio ? w.pytorch[ratio.against] : undefined;
      const extrapolated = w.key === "d" && ours.steps !== EVALUATION_SAMPLES
        ? ` (${ours.steps} samples)`
        : "";
      rows.push([
        `${w.key} ${w.name}`,
        ours.label,
        w.unit,
        cell(ours) + extrapolated,
        ...reference.settings.map((s) => cell(w.pytorch[s.key])),
        ratio ? `${formatStats(ratio.stats)} vs ${short[ratio.against]}` : "-",
        `${mib(ours.peak_rss_bytes)} / ${mib(against?.peak_rss_bytes)}`,
        load,
      ]);
    }
  }
  return { header, rows };
}

/** Refuse, before measuring anything, an output folder this process may not write. */
async function checkWritable(out: string): Promise<void> {
  const write = await Deno.permissions.query({ name: "write", path: out });
  const read = await Deno.permissions.query({ name: "read", path: out });
  if (write.state !== "granted" || read.state !== "granted") {
    throw new UsageError(
      `--out ${out}: this process may not read and write there (\`deno task bench\` writes only under ` +
        `results/bench); choose a folder there, or run \`deno run --allow-read=${out} --allow-write=${out} ...\``,
    );
  }
  await Deno.mkdir(out, { recursive: true });
}

/** Notes printed under the table: how to read it, and what ran where. */
function notes(
  report: {
    date: string;
    elapsed_seconds: number;
    machine: Record<string, unknown>;
    args: string[];
  },
  backends: BackendEntry[],
  workloads: WorkloadReport[],
  reference: Reference,
  options: BenchOptions,
): string[] {
  const flags = report.args.join(" ") || "(none)";
  const lines = [
    `Interleaved: per workload, ${options.pairs} round(s) of one measurement per backend, then ` +
    "one per PyTorch setting, each in a fresh process after one warm-up step. Cells: median " +
    "(min-max) over the rounds. memdil / PyTorch: median (min-max) of the per-round ratios " +
    "against the faster PyTorch CPU setting by median (CUDA for a hardware GPU); below 1, " +
    "memdil is faster.",
    `a: seconds per step x ${Math.ceil(EPOCH_SAMPLES / 16)} steps, extrapolated to one epoch of ` +
    `${EPOCH_SAMPLES.toLocaleString("en-US")} samples. d: one streamed evaluation (both passes, ` +
    `every metric), scaled to ${EVALUATION_SAMPLES.toLocaleString("en-US")} samples where ` +
    "fewer were measured; no PyTorch counterpart (-).",
    `Flags: ${flags}. Machine: ${report.machine.cpus} CPUs, ${report.machine.cpu_model}; ` +
    `${report.date}; the ` +
    `bench took ${(report.elapsed_seconds / 60).toFixed(1)} min.`,
  ];
  if (reference.available) {
    lines.push(
      `PyTorch ${reference.torch} (${reference.python}), default ${reference.default_threads} ` +
        `thread(s) here.`,
    );
  } else lines.push(`PyTorch: not run (${reference.reason}).`);
  for (const { backend, skipped } of backends) {
    if (skipped) lines.push(`${backend}: skipped, does not start here (${skipped}).`);
  }
  for (const w of workloads) {
    for (const [backend, why] of Object.entries(w.not_run)) {
      lines.push(`${w.key} on ${backend}: not run by default (${why}).`);
    }
  }
  return lines.map((line) => `- ${line}`);
}

async function main(args: string[]): Promise<void> {
  const options = parseBenchOptions(args);
  const started = performance.now();
  await checkWritable(options.out);
  const entries = await probeBackends(options);
  const backends = entries.filter((e) => e.info);
  if (backends.length === 0) throw new Error("no backend starts here");
  const reference = await findReference(options);
  const workloads: WorkloadReport[] = [];
  for (const key of options.workloads) {
    workloads.push(await benchWorkload(key, backends, reference, options));
  }
  const date = new Date().toISOString();
  const elapsed = (performance.now() - started) / 1000;
  const machine = {
    os: Deno.build.os,
    arch: Deno.build.arch,
    cpus: navigator.hardwareConcurrency,
    cpu_model: reference.cpu_model ?? "unknown (read by the PyTorch probe, which did not run)",
  };
  const table = tableOf(workloads, backends, reference);
  const text = [
    markdownTable(table.header, table.rows),
    "",
    ...notes(
      { date, elapsed_seconds: elapsed, machine, args },
      entries,
      workloads,
      reference,
      options,
    ),
  ].join("\n");
  const report = {
    date,
    elapsed_seconds: elapsed,
    arguments: args,
    options,
    machine,
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      tfjs: backends[0].info!.tfjs,
      torch: reference.torch ?? null,
    },
    backends: entries,
    reference,
    workloads,
    table,
  };
  const stem = `${options.out}/bench-${date.slice(0, 19).replaceAll(":", "-")}`;
  for (const path of [`${stem}.json`, `${stem}.md`]) {
    if (await Deno.stat(path).then(() => true, () => false)) {
      throw new Error(`${path} exists already (two benches in the same second?); rerun`);
    }
  }
  await writeFileAtomic(`${stem}.json`, JSON.stringify(report, null, 2) + "\n");
  await writeFileAtomic(`${stem}.md`, text + "\n");
  console.log(text);
  console.log(`wrote ${stem}.json and ${stem}.md`);
}

if (import.meta.main) await runCli(main);
