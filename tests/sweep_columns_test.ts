/**
 * Summary tables as data: accuracy in percent under `_pct` names, one type per column whatever
 * the values (two sweeps' tables concatenate), and a column dictionary that reads back as a table.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pl, readParquet } from "../lib/results/mod.ts";
import {
  describeColumn,
  summarizeOverSeeds,
  summaryFrame,
  type SummaryRow,
  writeSummaryTable,
} from "../lib/sweep/mod.ts";

/** Two seeds of one configuration at a given noise rate, as a runner reports them. */
function runs(noise: number): SummaryRow[] {
  return [1, 2].map((seed) => ({
    uid: `run_${noise}_${seed}`,
    dataset: "fashionmnist",
    loss: "LS",
    label_noise: noise,
    seed,
    epochs: 3,
    train_acc: 0.5 + seed / 10,
    test_acc: 0.75,
    topk_acc_test: 1,
    noisy_count_train: noise === 0 ? 0 : 10 + seed,
    memorization_train: noise === 0 ? null : 1.5 * seed,
    nc1_train: 0.25 * seed,
  }));
}

Deno.test("summary tables: percent accuracy, types independent of the values", () => {
  const clean = summaryFrame(summarizeOverSeeds(runs(0)));
  const noisy = summaryFrame(summarizeOverSeeds(runs(0.2)));
  assert.deepEqual(clean.columns, noisy.columns);
  assert.deepEqual(clean.dtypes.map(String), noisy.dtypes.map(String));
  const both = pl.concat([clean, noisy]);
  assert.equal(both.height, 2);
  const row = both.toRecords()[1];
  assert.ok(
    Math.abs((row.train_acc_pct_mean as number) - 65) < 1e-9,
    String(row.train_acc_pct_mean),
  );
  assert.equal(row.test_acc_pct_mean, 75);
  assert.equal(row.topk_acc_test_pct_mean, 100);
  assert.equal(row.noisy_count_train_mean, 11.5);
  assert.equal(both.toRecords()[0].memorization_train_mean, null);
  const dtype = (name: string) => String(both.getColumn(name).dtype);
  assert.match(dtype("noisy_count_train_mean"), /Float64/);
  assert.match(dtype("seeds"), /Int64/);
  assert.ok(!both.columns.some((c) => /_acc(_mean|_std)?$/.test(c)), both.columns.join(","));
  // Per-run rows: counts stay integers whether they are all zero or not.
  const perRun = pl.concat([summaryFrame(runs(0)), summaryFrame(runs(0.2))]);
  assert.match(String(perRun.getColumn("noisy_count_train").dtype), /Int64/);
  assert.deepEqual(perRun.getColumn("test_acc_pct").toArray(), [75, 75, 75, 75]);
});

Deno.test("summary tables: the column dictionary is a table beside the table", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-columns-" });
  try {
    const path = join(dir, "summary_over_seeds.parquet");
    await writeSummaryTable(summarizeOverSeeds(runs(0.2)), path);
    const table = readParquet(path);
    const dictionary = readParquet(join(dir, "summary_over_seeds.columns.parquet"));
    assert.deepEqual(dictionary.columns, ["column", "dtype", "unit", "description"]);
    assert.deepEqual(dictionary.getColumn("column").toArray(), table.columns);
    const entries = dictionary.toRecords() as Record<string, string>[];
    assert.deepEqual(entries.filter((e) => !e.description).map((e) => e.column), []);
    const entry = (name: string) => entries.find((e) => e.column === name)!;
    assert.equal(entry("test_acc_pct_mean").unit, "%");
    assert.match(entry("test_acc_pct_mean").description, /test set.*mean over seeds/);
    assert.match(entry("seeds").dtype, /Int64/);
    assert.match(entry("label_noise").description, /^setting: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("describeColumn: metrics by split and aggregate, unknown columns say nothing", () => {
  assert.deepEqual(describeColumn("dilation_test_std"), {
    unit: "feature units",
    description: "mean over classes of the std of clean samples' distances to u_c (test " +
      "features, true labels); sample standard deviation over seeds (n/a for one seed)",
  });
  assert.deepEqual(describeColumn("no_such_column"), { unit: "", description: "" });
});
