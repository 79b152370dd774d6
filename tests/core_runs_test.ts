/**
 * Run bookkeeping: the reference's uid scheme and Python float formatting, the run-directory
 * rules (refuse / reuse / retrain), model files, atomic writes, result tables and config.ini.
 * Everything is written under temporary directories.
 */
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { DEFAULT_CONFIG, type TrainConfig } from "../lib/config/flags.ts";
import { readIniConfig, REPO_ROOT, resolvePath } from "../lib/config/ini.ts";
import {
  pl,
  readParquet,
  rowsToFrame,
  writeJsonAtomic,
  writeParquetAtomic,
} from "../lib/results/mod.ts";
import {
  COMPLETE_MARKER,
  isFinished,
  loadTensors,
  planRunDirectory,
  pythonFloat,
  RunExistsError,
  saveTensors,
  simpleModelUid,
  writeFileAtomic,
} from "../lib/runs/mod.ts";

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

Deno.test("planRunDirectory: new, refused without --force, reused when finished, retrained", async () => {
  await withTempDir(async (base) => {
    const plain = { force: false, forceRetrain: false };
    const fresh = await planRunDirectory(base, "run_a", plain);
    deepEqual(fresh, { dir: `${base}/run_a`, reuseModel: false });
    ok(Deno.statSync(fresh.dir).isDirectory);

    // Existing directory without --force: an error naming the directory and --force.
    await rejects(planRunDirectory(base, "run_a", plain), (error: Error) => {
      ok(error instanceof RunExistsError);
      ok(error.message.includes(`${base}/run_a`), error.message);
      ok(error.message.includes("--force"), error.message);
      return true;
    });

    // --force on an unfinished run: its contents are removed and it trains again.
    await Deno.writeTextFile(`${fresh.dir}/partial.txt`, "x");
    const again = await planRunDirectory(base, "run_a", { force: true, forceRetrain: false });
    equal(again.reuseModel, false);
    deepEqual(await listNames(again.dir), []);

    // --force on a finished run: reused, contents kept.
    await Deno.writeTextFile(`${fresh.dir}/${COMPLETE_MARKER}`, "{}");
    await Deno.writeTextFile(`${fresh.dir}/model.bin`, "weights");
    ok(isFinished(fresh.dir));
    const reuse = await planRunDirectory(base, "run_a", { force: true, forceRetrain: false });
    equal(reuse.reuseModel, true);
    deepEqual(await listNames(reuse.dir), ["model.bin", COMPLETE_MARKER]);

    // --force --force_retrain: wiped and trained again.
    const retrain = await planRunDirectory(base, "run_a", { force: true, forceRetrain: true });
    equal(retrain.reuseModel, false);
    deepEqual(await listNames(retrain.dir), []);
    ok(!isFinished(retrain.dir));
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
    deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/summary.json`)), {
      a: null,
      b: null,
      c: 1.5,
      d: [null],
    });
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
