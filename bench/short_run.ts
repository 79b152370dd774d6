/**
 * One short, real training run on one backend, measured exactly as `deno task train` measures a
 * run (same data, model, loss, training loop and metrics), printed as one JSON object: settings,
 * backend, per-epoch history and every scalar metric. It writes no run directory and needs no
 * table libraries, so it runs from the small package set that `bench/device.sh` carries to a GPU
 * host; `bench/compare_runs.ts` then sets its metrics beside the same run's on a CPU backend.
 *
 *   deno run <permissions> bench/short_run.ts --backend webgpu --epochs 10 [train flags]
 *
 * `--out FILE` also writes the JSON to FILE.
 *
 * @module
 */
import { initBackend } from "../lib/backend/mod.ts";
import { parseTrainArgs, UsageError } from "../lib/config/flags.ts";
import { loadRunData } from "../lib/data/mod.ts";
import { measureModel, metricsData, scalarMetrics } from "../lib/experiment/measure.ts";
import { lossFor } from "../lib/losses/mod.ts";
import { runModel } from "../lib/models/mod.ts";
import { trainModel } from "../lib/training/mod.ts";
import { runCli } from "../cli/common.ts";

/** What {@link shortRun} reports. */
export interface ShortRunReport {
  /** The settings as parsed (every train flag, defaults filled in). */
  config: Record<string, unknown>;
  /** The backend that ran, and why (the resolver's report). */
  backend: { name: string; report: string[]; blas_threads?: number };
  /** One row per epoch: loss, accuracies, learning rate, seconds. */
  history: Record<string, number | null>[];
  /** Every scalar metric of the final model, named as in a run's metrics.parquet. */
  metrics: Record<string, number>;
  /** Seconds spent training (all epochs) and measuring. */
  seconds: { training: number; measuring: number };
}

/**
 * Train one run from train flags and measure it; nothing is written.
 *
 * @example
 * ```ts
 * const report = await shortRun(["--backend", "wasm", "--epochs", "1", "--sample_size", "50"]);
 * console.log(report.metrics.train_acc, report.metrics.nc1_train);
 * ```
 */
export async function shortRun(args: string[]): Promise<ShortRunReport> {
  const config = parseTrainArgs(args);
  const choice = await initBackend(config.backend);
  const data = await loadRunData(config, undefined, { skipChecksums: config.skip_checksums });
  const model = runModel(config, data.classes);
  try {
    let started = performance.now();
    const history = await trainModel({
      model,
      loss: lossFor(config),
      train: data.train,
      validation: data.validation,
      test: data.test,
      config,
      progress: false,
      log: (line) => console.error(line),
    });
    const training = (performance.now() - started) / 1000;
    started = performance.now();
    const metrics = scalarMetrics(await measureModel(model, metricsData(data, config)));
    const measuring = (performance.now() - started) / 1000;
    return {
      config: { ...config },
      backend: { name: choice.name, report: choice.report, blas_threads: choice.blasThreads },
      history: history.map((record) => ({ ...record })),
      metrics,
      seconds: { training, measuring },
    };
  } finally {
    model.dispose();
  }
}

if (import.meta.main) {
  await runCli(async (argv) => {
    const at = argv.indexOf("--out");
    let out: string | undefined;
    if (at >= 0) {
      out = argv[at + 1];
      if (!out || out.startsWith("--")) throw new UsageError("--out needs a file name");
      argv = [...argv.slice(0, at), ...argv.slice(at + 2)];
    }
    const text = JSON.stringify(await shortRun(argv), null, 2);
    if (out) await Deno.writeTextFile(out, text + "\n");
    console.log(text);
  });
}
