/**
 * Data options with the reference's semantics (docs/reference.md#data): per-class label noise and class
 * balancing, the four-class problem, sample_size, the saved training set reloaded (validation
 * indices included), the flags and uids that name them, and runs that refuse other data flags.
 */
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  DEFAULT_CONFIG,
  parseTrainArgs,
  type TrainConfig,
  UsageError,
} from "../lib/config/flags.ts";
import {
  balanceClasses,
  DATASETS,
  drawTrainingSet,
  firstPerLabel,
  loadRunData,
  type PreparedDataset,
  Random,
  runDataFrom,
} from "../lib/data/mod.ts";
import { evaluateRun, runSimpleModel } from "../lib/experiment/run.ts";
import { readParquet } from "../lib/results/mod.ts";
import { RunExistsError, settingDifferences, simpleModelUid } from "../lib/runs/mod.ts";
import { gzipBytes, idxBytes, withTempDir } from "./fixtures/data/formats.ts";
import { MNIST_FILES } from "../lib/data/mnist.ts";

const base = { val_split_prop: 0, seed: 6 };

Deno.test("balanceClasses keeps the first m samples of each noisy label, m the smallest count", () => {
  // Noisy labels 0,1,0,2,1,0,2,2,2: counts 3, 2, 4 -> m = 2: positions 0,2 (label 0), 1,4 (label
  // 1), 3,6 (label 2).
  deepEqual(Array.from(balanceClasses(Int32Array.from([0, 1, 0, 2, 1, 0, 2, 2, 2]), 3)), [
    0,
    1,
    2,
    3,
    4,
    6,
  ]);
  deepEqual(Array.from(firstPerLabel(Int32Array.from([1, 1, 0, 1, 0, 0]), 2)), [0, 1, 2, 4]);
});

Deno.test("per-class label noise: each sample uses the rate of its label, then the classes are balanced", () => {
  // Source labels 0,1,0,1,... (200 samples); rates: class 0 never corrupted, class 1 always
  // redrawn uniformly from {0, 1}.
  const source = Uint8Array.from({ length: 200 }, (_, i) => i % 2);
  const record = drawTrainingSet(source, { ...base, classes: 2, label_noise: [0, 1] });
  // Replay the rule with the same generator: two draws per sample (u < rate, then the label).
  const rng = new Random(6);
  const noisy = Array.from(source, (y) => {
    const corrupt = rng.uniform() < [0, 1][y];
    const drawn = rng.integer(2);
    return corrupt ? drawn : y;
  });
  const counts = [0, 1].map((k) => noisy.filter((y) => y === k).length);
  const m = Math.min(...counts);
  const kept = noisy.flatMap((
    y,
    i,
  ) => (noisy.slice(0, i).filter((z) => z === y).length < m ? [i] : []));
  deepEqual(Array.from(record.sourceIndex), kept);
  deepEqual(Array.from(record.labels), kept.map((i) => noisy[i]));
  deepEqual(Array.from(record.originalLabels), kept.map((i) => source[i]));
  // Balanced: m samples of each noisy label; class 0's samples are never flipped.
  equal(record.labels.filter((y) => y === 0).length, m);
  equal(record.labels.filter((y) => y === 1).length, m);
  ok(Array.from(record.labels).every((y, i) => record.originalLabels[i] === 1 || y === 0));
  equal(record.classes, 2);
});

