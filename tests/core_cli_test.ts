/**
 * The command line: `parseTrainArgs` (flags, defaults, usage errors, flags not implemented yet)
 * and `cli/train.ts` / `cli/evaluate.ts` end to end as subprocesses, with a temporary config.ini
 * (MEMDIL_CONFIG) whose BASE_PATH is a temporary directory.
 */
import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_CONFIG,
  parseRunArgs,
  parseTrainArgs,
  UsageError,
  validateConfig,
} from "../lib/config/flags.ts";
import type { CommandName } from "../lib/config/schema.ts";
import { BACKEND_NAMES } from "../lib/backend/mod.ts";
import { readIniConfig, REPO_ROOT } from "../lib/config/ini.ts";
import { TASK_SCRIPTS, type TaskName, taskPermissions } from "../lib/config/permissions.ts";
import { isFinishedRun, runUid, simpleModelUid } from "../lib/runs/mod.ts";

// ---------------------------------------------------------------------------------------------
// parseTrainArgs

const parse = (argv: string[]) => parseTrainArgs(argv, DEFAULT_CONFIG);

function usageError(argv: string[], ...patterns: RegExp[]): void {
  throws(() => parse(argv), (error: Error) => {
    ok(error instanceof UsageError, `${argv.join(" ")}: ${error.name}: ${error.message}`);
    for (const pattern of patterns) ok(pattern.test(error.message), `${pattern}: ${error.message}`);
    return true;
  });
}

Deno.test("parseTrainArgs: no flags gives the defaults", () => {
  const config = parse([]);
  deepEqual(config, { ...DEFAULT_CONFIG, uid: null });
  // The reference's defaults (docs/reference.md#flags-and-configuration).
  equal(config.width, 1024);
  equal(config.depth, 6);
  equal(config.seed, 6);
  equal(config.lr, 0.1);
  equal(config.weight_decay, 5e-4);
  equal(config.loss, "CrossEntropy");
  equal(config.val_split_prop, 0.2);
  equal(config.bias, true);
  equal(config.use_bn, false);
});

Deno.test("parseTrainArgs: the paper's main command (dataset aside) and its uid", () => {
  const config = parse([
    "--loss",
    "LS",
    "--model",
    "MLP",
    "--batch_size",
    "16",
    "--weight_decay",
    "0.001",
    "--depth",
    "9",
    "--width",
    "2048",
    "--label_noise",
    "0.2",
    "--seed",
    "42",
    "--classes",
    "2",
    "--epochs",
    "200",
    "--use_bn",
    "--act_fn",
    "relu",
  ]);
  equal(config.loss, "LS");
  equal(config.batch_size, 16);
  equal(config.weight_decay, 0.001);
  equal(config.depth, 9);
  equal(config.width, 2048);
  equal(config.label_noise, 0.2);
  equal(config.seed, 42);
  equal(config.epochs, 200);
  equal(config.use_bn, true);
  equal(config.ls_alpha, 0.1);
  equal(
    simpleModelUid(config),
    "MLP_fashionmnist_c2_ln0.2_LS0.1_relu_d9_w2048_wd0.001-0.0001_with_bn_s42",
  );
});

Deno.test("parseTrainArgs: switches and value mapping", () => {
  equal(parse(["--no-bias"]).bias, false);
  equal(parse(["--force"]).force, true);
  equal(parse(["--force_retrain"]).force_retrain, true);
  equal(parse(["--uid", "my_run"]).uid, "my_run");
  // The reference treats any activation other than relu / sigmoid as none.
  equal(parse(["--act_fn", "sigmoid"]).act_fn, "sigmoid");
  equal(parse(["--act_fn", "tanh"]).act_fn, "none");
  equal(parse(["--backend", "wasm"]).backend, "wasm");
  equal(parse(["--val_split_prop", "0"]).val_split_prop, 0);
  equal(parse(["--ls_alpha", "0.25", "--loss", "LS"]).ls_alpha, 0.25);
  equal(parse(["--weight_decay", "1e-5"]).weight_decay, 1e-5);
  // The evaluate command parses the same flags.
  equal(parseTrainArgs(["--width", "8"], DEFAULT_CONFIG, "evaluate").width, 8);
});

