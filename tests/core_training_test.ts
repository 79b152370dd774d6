/**
 * End-to-end simple-model runs on the real Fashion-MNIST (classes 0 and 1) with the WASM
 * backend: a short training reaches high accuracy and writes every table, figure and marker;
 * the same seed reproduces the same training; `evaluateRun` reproduces the evaluation; a finished
 * run is reused with --force; label noise is applied at the expected rate and saved.
 *
 * Runs are tiny (width 32, depth 3, 2 epochs) and write only under temporary directories.
 */
import { deepEqual, equal, notEqual, ok, rejects } from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "../lib/config/flags.ts";
import { evaluateRun, runSimpleModel } from "../lib/experiment/run.ts";
import { readParquet } from "../lib/results/mod.ts";
import { RunExistsError, runUid, simpleModelUid } from "../lib/runs/mod.ts";

await initBackend("wasm");

const quiet = () => {};

async function tempDir(prefix: string): Promise<string> {
  return await Deno.makeTempDir({ prefix: `memdil_core_training_${prefix}_` });
}

function close(actual: number, expected: number, tolerance: number, what = ""): void {
  ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} +- ${tolerance}, got ${actual}`,
  );
}

function smallConfig(dataDir: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    dataset: "fashionmnist",
    data_dir: dataDir, // empty directory: the Debian copy is used
    classes: 2,
    width: 32,
    depth: 3,
    epochs: 2,
    batch_size: 128,
    lr: 0.01,
    label_noise: 0,
    backend: "wasm",
    seed: 6,
    ...overrides,
  };
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("runSimpleModel: a short real training, its files, reproducibility and re-evaluation", async (t) => {
  const dataDir = await tempDir("data");
  const baseA = await tempDir("a");
  const baseB = await tempDir("b");
  try {
    const config = smallConfig(dataDir);
    const result = await runSimpleModel(config, { basePath: baseA, log: quiet, progress: false });
    // uid from the flags: MLP, fashionmnist, c2, ln0.0, CrossEntropy, relu, d3, w32,
    // wd0.0005-0.0001 (defaults), wo_bn, s6.
    const uid = runUid(config, "simple");
    ok(
      uid.startsWith(
        "MLP_fashionmnist_c2_ln0.0_CrossEntropy_relu_d3_w32_wd0.0005-0.0001_wo_bn_s6_",
      ),
    );
    equal(result.uid, uid);
    equal(result.dir, `${baseA}/${uid}`);
    equal(result.reused, false);

    await t.step("test accuracy well above chance", () => {
      const row = result.metrics.toRecords()[0];
      ok(Number(row.test_acc) > 0.9, `test_acc ${row.test_acc}`);
      ok(Number(row.train_acc) > 0.9, `train_acc ${row.train_acc}`);
    });

    await t.step("run directory: tables, model, figures, marker", async () => {
      const dir = result.dir;
      for (
        const name of [
          "args.json",
          "training_set.parquet",
          "model.bin",
          "model.json",
          "history.parquet",
          "metrics.parquet",
          "features.parquet",
          "classifier.parquet",
          "class_metrics.parquet",
          "metrics.json",
          "run.json",
        ]
      ) {
        ok(Deno.statSync(`${dir}/${name}`).isFile, name);
      }
      for (const figure of ["features_train", "features_test", "training_curves"]) {
        const base = `${dir}/figures/${figure}`;
        equal(result.figures[figure], base);
        const png = await Deno.readFile(`${base}.png`);
        deepEqual(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        ok((await Deno.readTextFile(`${base}.svg`)).includes("<svg"), `${figure}.svg`);
        const spec = JSON.parse(await Deno.readTextFile(`${base}.vl.json`));
        ok(String(spec.$schema).includes("vega-lite"), `${figure}.vl.json`);
      }
      const marker = JSON.parse(await Deno.readTextFile(`${dir}/run.json`));
      equal(marker.uid, uid);
      equal(marker.backend, "wasm");
      equal(marker.epochs, 2);
      const args = JSON.parse(await Deno.readTextFile(`${dir}/args.json`));
      equal(args.uid, uid);
      equal(args.width, 32);
      equal(args.label_noise, 0);
    });

    await t.step("history: one row per epoch", () => {
      const history = readParquet(`${result.dir}/history.parquet`);
      equal(history.height, 2);
      for (const column of ["epoch", "lr", "train_loss", "train_acc", "val_acc", "test_acc"]) {
        ok(history.columns.includes(column), column);
      }
      deepEqual(history.getColumn("epoch").toArray(), [1, 2]);
      deepEqual(history.getColumn("lr").toArray(), [0.01, 0.01]);
      const losses = history.getColumn("train_loss").toArray() as number[];
      ok(losses[1] < losses[0], `loss falls: ${losses}`);
      // CE of two classes starts near log 2 = 0.693 and falls; it must stay finite and positive.
      ok(losses.every((l) => l > 0 && l < 0.7), `${losses}`);
    });

    await t.step("metrics: one row with the configuration columns", () => {
      const metrics = readParquet(`${result.dir}/metrics.parquet`);
      equal(metrics.height, 1);
      const row = metrics.toRecords()[0];
      const expected: Record<string, unknown> = {
        uid,
        dataset: "fashionmnist",
        classes: 2,
        label_noise: 0,
        loss: "CrossEntropy",
        ls_alpha: null,
        model: "MLP",
        width: 32,
        depth: 3,
        act_fn: "relu",
        use_bn: false,
        bias: true,
        epochs: 2,
        batch_size: 128,
        lr: 0.01,
        weight_decay: 5e-4,
        seed: 6,
        backend: "wasm",
        epoch: 2,
        noisy_count_train: 0,
        clean_count_train: 9600, // 12000 samples of classes 0/1 minus the 20% validation split
        clean_count_test: 2000,
      };
      for (const [key, value] of Object.entries(expected)) equal(row[key], value, key);
      for (const key of ["test_acc", "train_acc", "val_acc", "nc1_train", "dilation_train"]) {
        ok(Number.isFinite(Number(row[key])), key);
      }
      // The last history row and the evaluation measure the same model on the same test set.
      const history = result.history.toRecords();
      equal(row.test_acc, history[history.length - 1].test_acc);
      equal(row.val_acc, history[history.length - 1].val_acc);
    });

    await t.step("features: train and test rows, logits = W f + b, accuracy recomputed", () => {
      const features = readParquet(`${result.dir}/features.parquet`);
      deepEqual(features.columns, [
        "split",
        "index",
        "label",
        "original_label",
        "noisy",
        "f0",
        "f1",
        "logit0",
        "logit1",
      ]);
      equal(features.height, 9600 + 2000);
      const rows = features.toRecords() as Record<string, number | string | boolean>[];
      const train = rows.filter((r) => r.split === "train");
      const test = rows.filter((r) => r.split === "test");
      equal(train.length, 9600);
      equal(test.length, 2000);
      ok(rows.every((r) => r.noisy === false && r.label === r.original_label));
      ok(rows.every((r) => Number(r.f0) >= 0 && Number(r.f1) >= 0), "ReLU features");
      // Test accuracy from the saved logits (argmax against the true label).
      const correct = test.filter((r) =>
        (Number(r.logit1) > Number(r.logit0) ? 1 : 0) === r.original_label
      ).length;
      equal(correct / 2000, result.metrics.toRecords()[0].test_acc);
      // The classifier table (K x P rows) maps the features to the logits.
      const classifier = readParquet(`${result.dir}/classifier.parquet`).toRecords() as unknown as {
        class: number;
        weight: number[];
        bias: number;
      }[];
      equal(classifier.length, 2);
      for (const r of rows.slice(0, 200).concat(test.slice(0, 200))) {
        for (const c of classifier) {
          const z = c.weight[0] * Number(r.f0) + c.weight[1] * Number(r.f1) + c.bias;
          const logit = Number(r[`logit${c.class}`]);
          close(logit, z, 1e-4 * (1 + Math.abs(z)), `logit${c.class}`);
        }
      }
    });

    let trainLosses: number[] = [];
    await t.step(
      "the same seed reproduces the training exactly (other uid and base path)",
      async () => {
        const twin = await runSimpleModel({ ...config, uid: "twin" }, {
          basePath: baseB,
          log: quiet,
          progress: false,
        });
        equal(twin.dir, `${baseB}/twin`);
        trainLosses = result.history.getColumn("train_loss").toArray() as number[];
        deepEqual(twin.history.getColumn("train_loss").toArray(), trainLosses);
        deepEqual(
          twin.history.getColumn("train_acc").toArray(),
          result.history.getColumn("train_acc").toArray(),
        );
        equal(await sha256(`${twin.dir}/model.bin`), await sha256(`${result.dir}/model.bin`));
        deepEqual(
          readParquet(`${twin.dir}/features.parquet`).getColumn("f0").toArray(),
          readParquet(`${result.dir}/features.parquet`).getColumn("f0").toArray(),
        );
        // Another seed trains differently.
        const other = await runSimpleModel({ ...config, uid: "other", seed: 7, epochs: 1 }, {
          basePath: baseB,
          log: quiet,
          progress: false,
        });
        notEqual(other.history.getColumn("train_loss").toArray()[0], trainLosses[0]);
      },
    );

    await t.step("evaluateRun reproduces the evaluation from the saved model", async () => {
      const before = readParquet(`${result.dir}/features.parquet`);
      const evaluated = await evaluateRun(result.dir, { log: quiet });
      equal(evaluated.reused, true);
      const original = result.metrics.toRecords()[0];
      const again = evaluated.metrics.toRecords()[0];
      equal(again.test_acc, original.test_acc);
      equal(again.train_acc, original.train_acc);
      equal(again.nc1_train, original.nc1_train);
      deepEqual(
        readParquet(`${result.dir}/features.parquet`).getColumn("logit0").toArray(),
        before.getColumn("logit0").toArray(),
      );
      // The saved history is kept.
      deepEqual(evaluated.history.getColumn("train_loss").toArray(), trainLosses);
    });

    await t.step("an existing run: refused without --force, reused with it", async () => {
      await rejects(
        runSimpleModel(config, { basePath: baseA, log: quiet }),
        (error: Error) => error instanceof RunExistsError && error.message.includes("--force"),
      );
      const modelHash = await sha256(`${result.dir}/model.bin`);
      const lines: string[] = [];
      const reused = await runSimpleModel({ ...config, force: true }, {
        basePath: baseA,
        log: (line) => lines.push(line),
      });
      equal(reused.reused, true);
      ok(lines.some((l) => l.includes("reusing")), lines.join("\n"));
      equal(await sha256(`${result.dir}/model.bin`), modelHash);
      equal(reused.metrics.toRecords()[0].test_acc, result.metrics.toRecords()[0].test_acc);
    });
  } finally {
    for (const dir of [dataDir, baseA, baseB]) await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runSimpleModel with label noise 0.2: the saved training set is corrupted at eta/2", async () => {
  const dataDir = await tempDir("data");
  const base = await tempDir("noise");
  try {
    const config = smallConfig(dataDir, {
      label_noise: 0.2,
      loss: "LS",
      ls_alpha: 0.1,
      width: 16,
      depth: 2,
      epochs: 1,
      batch_size: 256,
    });
    const result = await runSimpleModel(config, { basePath: base, log: quiet, progress: false });
    equal(result.uid, runUid(config, "simple"));
    ok(result.uid.startsWith(simpleModelUid(config) + "_"), result.uid);
    ok(result.uid.includes("_ln0.2_LS0.1_"), result.uid);
    const set = readParquet(`${result.dir}/training_set.parquet`);
    deepEqual(set.columns, ["split", "index", "label", "original_label"]);
    equal(set.height, 12000);
    const records = set.toRecords() as {
      split: string;
      index: number;
      label: number;
      original_label: number;
    }[];
    equal(records.filter((r) => r.split === "validation").length, 2400);
    ok(records.every((r) => r.label === 0 || r.label === 1));
    // With K = 2 a corrupted label is redrawn uniformly, so it changes with probability
    // eta/2 = 0.1: 0.1 +- 4 sqrt(0.09 / 12000) = 0.1 +- 0.011.
    const flipped = records.filter((r) => r.label !== r.original_label);
    close(flipped.length / 12000, 0.1, 4 * Math.sqrt(0.09 / 12000), "flip rate");
    // The features table marks exactly the flipped training samples as noisy; test is clean.
    const features = readParquet(`${result.dir}/features.parquet`).toRecords() as {
      split: string;
      noisy: boolean;
      label: number;
      original_label: number;
      [column: string]: unknown;
    }[];
    const trainNoisy = records.filter((r) => r.split === "train" && r.label !== r.original_label);
    equal(features.filter((r) => r.split === "train" && r.noisy).length, trainNoisy.length);
    ok(features.filter((r) => r.split === "test").every((r) => !r.noisy));
    const row = result.metrics.toRecords()[0];
    equal(row.noisy_count_train, trainNoisy.length);
    equal(row.noisy_count_test, 0);
    equal(row.ls_alpha, 0.1);
    ok(Number.isFinite(Number(row.memorization_train)), "memorization measured");
    ok(Number(row.clean_centroid_distance_train) > 0, "clean centroid distance measured");
    // zero_features: the share of training rows of the saved features that are 0 in every unit.
    const trainFeatures = features.filter((r) => r.split === "train");
    const zeroRows = trainFeatures.filter((r) =>
      Object.keys(r).filter((k) => /^f\d+$/.test(k)).every((k) => r[k] === 0)
    );
    equal(row.zero_features_train, zeroRows.length / trainFeatures.length);
    // --train_metrics_on all: the same model measured on every saved training sample (the
    // validation part too, as the reference does); test metrics unchanged.
    const all = await runSimpleModel({ ...config, force: true, train_metrics_on: "all" }, {
      basePath: base,
      log: quiet,
      progress: false,
    });
    equal(all.reused, true);
    const allRow = all.metrics.toRecords()[0];
    equal(allRow.noisy_count_train, flipped.length);
    equal(Number(allRow.noisy_count_train) + Number(allRow.clean_count_train), 12000);
    equal(Number(row.noisy_count_train) + Number(row.clean_count_train), 9600);
    equal(allRow.test_acc, row.test_acc);
    notEqual(allRow.dilation_train, row.dilation_train);
  } finally {
    for (const dir of [dataDir, base]) await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runSimpleModel: history.parquet grows every epoch; the run ends with its final metrics", async () => {
  const dataDir = await tempDir("data");
  const base = await tempDir("history");
  try {
    const config = smallConfig(dataDir, {
      label_noise: 0.2,
      width: 16,
      depth: 2,
      epochs: 3,
      batch_size: 512,
      sample_size: 500,
    });
    const seen: number[] = [];
    const lines: string[] = [];
    const result = await runSimpleModel(config, {
      basePath: base,
      log: (line) => lines.push(line),
      progress: false,
      onEpoch: (record) => {
        // Written before the epoch is reported: every epoch so far, nothing else.
        const saved = readParquet(`${base}/${runUid(config, "simple")}/history.parquet`);
        deepEqual(saved.getColumn("epoch").toArray().map(Number), seen.concat(record.epoch));
        seen.push(record.epoch);
      },
    });
    deepEqual(seen, [1, 2, 3]);
    const row = result.metrics.toRecords()[0] as Record<string, number>;
    // Each epoch line ends with the time left, from the epochs so far; the last has none.
    const epochLines = lines.filter((line) => line.startsWith("epoch "));
    equal(epochLines.length, 3);
    ok(epochLines.slice(0, 2).every((line) => /s, ETA \d+(s|m \d\ds)$/.test(line)), epochLines[0]);
    ok(!epochLines[2].includes("ETA"), epochLines[2]);
    const final = lines.find((line) => line.startsWith("final: "));
    equal(
      final,
      `final: NC1 ${row.nc1_train.toFixed(4)}, dilation ${row.dilation_train.toFixed(3)}, ` +
        `memorization ${row.memorization_train.toFixed(3)}, train acc ` +
        `${row.train_acc.toFixed(4)}, test acc ${row.test_acc.toFixed(4)}`,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(base, { recursive: true });
  }
});