Deno.test("four-class problem: latent labels at rate fc_noise_degree, 4 training classes, test keeps 2", () => {
  const n = 20000;
  const source = Uint8Array.from({ length: n }, (_, i) => [0, 1, 5][i % 3]); // label 5 is dropped
  const options = {
    classes: 2,
    label_noise: 0.2,
    val_split_prop: 0.1,
    seed: 3,
    fourclass_problem: true,
    fc_noise_degree: 0.3,
  };
  const record = drawTrainingSet(source, options);
  const kept = record.labels.length; // the labels 0 and 1: 2/3 of n
  equal(kept, 13334); // i % 3 in {0, 1} for 6667 + 6667 of i = 0..19999
  equal(record.classes, 4);
  // Latent share: binomial(kept, 0.3), within 4 standard deviations.
  const latent = record.labels.filter((y) => y > 1).length / kept;
  ok(Math.abs(latent - 0.3) <= 4 * Math.sqrt((0.3 * 0.7) / kept), `latent share ${latent}`);
  // Noise before the move: (label mod 2) differs from the original at eta (K-1)/K = 0.1.
  const flipped = record.labels.filter((y, i) => y % 2 !== record.originalLabels[i]).length / kept;
  ok(Math.abs(flipped - 0.1) <= 4 * Math.sqrt((0.1 * 0.9) / kept), `flip rate ${flipped}`);
  // The latent class of label c is c + 2: labels 2 and 3 both occur.
  ok(record.labels.includes(2) && record.labels.includes(3));
  // The test set keeps 2 classes with true labels, and noise means label > 1.
  const prepared = fakePrepared(source, Uint8Array.from([0, 1, 5, 1, 0]));
  const data = runDataFrom(prepared, record, options);
  deepEqual(Array.from(data.test.labels), [0, 1, 1, 0]);
  equal(data.classes, 4);
  ok(data.isNoisy(2, 0) && data.isNoisy(3, 1) && !data.isNoisy(1, 0));
  equal(data.train.count + data.validation.count, kept);
  equal(data.validation.count, Math.floor(0.1 * kept));
});

function fakePrepared(train: Uint8Array, test: Uint8Array): PreparedDataset {
  const split = (labels: Uint8Array) => ({
    pixels: Uint8Array.from({ length: labels.length * 1024 }, (_, p) => p % 251),
    labels,
    count: labels.length,
    channels: 1 as const,
  });
  return {
    info: DATASETS.mnist,
    train: split(train),
    test: split(test),
    source: "fake",
    files: [],
    fromCache: false,
  };
}

Deno.test("sample_size keeps the first n samples of each (noisy) label, before the validation split", () => {
  const source = Uint8Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : 1));
  const record = drawTrainingSet(source, {
    classes: 2,
    label_noise: 0,
    val_split_prop: 0.5,
    seed: 1,
    sample_size: 10,
  });
  deepEqual(Array.from(record.sourceIndex), [
    ...Array(10).keys(),
    ...Array.from({ length: 10 }, (_, i) => 70 + i),
  ]);
  equal(record.split.filter((s) => s === "validation").length, 10);
  // Per-class noise on 3 classes where class 2 has no sample: m = 0, nothing left: an error.
  throws(
    () =>
      drawTrainingSet(source, { classes: 3, label_noise: [0, 0, 0], val_split_prop: 0, seed: 1 }),
    /the training set is empty/,
  );
});

Deno.test("inputs stay bytes until used: the lazy float inputs equal gathering by rows", async () => {
  const { gatherInputs } = await import("../lib/data/mod.ts");
  const prepared = fakePrepared(Uint8Array.from([0, 1, 0, 1]), Uint8Array.from([1]));
  const record = drawTrainingSet(prepared.train.labels, {
    classes: 2,
    label_noise: 0,
    val_split_prop: 0,
    seed: 2,
  });
  const data = runDataFrom(prepared, record, { classes: 2 });
  equal(data.train.pixels!.length, 4 * 1024);
  const rows = gatherInputs(data.train, [3, 1]);
  deepEqual(rows.subarray(0, 3072), data.train.inputs.subarray(3 * 3072, 4 * 3072));
  deepEqual(rows.subarray(3072), data.train.inputs.subarray(3072, 2 * 3072));
  // Grayscale replicated to 3 channels, normalized with MNIST's constants: pixel p of sample 0 is
  // p % 251 (sample 0 starts the fake pixel ramp), so channel 2, pixel 5 is (5/255 - 0.1307)/0.3081.
  ok(Math.abs(data.train.inputs[2 * 1024 + 5] - (5 / 255 - 0.1307) / 0.3081) < 1e-6);
});

