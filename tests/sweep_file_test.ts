/** Sweep building blocks: grids, flags, the file format, uids, the summary and the displays. */
import assert from "node:assert/strict";
import {
  formatDuration,
  grid,
  jupyterProgress,
  lineProgress,
  meanAndStd,
  planSweep,
  progressHtml,
  type RunStatus,
  sparkline,
  summarizeOverSeeds,
  sweepEta,
  SweepFileError,
  sweepFromDocument,
  UnknownRunnerError,
} from "../lib/sweep/mod.ts";
import { RUNNERS } from "../lib/experiment/runners/mod.ts";
import { REPO_ROOT } from "../lib/config/ini.ts";

Deno.test("grid: every combination, first axis slowest, over the base", () => {
  const runs = grid({ epochs: 2 }, { loss: ["CrossEntropy", "LS"], label_noise: [0, 0.2] });
  assert.deepEqual(runs, [
    { epochs: 2, loss: "CrossEntropy", label_noise: 0 },
    { epochs: 2, loss: "CrossEntropy", label_noise: 0.2 },
    { epochs: 2, loss: "LS", label_noise: 0 },
    { epochs: 2, loss: "LS", label_noise: 0.2 },
  ]);
  assert.throws(() => grid({}, { seed: [] }), /'seed' needs a non-empty list/);
});

Deno.test("sweep file: grid plus extra runs over the base; errors name the problem", () => {
  const sweep = sweepFromDocument({
    name: "s",
    resultsDir: "results/s",
    base: { epochs: 3 },
    grid: { seed: [1, 2] },
    runs: [{ seed: 9, loss: "LS" }],
  }, "s.json");
  assert.deepEqual(sweep.runs, [
    { epochs: 3, seed: 1 },
    { epochs: 3, seed: 2 },
    { epochs: 3, seed: 9, loss: "LS" },
  ]);
  assert.equal(sweep.basePath, undefined);
  // Relative paths are relative to the repository root.
  const relative = sweepFromDocument({ name: "r", resultsDir: "results/x" }, "r.json");
  assert.match(relative.resultsDir, /\/results\/x$/);
  assert.deepEqual(relative.runs, [{}]);
  const bad = (document: unknown, pattern: RegExp) =>
    assert.throws(() => sweepFromDocument(document, "f.json"), (error: Error) => {
      assert.ok(error instanceof SweepFileError);
      assert.match(error.message, pattern);
      return true;
    });
  bad({ name: "x", resultsDir: "r", gird: {} }, /unknown key\(s\) gird/);
  bad({ resultsDir: "r" }, /"name" .* is required/);
  bad({ name: "x", resultsDir: "r", grid: { seed: 3 } }, /grid.seed must be a non-empty list/);
  bad({ name: "x", resultsDir: "r", base: { "--seed": 3 } }, /without the leading dashes/);
  bad({ name: "x", resultsDir: "r", concurrency: 0 }, /"concurrency" must be an integer >= 1/);
});

Deno.test("planSweep: flags validated like the command line; colliding uids told apart", () => {
  assert.throws(
    () => planSweep({ name: "v", resultsDir: "/tmp/v", runs: [{ loss: "Hinge" }] }, RUNNERS),
    /sweep 'v', run 1 .*Hinge/,
  );
  // lr is not part of the reference's readable uid: the digest of the other settings tells the
  // two runs apart.
  const planned = planSweep({
    name: "lr",
    resultsDir: "/tmp/lr",
    runs: grid({ epochs: 1 }, { lr: [0.1, 0.01] }),
  }, RUNNERS);
  const uids = planned.runs.map((run) => run.uid);
  assert.match(uids[0], /_s6_[0-9a-f]{8}$/);
  assert.match(uids[1], /_s6_[0-9a-f]{8}$/);
  assert.notEqual(uids[0], uids[1]);
  assert.throws(
    () =>
      planSweep(
        { name: "fixed", resultsDir: "/tmp/f", runs: [{ uid: "a" }, { uid: "a", lr: 0.5 }] },
        RUNNERS,
      ),
    /share the directory a/,
  );
  assert.throws(
    () =>
      planSweep({ name: "dup", resultsDir: "/tmp/d", runs: [{ seed: 1 }, { seed: 1 }] }, RUNNERS),
    /lists the same run 2 times/,
  );
});

