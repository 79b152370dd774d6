/**
 * The GPU-host path, on this machine: the Fashion-MNIST copy that `bench/device.sh` carries gives
 * the same training set as the whole dataset; the comparison of a run across backends flags what
 * is out of tolerance; and `bench/device.sh rehearse` packs (under 64 MiB), unpacks and runs every
 * GPU check on Mesa's software Vulkan, with a real short run on webgpu.
 */
import assert from "node:assert/strict";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { loadRunData } from "../lib/data/mod.ts";
import { DEBIAN_FASHION_MNIST_DIR } from "../lib/data/fashion_mnist.ts";
import { compareRuns } from "../bench/compare_runs.ts";
import type { ShortRunReport } from "../bench/short_run.ts";

const REGIME_DATA = {
  dataset: "fashionmnist" as const,
  classes: 2,
  label_noise: 0.3,
  sample_size: 500,
  val_split_prop: 0.2,
  seed: 1,
};

Deno.test("the carried classes-0-and-1 copy draws the same training set as the whole dataset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil_device_subset_" });
  try {
    const written = await new Deno.Command("python3", {
      args: [
        `${REPO_ROOT}/bench/device_subset.py`,
        DEBIAN_FASHION_MNIST_DIR,
        `${dir}/FashionMNIST/raw`,
        "2",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(written.code, 0, new TextDecoder().decode(written.stderr));
    const whole = await loadRunData({ ...REGIME_DATA, data_dir: "/nonexistent" });
    const copy = await loadRunData({ ...REGIME_DATA, data_dir: dir }, undefined, {
      skipChecksums: true,
    });
    assert.equal(copy.prepared.train.count, 12000, "every training sample of classes 0 and 1");
    for (const split of ["train", "validation", "test"] as const) {
      assert.equal(copy[split].count, whole[split].count, split);
      assert.deepEqual(copy[split].labels, whole[split].labels, `${split} labels`);
      assert.deepEqual(copy[split].originalLabels, whole[split].originalLabels, split);
      assert.deepEqual(copy[split].inputs, whole[split].inputs, `${split} inputs`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function report(backend: string, metrics: Record<string, number>, lr = 0.05): ShortRunReport {
  return {
    config: { backend, lr, epochs: 5 },
    backend: { name: backend, report: [] },
    history: [],
    metrics,
    seconds: { training: 1, measuring: 1 },
  };
}

Deno.test("compareRuns: accuracies in points, other metrics relative, settings must match", () => {
  const metrics = {
    train_acc: 0.9,
    test_acc: 0.95,
    nc1_train: 0.5,
    nc1_test: 0.2,
    dilation_train: 0.3,
    memorization_sum_train: 100,
    memorization_train: 1,
    clean_centroid_distance_train: 2,
    nc2_means_train: 0.01,
    nc3_train: 0.02,
  };
  const tolerance = { accuracyPp: 1, relative: 0.02 };
  const same = compareRuns([report("webgpu", metrics), report("openblas", metrics)], tolerance);
  assert.ok(same.every((row) => row.within && row.largestDifference === 0));
  const off = compareRuns([
    report("webgpu", metrics),
    report("openblas", { ...metrics, train_acc: 0.915, nc1_train: 0.509, dilation_train: 0.31 }),
  ], tolerance);
  const row = (name: string) => off.find((r) => r.metric === name)!;
  assert.ok(Math.abs(row("train_acc").largestDifference - 1.5) < 1e-9, "1.5 points");
  assert.equal(row("train_acc").within, false);
  assert.ok(Math.abs(row("nc1_train").largestDifference - 0.018) < 1e-9, "1.8 % relative");
  assert.equal(row("nc1_train").within, true);
  assert.equal(row("dilation_train").within, false, "3.3 % relative");
  assert.throws(
    () => compareRuns([report("webgpu", metrics), report("openblas", metrics, 0.1)], tolerance),
    /differ in lr/,
  );
});

Deno.test({
  name: "bench/device.sh rehearse: pack under 64 MiB, unpack, every GPU check on software Vulkan",
  // Packing fetches the npm packages into a fresh cache and compresses deno, and the paper MLP's
  // profile on software Vulkan takes minutes more: run with MEMDIL_REHEARSE_DEVICE=1.
  ignore: !Deno.env.get("MEMDIL_REHEARSE_DEVICE"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "memdil_device_rehearsal_" });
    try {
      const output = await new Deno.Command("bash", {
        args: [`${REPO_ROOT}/bench/device.sh`, "rehearse"],
        env: { MEMDIL_DEVICE_PACK: `${dir}/pack`, OUT: `${dir}/out` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, log.slice(-4000));
      const size = [...Deno.readDirSync(`${dir}/pack`)].reduce(
        (sum, entry) => sum + (entry.isFile ? Deno.statSync(`${dir}/pack/${entry.name}`).size : 0),
        0,
      );
      assert.ok(size < 64 * 2 ** 20, `pack is ${size} bytes`);
      const short: ShortRunReport = JSON.parse(
        await Deno.readTextFile(`${dir}/out/short_webgpu.json`),
      );
      assert.equal(short.backend.name, "webgpu");
      assert.equal(short.history.length, 1);
      for (const name of ["train_acc", "test_acc", "nc1_train", "dilation_train"]) {
        assert.ok(Number.isFinite(short.metrics[name]), `${name} = ${short.metrics[name]}`);
      }
      const profile = JSON.parse(await Deno.readTextFile(`${dir}/out/profile.json`));
      assert.equal(profile.backend, "webgpu");
      assert.ok(profile.paper_mlp.step_kernels > 0 && profile.dispatch_us > 0);
      const files = [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name);
      assert.ok(files.some((name) => /^bench-.*\.md$/.test(name)), files.join(", "));
      const text = await Deno.readTextFile(`${dir}/out/log.txt`);
      assert.match(text, /=== adapter: ok/);
      assert.doesNotMatch(text, /FAILED/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