Deno.test("flags: datasets, per-class --label_noise, four-class flags, sample_size, and their errors", () => {
  const defaults = { ...DEFAULT_CONFIG };
  for (const dataset of ["mnist", "fashionmnist", "cifar10", "cifar100", "svhn"]) {
    equal(parseTrainArgs(["--dataset", dataset], defaults).dataset, dataset);
  }
  equal(defaults.dataset, "fashionmnist");
  deepEqual(parseTrainArgs(["--label_noise", "0.1,0.3"], defaults).label_noise, [0.1, 0.3]);
  equal(parseTrainArgs(["--label_noise", "0.25"], defaults).label_noise, 0.25);
  const fc = parseTrainArgs([
    "--fourclass_problem",
    "--fc_noise_degree",
    "0.3",
    "--fourclass_twofeatures",
    "--sample_size",
    "50",
  ], defaults);
  equal(fc.fourclass_problem, true);
  equal(fc.fc_noise_degree, 0.3);
  equal(fc.fourclass_twofeatures, true);
  equal(fc.sample_size, 50);
  const usage = (args: string[], pattern: RegExp) =>
    throws(
      () => parseTrainArgs(args, defaults),
      (e: Error) => e instanceof UsageError && pattern.test(e.message),
    );
  usage(["--label_noise", "0.1,0.3,0.2"], /3 rates but --classes is 2/);
  usage(["--label_noise", "0.1,x"], /expected a number/);
  usage(["--fourclass_problem", "--classes", "3"], /needs --classes 2/);
  usage(["--fourclass_twofeatures"], /needs --fourclass_problem/);
  usage(["--fourclass_problem", "--label_noise", "0.1,0.2"], /single --label_noise/);
  usage(["--sample_size", "0"], /integer >= 1/);
});

Deno.test("uid: per-class noise ln0.1-0.3, four-class _4c{degree} and _4c2d, sample size _n", () => {
  const config: TrainConfig = { ...DEFAULT_CONFIG, dataset: "svhn" };
  equal(
    simpleModelUid(config),
    "MLP_svhn_c2_ln0.0_CrossEntropy_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6",
  );
  equal(
    simpleModelUid({ ...config, label_noise: [0.1, 0.3] }),
    "MLP_svhn_c2_ln0.1-0.3_CrossEntropy_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6",
  );
  equal(
    simpleModelUid({ ...config, fourclass_problem: true, fc_noise_degree: 0.5 }),
    "MLP_svhn_c2_ln0.0_CrossEntropy_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6_4c0.5",
  );
  equal(
    simpleModelUid({
      ...config,
      fourclass_problem: true,
      fc_noise_degree: 0.3,
      fourclass_twofeatures: true,
    }),
    "MLP_svhn_c2_ln0.0_CrossEntropy_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6_4c0.3_4c2d",
  );
  equal(simpleModelUid({ ...config, sample_size: 100 }).endsWith("_s6_n100"), true);
  // Four-class: the subsample is drawn before the move, and the uid says so by its order.
  equal(
    simpleModelUid({ ...config, sample_size: 100, fourclass_problem: true, fc_noise_degree: 0.3 })
      .endsWith("_s6_n100_4c0.3"),
    true,
  );
});

