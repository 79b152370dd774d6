/**
 * Large-scale training (`deno task train-large`) end to end on the WASM backend, with a small
 * MLP on 120 Fashion-MNIST samples: a run killed with SIGKILL and started again with the same
 * flags resumes from its last complete checkpoint and ends with bit-identical weights and
 * optimizer state to an uninterrupted run; a diverging run stops with a clear message keeping
 * its last good checkpoint; checkpoint format, --delete_model, the uid and flag combinations.
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { listCheckpoints, loadCheckpoint } from "../lib/checkpoint/mod.ts";
import { isFinishedRun } from "../lib/runs/mod.ts";
import {
  DEFAULT_CONFIG,
  parseTrainArgs,
  parseTrainLargeArgs,
  UsageError,
} from "../lib/config/flags.ts";
import { largeScaleUid, runUid } from "../lib/runs/mod.ts";

const FIXTURE = new URL("./fixtures/train_large_run.ts", import.meta.url).pathname;

async function trainLarge(base: string, killAt: number, flags: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, base, String(killAt), ...flags],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { ...output, out: text.decode(output.stdout), err: text.decode(output.stderr) };
}

function smallRun(dataDir: string, extra: string[] = []): string[] {
  return [
    "--model",
    "MLP",
    "--width",
    "16",
    "--depth",
    "2",
    "--use_bn",
    "--dataset",
    "fashionmnist",
    "--classes",
    "2",
    "--sample_size",
    "60",
    "--val_split_prop",
    "0",
    "--batch_size",
    "16",
    "--lr",
    "0.05",
    "--label_noise",
    "0.2",
    "--seed",
    "3",
    "--backend",
    "wasm",
    "--data_dir",
    dataDir,
    ...extra,
  ];
}

/** The run directory name train-large gives these flags. */
function uidOf(flags: string[]): string {
  return runUid(parseTrainLargeArgs(flags, DEFAULT_CONFIG), "large");
}

