/**
 * `deno task bench --quick` on wasm, workload b only: the JSON report's structure (never its
 * timings, which depend on the machine).
 */
import assert from "node:assert/strict";

Deno.test("bench --quick writes a report with machine, versions, results and table", async () => {
  const out = await Deno.makeTempDir({ prefix: "memdil-bench-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        "--allow-net",
        "--allow-run",
        new URL("../bench/bench.ts", import.meta.url).pathname,
        "--backends",
        "wasm",
        "--workloads",
        "b",
        "--quick",
        "--no-reference",
        "--out",
        out,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.match(stdout, /\| wasm +\| b small MLP/);
    assert.match(stdout, /PyTorch reference unavailable: --no-reference/);
    const files = [...Deno.readDirSync(out)].map((e) => e.name);
    assert.equal(files.length, 1);
    assert.match(files[0], /^bench-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.json$/);
    const report = JSON.parse(await Deno.readTextFile(`${out}/${files[0]}`));
    assert.equal(report.quick, true);
    assert.equal(typeof report.date, "string");
    assert.equal(report.machine.cpus, navigator.hardwareConcurrency);
    assert.equal(report.machine.load_average_before.length, 3);
    assert.equal(report.versions.deno, Deno.version.deno);
    assert.match(report.versions.tfjs, /^\d+\.\d+\.\d+$/);
    assert.equal(report.backends.length, 1);
    const [wasm] = report.backends;
    assert.equal(wasm.backend, "wasm");
    assert.equal(typeof wasm.wasm.simd, "boolean");
    assert.equal(wasm.results.length, 1);
    const [b] = wasm.results;
    // --quick: 3 steps in one repetition (bench/workloads.ts workloadSize).
    assert.equal(b.workload, "b");
    assert.equal(b.steps, 3);
    assert.equal(b.repetitions, 1);
    assert.equal(b.seconds.length, 1);
    assert.ok(b.seconds_per_step > 0);
    assert.deepEqual(report.reference, {
      available: false,
      reason: "--no-reference",
      rows: [],
    });
    assert.deepEqual(report.table.header, [
      "backend",
      "workload",
      "unit",
      "memdil",
      "PyTorch",
      "memdil/PyTorch",
    ]);
    assert.equal(report.table.rows.length, 1);
    assert.equal(report.table.rows[0][4], "unavailable");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
