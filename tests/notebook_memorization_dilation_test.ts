import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_NOTEBOOKS_DIR,
  executeNotebook,
  notebookParameters,
  readProfile,
} from "../lib/notebooks/mod.ts";
import { pl } from "../lib/results/mod.ts";
import { exportedPngCount } from "./fixtures/notebook_files.ts";
import { withTestConfig } from "./fixtures/config_ini.ts";
import { TEST_NOTEBOOK_LIMITS } from "./fixtures/notebook_limits.ts";

Deno.test("the memorization_dilation notebook runs headlessly on a tiny parameter set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-nb-" });
  try {
    const resultsDir = join(dir, "results");
    const relayed: string[] = [];
    // The temporary directory is a result root (config.ini's paths): the sandboxed kernel may
    // write there, as a user's configured results directory.
    const result = await withTestConfig(dir, () =>
      executeNotebook(
        join(DEFAULT_NOTEBOOKS_DIR, "memorization_dilation.ipynb"),
        {
          overrides: {
            noiseLevels: [0.0, 0.3],
            epochs: 2,
            width: 16,
            depth: 3,
            batchSize: 128,
            lr: 0.01,
            seeds: [1, 2],
            sampleSize: 100,
            backend: "wasm",
            resultsDir,
          },
          outputDir: join(dir, "executed"),
          ...TEST_NOTEBOOK_LIMITS,
          log: () => {},
          onOutputLine: (line) => relayed.push(line),
        },
      ));
    // The sweep's per-run lines reach the caller as the runs end (what `deno task notebooks`
    // prints), the last with nothing left.
    assert.equal(relayed.filter((line) => /^sweep \[\d\/8\] finished/.test(line)).length, 8);
    // The executed copy holds the summary table and the figures as PNG (what nbconvert keeps).
    const executed = JSON.parse(await Deno.readTextFile(result.outputPath));
    const outputs = executed.cells.flatMap((cell: { outputs?: unknown[] }) => cell.outputs ?? []);
    const text = JSON.stringify(outputs);
    assert.match(text, /train_acc/);
    // Two tiny epochs memorize nothing: the check says so, and the verdict table is printed.
    assert.match(text, /NOT MEMORIZED: 8 of 8 runs/);
    assert.match(text, /primary endpoint/);
    assert.ok((text.match(/image\/png/g) ?? []).length >= 5, "figures displayed inline");
    // Small enough to share (the scatters are thinned; all features stay in Parquet), and the
    // figures survive Debian's nbconvert as inline PNG.
    const size = (await Deno.stat(result.outputPath)).size;
    assert.ok(size < 2_000_000, `executed notebook is ${size} bytes`);
    const pngs = await exportedPngCount(result.outputPath, join(dir, "executed.html"));
    assert.ok(pngs >= 5, `${pngs} figures in the HTML export`);
    // Two losses x two noise levels x two seeds = eight runs in the summary table.
    const summary = pl.readParquet(join(resultsDir, "summary.parquet"));
    assert.equal(summary.height, 8);
    const checks = pl.readParquet(join(resultsDir, "comparison_runs.parquet"));
    assert.equal(checks.height, 8);
    assert.deepEqual([...new Set(checks.getColumn("memorized").toArray())], [false]);
    for (const table of ["comparison.parquet", "comparison_paired.parquet", "verdict.parquet"]) {
      assert.ok(pl.readParquet(join(resultsDir, table)).height > 0, table);
    }
    assert.deepEqual(
      [...new Set(summary.getColumn("loss").toArray())].sort(),
      ["CrossEntropy", "LS"],
    );
    for (
      const name of [
        "dilation_vs_memorization",
        "test_accuracy_vs_noise",
        "nc1_vs_noise",
        "dilation_vs_memorization_seeds",
        "ls_minus_ce",
      ]
    ) {
      for (const extension of ["vl.json", "svg", "png"]) {
        assert.ok(Deno.statSync(join(resultsDir, "figures", `${name}.${extension}`)).size > 0);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the notebook's defaults are the regime profile", async () => {
  const defaults = await notebookParameters(
    join(DEFAULT_NOTEBOOKS_DIR, "memorization_dilation.ipynb"),
  );
  const profile = (await readProfile("regime")).memorization_dilation;
  for (const [key, value] of Object.entries(profile)) assert.deepEqual(defaults[key], value, key);
});