Deno.test("settingDifferences: every result-affecting difference is named, run-control ones not", () => {
  const saved = { ...DEFAULT_CONFIG, label_noise: 0.2, val_split_prop: 0.1 };
  deepEqual(settingDifferences(saved, { ...saved }, "simple"), []);
  deepEqual(
    settingDifferences(
      saved,
      { ...saved, backend: "cpu", data_dir: "/elsewhere", force: true },
      "simple",
    ),
    [],
  );
  const differences = settingDifferences(
    saved,
    { ...saved, val_split_prop: 0.2, label_noise: [0.2, 0.2], bias: false, epochs: 3 },
    "simple",
  ).join("; ");
  ok(/--val_split_prop 0.2 \(the run used 0.1\)/.test(differences), differences);
  ok(/--label_noise \[0.2,0.2\] \(the run used 0.2\)/.test(differences), differences);
  ok(/--bias false \(the run used true\)/.test(differences), differences);
  ok(/--epochs 3 \(the run used 200\)/.test(differences), differences);
  // Runs saved before a setting existed compare against its default.
  const { sample_size: _dropped, ...old } = saved;
  deepEqual(settingDifferences(old, { ...saved, sample_size: 10 }, "simple"), [
    "--sample_size 10 (the run used null)",
  ]);
  // A setting that does not apply is not compared (ls_alpha with CrossEntropy).
  deepEqual(settingDifferences(saved, { ...saved, ls_alpha: 0.3 }, "simple"), []);
});

/** A small MNIST copy (real IDX layout) whose images are class-dependent, for runs. */
async function writeSeparableMnist(dir: string): Promise<void> {
  const raw = `${dir}/MNIST/raw`;
  await Deno.mkdir(raw, { recursive: true });
  const labels = (n: number) => Array.from({ length: n }, (_, i) => i % 3);
  const images = (ls: number[]) =>
    ls.flatMap((y, i) => Array.from({ length: 784 }, (_, p) => (p % 3 === y ? 200 : (i + p) % 30)));
  const train = labels(90);
  const test = labels(30);
  const files = [
    idxBytes([90, 28, 28], images(train)),
    idxBytes([90], train),
    idxBytes([30, 28, 28], images(test)),
    idxBytes([30], test),
  ];
  for (const [i, file] of MNIST_FILES.entries()) {
    await Deno.writeFile(`${raw}/${file.name}`, await gzipBytes(files[i]));
  }
}

Deno.test("loadRunData: the saved record reloads the same samples and validation indices; another dataset copy is refused", async () => {
  await withTempDir(async (dir) => {
    await writeSeparableMnist(dir);
    const load = { systemDirs: [], download: false, verify: false, cacheDir: `${dir}/cache` };
    const options = {
      dataset: "mnist",
      data_dir: dir,
      classes: 2,
      label_noise: 0.3,
      val_split_prop: 0.25,
      seed: 4,
    };
    const data = await loadRunData(options, undefined, load);
    equal(data.train.count + data.validation.count, 60); // labels 0 and 1 of 90
    equal(data.validation.count, 15);
    // Reload from the record with other flags: the record wins, validation indices included.
    const again = await loadRunData(
      { ...options, label_noise: 0, val_split_prop: 0.5, seed: 9 },
      data.record,
      load,
    );
    deepEqual(again.validation.sourceIndex, data.validation.sourceIndex);
    deepEqual(again.train.labels, data.train.labels);
    deepEqual(again.train.pixels, data.train.pixels);
    // A record from another copy of the dataset: labels disagree.
    const wrong = { ...data.record, originalLabels: data.record.originalLabels.map((y) => 1 - y) };
    await rejects(loadRunData(options, wrong, load), /different copy or version of the dataset/);
  });
});

