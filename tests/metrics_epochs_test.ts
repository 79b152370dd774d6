// Per-epoch metric tables: `--eval_every` on a simple-model run, `deno task evaluate-large` over
// a tiny large-scale run's checkpoints, and `deno task summarize` over both (wasm, temp dirs).
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { evaluateCheckpoints } from "../lib/experiment/evaluate_checkpoints.ts";
import { summarizeRuns } from "../cli/summarize.ts";
import { DEFAULT_CONFIG } from "../lib/config/flags.ts";
import { EPOCH_FILES } from "../lib/experiment/evaluate.ts";
import { runLargeScale } from "../lib/experiment/large_scale.ts";
import { runSimpleModel } from "../lib/experiment/run.ts";
import { pl } from "../lib/results/mod.ts";
import { isFinishedRun, markRunUnfinished, readRunMarker, RUN_FILES } from "../lib/runs/mod.ts";
import { basename } from "node:path";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { writeTestConfig } from "./fixtures/config_ini.ts";

const quiet = () => {};

Deno.test("--eval_every, evaluate-large and summarize write the documented tables", async () => {
  const root = await Deno.makeTempDir({ prefix: "memdil-epochs-" });
  try {
    // A simple-model run evaluated after every epoch: 3 rows, the last being the final metrics.
    const simple = await runSimpleModel({
      ...DEFAULT_CONFIG,
      epochs: 3,
      width: 16,
      depth: 2,
      sample_size: 150,
      label_noise: 0.2,
      eval_every: 1,
      backend: "wasm",
    }, { basePath: `${root}/simple`, log: quiet, progress: false });
    const epochs = pl.readParquet(`${simple.dir}/${EPOCH_FILES.metrics}`);
    deepStrictEqual(epochs.getColumn("epoch").toArray(), [1, 2, 3]);
    for (const column of ["nc1_train", "nc2", "nc3_train", "nc4_train", "cdnv_train", "ece_test"]) {
      ok(epochs.columns.includes(column), `epoch_metrics has ${column}`);
    }
    const final = simple.metrics.toRecords()[0];
    strictEqual(epochs.getColumn("nc1_train").toArray()[2], final.nc1_train);
    const matrices = pl.readParquet(`${simple.dir}/${EPOCH_FILES.matrices}`);
    const sigmaW = matrices.filter(
      pl.col("epoch").eq(3).and(pl.col("split").eq(pl.lit("train"))).and(
        pl.col("name").eq(pl.lit("sigma_w")),
      ),
    );
    strictEqual(sigmaW.height, 1);
    const classes = pl.readParquet(`${simple.dir}/${EPOCH_FILES.classMetrics}`);
    strictEqual(classes.height, 3 * 2 * 2, "epochs x splits x classes");
    const summary = JSON.parse(await Deno.readTextFile(`${simple.dir}/${EPOCH_FILES.summary}`));
    deepStrictEqual(summary.evaluated_epochs, [1, 2, 3]);

    // A large-scale run with a checkpoint per epoch, evaluated afterwards; a second call skips.
    const large = await runLargeScale({
      ...DEFAULT_CONFIG,
      model: "MLP",
      classes: 3,
      width: 16,
      depth: 2,
      epochs: 2,
      sample_size: 60,
      label_noise: 0.2,
      backend: "wasm",
    }, { basePath: `${root}/large`, log: quiet, progress: false });
    large.model.dispose();
    deepStrictEqual(await evaluateCheckpoints(large.dir, { log: quiet }), [1, 2]);
    deepStrictEqual(await evaluateCheckpoints(large.dir, { log: quiet }), []);
    const largeEpochs = pl.readParquet(`${large.dir}/${EPOCH_FILES.metrics}`);
    deepStrictEqual(largeEpochs.getColumn("epoch").toArray(), [1, 2]);
    ok(largeEpochs.getColumn("noisy_count_train").toArray().every((n) => Number(n) > 0));

    // One row per run under the root, configuration columns and final metrics.
    // Issue 19 #6: a replacement's staging directory killed during its evaluation (it holds
    // metrics.parquet, its marker says unfinished) is not a run of the summary; and one damaged
    // run is named, not fatal to the summary of the others.
    const staging = `${root}/simple/.${basename(simple.dir)}.staging-99`;
    await copyDir(simple.dir, staging);
    await markRunUnfinished(staging);
    const damagedDir = `${root}/simple/damaged_copy`;
    await copyDir(simple.dir, damagedDir);
    await Deno.writeTextFile(`${damagedDir}/${RUN_FILES.metrics}`, "not parquet");
    const { table, damaged } = await summarizeRuns(root);
    strictEqual(table.height, 2);
    deepStrictEqual(damaged.map((d) => d.dir), [damagedDir]);
    ok(damaged[0].error.includes(`${damagedDir}/${RUN_FILES.metrics}`), damaged[0].error);
    for (const column of ["run_dir", "evaluated_epochs", "uid", "nc1_train", "test_acc"]) {
      ok(table.columns.includes(column), `summary has ${column}`);
    }
    deepStrictEqual(table.getColumn("evaluated_epochs").toArray().sort(), [2, 3]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("evaluate-large killed half way leaves an unfinished run; evaluating again finishes it", async () => {
  const root = await Deno.makeTempDir({ prefix: "memdil-epochs-kill-" });
  try {
    const env = { MEMDIL_CONFIG: writeTestConfig(root) };
    const large = await runLargeScale({
      ...DEFAULT_CONFIG,
      model: "MLP",
      classes: 3,
      width: 16,
      depth: 2,
      epochs: 3,
      sample_size: 60,
      label_noise: 0.2,
      backend: "wasm",
    }, { basePath: `${root}/runs`, log: quiet, progress: false });
    large.model.dispose();
    deepStrictEqual(await evaluateCheckpoints(large.dir, { log: quiet }), [1, 2, 3]);
    ok(isFinishedRun(large.dir));
    const evaluateLarge = (...flags: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "cli/evaluate_large.ts", "--uid", basename(large.dir), ...flags],
        cwd: REPO_ROOT,
        env,
        stdout: "null",
        stderr: "piped",
      });
    // Issue 19 (Low): evaluate-large rewrote the epoch tables of a run still marked finished.
    const child = evaluateLarge("--force", "--backend", "cpu").spawn();
    let done = false;
    const exited = child.output().then(() => (done = true));
    while (isFinishedRun(large.dir) && !done) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!done) child.kill("SIGKILL");
    await exited;
    ok(!isFinishedRun(large.dir), "a stopped re-evaluation leaves an unfinished run");
    ok(typeof readRunMarker(large.dir)?.reevaluating === "string", "and says why");
    // Without --force too, a stopped re-evaluation is done again as a whole, and finishes the run.
    const again = await evaluateLarge().output();
    strictEqual(again.code, 0, new TextDecoder().decode(again.stderr));
    ok(isFinishedRun(large.dir));
    strictEqual(readRunMarker(large.dir)?.reevaluating, undefined);
    const table = pl.readParquet(`${large.dir}/${EPOCH_FILES.metrics}`);
    deepStrictEqual(table.getColumn("epoch").toArray(), [1, 2, 3]);

    // A run whose training was stopped stays unfinished: only its training finishes it.
    await markRunUnfinished(large.dir);
    deepStrictEqual(await evaluateCheckpoints(large.dir, { log: quiet, force: true }), [1, 2, 3]);
    ok(!isFinishedRun(large.dir));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}
