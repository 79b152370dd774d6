/**
 * The paper's notebooks (conventional_noise, latent_noise_class, large_scale) and the
 * hyperparameter_search notebook execute headlessly on a tiny profile: a few seconds of training
 * each, then every figure is written and shown.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_NOTEBOOKS_DIR, executeNotebook, type JsonValue } from "../lib/notebooks/mod.ts";
import { pl } from "../lib/results/mod.ts";
import { withTestConfig } from "./fixtures/config_ini.ts";
import { TEST_NOTEBOOK_LIMITS } from "./fixtures/notebook_limits.ts";

/** Settings that make every run tiny: 40 samples per class, a 2-layer MLP of width 8. */
const TINY = {
  epochs: 1,
  width: 8,
  depth: 2,
  batchSize: 64,
  lr: 0.01,
  useBn: false,
  seeds: [1],
  sampleSize: 40,
  backend: "wasm",
  concurrency: 2,
};

/** Execute a notebook with overrides; return the executed copy's outputs as one string. */
async function execute(
  name: string,
  dir: string,
  overrides: Record<string, JsonValue>,
): Promise<string> {
  // `dir` is a result root (config.ini's paths): the sandboxed kernel may write there.
  const result = await withTestConfig(
    dir,
    () =>
      executeNotebook(join(DEFAULT_NOTEBOOKS_DIR, `${name}.ipynb`), {
        overrides,
        outputDir: join(dir, "executed"),
        ...TEST_NOTEBOOK_LIMITS,
        log: () => {},
      }),
  );
  const executed = JSON.parse(await Deno.readTextFile(result.outputPath));
  return JSON.stringify(
    executed.cells.flatMap((cell: { outputs?: unknown[] }) => cell.outputs ?? []),
  );
}

function assertFigures(dir: string, names: string[]): void {
  for (const name of names) {
    for (const extension of ["vl.json", "svg", "png"]) {
      const path = join(dir, `${name}.${extension}`);
      assert.ok(Deno.statSync(path).size > 0, `${path} written`);
    }
  }
}

function figureCount(outputs: string): number {
  return (outputs.match(/image\/png/g) ?? []).length;
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "memdil-paper-nb-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("conventional_noise notebook runs on a tiny profile", async () => {
  await withTempDir(async (dir) => {
    const resultsDir = join(dir, "results");
    const outputs = await execute("conventional_noise", dir, {
      ...TINY,
      datasets: ["fashionmnist"],
      losses: ["CrossEntropy", "LS"],
      noiseLevels: [0.0, 0.3],
      resultsDir,
    });
    // The live sweep display, then the table over seeds.
    assert.match(outputs, /memdil-sweep/);
    assert.match(outputs, /test_acc_pct_mean/);
    assert.match(outputs, /<table class=\\"memdil-table\\">/, "the table as HTML");
    // 2 losses x 2 noise levels = 4 runs; what was varied and the headline metrics come first,
    // counts as integers.
    const summary = pl.readParquet(join(resultsDir, "summary.parquet"));
    assert.equal(summary.height, 4);
    assert.deepEqual(summary.columns.slice(0, 4), ["dataset", "model", "loss", "label_noise"]);
    assert.equal(String(summary.getColumn("seed").dtype), "DataType(Int64)");
    const figures = join(resultsDir, "figures");
    assertFigures(figures, ["dilation_vs_memorization", "test_accuracy_vs_noise", "nc1_vs_noise"]);
    // Scatters (train and test) of the 2 runs at noise 0.3, then 3 summary figures.
    assert.ok(figureCount(outputs) >= 4 + 3, `${figureCount(outputs)} figures shown`);
    // LS compared with CE: its verdict table saved, shown, and described in generated prose.
    const pairDir = join(resultsDir, "comparison", "fashionmnist", "ls_vs_ce");
    assert.equal(pl.readParquet(join(pairDir, "verdict.parquet")).height, 3);
    assert.match(outputs, /LS has less dilation than CE at matched memorization/);
    assert.match(outputs, /NOT MEMORIZED/, "1-epoch runs are flagged");
  });
});

Deno.test("latent_noise_class notebook runs on a tiny profile", async () => {
  await withTempDir(async (dir) => {
    const resultsDir = join(dir, "results");
    const outputs = await execute("latent_noise_class", dir, {
      ...TINY,
      dataset: "fashionmnist",
      degrees: [0.5],
      losses: ["CrossEntropy"],
      featureCounts: [4, 2],
      resultsDir,
    });
    const summary = pl.readParquet(join(resultsDir, "summary.parquet"));
    assert.equal(summary.height, 2);
    assert.deepEqual(
      [...summary.getColumn("fourclass_twofeatures").toArray()].sort(),
      [false, true],
    );
    assertFigures(join(resultsDir, "figures"), [
      "test_accuracy_vs_degree",
      "dilation_vs_degree",
      "memorization_vs_degree",
    ]);
    // 3 curves, the 2-feature scatter and the 4-feature pair scatter.
    assert.ok(figureCount(outputs) >= 5, `${figureCount(outputs)} figures shown`);
    // 4 features against 2 for CE: its verdict table saved and shown.
    assert.equal(
      pl.readParquet(join(resultsDir, "comparison", "features_ce", "verdict.parquet")).height,
      3,
    );
    assert.match(outputs, /4 features has less dilation than 2 features/);
    assert.match(outputs, /feature 4/, "the 4-feature run's pair scatter is shown");
  });
});

Deno.test("large_scale notebook runs on a tiny profile", async () => {
  await withTempDir(async (dir) => {
    const resultsDir = join(dir, "results");
    const { useBn: _mlpOnly, ...tiny } = TINY;
    const outputs = await execute("large_scale", dir, {
      ...tiny,
      epochs: 2,
      width: 16,
      batchSize: 32,
      sampleSize: 16,
      dataset: "fashionmnist",
      models: ["MLP"],
      losses: ["CrossEntropy", "LS"],
      noiseLevels: [0.0, 0.2],
      classes: 2,
      resultsDir,
    });
    assert.equal(pl.readParquet(join(resultsDir, "summary.parquet")).height, 4);
    const figures = join(resultsDir, "figures");
    assertFigures(figures, ["nc_curves", "nc_curves_noise0", "nc_curves_noise0.2"]);
    // Every run's curves have one point per epoch: 4 runs x 2 epochs.
    const spec = JSON.parse(await Deno.readTextFile(join(figures, "nc_curves.vl.json")));
    assert.equal(spec.data.values.length, 8);
    assert.equal(new Set(spec.data.values.map((row: { run: string }) => row.run)).size, 4);
    assert.ok(figureCount(outputs) >= 3, `${figureCount(outputs)} figures shown`);
  });
});

Deno.test("hyperparameter_search notebook runs a tiny search and shows its figures", async () => {
  await withTempDir(async (dir) => {
    const resultsDir = join(dir, "results");
    const outputs = await execute("hyperparameter_search", dir, {
      algorithm: "random_search",
      trials: 3,
      epochs: 2,
      width: 8,
      depth: 2,
      batchSize: 64,
      sampleSize: 40,
      concurrency: 2,
      backend: "wasm",
      resultsDir,
    });
    const trials = pl.readParquet(join(resultsDir, "trials.parquet"));
    assert.equal(trials.height, 3);
    assertFigures(join(resultsDir, "figures"), [
      "best_so_far",
      "params_vs_objective",
      "validation_curves",
    ]);
    assert.ok(figureCount(outputs) >= 3, `${figureCount(outputs)} figures shown`);
    assert.match(outputs, /test accuracy after retraining|nothing to retrain/);
  });
});
