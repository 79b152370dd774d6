/**
 * Run bookkeeping: the reference's uid scheme and Python float formatting, the run-directory
 * rules (refuse / reuse / retrain), model files, atomic writes, result tables and config.ini.
 * Everything is written under temporary directories.
 */
import { deepEqual, equal, notEqual, ok, rejects, throws } from "node:assert/strict";
import {
  DEFAULT_CONFIG,
  parseTrainArgs,
  type TrainConfig,
  UsageError,
} from "../lib/config/flags.ts";
import { IniError, readIniConfig, REPO_ROOT, resolvePath } from "../lib/config/ini.ts";
import {
  pl,
  readJson,
  readParquet,
  rowsToFrame,
  writeJsonAtomic,
  writeParquetAtomic,
} from "../lib/results/mod.ts";
import {
  DamagedFileError,
  isRunDirectory,
  loadTensors,
  lockRun,
  markRunFinished,
  markRunUnfinished,
  NonFiniteError,
  openRun,
  pythonFloat,
  RUN_MARKER,
  RunExistsError,
  RunLockedError,
  runState,
  runUid,
  saveTensors,
  simpleModelUid,
  writeFileAtomic,
  writeRunMarker,
} from "../lib/runs/mod.ts";
import { SettingError, validateUid } from "../lib/config/schema.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "memdil_core_runs_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

// ---------------------------------------------------------------------------------------------
// uid

Deno.test("pythonFloat prints as Python's repr(float)", () => {
  // Expected strings are Python 3's repr() of the same floats.
  const cases: [number, string][] = [
    [0.2, "0.2"],
    [0.001, "0.001"],
    [0.0001, "0.0001"],
    [1e-5, "1e-05"],
    [5e-4, "0.0005"],
    [0, "0.0"],
    [1, "1.0"],
    [100, "100.0"],
    [2.5, "2.5"],
    [-0.5, "-0.5"],
    [1.5e-7, "1.5e-07"],
    [1e-16, "1e-16"],
    [1e15, "1000000000000000.0"],
    [1e16, "1e+16"],
    [12345678901234567, "1.2345678901234568e+16"],
    [0.1 + 0.2, "0.30000000000000004"],
    [123.456, "123.456"],
    [0.00012, "0.00012"],
    [1 / 3, "0.3333333333333333"],
  ];
  for (const [value, expected] of cases) equal(pythonFloat(value), expected, `${value}`);
});

Deno.test("simpleModelUid: the paper's main command", () => {
  // --loss LS --model MLP --dataset svhn --weight_decay 0.001 --depth 9 --width 2048
  // --label_noise 0.2 --seed 42 --classes 2 --use_bn --act_fn relu (ls_alpha and
  // feature_decay_rate at their defaults 0.1 and 1e-4). docs/reference.md#run-directories gives the uid.
  const uid = simpleModelUid({
    ...DEFAULT_CONFIG,
    model: "MLP",
    dataset: "svhn" as TrainConfig["dataset"], // not loadable in this build, but named
    loss: "LS",
    ls_alpha: 0.1,
    label_noise: 0.2,
    act_fn: "relu",
    depth: 9,
    width: 2048,
    weight_decay: 0.001,
    feature_decay_rate: 0.0001,
    use_bn: true,
    seed: 42,
    classes: 2,
  });
  equal(uid, "MLP_svhn_c2_ln0.2_LS0.1_relu_d9_w2048_wd0.001-0.0001_with_bn_s42");
});

Deno.test("simpleModelUid: CE, no BN, small weight decay, no noise", () => {
  const base = { ...DEFAULT_CONFIG, dataset: "fashionmnist" as const };
  equal(
    simpleModelUid({ ...base, loss: "CrossEntropy", use_bn: false, weight_decay: 1e-5 }),
    // defaults: classes 2, noise 0.0, relu, depth 6, width 1024, fd 1e-4, seed 6
    "MLP_fashionmnist_c2_ln0.0_CrossEntropy_relu_d6_w1024_wd1e-05-0.0001_wo_bn_s6",
  );
  equal(
    simpleModelUid({
      ...base,
      loss: "LS",
      ls_alpha: 0.25,
      classes: 5,
      label_noise: 0.35,
      act_fn: "sigmoid",
      depth: 3,
      width: 64,
      weight_decay: 5e-4,
      feature_decay_rate: 0,
      use_bn: true,
      seed: 0,
    }),
    "MLP_fashionmnist_c5_ln0.35_LS0.25_sigmoid_d3_w64_wd0.0005-0.0_with_bn_s0",
  );
  // The CE uid does not carry ls_alpha.
  equal(
    simpleModelUid({ ...base, ls_alpha: 0.3 }),
    simpleModelUid({ ...base, ls_alpha: 0.1 }),
  );
});

