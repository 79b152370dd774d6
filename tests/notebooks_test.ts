import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  applyParameters,
  cellSource,
  executeNotebook,
  findJupyter,
  INSTALL_HINT,
  type JsonValue,
  JupyterSetupError,
  listNotebooks,
  listProfiles,
  type Notebook,
  NotebookExecutionError,
  NotebookUsageError,
  ParameterError,
  parseParamAssignment,
  parseParameters,
  parseParamValue,
  planRuns,
  readProfile,
  REPO_ROOT,
  resolveNotebooks,
} from "../lib/notebooks/mod.ts";
import { taskPermissions } from "../lib/config/permissions.ts";
import { writeTestConfig } from "./fixtures/config_ini.ts";
import { writeNotebook } from "./fixtures/notebook_files.ts";

const FIXTURES = join(REPO_ROOT, "tests", "fixtures", "notebooks");
const CLI = join(REPO_ROOT, "cli", "notebooks.ts");
/** The permissions `deno task notebooks` runs with (its launcher's), so the test runs what users run. */

function notebook(paramsSource: string | string[], extra: string[] = []): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: "markdown", source: "# title", metadata: {} },
      { cell_type: "code", source: paramsSource, metadata: { tags: ["parameters"] }, outputs: [] },
      ...extra.map((s) => ({ cell_type: "code", source: s, metadata: {}, outputs: [] })),
    ],
  };
}

/**
 * A config.ini whose TMP_PATH is the system's temporary directory, so the tests' temporary
 * `--out-dir`s are among the places memdil writes (as a user would configure theirs).
 */
const TEST_CONFIG = writeTestConfig(
  Deno.makeTempDirSync({ prefix: "memdil-nb-config-" }),
  (text) => text.replace(/^TMP_PATH = .*$/m, `TMP_PATH = ${dirname(Deno.makeTempDirSync())}`),
);

const CLI_PERMS = (args: string[]) =>
  taskPermissions("notebooks", args, { iniPath: TEST_CONFIG }).flags;

async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...CLI_PERMS(args), CLI, ...args],
    env: { MEMDIL_CONFIG: TEST_CONFIG, ...env },
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function outputText(nb: Notebook): string {
  return nb.cells.flatMap((c) => (c.outputs as Record<string, unknown>[] | undefined) ?? [])
    .map((o) => {
      const text = o.text ?? (o.data as Record<string, unknown> | undefined)?.["text/plain"];
      return Array.isArray(text) ? text.join("") : String(text ?? "");
    }).join("\n");
}

// ---------------------------------------------------------------- parameters

Deno.test("applyParameters injects overrides after the parameters cell, keeps defaults", () => {
  const defaults = [
    "// parameters\n",
    "const lr = 0.01; // learning rate\n",
    "const sizes = [1, 2];\n",
    'const url = "http://example.com/a;b"; // with // and ; inside the string\n',
    "const epochs: number = 3\n",
    'const name = "x";',
  ];
  const nb = notebook(defaults, ["console.log(lr)"]);
  const out = applyParameters(nb, {
    lr: 0.5,
    sizes: [0, 0.1],
    url: "s3://b",
    epochs: 7,
    name: 'a"b',
  }, "demo");
  assert.equal(cellSource(out.cells[1]), defaults.join(""), "defaults kept");
  assert.deepEqual(out.cells[2].metadata, { tags: ["injected-parameters"] });
  assert.equal(
    cellSource(out.cells[2]),
    "// Parameters injected for this run (the defaults are in the cell above)\n" +
      "const lr = 0.5;\n" +
      "const sizes = [0,0.1];\n" +
      'const url = "s3://b";\n' +
      "const epochs: number = 7;\n" +
      'const name = "a\\"b";',
  );
  assert.equal(cellSource(out.cells[3]), "console.log(lr)");
  // Applying again to the executed copy replaces the injection instead of adding one.
  const again = applyParameters(out, { lr: 0.25 }, "demo");
  assert.equal(again.cells.length, 4);
  assert.equal(cellSource(again.cells[2]).split("\n")[1], "const lr = 0.25;");
  assert.ok(Array.isArray(out.cells[1].source));
  assert.equal(cellSource(nb.cells[1]).includes("0.01"), true, "input untouched");
  assert.deepEqual((out.metadata.memdil as Record<string, unknown>).parameters, {
    lr: 0.5,
    sizes: [0, 0.1],
    url: "s3://b",
    epochs: 7,
    name: 'a"b',
  });
  // string source form and no overrides
  const same = applyParameters(notebook("const a = 1;\nconst b = true;"), {}, "s");
  assert.equal(cellSource(same.cells[1]), "const a = 1;\nconst b = true;");
});