Deno.test("sweep files name runners from the registry only, and write only under the result roots", () => {
  // Issue 19 #3: a sweep file's runner was imported from any path or URL.
  for (
    const runner of ["/tmp/evil.ts", "file:///tmp/evil.ts", "https://example.com/r.ts", "../x"]
  ) {
    assert.throws(
      () => sweepFromDocument({ name: "x", resultsDir: "results/x", runner }, "s.json"),
      (error: Error) =>
        error instanceof SweepFileError && /never a path or URL/.test(error.message),
    );
  }
  for (const runner of ["nope", "constructor", "valueof"]) {
    const sweep = sweepFromDocument({ name: "x", resultsDir: "results/x", runner }, "s.json");
    assert.throws(
      () => planSweep(sweep, RUNNERS),
      (error: Error) => error instanceof UnknownRunnerError && /simple, large/.test(error.message),
    );
  }
  // Issue 19 #2: a sweep file's basePath (or resultsDir) outside results/ and the places
  // config.ini names granted the workers write access there.
  for (const key of ["resultsDir", "basePath"]) {
    for (const place of ["/tmp/elsewhere", "results/../..", `${REPO_ROOT}/lib`]) {
      assert.throws(
        () => sweepFromDocument({ name: "x", resultsDir: "results/x", [key]: place }, "s.json"),
        (error: Error) =>
          error instanceof SweepFileError && error.message.includes(`"${key}"`) &&
          error.message.includes("outside the places memdil writes results"),
      );
    }
  }
  const inside = sweepFromDocument(
    { name: "x", resultsDir: "results/x", basePath: "results/x/runs" },
    "s.json",
  );
  assert.equal(inside.basePath, `${REPO_ROOT}/results/x/runs`);
});

Deno.test("summarizeOverSeeds: mean and sample std per configuration", () => {
  const rows = summarizeOverSeeds([
    { uid: "a", loss: "CE", label_noise: 0.2, seed: 1, test_acc: 0.8, backend: "wasm" },
    { uid: "b", loss: "CE", label_noise: 0.2, seed: 2, test_acc: 0.9, backend: "wasm" },
    { uid: "c", loss: "LS", label_noise: 0.2, seed: 1, test_acc: 0.7, backend: "wasm" },
  ]);
  assert.equal(rows.length, 2);
  // CE: mean (0.8 + 0.9) / 2 = 0.85; sample std sqrt(((-0.05)^2 + 0.05^2) / 1) = 0.0707107.
  assert.equal(rows[0].loss, "CE");
  assert.equal(rows[0].seeds, 2);
  assert.ok(Math.abs(Number(rows[0].test_acc_mean) - 0.85) < 1e-12);
  assert.ok(Math.abs(Number(rows[0].test_acc_std) - Math.sqrt(0.005)) < 1e-12);
  // One seed: no spread to estimate.
  assert.equal(rows[1].test_acc_std, null);
  assert.ok(!("uid" in rows[0]) && !("backend" in rows[0]));
  assert.deepEqual(meanAndStd([1, 2, 3]), { mean: 2, std: 1 });
});

const STATUSES: RunStatus[] = [
  { uid: "a", label: "CE noise 0", state: "reused" },
  { uid: "b", label: "LS <noise> 0.2", state: "running", epoch: 3, epochs: 12 },
  { uid: "c", label: "LS noise 0.3", state: "failed", error: "out of memory" },
];