// ---------------------------------------------------------------------------------------------
// Run directories

/** A run directory as a run of `config` leaves it: args, and the files of `state`. */
async function fakeRun(
  dir: string,
  config: TrainConfig,
  state: "finished" | "trained" | "unfinished",
) {
  await Deno.mkdir(dir, { recursive: true });
  await writeRunMarker(dir, { uid: config.uid ?? "run", kind: "simple" });
  await Deno.writeTextFile(`${dir}/args.json`, JSON.stringify(config));
  if (state !== "unfinished") {
    await saveTensors(dir, [{ name: "w", shape: [1], values: new Float32Array([1]) }]);
  }
  if (state === "finished") await markRunFinished(dir, { uid: config.uid ?? "run" });
}

Deno.test("openRun: nothing created before training starts; states and what each refusal says", async () => {
  await withTempDir(async (base) => {
    const config = { ...DEFAULT_CONFIG, uid: "run_a" };
    const fresh = await openRun(base, config, "simple");
    equal(fresh.state, "absent");
    equal(fresh.dir, `${base}/run_a`);
    equal(runState(fresh.dir), "absent", "not created before create()");
    // A run that fails before its training started leaves nothing that blocks the rerun.
    await fresh.close(false);
    deepEqual(await listNames(base), []);

    await fakeRun(`${base}/run_a`, config, "finished");
    // A write killed midway left its temporary file: the next opening removes it.
    await Deno.writeTextFile(`${base}/run_a/metrics.json.tmp-123-abcd1234`, "{");
    await rejects(openRun(base, config, "simple"), (error: Error) => {
      ok(error instanceof RunExistsError);
      for (const part of [`${base}/run_a`, "--force", "--force_retrain", "deno task evaluate"]) {
        ok(error.message.includes(part), error.message);
      }
      return true;
    });
    ok(!(await listNames(`${base}/run_a`)).some((name) => name.includes(".tmp-")));
    await markRunUnfinished(`${base}/run_a`);
    equal(runState(`${base}/run_a`), "trained");
    await rejects(
      openRun(base, config, "simple"),
      /evaluation did not finish.*deno task evaluate --uid run_a/,
    );
    // --force reuses a trained model (killed during its evaluation): nothing is deleted.
    const reuse = await openRun(base, { ...config, force: true }, "simple");
    equal(reuse.reuse, true);
    await reuse.close(true);
    deepEqual(await listNames(`${base}/run_a`), [
      "args.json",
      "model.bin",
      "model.json",
      RUN_MARKER,
    ]);
  });
});

Deno.test("openRun: a run directory appears with its marker; a start killed midway leaves nothing in its place", async () => {
  await withTempDir(async (base) => {
    const config = { ...DEFAULT_CONFIG, uid: "run_b" };
    // What a kill -9 between the marker's temporary write and its rename left of an earlier start.
    const leftover = `${base}/.run_b.starting-4000000`;
    await Deno.mkdir(leftover);
    await Deno.writeTextFile(`${leftover}/${RUN_MARKER}.tmp-4000000-abcd1234`, "{");
    const opened = await openRun(base, config, "simple");
    equal(opened.state, "absent", "the leftover is not in the run's place");
    deepEqual(
      await listNames(base),
      [".run_b.lock"],
      "the leftover start is removed under the lock",
    );
    await opened.create();
    ok(isRunDirectory(`${base}/run_b`));
    deepEqual(await listNames(`${base}/run_b`), [RUN_MARKER]);
    deepEqual(await listNames(base), [".run_b.lock", "run_b"], "nothing but the lock beside it");
    await opened.close(false);
  });
});