Deno.test("parseTrainArgs: unknown flags and bad values are usage errors", () => {
  usageError(["--bogus"], /--bogus/);
  usageError(["--loss", "Foo"], /Foo/, /CrossEntropy \| LS/);
  usageError(["--dataset", "imagenet"], /imagenet/, /fashionmnist/);
  usageError(["--label_noise", "1.5"], /label_noise/);
  usageError(["--label_noise", "abc"], /abc/);
  usageError(["--width", "0"], /width/);
  usageError(["--depth", "1"], /depth/);
  usageError(["--epochs", "2.5"], /epochs/);
  usageError(["--lr", "0"], /lr/);
  usageError(["--backend", "quantum"], /quantum/);
  usageError(["--decay_type", "cosine"], /cosine/);
  usageError(["stray"], /stray|argument/);
  // --classes is bounded by the dataset's classes.
  usageError(["--classes", "11"], /fashionmnist has 10 classes/);
  // Issue 19 #7: seeds alias modulo 2^32 (4294967302 trained the model of 6), and 1e20 passed.
  usageError(["--seed", "4294967302"], /seed.*4294967295/);
  usageError(["--seed", "1e20"], /seed/);
  usageError(["--seed", "-1"], /seed/);
  // Issue 19 (Low): `--data_dir <a file>` exited 0 and used another copy of the dataset.
  usageError(["--data_dir", `${REPO_ROOT}/deno.json`], /deno\.json.* is not a directory/);
  equal(parseTrainArgs(["--seed", "4294967295"]).seed, 4294967295);
  usageError(["--dataset", "cifar100", "--classes", "101"], /cifar100 has 100 classes/);
  equal(parseTrainArgs(["--classes", "10"]).classes, 10);
  // Each command takes exactly its own settings.
  usageError(["--fixdim", "3"], /--fixdim|unknown option/);
  usageError(["--delete_model"], /--delete_model|unknown option/);
});

Deno.test("validateConfig: sweeps' typed values get the command line's checks; --help lists a command's own flags", () => {
  const config = validateConfig({ label_noise: [0.1, 0.3], bias: false, epochs: 2 }, "train");
  deepEqual(config.label_noise, [0.1, 0.3]);
  equal(config.bias, false);
  throws(() => validateConfig({ epochs: "many" }, "train"), /--epochs: expected an integer/);
  throws(() => validateConfig({ classes: 11 }, "train"), /10 classes/);
  throws(
    () => validateConfig({ fixdim: 3 }, "train"),
    /not a setting of train \(it is for train-large/,
  );
  throws(() => validateConfig({ widht: 3 }, "train"), /unknown setting 'widht'/);
  // A whole configuration passed back (a search's trial) carries every setting at its default.
  equal(validateConfig({ ...DEFAULT_CONFIG, epochs: 2 }, "train").epochs, 2);
  equal(validateConfig({ dataset: "cifar10" }, "train-large").classes, 10);
  const help = (command: CommandName) => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (text: string) => lines.push(text);
    try {
      parseRunArgs(["--help"], command);
    } catch {
      // commander's help exit
    } finally {
      console.log = log;
    }
    return lines.join("\n");
  };
  const train = help("train");
  ok(train.startsWith("Usage: train"), train);
  ok(!train.includes("--fixdim") && !train.includes("--delete_model"), train);
  const evaluateLarge = help("evaluate-large");
  ok(evaluateLarge.startsWith("Usage: evaluate-large"), evaluateLarge);
  ok(!evaluateLarge.includes("--force_retrain") && !evaluateLarge.includes("--eval_every"));
  ok(help("train-large").includes("--fixdim"));
});

