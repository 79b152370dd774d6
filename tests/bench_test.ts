/**
 * `deno task bench`: a short real run (wasm, workload b, 2 pairs of 2 steps) through the task
 * itself, so its permissions are the ones tested; the interleaving order, both sides' processes,
 * the per-pair ratios and the report's shape (never its timings, which depend on the machine).
 * Plus the command line, and the report's arithmetic.
 */
import assert from "node:assert/strict";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { inUnit, markdownTable, pairRatios, stats } from "../bench/summary.ts";

async function bench(...args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "bench", ...args],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

Deno.test("bench interleaves memdil and PyTorch pair by pair and reports per-pair ratios", async () => {
  const relative = `results/bench/test-${crypto.randomUUID().slice(0, 8)}`;
  const out = `${REPO_ROOT}/${relative}`;
  try {
    const run = await bench(
      "--backends",
      "wasm",
      "--workloads",
      "b",
      "--pairs",
      "2",
      "--steps",
      "2",
      "--out",
      relative,
    );
    assert.equal(run.code, 0, run.stderr);
    const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assert.equal(files.length, 2);
    assert.match(files[0], /^bench-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.json$/);
    assert.equal(files[1], files[0].replace(/\.json$/, ".md"));
    const report = JSON.parse(await Deno.readTextFile(`${out}/${files[0]}`));

    // Both sides: memdil's wasm and PyTorch at its default thread count and at 2 threads.
    assert.equal(report.reference.available, true, report.reference.reason);
    const settings: string[] = report.reference.settings.map((s: { key: string }) => s.key);
    const threads = report.reference.default_threads;
    assert.deepEqual(settings, threads === 2 ? ["cpu-default"] : ["cpu-default", "cpu-2"]);
    assert.equal(report.backends.length, 1);
    assert.equal(report.backends[0].info.backend, "wasm");
    assert.equal(report.backends[0].info.kind, "cpu");

    // A B A B: each round is one wasm process, then one process per PyTorch setting.
    const [b] = report.workloads;
    assert.equal(b.key, "b");
    const round = ["wasm", ...settings];
    assert.deepEqual(
      b.sequence.map((m: { pair: number; name: string }) => `${m.pair}:${m.name}`),
      [1, 2].flatMap((pair) => round.map((name) => `${pair}:${name}`)),
    );
    assert.deepEqual(
      b.sequence.map((m: { order: number }) => m.order),
      b.sequence.map((_: unknown, i: number) => i + 1),
    );
    for (const m of b.sequence) {
      assert.equal(m.error, undefined);
      assert.equal(m.steps, 2);
      assert.ok(m.seconds > 0, `${m.name} took no time`);
      assert.ok(m.wall_seconds > m.seconds * m.steps, `${m.name}: process shorter than its steps`);
      assert.equal(m.value, inUnit("b", m.seconds, m.steps));
      assert.ok(m.peak_rss_bytes > 10 * 2 ** 20, `${m.name}: peak RSS ${m.peak_rss_bytes}`);
      if (m.name === "cpu-2") assert.equal(m.threads, 2);
      if (m.name === "cpu-default") assert.equal(m.threads, threads);
    }

    // Ratios: memdil / the faster PyTorch setting by median, pair by pair.
    const values = (name: string) =>
      b.sequence.filter((m: { name: string }) => m.name === name).map((m: { value: number }) =>
        m.value
      );
    assert.deepEqual(b.memdil.wasm.values, values("wasm"));
    const faster = settings.reduce((x, y) =>
      b.pytorch[x].stats.median <= b.pytorch[y].stats.median ? x : y
    );
    assert.equal(b.ratios.wasm.against, faster);
    const expected = values("wasm").map((v: number, i: number) => v / values(faster)[i]);
    assert.deepEqual(b.ratios.wasm.per_pair, expected);
    assert.deepEqual(b.ratios.wasm.stats, stats(expected));
    assert.equal(b.memdil.wasm.stats.median, stats(values("wasm")).median);

    // Machine, load, versions, table; the Markdown file holds the printed table.
    assert.equal(report.machine.cpus, navigator.hardwareConcurrency);
    assert.equal(typeof report.machine.cpu_model, "string");
    assert.equal(b.load_before.length, 3);
    assert.equal(b.load_after.length, 3);
    assert.equal(report.versions.deno, Deno.version.deno);
    assert.match(report.versions.tfjs, /^\d+\.\d+\.\d+$/);
    assert.equal(report.options.pairs, 2);
    assert.ok(report.elapsed_seconds > 0);
    assert.equal(report.table.rows.length, 1);
    assert.equal(report.table.rows[0].length, report.table.header.length);
    const table = markdownTable(report.table.header, report.table.rows);
    assert.ok(run.stdout.includes(table), run.stdout);
    assert.ok((await Deno.readTextFile(`${out}/${files[1]}`)).startsWith(table));
  } finally {
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});

Deno.test("bench --help prints the usage and exits 0; mistakes exit 2 before measuring", async () => {
  const help = await bench("--help");
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: deno task bench/);
  for (const flag of ["--backends", "--workloads", "--pairs", "--steps", "--samples", "--out"]) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const cases: [string[], RegExp][] = [
    [["--pairs", "0"], /--pairs <n>.*expected an integer >= 1, got '0'/],
    [["--backends", "wasm,tpu"], /'tpu' is not one of/],
    [["--workloads", "e"], /'e' is not one of a,b,c,d/],
    [["--out", "/nonexistent-bench-dir"], /may not read and write there/],
  ];
  for (const [args, message] of cases) {
    const run = await bench(...args);
    assert.equal(run.code, 2, `${args}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
});

Deno.test("bench arithmetic: medians, per-pair ratios, units", () => {
  assert.deepEqual(stats([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(stats([4, 1, 2, 8]), { median: 3, min: 1, max: 8 });
  assert.deepEqual(pairRatios([2, 3], [4, 3]), [0.5, 1]);
  assert.throws(() => pairRatios([1, 2], [1]), /2 memdil measurements but 1 PyTorch/);
  assert.equal(inUnit("a", 0.25, 20), 150); // 600 steps of 16 make the 9,600-sample epoch
  assert.equal(inUnit("c", 0.25, 3), 250);
  assert.equal(inUnit("d", 2, 10_000), 12); // scaled to 60,000 samples
});