Deno.test("openRun --force: reuse only when every result-affecting setting matches", async () => {
  await withTempDir(async (base) => {
    const config = { ...DEFAULT_CONFIG, uid: "run_b" };
    await fakeRun(`${base}/run_b`, config, "finished");
    // Run-control settings may differ.
    const same = await openRun(base, { ...config, force: true, backend: "cpu" }, "simple");
    equal(same.reuse, true);
    await same.close(true);
    await rejects(
      openRun(base, { ...config, force: true, bias: false, epochs: 3 }, "simple"),
      (error: Error) =>
        error instanceof RunExistsError &&
        error.message.includes("--bias false (the run used true)") &&
        error.message.includes("--epochs 3 (the run used 200)"),
    );
    deepEqual(await listNames(`${base}/run_b`), [
      "args.json",
      "model.bin",
      "model.json",
      RUN_MARKER,
    ]);
  });
});

Deno.test("openRun --force_retrain: trains aside, the old run is replaced only on success", async () => {
  await withTempDir(async (base) => {
    const config = { ...DEFAULT_CONFIG, uid: "run_c" };
    await fakeRun(`${base}/run_c`, config, "finished");
    const failed = await openRun(base, { ...config, force: true, force_retrain: true }, "simple");
    notEqual(failed.dir, failed.target);
    await failed.create();
    await Deno.writeTextFile(`${failed.dir}/partial.txt`, "x");
    await failed.close(false);
    deepEqual(await listNames(base), ["run_c"], "the old run stays, the staging is gone");
    equal(runState(`${base}/run_c`), "finished");

    const retrain = await openRun(base, { ...config, force_retrain: true, epochs: 3 }, "simple");
    await retrain.create();
    await Deno.writeTextFile(`${retrain.dir}/new.txt`, "new");
    equal(runState(`${base}/run_c`), "finished", "the old run is kept while the new one trains");
    await retrain.commit();
    await retrain.close(true);
    deepEqual(await listNames(base), ["run_c"]);
    deepEqual(await listNames(`${base}/run_c`), ["new.txt", RUN_MARKER]);
  });
});

Deno.test("--uid: only one path segment; '', '.', '..', 'a/b' are refused and nothing is deleted", async () => {
  await withTempDir(async (base) => {
    await Deno.writeTextFile(`${base}/keep.txt`, "precious");
    // A 250-character uid failed with "File name too long" (issue 19, Low).
    for (const uid of ["", ".", "..", "a/b", "../x", ".hidden", "a\\b", "x".repeat(250)]) {
      throws(() => validateUid(uid), SettingError, JSON.stringify(uid));
      throws(() => parseTrainArgs(["--uid", uid, "--force", "--force_retrain"]), UsageError);
      await rejects(
        openRun(base, { ...DEFAULT_CONFIG, uid, force: true, force_retrain: true }, "simple"),
        SettingError,
      );
    }
    deepEqual(await listNames(base), ["keep.txt"]);
    equal(validateUid("run_1.5"), "run_1.5");
    equal(validateUid("x".repeat(200)), "x".repeat(200));
    throws(() => validateUid("é".repeat(101)), /at most 200 bytes/);
  });
});

Deno.test("run identity: the readable uid plus a digest of every other result-affecting setting", () => {
  const uid = runUid(DEFAULT_CONFIG, "simple");
  ok(uid.startsWith(simpleModelUid(DEFAULT_CONFIG) + "_"), uid);
  ok(/_[0-9a-f]{8}$/.test(uid), uid);
  const others: Partial<TrainConfig>[] = [
    { epochs: 3 },
    { lr: 0.05 },
    { batch_size: 64 },
    { optimizer: "Adam" },
    { bias: false },
    { use_layer_norm: true },
    { ETF_fc: true },
    { classifier_init: "etf" as const },
    { val_split_prop: 0.1 },
    { eval_forward_pass: true },
    { skip_checksums: true },
  ];
  const uids = others.map((change) => runUid({ ...DEFAULT_CONFIG, ...change }, "simple"));
  equal(new Set([uid, ...uids]).size, others.length + 1, uids.join("\n"));
  // Run-control settings and settings that do not apply leave the identity alone.
  for (const change of [{ backend: "cpu" as const }, { force: true }, { ls_alpha: 0.3 }]) {
    equal(runUid({ ...DEFAULT_CONFIG, ...change }, "simple"), uid);
  }
  // Large-scale runs: the same rule over their own readable uid.
  const large = { ...DEFAULT_CONFIG, model: "resnet18" as const, dataset: "cifar10" as const };
  ok(runUid(large, "large").startsWith("cifar10_s6_CrossEntropy_resnet18_wd0.0005_lr0.1_"));
  notEqual(runUid({ ...large, epochs: 3 }, "large"), runUid(large, "large"));
  equal(runUid({ ...DEFAULT_CONFIG, uid: "mine" }, "simple"), "mine");
});

