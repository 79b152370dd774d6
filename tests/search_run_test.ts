/**
 * A real search through `deno task search`'s command line: tiny MLP trials on Fashion-MNIST
 * (wasm) with per-epoch validation reports driving ASHA, the driver killed with SIGKILL midway
 * and continued with --continue_ho (finished trials kept as they were), the trials table and
 * figures, and the best configuration retrained without a validation split and tested.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { readParquet } from "../lib/results/mod.ts";
import { isSettled, readTrialTable, runSearch, type TrialRecord } from "../lib/search/mod.ts";
import { taskArgs } from "./fixtures/task_args.ts";

const TRIALS = 6;
const EPOCHS = 4;

function searchCommand(resultsDir: string, extra: string[] = []): Deno.Command {
  // `deno task search`'s own command line, run directly so the driver is this child.
  return new Deno.Command(Deno.execPath(), {
    args: [
      ...taskArgs("search", [dirname(resultsDir)]),
      "--ho",
      "random_search",
      "--num_ho_runs",
      String(TRIALS),
      "--concurrency",
      "2",
      "--results_dir",
      resultsDir,
      "--epochs",
      String(EPOCHS),
      "--patience",
      "2",
      "--width",
      "16",
      "--depth",
      "2",
      "--batch_size",
      "32",
      "--sample_size",
      "100",
      "--loss",
      "LS",
      "--dataset",
      "fashionmnist",
      "--backend",
      "wasm",
      ...extra,
    ],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Processes whose command line names `dir` (the workers of a search writing there). Deno may not
 * list /proc itself; grep reads the pattern from stdin, so its own command line does not match.
 */
async function workersOf(dir: string): Promise<number> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'printf "%s\\n" "$DIR" | grep -lsF -f - /proc/[0-9]*/cmdline || true'],
    env: { DIR: dir },
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((line) => line !== "").length;
}

function settled(path: string): TrialRecord[] {
  try {
    return (readTrialTable(path)?.trials ?? []).filter((t) => t && isSettled(t));
  } catch {
    return []; // never partial: written atomically; absent before the first write
  }
}

Deno.test("search: ASHA on per-epoch reports, kill -9 and --continue_ho, best retrained", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-search-" });
  try {
    const results = join(dir, "search");
    const table = join(results, "trials.json");
    const driver = searchCommand(results).spawn();
    const deadline = Date.now() + 300_000;
    while (settled(table).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    // Kill it while it has workers running (so the check below is not vacuous).
    let running = 0;
    while ((running = await workersOf(results)) === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(running > 0, "workers running at the kill");
    driver.kill("SIGKILL");
    await driver.status;
    // Its orphaned workers notice at their next event-loop turn (a 1 s check) and exit; a worker
    // killed mid-start-up (module load, data decode) gets there later on a loaded machine.
    const orphansGone = Date.now() + 30_000;
    while (await workersOf(results) > 0 && Date.now() < orphansGone) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await workersOf(results), 0, "workers of the killed driver still running");
    const before = settled(table);
    assert.ok(before.length >= 2, "two trials settled before the kill");

    // Without --continue_ho an existing search is not touched.
    const refused = await searchCommand(results).output();
    assert.equal(refused.code, 2);
    assert.match(new TextDecoder().decode(refused.stderr), /--continue_ho/);

    const resumed = await searchCommand(results, ["--continue_ho"]).output();
    const stderr = new TextDecoder().decode(resumed.stderr);
    assert.equal(resumed.code, 0, stderr);
    const trials = readTrialTable(table)!.trials;
    assert.equal(trials.length, TRIALS);
    assert.ok(trials.every(isSettled), JSON.stringify(trials.map((t) => t.status)));
    // Trials finished before the kill are kept exactly, not run again.
    for (const old of before) assert.deepEqual(trials[old.trial], old);

    for (const t of trials) {
      assert.ok(t.params.lr >= 1e-5 && t.params.lr <= 0.5);
      assert.ok([0.01, 0.1, 0.5].includes(t.params.gamma));
      assert.ok(t.params.ls_alpha >= 0.01 && t.params.ls_alpha <= 0.25);
      assert.ok(t.val_curve.every((v) => v !== null && v >= 0 && v <= 1));
      assert.equal(t.objective, t.val_curve.at(-1));
      if (t.status === "completed") {
        assert.equal(t.val_curve.length, EPOCHS);
      } else {
        // Stopped early at a rung (1 or 2 with grace 1, factor 2), below the cutoff it names.
        assert.ok(t.val_curve.length < EPOCHS, `${t.uid} ran ${t.val_curve.length} epochs`);
        const [, rung, value, cutoff] = t.stop_reason!.match(
          /ASHA rung (\d+): validation accuracy ([\d.]+) below the cutoff ([\d.]+)/,
        )!;
        assert.equal(Number(rung), t.val_curve.length);
        assert.ok(Number(value) < Number(cutoff));
      }
    }

    // The trials table: one row per trial with its parameters and validation curve.
    const rows = readParquet(join(results, "trials.parquet")).toRecords();
    assert.equal(rows.length, TRIALS);
    assert.deepEqual(rows.map((r) => r.status), trials.map((t) => t.status));
    assert.deepEqual(
      rows.map((r) => [...(r.val_curve as unknown as number[])]),
      trials.map((t) => t.val_curve),
    );
    for (const name of ["best_so_far", "params_vs_objective", "validation_curves"]) {
      assert.ok(Deno.statSync(join(results, "figures", `${name}.png`)).size > 0, name);
    }

    // The best completed trial, retrained on the whole training set and tested.
    const best = JSON.parse(Deno.readTextFileSync(join(results, "best.json")));
    const completed = trials.filter((t) => t.status === "completed");
    const top = Math.max(...completed.map((t) => t.objective!));
    assert.equal(best.trial, completed.find((t) => t.objective === top)!.trial);
    const args = JSON.parse(Deno.readTextFileSync(join(best.dir, "args.json")));
    assert.equal(args.val_split_prop, 0);
    assert.equal(args.lr, best.params.lr);
    assert.equal(args.ls_alpha, best.params.ls_alpha);
    const metrics = JSON.parse(Deno.readTextFileSync(join(best.dir, "metrics.json")));
    assert.equal(metrics.test_acc, best.result.test_acc);
    assert.match(new TextDecoder().decode(resumed.stdout), /best: trial \d+ .*test accuracy/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("search: train-large trials report per-epoch validation accuracy, best retrained", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-search-large-" });
  try {
    const result = await runSearch({
      name: "large",
      runner: "large",
      base: {
        model: "MLP",
        width: 16,
        depth: 2,
        dataset: "fashionmnist",
        classes: 2,
        sample_size: 32,
        batch_size: 16,
        epochs: 2,
        backend: "wasm",
      },
      algorithm: "bayes_opt",
      trials: 2,
      concurrency: 2,
      asha: false,
      resultsDir: dir,
    }, { log: () => {} });
    assert.deepEqual(result.trials.map((t) => t.status), ["completed", "completed"]);
    for (const t of result.trials) {
      assert.equal(t.val_curve.length, 2);
      // What it reported per epoch is its own history's validation accuracy.
      const history = readParquet(join(dir, "trials", t.uid, "history.parquet")).toRecords();
      assert.deepEqual(history.map((row) => row.val_acc), t.val_curve);
    }
    assert.ok(result.best);
    const args = JSON.parse(Deno.readTextFileSync(join(result.best.dir, "args.json")));
    assert.equal(args.val_split_prop, 0);
    assert.equal(typeof result.best.result.test_acc, "number");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