Deno.test("parseParameters reads declarations and defaults", () => {
  const decls = parseParameters(notebook('const a = 1;\n\n// note\nconst b = {"k": [null]};'));
  assert.deepEqual(decls.map((d) => [d.name, d.value]), [["a", 1], ["b", { k: [null] }]]);
  assert.deepEqual(parseParameters({ ...notebook(""), cells: [] }), []);
});

Deno.test("applyParameters rejects unknown keys, naming the notebook and the parameters", () => {
  const nb = notebook("const lr = 0.01;\nconst epochs = 3;");
  assert.throws(
    () => applyParameters(nb, { lr: 1, momentum: 0.9 }, "train"),
    (err: unknown) => {
      assert.ok(err instanceof ParameterError);
      assert.match(err.message, /^train: unknown parameter `momentum`/);
      assert.match(err.message, /available parameters: lr \(default 0\.01\), epochs \(default 3\)/);
      return true;
    },
  );
  const none: Notebook = { ...nb, cells: [nb.cells[0]] };
  assert.throws(() => applyParameters(none, { lr: 1 }, "plain"), /plain: .*no code cell tagged/);
});

Deno.test("applyParameters checks each override's type, and run settings by the schema", () => {
  const nb = notebook(
    "const noiseLevels = [0.0, 0.2];\nconst epochs = 3;\nconst sampleSize = null;\nconst lr = 0.1;",
  );
  const refused = (overrides: Record<string, JsonValue>, pattern: RegExp) =>
    assert.throws(() => applyParameters(nb, overrides, "md"), (err: unknown) => {
      assert.ok(err instanceof ParameterError, String(err));
      assert.match((err as Error).message, pattern);
      return true;
    });
  refused({ noiseLevels: 1.5 }, /^md: parameter `noiseLevels` takes a list, got 1\.5/);
  refused({ noiseLevels: ["a"] }, /`noiseLevels` takes a list of numbers/);
  refused({ epochs: "ten" }, /`epochs` takes a number/);
  refused({ epochs: 2.5 }, /`epochs` expected an integer >= 1/);
  refused({ lr: -1 }, /`lr` expected a number in \(0, Infinity\]/);
  applyParameters(nb, { noiseLevels: [0.1], epochs: 2, sampleSize: 50, lr: 0.01 }, "md");
  applyParameters(nb, { sampleSize: null }, "md");
  // null where the default is a number: allowed exactly where the run setting accepts it
  const numeric = notebook("const sampleSize = 500;\nconst epochs = 3;");
  applyParameters(numeric, { sampleSize: null }, "md");
  assert.throws(() => applyParameters(numeric, { epochs: null }, "md"), /`epochs` takes a number/);
});

Deno.test("every shipped profile validates against every notebook it names", async () => {
  const profiles = await listProfiles();
  assert.ok(profiles.length >= 3, `profiles: ${profiles}`);
  for (const profile of profiles) {
    const configured = Object.keys(await readProfile(profile));
    const runs = await planRuns({ profile }); // the real checker: throws on any bad pair
    assert.deepEqual(runs.map((run) => run.name).sort(), configured.sort(), profile);
  }
});

Deno.test("parameters cells breaking the convention are errors", () => {
  assert.throws(() => parseParameters(notebook("let a = 1;"), "n"), /line 1 is not of the form/);
  assert.throws(() => parseParameters(notebook("const a = 'x';"), "n"), /JSON-compatible/);
  assert.throws(() => parseParameters(notebook("const a = 1;\nconst a = 2;"), "n"), /twice/);
  const two = notebook("const a = 1;");
  two.cells.push(structuredClone(two.cells[1]));
  assert.throws(() => parseParameters(two, "n"), /exactly one code cell tagged "parameters"/);
});