Deno.test("run identity: a four-class two-feature etf run of the old quadrant order is not reused", () => {
  const twoFeatures = {
    ...DEFAULT_CONFIG,
    fourclass_problem: true,
    fourclass_twofeatures: true,
    fc_noise_degree: 0.5,
    classifier_init: "etf" as const,
  };
  // The name such a run had when its rows started in the natural order 0, 1, 2, 3 (before
  // 2026-12-05): today's start is another, so today's name must differ.
  notEqual(
    runUid(twoFeatures, "simple"),
    "MLP_fashionmnist_c2_ln0.0_CrossEntropy_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6_4c0.5_4c2d_2bad0ad0",
  );
  // The other starts keep their names: 4 features, and the default start with 2 features.
  equal(
    runUid({ ...twoFeatures, fourclass_twofeatures: false }, "simple"),
    "MLP_fashionmnist_c2_ln0.0_CrossEntropy_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6_4c0.5_2bad0ad0",
  );
  equal(
    runUid({ ...twoFeatures, classifier_init: "default" as const }, "simple"),
    "MLP_fashionmnist_c2_ln0.0_CrossEntropy_relu_d6_w1024_wd0.0005-0.0001_wo_bn_s6_4c0.5_4c2d_4f53cda1",
  );
});

Deno.test("run lock: a second process is refused at once; the lock of a killed process is taken over", async () => {
  await withTempDir(async (base) => {
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { lockRun } from "${new URL("../lib/runs/lock.ts", import.meta.url).href}";
         lockRun(${JSON.stringify(base)}, "run_d"); console.log("locked");
         await new Promise(() => setInterval(() => {}, 1000));`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = holder.stdout.getReader();
    equal(new TextDecoder().decode((await reader.read()).value).trim(), "locked");
    const started = performance.now();
    throws(
      () => lockRun(base, "run_d"),
      (error: Error) =>
        error instanceof RunLockedError && error.message.includes(`process ${holder.pid}`),
    );
    ok(performance.now() - started < 1000, "refused at once");
    await rejects(openRun(base, { ...DEFAULT_CONFIG, uid: "run_d" }, "simple"), RunLockedError);
    holder.kill("SIGKILL");
    await holder.status;
    reader.releaseLock();
    await holder.stdout.cancel();
    const lock = lockRun(base, "run_d");
    equal(lock.takenOverFrom, holder.pid);
    lock.release();
    deepEqual(await listNames(base), []);
  });
});

Deno.test("saveTensors refuses NaN and infinite values: a diverged model is never saved", async () => {
  await withTempDir(async (dir) => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      await rejects(
        saveTensors(dir, [{ name: "fc1.weight", shape: [2], values: new Float32Array([1, bad]) }]),
        (error: Error) => error instanceof NonFiniteError && error.message.includes("fc1.weight"),
      );
    }
    deepEqual(await listNames(dir), []);
  });
});

Deno.test("saveTensors / loadTensors round-trip float32 values exactly", async () => {
  await withTempDir(async (dir) => {
    const a = new Float32Array([1.5, -2.25, 3.4028234663852886e38, 1e-45, 0]);
    const b = Float32Array.from({ length: 6 }, (_, i) => Math.fround(Math.PI * i));
    await saveTensors(dir, [
      { name: "fc0.weight", shape: [5], values: a },
      { name: "fc0.bias", shape: [2, 3], values: b },
    ]);
    const loaded = await loadTensors(dir);
    deepEqual([...loaded.keys()], ["fc0.weight", "fc0.bias"]);
    deepEqual(loaded.get("fc0.weight"), a);
    deepEqual(loaded.get("fc0.bias"), b);
    // model.bin is 11 float32 = 44 bytes; model.json names the tensors, shapes and offsets.
    equal(Deno.statSync(`${dir}/model.bin`).size, 44);
    const index = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    deepEqual(index.tensors[1], { name: "fc0.bias", shape: [2, 3], offset: 5, length: 6 });
    deepEqual((await listNames(dir)).sort(), ["model.bin", "model.json"]);
  });
});

Deno.test("loadTensors: a truncated, edited or non-finite model file is named and never used", async () => {
  // Issue 19 #8: a model.bin of the right size full of NaN was evaluated silently; a truncated
  // one failed with "saved model lacks 'fc0.weight'", naming no file.
  await withTempDir(async (dir) => {
    const values = new Float32Array([1, 2, 3, 4]);
    const save = () => saveTensors(dir, [{ name: "fc0.weight", shape: [4], values }]);
    const damaged = (pattern: RegExp) =>
      rejects(loadTensors(dir), (error: Error) => {
        ok(error instanceof DamagedFileError, String(error));
        ok(pattern.test(error.message), error.message);
        return true;
      });
    await save();
    const bin = `${dir}/model.bin`;
    await Deno.writeFile(bin, (await Deno.readFile(bin)).subarray(0, 8));
    await damaged(/model\.bin is damaged \(8 bytes where its index names 16\)/);
    await save();
    await Deno.writeFile(bin, new Uint8Array(new Float32Array([NaN, NaN, NaN, NaN]).buffer));
    await damaged(/model\.bin is damaged \(its checksum does not match .*model\.json\)/);
    // Same values, edited header (the shape): the checksum covers the index too.
    await save();
    const index = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    index.tensors[0].shape = [2, 2];
    await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(index));
    await damaged(/checksum/);
    // A file without a checksum (saved before it existed) is still checked for finiteness.
    delete index.sha256;
    index.tensors[0].shape = [4];
    await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify(index));
    await Deno.writeFile(bin, new Uint8Array(new Float32Array([1, NaN, 3, 4]).buffer));
    await damaged(/fc0\.weight holds NaN/);
    await Deno.writeTextFile(`${dir}/model.json`, "{ truncated");
    await damaged(/model\.json is damaged \(not valid JSON/);
  });
});

Deno.test("writeFileAtomic creates directories, replaces content, leaves no temporary files", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/deep/er/file.txt`;
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, new TextEncoder().encode("second"));
    equal(await Deno.readTextFile(path), "second");
    deepEqual(await listNames(`${dir}/deep/er`), ["file.txt"]);
    // A failing write (target is a directory) leaves nothing behind.
    await Deno.mkdir(`${dir}/isdir`);
    await rejects(writeFileAtomic(`${dir}/isdir`, "x"));
    deepEqual(await listNames(dir), ["deep", "isdir"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Result tables

Deno.test("results: rows to Parquet and back; JSON with NaN as null", async () => {
  await withTempDir(async (dir) => {
    const frame = rowsToFrame([
      { epoch: 1, loss: 0.5, note: "a", seed: 42, label_noise: 0 },
      { epoch: 2, loss: 0.25, memorization: NaN, seed: 42, label_noise: 0 }, // 'note' missing: null
    ]);
    deepEqual(frame.columns, ["epoch", "loss", "note", "seed", "label_noise", "memorization"]);
    // Counting columns are integers; a whole-valued rate stays a float; NaN is null.
    equal(String(frame.getColumn("seed").dtype), "DataType(Int64)");
    equal(String(frame.getColumn("epoch").dtype), "DataType(Int64)");
    equal(String(frame.getColumn("label_noise").dtype), "DataType(Float64)");
    deepEqual(frame.getColumn("memorization").toArray(), [null, null]);
    const path = `${dir}/sub/table.parquet`;
    await writeParquetAtomic(frame.drop(["seed", "label_noise", "memorization"]), path);
    deepEqual(await listNames(`${dir}/sub`), ["table.parquet"]);
    const back = readParquet(path);
    deepEqual(back.toRecords(), [
      { epoch: 1, loss: 0.5, note: "a" },
      { epoch: 2, loss: 0.25, note: null },
    ]);
    equal(pl.readParquet(path).height, 2);
    throws(() => readParquet(`${dir}/missing.parquet`), /missing\.parquet not found/);

    await writeJsonAtomic(`${dir}/summary.json`, { a: NaN, b: Infinity, c: 1.5, d: [-Infinity] });
    deepEqual(readJson(`${dir}/summary.json`), { a: null, b: null, c: 1.5, d: [null] });
  });
});

// ---------------------------------------------------------------------------------------------
// config.ini

const INI = (paths: string, extra = "") =>
  `[PATHS]
${paths}
[LOGGING]
LOG_LEVEL = DEBUG

[RESOURCES]
GPUS_PER_NODE = 1
CPUS_PER_NODE = 4
MAXIMUM_CONCURRENT_JOBS = 2
HEAP_MEMORY_IN_GB = 8
${extra}`;

Deno.test("config.ini: relative paths resolve to the repository root, ~ to HOME", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/config.ini`;
    await Deno.writeTextFile(
      path,
      INI(
        `BASE_PATH = ${dir}/runs
FOURCLASS_EXP_PATH = results/fc
HO_EXP_PATH = ~/ho
HO_EXP_LN_PATH = ~
TMP_PATH = tmp/x`,
        "[COMPUTE]\nBACKEND = wasm\n[DATA]\nDATA_DIR = /srv/data\n",
      ),
    );
    const config = readIniConfig(path);
    const home = Deno.env.get("HOME") ?? "/root";
    equal(config.paths.basePath, `${dir}/runs`);
    equal(config.paths.fourclassExpPath, `${REPO_ROOT}/results/fc`);
    equal(config.paths.hoExpPath, `${home}/ho`);
    equal(config.paths.hoExpLnPath, home);
    equal(config.paths.tmpPath, `${REPO_ROOT}/tmp/x`);
    equal(config.logLevel, "DEBUG");
    deepEqual(config.resources, {
      gpusPerNode: 1,
      cpusPerNode: 4,
      maximumConcurrentJobs: 2,
      heapMemoryInGb: 8,
    });
    equal(config.backend, "wasm");
    equal(config.dataDir, "/srv/data");
    ok(Deno.statSync(`${REPO_ROOT}/deno.json`).isFile, "REPO_ROOT is the repository");
    equal(resolvePath("a/b", "/root/x"), "/root/x/a/b");
    equal(resolvePath("/abs", "/root/x"), "/abs");
  });
});

Deno.test("config.ini: missing key, bad log level, bad backend and missing file are clear errors", async () => {
  await withTempDir(async (dir) => {
    const paths = `BASE_PATH = a
FOURCLASS_EXP_PATH = b
HO_EXP_PATH = c
HO_EXP_LN_PATH = d
TMP_PATH = e`;
    const path = `${dir}/config.ini`;
    await Deno.writeTextFile(path, INI(paths.replace("TMP_PATH = e", "")));
    throws(() => readIniConfig(path), /TMP_PATH.*\[PATHS\]/);
    await Deno.writeTextFile(path, INI(paths).replace("DEBUG", "LOUD"));
    throws(() => readIniConfig(path), /LOG_LEVEL.*LOUD/);
    await Deno.writeTextFile(path, INI(paths, "[COMPUTE]\nBACKEND = quantum\n"));
    throws(() => readIniConfig(path), /quantum.*auto, tensorflow, webgpu, openblas, wasm, cpu/);
    await Deno.writeTextFile(
      path,
      INI(paths).replace("HEAP_MEMORY_IN_GB = 8", "HEAP_MEMORY_IN_GB = -1"),
    );
    throws(() => readIniConfig(path), /HEAP_MEMORY_IN_GB/);
    throws(() => readIniConfig(`${dir}/nope.ini`), /nope\.ini.*MEMDIL_CONFIG/);
    // Issue 19 (Low): unknown sections and keys were ignored (a second [PATHS] silently
    // redirected runs), an empty DATA_DIR became the repository root, 0 concurrent jobs loaded.
    const refused = async (text: string, pattern: RegExp) => {
      await Deno.writeTextFile(path, text);
      throws(() => readIniConfig(path), (error: Error) => {
        ok(error instanceof IniError && pattern.test(error.message), error.message);
        ok(error.message.includes(path), error.message);
        return true;
      });
    };
    await refused(
      INI(paths, "[PATHS]\nBASE_PATH = /elsewhere\n"),
      /line 15: section \[PATHS\] is given twice/,
    );
    await refused(INI(paths, "[PATH]\nBASE_PATH = x\n"), /unknown section \[PATH\]/);
    await refused(INI(paths, "[DATA]\nDATADIR = x\n"), /unknown key DATADIR in \[DATA\]/);
    await refused(INI(paths + "\nBASE_PATH = again"), /BASE_PATH is given twice/);
    await refused(INI(paths, "[DATA]\nDATA_DIR =\n"), /DATA_DIR is empty/);
    await refused(
      INI(paths).replace("MAXIMUM_CONCURRENT_JOBS = 2", "MAXIMUM_CONCURRENT_JOBS = 0"),
      /MAXIMUM_CONCURRENT_JOBS must be an integer >= 1/,
    );
    // Defaults of the optional sections.
    await Deno.writeTextFile(path, INI(paths));
    equal(readIniConfig(path).backend, "auto");
    const home = Deno.env.get("HOME") ?? "/root";
    ok(["~/data", `${home}/data`].includes(readIniConfig(path).dataDir));
  });
});

Deno.test("config.ini: the repository's own config parses", () => {
  const config = readIniConfig(`${REPO_ROOT}/config/config.ini`);
  ok(config.paths.basePath.startsWith("/"), config.paths.basePath);
  ok(["auto", "tensorflow", "webgpu", "openblas", "wasm", "cpu"].includes(config.backend));
});

Deno.test("config.ini: a relative DATA_DIR resolves to the repository root like every other path", async () => {
  // IniConfig promises "paths resolved to absolute ones" and config.ini says "Relative paths are
  // relative to the repository root"; DATA_DIR is a path too, so a relative one must not depend
  // on the working directory (notebooks run from notebooks/, the CLI from anywhere).
  await withTempDir(async (dir) => {
    const path = `${dir}/config.ini`;
    await Deno.writeTextFile(
      path,
      INI(
        `BASE_PATH = a
FOURCLASS_EXP_PATH = b
HO_EXP_PATH = c
HO_EXP_LN_PATH = d
TMP_PATH = e`,
        "[DATA]\nDATA_DIR = data/fmnist\n",
      ),
    );
    equal(readIniConfig(path).dataDir, `${REPO_ROOT}/data/fmnist`);
  });
});

Deno.test("openRun: a directory without the run marker is never staged over or deleted, whatever the flags", async () => {
  await withTempDir(async (base) => {
    // Issue 19 #1: `--force` on a directory that is not a run deleted the user's file.
    await Deno.mkdir(`${base}/mysweep`);
    await Deno.writeTextFile(`${base}/mysweep/summary.parquet`, "x");
    equal(runState(`${base}/mysweep`), "foreign");
    for (const flags of [{}, { force: true }, { force_retrain: true }]) {
      for (const kind of ["simple", "large"] as const) {
        await rejects(
          openRun(base, { ...DEFAULT_CONFIG, uid: "mysweep", ...flags }, kind),
          (error: Error) =>
            error instanceof RunExistsError && error.message.includes("not a memdil run") &&
            error.message.includes(RUN_MARKER),
        );
      }
    }
    equal(await Deno.readTextFile(`${base}/mysweep/summary.parquet`), "x");
    deepEqual(await listNames(base), ["mysweep"]);
    // Staging-like names that are not memdil's staging directories are left alone too.
    await Deno.mkdir(`${base}/.other.staging-1`);
    await Deno.writeTextFile(`${base}/.other.staging-1/keep.txt`, "keep");
    const run = await openRun(base, { ...DEFAULT_CONFIG, uid: "other" }, "simple");
    await run.create();
    ok(Deno.statSync(`${run.dir}/${RUN_MARKER}`).isFile, "the marker is written first");
    equal(runState(run.dir), "unfinished");
    await run.close(true);
    equal(await Deno.readTextFile(`${base}/.other.staging-1/keep.txt`), "keep");
  });
});