Deno.test("progress: HTML table, lines, and a Jupyter display updated in place", async () => {
  const html = progressHtml(STATUSES);
  assert.match(html, /<progress max="3" value="2"/);
  assert.match(html, /LS &lt;noise&gt; 0.2/);
  assert.match(html, /3\/12/);
  assert.match(html, /out of memory/);

  const lines: string[] = [];
  const plain = lineProgress((line) => lines.push(line), () => 0);
  plain.update(STATUSES);
  plain.update(STATUSES); // nothing changed: nothing printed again
  plain.finish(STATUSES);
  assert.deepEqual(lines, [
    "[1/3] reused: CE noise 0",
    "[2/3] running: LS <noise> 0.2",
    "[3/3] failed: LS noise 0.3: out of memory (1 left, ETA 0s)",
    "sweep: 2/3 runs: 1 reused, 1 failed, 1 running",
  ]);

  // Once a run was trained, ending lines say how many are left and when the sweep should end.
  let clock = 0;
  const timed: string[] = [];
  const eta = lineProgress((line) => timed.push(line), () => clock);
  const runs = (states: RunStatus["state"][]) =>
    states.map((state, i) => ({ uid: `r${i}`, label: `run ${i}`, state, seconds: undefined }));
  eta.update(runs(["reused", "running", "queued", "queued"]));
  clock = 60;
  eta.update(runs(["reused", "finished", "running", "queued"]));
  assert.deepEqual(timed, [
    "[1/4] reused: run 0",
    "[2/4] running: run 1",
    "[2/4] finished: run 1 (2 left, ETA 2m 00s)",
    "[3/4] running: run 2",
  ]);
  assert.equal(formatDuration(3725), "1h 02m");
  // The terminal bar's estimate counts epochs: reused runs cost nothing, a running run its share.
  const at = (epoch: number | undefined, state: RunStatus["state"]): RunStatus => ({
    uid: state,
    label: state,
    state,
    epoch,
    epochs: epoch === undefined ? undefined : 4,
  });
  assert.equal(sweepEta([at(undefined, "reused"), at(undefined, "queued")], 100), undefined);
  // 1 run finished + 1 of 4 epochs in 50 s = 40 s per run; 3/4 + 1 run left: 70 s.
  assert.equal(
    sweepEta([
      at(undefined, "reused"),
      at(undefined, "finished"),
      at(1, "running"),
      at(undefined, "queued"),
    ], 50),
    70,
  );

  const calls: { html: string; options: Record<string, unknown> }[] = [];
  const fake = {
    display(bundle: unknown, options: Record<string, unknown>) {
      calls.push({ html: (bundle as Record<string, string>)["text/html"], options });
      return Promise.resolve();
    },
  };
  const live = jupyterProgress(fake, 0);
  live.update(STATUSES.map((s) => ({ ...s, state: "queued" as const })));
  live.update(STATUSES);
  await live.finish(STATUSES);
  assert.equal(calls.length, 3);
  const id = calls[0].options.display_id;
  assert.equal(typeof id, "string");
  assert.equal(calls[0].options.update, undefined);
  assert.ok(calls.slice(1).every((c) => c.options.display_id === id && c.options.update === true));
  assert.match(calls[2].html, /2\/3 runs/);

  // The live table draws each run's training loss so far.
  const drawn: string[] = [];
  const curve = jupyterProgress({
    display(bundle: unknown) {
      drawn.push((bundle as Record<string, string>)["text/html"]);
      return Promise.resolve();
    },
  }, 0);
  for (const [epoch, loss] of [[1, 0.7], [2, 0.5], [3, 0.4]]) {
    curve.update([{
      uid: "a",
      label: "a",
      state: "running",
      epoch,
      epochs: 3,
      values: { train_loss: loss },
    }]);
  }
  await curve.finish([{ uid: "a", label: "a", state: "finished", seconds: 1 }]);
  assert.match(drawn.at(-1)!, /<polyline points="1\.0,1\.0 60\.0,15\.7 119\.0,23\.0"/);
  assert.equal(sparkline([0.5]), "");
});