Deno.test("kill -9 and resume ends with the same weights as an uninterrupted run", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "memdil_large_" });
  try {
    const flags = smallRun(`${tmp}/data`, [
      "--epochs",
      "5",
      "--optimizer",
      "Adam",
      "--decay_type",
      "step_2_4",
      "--lr",
      "0.01",
    ]);
    const whole = await trainLarge(`${tmp}/whole`, 0, flags);
    equal(whole.code, 0, whole.err);
    // Killed while finishing epoch 3: epochs 1 and 2 are checkpointed, nothing else.
    const killed = await trainLarge(`${tmp}/killed`, 3, flags);
    equal(killed.signal, "SIGKILL", killed.err);
    const uid = uidOf(flags);
    ok(uid.startsWith("fashionmnist_s3_CrossEntropy_MLP_wd0.0005_lr0.01_ln0.2_"), uid);
    const killedDir = `${tmp}/killed/${uid}`;
    deepEqual(listCheckpoints(killedDir), [1, 2]);
    ok(!isFinishedRun(killedDir));
    // Issue 19 #8 / Low: a damaged last checkpoint is named and skipped for the last intact one
    // (here epoch 1), and the resumed run still ends where the uninterrupted one did.
    const damaged = `${killedDir}/epoch_002/model.bin`;
    const bytes = await Deno.readFile(damaged);
    bytes[7] ^= 0x40;
    await Deno.writeFile(damaged, bytes);
    const resumed = await trainLarge(`${tmp}/killed`, 0, flags);
    equal(resumed.code, 0, resumed.err);
    ok(resumed.out.includes("resuming") && resumed.out.includes('"resumedFrom":1'), resumed.out);
    ok(
      resumed.out.includes("checkpoint of epoch 2 skipped") && resumed.out.includes(damaged),
      resumed.out,
    );
    deepEqual(listCheckpoints(killedDir), [1, 2, 3, 4, 5]);
    for (const file of ["model.bin", "optimizer.bin"]) {
      const a = await Deno.readFile(`${tmp}/whole/${uid}/epoch_005/${file}`);
      const b = await Deno.readFile(`${killedDir}/epoch_005/${file}`);
      ok(a.length > 0 && a.length === b.length, file);
      ok(a.every((v, i) => v === b[i]), `${file} differs between the whole and the resumed run`);
    }
    // The checkpoint holds the model state, the Adam state and the history so far.
    const checkpoint = await loadCheckpoint<{ epoch: number; lr: number; train_loss: number }>(
      killedDir,
      5,
    );
    equal(checkpoint.epoch, 5);
    deepEqual(checkpoint.history.map((h) => h.epoch), [1, 2, 3, 4, 5]);
    // step_2_4: lr 0.01 for epochs 1-2, 0.001 for 3-4, 0.0001 for 5.
    deepEqual(checkpoint.history.map((h) => Number(h.lr.toPrecision(3))), [
      0.01,
      0.01,
      0.001,
      0.001,
      0.0001,
    ]);
    ok(checkpoint.model.has("bn0.running_mean") && checkpoint.model.has("classifier.weight"));
    ok(
      checkpoint.optimizerState.has("fc0.weight/exp_avg") &&
        checkpoint.optimizerState.has("fc0.weight/step"),
    );
    equal(checkpoint.optimizerState.get("fc0.weight/step")![0], 5 * Math.ceil(120 / 16));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a non-finite loss stops the run cleanly, keeping the last good checkpoint", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "memdil_large_" });
  try {
    // MSE with lr 10 blows up: finite losses in epochs 1 and 2, infinite in epoch 3 (wasm is
    // deterministic, so this is the same on every machine).
    const flags = [
      ...["--model", "MLP", "--width", "16", "--depth", "2", "--dataset", "fashionmnist"],
      ...["--classes", "2", "--sample_size", "60", "--val_split_prop", "0", "--batch_size", "16"],
      ...["--seed", "3", "--backend", "wasm", "--data_dir", `${tmp}/data`, "--epochs", "6"],
      ...["--loss", "MSE", "--lr", "10"],
    ];
    const run = await trainLarge(`${tmp}/runs`, 0, flags);
    equal(run.code, 1, run.out);
    ok(run.err.includes("training diverged at epoch 3"), run.err);
    ok(!run.err.includes("    at "), "no stack trace");
    const dir = `${tmp}/runs/${uidOf(flags)}`;
    deepEqual(listCheckpoints(dir), [1, 2]);
    ok(run.out.includes("the last good checkpoint is epoch 2"), run.out);
    const last = await loadCheckpoint<{ train_loss: number }>(dir, 2);
    ok(last.history.every((h) => Number.isFinite(h.train_loss)));
    ok(!isFinishedRun(dir));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--delete_model removes the checkpoints after evaluation; a finished run is refused", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "memdil_large_" });
  try {
    const flags = smallRun(`${tmp}/data`, ["--epochs", "2", "--delete_model", "--sep_decay"]);
    const run = await trainLarge(`${tmp}/runs`, 0, flags);
    equal(run.code, 0, run.err);
    const dir = `${tmp}/runs/${uidOf(flags)}`;
    deepEqual(listCheckpoints(dir), []);
    const metrics = JSON.parse(await Deno.readTextFile(`${dir}/metrics.json`));
    ok(
      Number.isFinite(metrics.test_acc) && Number.isFinite(metrics.nc1_train),
      JSON.stringify(metrics),
    );
    // The configuration columns come from the schema, as for simple runs.
    equal(metrics.model, "MLP");
    equal(metrics.label_noise, 0.2);
    equal(metrics.delete_model, undefined, "run-control settings are no columns");
    const again = await trainLarge(`${tmp}/runs`, 0, flags);
    equal(again.code, 2);
    ok(again.err.includes("finished run"), again.err);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("two train-large processes on the same run: the second is refused at once", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "memdil_large_" });
  try {
    const flags = smallRun(`${tmp}/data`, ["--epochs", "40"]);
    const first = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", FIXTURE, `${tmp}/runs`, "0", ...flags],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Wait until the first one trains (it holds the lock from before loading the data).
    const reader = first.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!/^epoch 1\//m.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    const second = await trainLarge(`${tmp}/runs`, 0, flags);
    first.kill("SIGKILL");
    await first.status;
    reader.releaseLock();
    equal(second.code, 2, second.err);
    ok(second.err.includes(`in use by process ${first.pid}`), second.err);
    // The killed first run resumes from its checkpoints once its lock is gone.
    const resumed = await trainLarge(`${tmp}/runs`, 0, smallRun(`${tmp}/data`, ["--epochs", "40"]));
    equal(resumed.code, 0, resumed.err);
    ok(resumed.out.includes("took over the lock"), resumed.out);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("train-large flags: defaults, uid and incompatible combinations", () => {
  const defaults = { ...DEFAULT_CONFIG, dataset: "cifar10" as const };
  const config = parseTrainLargeArgs(["--loss", "LR", "--lr_alpha", "0.2"], defaults);
  equal(config.model, "resnet18");
  equal(config.classes, 10, "every class of the dataset");
  equal(largeScaleUid(config), "cifar10_s6_LR0.2_resnet18_wd0.0005_lr0.1");
  const usage = (f: () => unknown, pattern: RegExp) =>
    throws(f, (e: unknown) => e instanceof UsageError && pattern.test((e as Error).message));
  usage(
    () => parseTrainLargeArgs(["--optimizer", "LBFGS"], defaults),
    /LBFGS is for simple models/,
  );
  usage(
    () => parseTrainLargeArgs(["--model", "MLP", "--fixdim", "1"], defaults),
    /--fixdim applies to ResNet/,
  );
  usage(() => parseTrainLargeArgs(["--model", "vgg11", "--SOTA"], defaults), /--SOTA/);
  usage(() => parseTrainArgs(["--model", "resnet18"], defaults), /train-large/);
  usage(() => parseTrainArgs(["--decay_type", "step_5_2"], defaults), /increase/);
  const simple = parseTrainArgs([
    "--optimizer",
    "LBFGS",
    "--history_size",
    "5",
    "--use_layer_norm",
    "--ETF_fc",
  ], defaults);
  equal(simple.optimizer, "LBFGS");
  equal(simple.history_size, 5);
  ok(simple.use_layer_norm && simple.ETF_fc);
});
