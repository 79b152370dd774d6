/**
 * Sweep execution with a fixture runner (tests/fixtures/sweep_runner.ts) in real worker
 * subprocesses: bounded parallelism, failure isolation, reuse, restart after an interruption.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultCacheDir } from "../lib/data/cache.ts";
import {
  grid,
  type RunStatus,
  runSweep,
  type SweepProgress,
  workerArgs,
} from "../lib/sweep/mod.ts";
import { TEST_RUNNERS } from "./fixtures/sweep_registry.ts";
import { lockRun, RunLockedError } from "../lib/runs/mod.ts";

const FIXTURE = "fixture";

function executions(basePath: string): string[] {
  try {
    return Deno.readTextFileSync(join(basePath, "executions.log")).trim().split("\n");
  } catch {
    return [];
  }
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "memdil-sweep-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sweep: at most `concurrency` workers run at once, and they do run in parallel", async () => {
  await withTempDir(async (dir) => {
    // Six runs in three barrier pairs: a pair can only finish when both of its runs are running
    // at the same time, so finishing proves 2 parallel workers; each run counts the running
    // markers it sees, which must never exceed the bound of 2.
    const runs = [0, 1, 2].flatMap((pair) =>
      [0, 1].map((k) => ({ name: `p${pair}`, seed: k, barrier: `b${pair}`, barrier_size: 2 }))
    );
    const result = await runSweep(
      { name: "parallel", runner: FIXTURE, resultsDir: dir, runs, concurrency: 2 },
      { progress: false, registry: TEST_RUNNERS },
    );
    assert.deepEqual(result.failures.map((f) => f.error), []);
    assert.equal(result.summary.length, 6);
    for (const row of result.summary) {
      assert.ok(Number(row.concurrent_seen) <= 2, `saw ${row.concurrent_seen} runs at once`);
    }
    assert.ok(result.summary.some((row) => Number(row.concurrent_seen) === 2));
  });
});

Deno.test("sweep: a failing run is reported and the others complete", async () => {
  await withTempDir(async (dir) => {
    const runs = grid({ name: "r" }, { seed: [1, 2, 3, 4] }).map((run) => ({
      ...run,
      value: Number(run.seed) * 10,
      fail: run.seed === 2,
    }));
    const lines: string[] = [];
    const result = await runSweep(
      { name: "failing", runner: FIXTURE, resultsDir: dir, runs, concurrency: 2 },
      { progress: false, log: (line) => lines.push(line), registry: TEST_RUNNERS },
    );
    assert.deepEqual(result.failures.map((f) => f.uid), ["r_s2"]);
    const failure = result.failures[0];
    assert.match(failure.error ?? "", /fixture run r_s2 failed on purpose/);
    assert.ok(failure.logPath && Deno.readTextFileSync(failure.logPath).includes("on purpose"));
    assert.deepEqual(
      result.runs.map((run) => run.status),
      ["finished", "failed", "finished", "finished"],
    );
    assert.deepEqual(result.summary.map((row) => row.value), [10, 30, 40]);
    // The run table records the failure too.
    const table = JSON.parse(Deno.readTextFileSync(result.tables.runs));
    assert.equal(table.runs[1].status, "failed");
    assert.match(table.runs[1].error, /on purpose/);
    // Paths relative to the sweep's directory: the folder can be moved.
    assert.equal(table.basePath, "runs");
    assert.equal(table.runs[1].dir, "runs/r_s2");
    assert.ok(Deno.readTextFileSync(join(dir, table.runs[1].log)).includes("on purpose"));
  });
});

Deno.test("sweep: finished runs are reused without starting a worker", async () => {
  await withTempDir(async (dir) => {
    const sweep = {
      name: "reuse",
      runner: FIXTURE,
      resultsDir: dir,
      runs: grid({ name: "r" }, { seed: [1, 2, 3] }),
      concurrency: 2,
    };
    const first = await runSweep(sweep, { progress: false, registry: TEST_RUNNERS });
    assert.deepEqual(first.runs.map((r) => r.status), ["finished", "finished", "finished"]);
    const basePath = join(dir, "runs");
    assert.equal(executions(basePath).length, 3);
    const second = await runSweep(sweep, { progress: false, registry: TEST_RUNNERS });
    assert.deepEqual(second.runs.map((r) => r.status), ["reused", "reused", "reused"]);
    assert.equal(executions(basePath).length, 3, "no run executed again");
    assert.deepEqual(second.summary, first.summary);
  });
});

Deno.test("sweep: an interrupted run restarts next time, finished ones are kept", async () => {
  await withTempDir(async (dir) => {
    const runs = [{ name: "done", seed: 1 }, { name: "slow", seed: 1, hang: true }];
    const controller = new AbortController();
    // Stop the sweep once the hanging run has reported its first epoch: its worker is killed.
    const stopWhenSlowRuns: SweepProgress = {
      update(statuses: readonly RunStatus[]) {
        const slow = statuses.find((s) => s.uid === "slow_s1");
        if (slow?.epoch === 1) controller.abort();
      },
      finish() {},
    };
    const interrupted = await runSweep(
      { name: "interrupt", runner: FIXTURE, resultsDir: dir, runs, concurrency: 1 },
      { progress: stopWhenSlowRuns, signal: controller.signal, registry: TEST_RUNNERS },
    );
    assert.deepEqual(interrupted.runs.map((r) => r.status), ["finished", "failed"]);
    assert.match(interrupted.runs[1].error ?? "", /killed|status/);
    const basePath = join(dir, "runs");
    assert.deepEqual(executions(basePath), ["done_s1", "slow_s1"]);

    // Next time the interrupted run (now able to finish) is started again; the other is reused.
    const resumed = await runSweep(
      {
        name: "interrupt",
        runner: FIXTURE,
        resultsDir: dir,
        runs: [runs[0], { name: "slow", seed: 1 }],
        concurrency: 1,
      },
      { progress: false, registry: TEST_RUNNERS },
    );
    assert.deepEqual(resumed.runs.map((r) => r.status), ["reused", "finished"]);
    assert.deepEqual(executions(basePath), ["done_s1", "slow_s1", "slow_s1"]);
  });
});

Deno.test("sweep: a run that does not validate stops the sweep before anything runs", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      runSweep(
        { name: "bad", runner: FIXTURE, resultsDir: dir, runs: [{ seed: 1 }, { colour: "red" }] },
        { progress: false, registry: TEST_RUNNERS },
      ),
      /sweep 'bad', run 2 .*unknown flag\(s\) colour/,
    );
    assert.deepEqual(executions(join(dir, "runs")), []);
  });
});

Deno.test("workerArgs: workers may write the shared dataset cache, and nothing outside their places", () => {
  const args = workerArgs({
    basePath: "/tmp/memdil_runs",
    dataDirs: ["/tmp/memdil_data"],
    worker: TEST_RUNNERS.worker,
  });
  const write = args.find((arg) => arg.startsWith("--allow-write="))!.slice("--allow-write=".length)
    .split(",");
  assert.deepEqual(write, ["/tmp/memdil_runs", "/tmp/memdil_data", defaultCacheDir()]);
  assert.ok(!args.includes("--allow-net") && !args.includes("--allow-run"));
});

Deno.test("workerArgs: workers read the config.ini MEMDIL_CONFIG names, also outside the repository", () => {
  // A large-scale worker reads config.ini; with MEMDIL_CONFIG elsewhere every run failed on it.
  const before = Deno.env.get("MEMDIL_CONFIG");
  Deno.env.set("MEMDIL_CONFIG", "/elsewhere/memdil.ini");
  try {
    const args = workerArgs({
      basePath: "/tmp/memdil_runs",
      dataDirs: [],
      worker: TEST_RUNNERS.worker,
    });
    const read = args.find((arg) => arg.startsWith("--allow-read="))!.slice(13).split(",");
    assert.ok(read.includes("/elsewhere/memdil.ini"), read.join());
  } finally {
    if (before === undefined) Deno.env.delete("MEMDIL_CONFIG");
    else Deno.env.set("MEMDIL_CONFIG", before);
  }
});

Deno.test("sweep: a second sweep on one directory is refused while the first runs", async () => {
  await withTempDir(async (dir) => {
    const held = lockRun(dir, "sweep", "sweep first");
    try {
      await assert.rejects(
        runSweep(
          { name: "second", runner: FIXTURE, resultsDir: dir, runs: [{ seed: 1 }] },
          { progress: false, registry: TEST_RUNNERS },
        ),
        (error: Error) => error instanceof RunLockedError && /sweep second/.test(error.message),
      );
      assert.deepEqual(executions(join(dir, "runs")), [], "nothing ran");
    } finally {
      held.release();
    }
  });
});

Deno.test("workerArgs: a results directory that is a symlink gives the workers its real place too", async () => {
  // Issue 19 (Low): with results/ a symlink, every sweep worker failed on its lock (Deno checks
  // where the file really is).
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "real"));
    await Deno.symlink(join(dir, "real"), join(dir, "results"));
    const args = workerArgs({
      basePath: join(dir, "results", "sweep", "runs"), // not created yet
      dataDirs: [],
      worker: TEST_RUNNERS.worker,
    });
    const real = await Deno.realPath(join(dir, "real"));
    for (const flag of ["--allow-read=", "--allow-write="]) {
      const places = args.find((a) => a.startsWith(flag))!.slice(flag.length).split(",");
      assert.ok(places.includes(join(dir, "results", "sweep", "runs")), places.join(","));
      assert.ok(places.includes(join(real, "sweep", "runs")), places.join(","));
    }
  });
});
