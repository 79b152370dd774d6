/**
 * The paper's core sweep: CE and LS over label-noise levels, each run trained and evaluated,
 * then one summary table and the summary figures (dilation against memorization, test accuracy
 * and NC1 against noise). Used by the `memorization_dilation` notebook and `deno task reproduce`.
 *
 * @module
 */
import { DEFAULT_CONFIG, type TrainConfig } from "../config/flags.ts";
import {
  accuracyVsNoiseSpec,
  dilationVsMemorizationSpec,
  nc1VsNoiseSpec,
  saveFigure,
} from "../figures/mod.ts";
import { type DataFrame, pl, writeParquetAtomic } from "../results/mod.ts";
import { type RunResult, runSimpleModel } from "./run.ts";

/** Parameters of a noise sweep (the notebook's parameters cell). */
export interface NoiseSweepParams {
  dataset: TrainConfig["dataset"];
  classes: number;
  noiseLevels: number[];
  losses: TrainConfig["loss"][];
  epochs: number;
  width: number;
  depth: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  useBn: boolean;
  seeds: number[];
  backend: TrainConfig["backend"];
  /** Directory for this sweep's runs, summary table and figures. */
  resultsDir: string;
}

/** Outcome of {@link runNoiseSweep}. */
export interface NoiseSweepResult {
  /** One row per run: configuration columns and final metrics. */
  summary: DataFrame;
  runs: RunResult[];
  /** Paths (without extension) of the summary figures. */
  figures: Record<string, string>;
}

/**
 * The training configuration of one sweep point.
 *
 * @example
 * ```ts
 * const config = sweepConfig(params, "LS", 0.2, 6);
 * ```
 */
export function sweepConfig(
  params: NoiseSweepParams,
  loss: TrainConfig["loss"],
  labelNoise: number,
  seed: number,
): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    dataset: params.dataset,
    classes: params.classes,
    label_noise: labelNoise,
    loss,
    epochs: params.epochs,
    width: params.width,
    depth: params.depth,
    batch_size: params.batchSize,
    lr: params.lr,
    weight_decay: params.weightDecay,
    use_bn: params.useBn,
    seed,
    backend: params.backend,
    // A sweep resumes: finished runs are reused, unfinished ones are trained again.
    force: true,
  };
}

/**
 * Train and evaluate every (loss, noise level, seed), then write `summary.parquet` and the
 * summary figures under `resultsDir`.
 *
 * @example
 * ```ts
 * const { summary, figures } = await runNoiseSweep({ ...params, resultsDir: "results/md" });
 * ```
 */
export async function runNoiseSweep(
  params: NoiseSweepParams,
  options: { log?: (line: string) => void; progress?: boolean } = {},
): Promise<NoiseSweepResult> {
  const log = options.log ?? console.log;
  const runs: RunResult[] = [];
  const points = params.seeds.flatMap((seed) =>
    params.losses.flatMap((loss) => params.noiseLevels.map((noise) => ({ seed, loss, noise })))
  );
  for (const [i, point] of points.entries()) {
    log(
      `[${i + 1}/${points.length}] ${point.loss}, label noise ${point.noise}, seed ${point.seed}`,
    );
    const started = performance.now();
    const result = await runSimpleModel(sweepConfig(params, point.loss, point.noise, point.seed), {
      basePath: `${params.resultsDir}/runs`,
      progress: options.progress ?? false,
      log: () => {},
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const row = result.metrics.toRecords()[0];
    log(
      `  ${result.reused ? "reused" : "trained"} in ${seconds}s: test ${
        (100 * Number(row.test_acc)).toFixed(1)
      }%, dilation ${Number(row.dilation_train).toFixed(3)}, memorization ${
        Number(row.memorization_train).toFixed(3)
      }`,
    );
    runs.push(result);
  }
  const summary = pl.concat(runs.map((r) => r.metrics), { how: "diagonal" });
  await writeParquetAtomic(summary, `${params.resultsDir}/summary.parquet`);
  const rows = summary.toRecords() as Record<string, number & string>[];
  const figureRows = rows.map((row) => ({
    dataset: row.dataset,
    loss: row.loss === "CrossEntropy" ? "CE" : row.loss,
    label_noise: row.label_noise,
    memorization: row.memorization_train,
    dilation: row.dilation_train,
    test_acc: row.test_acc,
    nc1: row.nc1_train,
  }));
  const figures: Record<string, string> = {
    dilation_vs_memorization: `${params.resultsDir}/figures/dilation_vs_memorization`,
    test_accuracy_vs_noise: `${params.resultsDir}/figures/test_accuracy_vs_noise`,
    nc1_vs_noise: `${params.resultsDir}/figures/nc1_vs_noise`,
  };
  // Runs without noisy samples have no memorization; they are left out of that figure.
  await saveFigure(
    dilationVsMemorizationSpec(figureRows.filter((r) => Number.isFinite(r.memorization))),
    figures.dilation_vs_memorization,
  );
  await saveFigure(accuracyVsNoiseSpec(figureRows), figures.test_accuracy_vs_noise);
  await saveFigure(nc1VsNoiseSpec(figureRows), figures.nc1_vs_noise);
  return { summary, runs, figures };
}