Deno.test("runs: a four-class run (2 features) on Fashion-MNIST trains, reloads, and refuses other data flags", async () => {
  await withTempDir(async (dir) => {
    Deno.env.set("MEMDIL_CACHE_DIR", `${dir}/cache`);
    const config: TrainConfig = {
      ...DEFAULT_CONFIG,
      data_dir: `${dir}/data`, // empty: Debian's copy of Fashion-MNIST is used
      backend: "wasm",
      width: 8,
      depth: 2,
      epochs: 1,
      batch_size: 16,
      sample_size: 20,
      val_split_prop: 0.25,
      label_noise: 0.2,
      fourclass_problem: true,
      fc_noise_degree: 0.5,
      fourclass_twofeatures: true,
    };
    const runs = `${dir}/runs`;
    const result = await runSimpleModel(config, { basePath: runs, log: () => {} });
    ok(/_s6_n20_4c0\.5_4c2d_[0-9a-f]{8}$/.test(result.dir), result.dir);
    const info = JSON.parse(await Deno.readTextFile(`${result.dir}/training_set.json`));
    deepEqual(info.selected_labels, [0, 1]);
    equal(info.classes, 4);
    // sample_size 20 of each of the two labels, before the move to the latent classes.
    equal(info.train + info.validation, 40);
    equal(info.validation, 10);
    const evaluation = result.evaluation;
    equal(evaluation.train.predictions.featureDim, 2);
    equal(evaluation.train.predictions.classes, 4);
    ok(Array.from(evaluation.test.data.labels).every((y) => y === 0 || y === 1));
    // Noisy = latent class: the memorization measure counts the samples labelled 2 or 3.
    const latent = Array.from(evaluation.train.data.labels).filter((y) => y > 1).length;
    equal(evaluation.train.memorizationDilation.numNoisy, latent);
    // features.parquet flags the same samples as noisy (the data carries the rule).
    const features = readParquet(`${result.dir}/features.parquet`).toRecords() as {
      split: string;
      noisy: boolean;
      label: number;
    }[];
    const flagged = features.filter((r) => r.split === "train" && r.noisy);
    equal(flagged.length, latent);
    ok(flagged.every((r) => r.label > 1));
    // Evaluation or a rerun with other data settings is refused.
    await rejects(
      evaluateRun(result.dir, { given: { fc_noise_degree: 0.4 }, log: () => {} }),
      (e: Error) =>
        e instanceof RunExistsError && /--fc_noise_degree 0.4 \(the run used 0.5\)/.test(e.message),
    );
    // Another validation split is another run; reusing this run's model under its uid: refused.
    await rejects(
      runSimpleModel({ ...config, force: true, val_split_prop: 0.5, uid: result.uid }, {
        basePath: runs,
        log: () => {},
      }),
      (e: Error) =>
        e instanceof RunExistsError && /--val_split_prop 0.5 \(the run used 0.25\)/.test(e.message),
    );
    // Evaluation with the run's own settings works and sees the very same samples.
    const again = await evaluateRun(result.dir, {
      given: { fc_noise_degree: 0.5, sample_size: 20 },
      log: () => {},
    });
    deepEqual(again.evaluation.train.data.sourceIndex, evaluation.train.data.sourceIndex);
  }).finally(() => Deno.env.delete("MEMDIL_CACHE_DIR"));
});

Deno.test("sample grid: half flipped samples, captions name both labels, pixels as colours", async () => {
  const { sampleGridSpec, samplesOf } = await import("../lib/figures/mod.ts");
  const prepared = fakePrepared(Uint8Array.from([0, 1, 0, 1, 0, 1]), Uint8Array.from([1]));
  const record = drawTrainingSet(prepared.train.labels, {
    classes: 2,
    label_noise: 0,
    val_split_prop: 0,
    seed: 2,
  });
  record.labels[1] = 0; // flip sample 1 (source label 1) by hand
  const data = runDataFrom(prepared, record, { classes: 2 });
  const samples = samplesOf(data.train, 4);
  // Up to half flipped (only one is), then the first clean ones, in dataset order.
  deepEqual(samples.map((s) => s.index), [0, 1, 2, 3]);
  deepEqual(samples.map((s) => s.noisy), [false, true, false, false]);
  const spec = sampleGridSpec({ samples, title: "t", classNames: ["zero", "one"] }) as unknown as {
    data: { values: { caption: string[]; color: string; x: number; y: number }[] };
  };
  const rows = spec.data.values;
  equal(rows.length, 4 * 1024);
  deepEqual(rows[1024].caption, ["#1", "zero", "was one"]);
  deepEqual(rows[0].caption, ["#0", "zero", ""]);
  // Sample 1, pixel 5 (x 5, y 0): grey value p % 251 with p = 1024 + 5 -> 1029 % 251 = 25 = 0x19.
  equal(rows[1024 + 5].color, "#191919");
});