Deno.test("--param values: JSON when it parses, else string", () => {
  assert.equal(parseParamValue("0.5"), 0.5);
  assert.deepEqual(parseParamValue("[0,0.1]"), [0, 0.1]);
  assert.equal(parseParamValue("adam"), "adam");
  assert.equal(parseParamValue('"3"'), "3");
  assert.equal(parseParamValue("true"), true);
  assert.deepEqual(parseParamAssignment("lr=1e-3"), ["lr", 0.001]);
  assert.deepEqual(parseParamAssignment("expr=a=b"), ["expr", "a=b"]);
  assert.deepEqual(parseParamAssignment("empty="), ["empty", ""]);
  assert.throws(() => parseParamAssignment("novalue"), ParameterError);
  assert.throws(() => parseParamAssignment("=1"), ParameterError);
  assert.throws(() => parseParamAssignment("bad-key=1"), /not a valid identifier/);
  // Issue 19 (Low): n=1e400 reached the notebook as null.
  assert.throws(() => parseParamAssignment("n=1e400"), /not a finite number/);
  assert.throws(() => parseParamAssignment("v=[1,-1e999]"), /not a finite number/);
});

// ---------------------------------------------------------------- names & profiles

Deno.test("notebook names and profiles resolve, unknown ones list what exists", async () => {
  assert.deepEqual(await listNotebooks(FIXTURES), ["params_fail", "params_ok"]);
  assert.deepEqual(await resolveNotebooks(["params_ok.ipynb"], FIXTURES), [
    join(FIXTURES, "params_ok.ipynb"),
  ]);
  await assert.rejects(
    () => resolveNotebooks(["nope"], FIXTURES),
    (err: unknown) =>
      err instanceof NotebookUsageError &&
      /unknown notebook nope .*available notebooks: params_fail, params_ok/.test(err.message),
  );
  assert.deepEqual(await readProfile("double", FIXTURES), {
    params_ok: { factor: 10, label: "profiled" },
  });
  await assert.rejects(
    () => readProfile("missing", FIXTURES),
    /unknown profile "missing".*available profiles: double/,
  );
});

Deno.test("planRuns: explicit params win over the profile; unknown keys fail early", async () => {
  const runs = await planRuns({
    names: ["params_ok"],
    profile: "double",
    params: { factor: 4 },
    notebooksDir: FIXTURES,
  });
  assert.deepEqual(runs.map((r) => [r.name, r.overrides]), [
    ["params_ok", { factor: 4, label: "profiled" }],
  ]);
  // Without names, a profile runs the notebooks it configures.
  const profiled = await planRuns({ profile: "double", notebooksDir: FIXTURES });
  assert.deepEqual(profiled.map((r) => r.name), ["params_ok"]);
  await assert.rejects(
    () => planRuns({ params: { factor: 4 }, notebooksDir: FIXTURES }),
    /params_fail: unknown parameter `factor`; available parameters: when/,
  );
});

Deno.test("missing Jupyter gives the apt-get hint", async () => {
  await assert.rejects(
    () => findJupyter({ candidates: ["/nonexistent/python3"] }),
    (err: unknown) => err instanceof JupyterSetupError && err.message.includes(INSTALL_HINT),
  );
});

// ---------------------------------------------------------------- real execution

