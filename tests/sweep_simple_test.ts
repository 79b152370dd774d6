/**
 * A real sweep of tiny MLP runs on Fashion-MNIST (wasm) through `deno task sweep`'s code path:
 * grid expansion, worker subprocesses, the summary over seeds, reuse and restart.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { markRunUnfinished, RUN_FILES } from "../lib/runs/mod.ts";
import { meanAndStd, readSweepFile, runSweep } from "../lib/sweep/mod.ts";
import { RUNNERS } from "../lib/experiment/runners/mod.ts";
import { withTestConfig } from "./fixtures/config_ini.ts";

Deno.test("sweep of real runs: summary over seeds, then reuse and restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-sweep-simple-" });
  try {
    const file = join(dir, "sweep.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        name: "tiny",
        resultsDir: join(dir, "out"),
        concurrency: 2,
        base: {
          epochs: 1,
          width: 8,
          depth: 2,
          batch_size: 64,
          sample_size: 40,
          backend: "wasm",
          label_noise: 0.2,
        },
        grid: { loss: ["CrossEntropy", "LS"], seed: [1, 2] },
      }),
    );
    // The sweep's directory is one of the places config.ini names (sweep files write only there).
    const sweep = await withTestConfig(dir, () => readSweepFile(file));
    assert.equal(sweep.runs.length, 4);
    const first = await runSweep(sweep, { progress: false, registry: RUNNERS });
    assert.deepEqual(first.failures.map((f) => f.error), []);
    assert.deepEqual(first.runs.map((r) => r.status), Array(4).fill("finished"));
    assert.deepEqual(first.summary.map((r) => [r.loss, r.seed]), [
      ["CrossEntropy", 1],
      ["CrossEntropy", 2],
      ["LS", 1],
      ["LS", 2],
    ]);

    // Two configurations, each the mean and sample std of its two seeds' rows.
    assert.equal(first.overSeeds.length, 2);
    for (const [i, loss] of ["CrossEntropy", "LS"].entries()) {
      const row = first.overSeeds[i];
      assert.equal(row.loss, loss);
      assert.equal(row.seeds, 2);
      assert.equal(row.seed_list, "1,2");
      const accuracies = first.summary.filter((r) => r.loss === loss).map((r) =>
        Number(r.test_acc)
      );
      const expected = meanAndStd(accuracies);
      assert.ok(Math.abs(Number(row.test_acc_mean) - expected.mean!) < 1e-12);
      assert.ok(Math.abs(Number(row.test_acc_std) - expected.std!) < 1e-12);
    }
    assert.ok(Deno.statSync(first.tables.overSeeds).size > 0);

    // Rerun: everything reused. Then an interrupted run (no completion marker) is restarted.
    const second = await runSweep(sweep, { progress: false, registry: RUNNERS });
    assert.deepEqual(second.runs.map((r) => r.status), Array(4).fill("reused"));
    await markRunUnfinished(first.runs[3].dir);
    await Deno.remove(join(first.runs[3].dir, RUN_FILES.metrics));
    const third = await runSweep(sweep, { progress: false, registry: RUNNERS });
    assert.deepEqual(third.runs.map((r) => r.status), ["reused", "reused", "reused", "finished"]);
    // The same seed and data on wasm give the same run again.
    assert.equal(third.summary[3].test_acc, first.summary[3].test_acc);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