Deno.test("parseTrainArgs: the hyperparameter-optimization flags point to deno task search", () => {
  usageError(["--ho", "random_search"], /--ho/, /deno task search/);
  usageError(["--num_ho_runs", "3"], /--num_ho_runs/, /deno task search/);
  usageError(["--model", "resnet18"], /train-large/);
});

// ---------------------------------------------------------------------------------------------
// The CLI as a subprocess

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function deno(script: string, args: string[], env: Record<string, string>): Promise<Outcome> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** A temporary config.ini: runs under `<dir>/runs`, data dir `<dir>/data` (empty), wasm. */
async function tempConfig(dir: string): Promise<string> {
  const path = `${dir}/config.ini`;
  await Deno.writeTextFile(
    path,
    `[PATHS]
BASE_PATH = ${dir}/runs
FOURCLASS_EXP_PATH = ${dir}/fourclass
HO_EXP_PATH = ${dir}/ho
HO_EXP_LN_PATH = ${dir}/ho_ln
TMP_PATH = ${dir}/tmp

[LOGGING]
LOG_LEVEL = INFO

[RESOURCES]
GPUS_PER_NODE = 1
CPUS_PER_NODE = 2
MAXIMUM_CONCURRENT_JOBS = 1
HEAP_MEMORY_IN_GB = 8

[DATA]
DATA_DIR = ${dir}/data

[COMPUTE]
BACKEND = wasm
`,
  );
  return path;
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("cli/train.ts: usage errors exit 2 naming the problem; --help exits 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil_core_cli_" });
  try {
    const env = { MEMDIL_CONFIG: await tempConfig(dir) };
    const bogus = await deno("cli/train.ts", ["--bogus"], env);
    equal(bogus.code, 2, bogus.stderr);
    ok(bogus.stderr.includes("--bogus"), bogus.stderr);
    const loss = await deno("cli/train.ts", ["--loss", "Foo"], env);
    equal(loss.code, 2, loss.stderr);
    ok(loss.stderr.includes("Foo") && loss.stderr.includes("CrossEntropy"), loss.stderr);
    // Hyperparameter optimization is `deno task search`'s.
    const ho = await deno("cli/train.ts", ["--ho", "random_search"], env);
    equal(ho.code, 2, ho.stderr);
    ok(/deno task search/.test(ho.stderr), ho.stderr);
    const help = await deno("cli/train.ts", ["--help"], env);
    equal(help.code, 0, help.stderr);
    ok(help.stdout.includes("--label_noise"), help.stdout);
    // Nothing was created.
    ok(!exists(`${dir}/runs`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli/train.ts: an invalid MEMDIL_BACKEND is refused with the valid names", async () => {
  // config.ini's BACKEND is validated (parseBackendName); the variable that overrides it must be
  // too, instead of failing later inside tfjs with "Backend name 'bogus' not found in registry".
  const dir = await Deno.makeTempDir({ prefix: "memdil_core_cli_" });
  try {
    const env = { MEMDIL_CONFIG: await tempConfig(dir), MEMDIL_BACKEND: "bogus" };
    const result = await deno(
      "cli/train.ts",
      ["--width", "4", "--depth", "2", "--epochs", "1"],
      env,
    );
    notEqual(result.code, 0);
    ok(result.stderr.includes("MEMDIL_BACKEND"), result.stderr);
    ok(result.stderr.includes(BACKEND_NAMES.join(", ")), result.stderr);
    ok(!exists(`${dir}/runs`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli/train.ts end to end: train, refuse the existing run, reuse it with --force; evaluate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil_core_cli_" });
  try {
    const env = { MEMDIL_CONFIG: await tempConfig(dir) };
    const flags = [
      "--width",
      "8",
      "--depth",
      "2",
      "--epochs",
      "1",
      "--batch_size",
      "256",
      "--lr",
      "0.01",
      "--backend",
      "wasm",
    ];
    // uid from the flags and defaults: c2, ln0.0, CrossEntropy, relu, d2, w8, wd0.0005-0.0001,
    // wo_bn, seed 6, and the digest of the others (epochs, batch size, lr).
    const uid = runUid(parseTrainArgs(flags, DEFAULT_CONFIG), "simple");
    ok(
      uid.startsWith("MLP_fashionmnist_c2_ln0.0_CrossEntropy_relu_d2_w8_wd0.0005-0.0001_wo_bn_s6_"),
    );
    const runDir = `${dir}/runs/${uid}`;

    const first = await deno("cli/train.ts", flags, env);
    equal(first.code, 0, first.stderr);
    ok(exists(`${runDir}/run.json`), `${first.stdout}\n${first.stderr}`);
    ok(first.stdout.includes(runDir), first.stdout);
    const metrics = JSON.parse(await Deno.readTextFile(`${runDir}/metrics.json`));
    equal(metrics.backend, "wasm");
    ok(metrics.test_acc > 0.8, `test_acc ${metrics.test_acc}`);
    const modelHash = await sha256(`${runDir}/model.bin`);

    const second = await deno("cli/train.ts", flags, env);
    equal(second.code, 2, second.stderr);
    ok(second.stderr.includes("--force"), second.stderr);
    ok(second.stderr.includes(runDir), second.stderr);

    const forced = await deno("cli/train.ts", [...flags, "--force"], env);
    equal(forced.code, 0, forced.stderr);
    ok(forced.stdout.includes("reusing"), forced.stdout);
    equal(await sha256(`${runDir}/model.bin`), modelHash, "the model was reused, not retrained");

    // Reusing the model under other result-affecting settings is refused, naming them.
    const otherBias = await deno(
      "cli/train.ts",
      [...flags, "--uid", uid, "--no-bias", "--force"],
      env,
    );
    equal(otherBias.code, 2, otherBias.stderr);
    ok(otherBias.stderr.includes("--bias false (the run used true)"), otherBias.stderr);
    equal(await sha256(`${runDir}/model.bin`), modelHash);

    // `--backend=cpu` (the = form) is honoured by evaluate.
    const evaluated = await deno("cli/evaluate.ts", [...flags, "--backend=cpu"], env);
    equal(evaluated.code, 0, evaluated.stderr);
    ok(evaluated.stdout.includes(`evaluated ${runDir}`), evaluated.stdout);
    const again = JSON.parse(await Deno.readTextFile(`${runDir}/metrics.json`));
    equal(again.backend, "cpu");
    ok(Math.abs(again.test_acc - metrics.test_acc) < 1e-3, `${again.test_acc} ${metrics.test_acc}`);

    // --uid that is not one path segment: refused before anything is touched.
    for (const bad of ["", "..", ".", "a/b"]) {
      const refused = await deno("cli/train.ts", ["--uid", bad, "--force", "--force_retrain"], env);
      equal(refused.code, 2, refused.stderr);
      ok(refused.stderr.includes("--uid"), refused.stderr);
    }
    ok(exists(`${runDir}/run.json`), "the run directory survived");
    ok(exists(`${dir}/config.ini`), "the base path's parent survived");

    // A diverged run exits non-zero naming the epoch and saves no model.
    const diverged = await deno("cli/train.ts", [...flags, "--lr", "1e30"], env);
    equal(diverged.code, 1, diverged.stderr);
    ok(/diverged at epoch 1\b/.test(diverged.stderr), diverged.stderr);
    deepEqual(
      [...Deno.readDirSync(`${dir}/runs`)].map((e) => e.name).filter((n) => !n.startsWith(".")),
      [uid],
    );

    const missing = await deno("cli/evaluate.ts", ["--uid", "no_such_run"], env);
    equal(missing.code, 1, missing.stderr);
    ok(missing.stderr.includes("no_such_run") && missing.stderr.includes("not a run directory"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno.json: no task but the test suite has unscoped network, writes, subprocesses or FFI", () => {
  const tasks = JSON.parse(Deno.readTextFileSync(`${REPO_ROOT}/deno.json`)).tasks as Record<
    string,
    string
  >;
  for (const [name, command] of Object.entries(tasks)) {
    const flags = command.split(" ").filter((arg) => arg.startsWith("-"));
    ok(!flags.includes("-A") && !flags.includes("--allow-all"), `${name}: ${command}`);
    ok(!flags.includes("--allow-net"), `${name} reaches every host`);
    if (name === "test") continue; // the suite spawns deno, Python, Jupyter and Chromium in temp dirs
    for (const scoped of ["--allow-write", "--allow-run", "--allow-ffi"]) {
      ok(!flags.includes(scoped), `${name}: ${scoped} without a list`);
    }
  }
});

Deno.test("deno task train: a BASE_PATH outside results/ works with the task's own permissions; --force never deletes a non-run", async () => {
  // Issue 19: a BASE_PATH outside results/ was refused until deno.json was edited; `--force`
  // deleted a directory that was not a run.
  const dir = await Deno.makeTempDir({ prefix: "memdil_core_cli_task_" });
  try {
    const env = { NO_COLOR: "1", MEMDIL_CONFIG: await tempConfig(dir) };
    const task = async (args: string[]) => {
      const { code, stdout, stderr } = await new Deno.Command("deno", {
        args: ["task", "train", ...args],
        cwd: REPO_ROOT,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code,
        stdout: new TextDecoder().decode(stdout),
        err: new TextDecoder().decode(stderr),
      };
    };
    const flags = ["--width", "8", "--depth", "2", "--epochs", "1", "--sample_size", "60"];
    const trained = await task([...flags, "--uid", "outside"]);
    equal(trained.code, 0, trained.err);
    ok(isFinishedRun(`${dir}/runs/outside`), trained.stdout);

    // Issue 19 (Low): evaluate copied hand-edited args.json values into the metrics, and a
    // damaged args.json failed with "Unexpected end of JSON input", naming no file.
    const argsPath = `${dir}/runs/outside/args.json`;
    const args = JSON.parse(await Deno.readTextFile(argsPath));
    const metricsBefore = await Deno.readFile(`${dir}/runs/outside/metrics.parquet`);
    const evaluate = async () => {
      const { code, stderr } = await new Deno.Command("deno", {
        args: ["task", "evaluate", "--uid", "outside"],
        cwd: REPO_ROOT,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code, err: new TextDecoder().decode(stderr) };
    };
    await Deno.writeTextFile(argsPath, JSON.stringify({ ...args, label_noise: 1.5 }));
    const edited = await evaluate();
    equal(edited.code, 1, edited.err);
    ok(edited.err.includes(argsPath) && edited.err.includes("label_noise"), edited.err);
    await Deno.writeTextFile(argsPath, JSON.stringify(args).slice(0, 20));
    const truncated = await evaluate();
    equal(truncated.code, 1, truncated.err);
    ok(truncated.err.includes(`${argsPath} is not valid JSON`), truncated.err);
    deepEqual(await Deno.readFile(`${dir}/runs/outside/metrics.parquet`), metricsBefore);
    ok(isFinishedRun(`${dir}/runs/outside`), "the run is untouched");

    // Issue 19 (Low): kill -9 during `evaluate --backend cpu` left tables that disagreed on the
    // backend in a run still marked finished. An evaluation marks the run unfinished first.
    await Deno.writeTextFile(argsPath, JSON.stringify(args));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "cli/evaluate.ts", "--uid", "outside", "--backend", "cpu"],
      cwd: REPO_ROOT,
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const exited = child.status.then(() => true);
    let done = false;
    exited.then(() => (done = true));
    while (isFinishedRun(`${dir}/runs/outside`) && !done) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!done) child.kill("SIGKILL");
    await exited;
    ok(!isFinishedRun(`${dir}/runs/outside`), "a stopped evaluation leaves an unfinished run");
    const again = await evaluate();
    equal(again.code, 0, again.err);
    ok(isFinishedRun(`${dir}/runs/outside`));

    await Deno.mkdir(`${dir}/runs/mysweep`);
    await Deno.writeTextFile(`${dir}/runs/mysweep/summary.parquet`, "x");
    const forced = await task([...flags, "--uid", "mysweep", "--force"]);
    equal(forced.code, 2, forced.err);
    ok(forced.err.includes("not a memdil run directory"), forced.err);
    equal(await Deno.readTextFile(`${dir}/runs/mysweep/summary.parquet`), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("taskPermissions: every configured place is writable, nothing else; no task prompts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil_core_cli_perm_" });
  try {
    const ini = readIniConfig(await tempConfig(dir));
    const home = Deno.env.get("HOME") ?? "/root";
    for (const task of Object.keys(TASK_SCRIPTS) as TaskName[]) {
      const { flags, script } = taskPermissions(task, ["--data_dir", "~/elsewhere"], { ini });
      ok(Deno.statSync(script).isFile, script);
      for (const scoped of ["--allow-write", "--allow-run", "--allow-ffi", "--allow-net", "-A"]) {
        ok(!flags.includes(scoped), `${task}: ${scoped} without a list`);
      }
      const write = flags.find((f) => f.startsWith("--allow-write="))?.slice(14).split(",") ?? [];
      const relayDirs = join(Deno.env.get("TMPDIR") || "/tmp", "memdil-kernel-");
      for (const place of write) {
        ok(
          [`${REPO_ROOT}/results`, `${REPO_ROOT}/data`, `${home}/data`, `${home}/elsewhere`]
            .includes(place) ||
            place.startsWith(`${dir}/`) ||
            (task === "kernel" && place.startsWith(relayDirs)),
          `${task} may write ${place}`,
        );
      }
      if (["train", "sweep", "search", "data"].includes(task)) {
        for (const place of [`${dir}/runs`, `${dir}/ho`, `${dir}/data`, `${home}/elsewhere`]) {
          ok(write.includes(place), `${task} may not write ${place}: ${write}`);
        }
      }
    }
    // The notebook kernel's launcher: the loopback and its own relay sockets only, bwrap only; its
    // relay directory is drawn by the launcher and passed on.
    const kernel = taskPermissions("kernel", ["/run/kernel-1.json"], { ini });
    const relayDir = kernel.args[kernel.args.indexOf("--relay-dir") + 1];
    equal(kernel.args.length, 3);
    ok(relayDir.includes("/memdil-kernel-"), relayDir);
    const kernelWrite = kernel.flags.find((f) => f.startsWith("--allow-write="))!.slice(14).split(
      ",",
    );
    ok(kernelWrite.includes(`${dir}/runs`) && kernelWrite.at(-1) === relayDir, kernelWrite.join());
    ok(
      kernel.flags.includes(
        `--allow-net=127.0.0.1,${
          ["shell", "iopub", "stdin", "control", "hb"].map((c) => `unix:${relayDir}/${c}`).join(",")
        }`,
      ),
      kernel.flags.join(" "),
    );
    ok(kernel.flags.includes("--allow-run=bwrap"));
    // Every task line but the checks and the tests starts the launcher, which adds --no-prompt.
    const tasks = JSON.parse(Deno.readTextFileSync(`${REPO_ROOT}/deno.json`)).tasks;
    for (const [name, line] of Object.entries(tasks as Record<string, string>)) {
      if (["check", "test"].includes(name)) continue;
      ok(line.startsWith("deno run --no-prompt "), `${name}: ${line}`);
      if (name in TASK_SCRIPTS) equal(line, `${LAUNCH} ${name}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const LAUNCH = "deno run --no-prompt --allow-read --allow-env --allow-run=deno cli/launch.ts";

Deno.test("cli/reproduce.ts: a bad profile or parameter is a usage error (exit 2), as for notebooks", async () => {
  // Issue 19 (Low): reproduce exited 1 where `deno task notebooks` exits 2.
  for (const args of [["--profile", "nope"], ["--param", "seeds=1e400"], ["--param", "seeds"]]) {
    const out = await deno("cli/reproduce.ts", args, {});
    equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
  }
});