Deno.test("executeNotebook runs the fixture on the Deno kernel with an override", async () => {
  const out = await Deno.makeTempDir({ prefix: "memdil-nb-" });
  try {
    const res = await executeNotebook(join(FIXTURES, "params_ok.ipynb"), {
      overrides: { factor: 3, label: "over" },
      outputDir: out,
      timeout: 120,
      log: () => {},
    });
    assert.equal(res.outputPath, join(out, "params_ok.ipynb"));
    assert.deepEqual(res.parameters, { factor: 3, values: [1, 2, 3], label: "over" });
    const executed = JSON.parse(await Deno.readTextFile(res.outputPath)) as Notebook;
    // (1+2+3)*3 = 18; the relative import from lib/ resolved against the notebook's directory
    assert.match(outputText(executed), /over: total=18 cwd-import=\[7\]/);
    // output stays with the cell that printed it (the kernel sends stdout after "idle")
    const lines = outputText({ ...executed, cells: [executed.cells[4]] }).trimEnd().split("\n");
    assert.equal(lines.length, 300);
    assert.equal(lines[299], "line 299");
    assert.equal(
      outputText({ ...executed, cells: [executed.cells[5]] }),
      "over: total=18 cwd-import=[7]\n",
    );
    assert.deepEqual(executed.cells.map((c) => c.execution_count ?? null), [null, 1, 2, 3, 4, 5]);
    assert.match(cellSource(executed.cells[1]), /const factor = \d+; \/\/ multiplier/);
    assert.match(cellSource(executed.cells[2]), /const factor = 3;/);
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["params_ok.ipynb"]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("executeNotebook: a throwing cell keeps only NAME.failed.ipynb", async () => {
  const out = await Deno.makeTempDir({ prefix: "memdil-nb-" });
  try {
    await assert.rejects(
      () => executeNotebook(join(FIXTURES, "params_fail.ipynb"), { outputDir: out, log: () => {} }),
      (err: unknown) => {
        assert.ok(err instanceof NotebookExecutionError);
        assert.equal(err.failure.code_index, 3);
        assert.equal(err.failure.index, 3);
        assert.equal(err.failure.ename, "Error");
        assert.equal(err.failure.evalue, "fixture failure (always, x=1)");
        assert.equal(err.partialPath, join(out, "params_fail.failed.ipynb"));
        return true;
      },
    );
    assert.equal(await exists(join(out, "params_fail.ipynb")), false);
    const partial = JSON.parse(
      await Deno.readTextFile(join(out, "params_fail.failed.ipynb")),
    ) as Notebook;
    const text = outputText(partial);
    assert.match(text, /before the failure/);
    assert.doesNotMatch(text, /never reached/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("executeNotebook: a cell past the per-cell timeout fails fast, naming it", async () => {
  const out = await Deno.makeTempDir({ prefix: "memdil-nb-" });
  try {
    const path = await writeNotebook(out, "stall", "const seconds = 600;", [
      'console.log("before the stall");',
      "await new Promise((resolve) => setTimeout(resolve, seconds * 1000));",
    ]);
    const started = Date.now();
    await assert.rejects(
      () => executeNotebook(path, { outputDir: out, timeout: 3, log: () => {} }),
      (err: unknown) => {
        assert.ok(err instanceof NotebookExecutionError);
        assert.equal(err.failure.kind, "timeout");
        assert.equal(err.failure.ename, "CellTimeoutError");
        assert.equal(err.failure.code_index, 3);
        assert.match(err.message, /notebook "stall" timed out in code cell 3 of 3/);
        assert.match(err.message, /per-cell timeout of 3 s/);
        assert.equal(err.partialPath, join(out, "stall.failed.ipynb"));
        return true;
      },
    );
    assert.ok(Date.now() - started < 60_000, "the stalled kernel is not waited for");
    const partial = JSON.parse(await Deno.readTextFile(join(out, "stall.failed.ipynb")));
    assert.match(outputText(partial), /before the stall/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("CLI: profile + --param, failing cell report, exit codes", async () => {
  const out = await Deno.makeTempDir({ prefix: "memdil-nb-" });
  const common = ["--notebooks-dir", FIXTURES, "--out-dir", out, "--quiet"];
  try {
    const ok = await runCli([...common, "params_ok", "--profile", "double", "--param", "factor=5"]);
    assert.equal(ok.code, 0, ok.stderr);
    // One executed copy per parameter set: profile plus a hash of the --param values.
    const copies = () => [...Deno.readDirSync(out)].map((e) => e.name).sort();
    const [first] = copies();
    assert.match(first, /^params_ok\.double-[0-9a-f]{8}\.ipynb$/);
    const executed = JSON.parse(await Deno.readTextFile(join(out, first))) as Notebook;
    assert.match(outputText(executed), /profiled: total=30/);
    const other = await runCli([
      ...common,
      "params_ok",
      "--profile",
      "double",
      "--param",
      "factor=6",
    ]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(copies().length, 2, "the first copy is kept");
    assert.equal((await runCli([...common, "params_ok"])).code, 0);
    assert.ok(copies().includes("params_ok.quick.ipynb"), "the default profile is quick");
    // The notebooks' own defaults are the paper's settings: said before they run.
    const defaults = await runCli([...common, "params_ok", "--profile", "defaults"]);
    assert.equal(defaults.code, 0, defaults.stderr);
    assert.match(defaults.stderr, /profile defaults: the paper's settings take days to weeks/);
    assert.ok(copies().includes("params_ok.defaults.ipynb"));
    assert.doesNotMatch(other.stderr, /paper's settings/);

    const bad = await runCli([...common, "params_fail", "--param", "when=cli"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /notebook "params_fail" failed in code cell 4 of 5 \(cells\[4\]/);
    assert.match(bad.stderr, /\| const x = 1;/);
    assert.match(bad.stderr, /Error: fixture failure \(cli, x=1\)/);
    const failedCopies = [...Deno.readDirSync(out)].map((e) => e.name)
      .filter((name) => name.startsWith("params_fail."));
    assert.equal(failedCopies.length, 1);
    assert.match(failedCopies[0], /^params_fail\.quick-[0-9a-f]{8}\.failed\.ipynb$/);

    const usage = [
      [["--bogus"], /unknown option '--bogus'/],
      [["--param", "novalue"], /--param expects key=value/],
      [["params_ok", "--param", "nope=1"], /params_ok: unknown parameter `nope`.*factor/],
      [["missing"], /available notebooks: params_fail, params_ok/],
      [["--profile", "zzz"], /available profiles: double, quick/],
      [["--timeout", "-1"], /expected seconds > 0/],
    ] as const;
    for (const [args, re] of usage) {
      const r = await runCli([...common, ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    // Issue 19 #5: --out-dir wrote anywhere.
    const outside = await runCli([
      "--notebooks-dir",
      FIXTURES,
      "--out-dir",
      "/proc/nb",
      "params_ok",
    ]);
    assert.equal(outside.code, 2, outside.stderr);
    assert.match(outside.stderr, /--out-dir \/proc\/nb is outside the places memdil writes/);
    const help = await runCli(["--help"]);
    assert.equal(help.code, 0);
    for (const flag of ["--param", "--profile", "--timeout", "--notebooks-dir", "--out-dir"]) {
      assert.ok(help.stdout.includes(flag), flag);
    }
    assert.match(help.stdout, /\(default: 3600\)/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("CLI --unconfined installs Deno's kernelspec when missing or stale, idempotently", async () => {
  // A private HOME: `deno jupyter --install` and jupyter_client then both use
  // $HOME/.local/share/jupyter/kernels (DENO_DIR is kept so that no download is needed).
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const denoDir = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir as string;
  const home = await Deno.makeTempDir({ prefix: "memdil-home-" });
  const out = await Deno.makeTempDir({ prefix: "memdil-nb-" });
  const env = { HOME: home, XDG_DATA_HOME: join(home, ".local", "share"), DENO_DIR: denoDir };
  // Only --unconfined runs on Deno's own kernel (memdil's sandboxed one needs no kernelspec of
  // the user's: each run is given its own).
  const args = [
    "--notebooks-dir",
    FIXTURES,
    "--out-dir",
    out,
    "--quiet",
    "--unconfined",
    "params_ok",
  ];
  const spec = join(home, ".local", "share", "jupyter", "kernels", "deno", "kernel.json");
  try {
    const probe = await findJupyter();
    const current = probe.kernelspecs.deno?.resource_dir;
    if (current && !current.includes("/.local/share/jupyter/kernels/")) {
      return; // a system-wide spec would shadow the private one: nothing to test here
    }
    const first = await runCli(args, env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stderr,
      /warning: --unconfined: the cells run on Deno's own kernel with every/,
    );
    assert.match(
      first.stderr,
      /kernelspec "deno" is not installed; running `deno jupyter --install/,
    );
    assert.ok(await exists(spec));

    const stale = JSON.parse(await Deno.readTextFile(spec));
    stale.argv[0] = "/nonexistent/deno";
    await Deno.writeTextFile(spec, JSON.stringify(stale));
    const second = await runCli(args, env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /points at a missing deno executable/);
    assert.notEqual(JSON.parse(await Deno.readTextFile(spec)).argv[0], "/nonexistent/deno");

    const third = await runCli(args, env);
    assert.equal(third.code, 0, third.stderr);
    assert.doesNotMatch(third.stderr, /kernelspec/);
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});
