/**
 * The slurm executor on a real single-node Slurm cluster started by the test (munged,
 * slurmctld, slurmd; see fixtures/slurm_cluster.ts): a 4-run tiny sweep as a job array with at
 * most 2 tasks at once, one task killed while it runs and resubmitted alone, results identical
 * to the local executor's; then a driver killed with SIGKILL after submitting, the array running
 * on without it, and a new driver attaching to it instead of submitting again. A search's trials
 * as Slurm jobs give the same trial table as on local workers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { readParquet } from "../lib/results/mod.ts";
import { runSearch, type Search } from "../lib/search/mod.ts";
import { RUNNERS } from "../lib/experiment/runners/mod.ts";
import { grid, launcherFor, runSweep, type SlurmSettings, type Sweep } from "../lib/sweep/mod.ts";
import { taskArgs } from "./fixtures/task_args.ts";
import { writeTestConfig } from "./fixtures/config_ini.ts";
import {
  missingSlurmBinaries,
  type SlurmCluster,
  startSlurmCluster,
} from "./fixtures/slurm_cluster.ts";

const missing = missingSlurmBinaries();
if (missing.length > 0) {
  console.warn(
    `SKIPPED sweep_slurm_test: Slurm/munge programs missing (${missing.join(", ")}); ` +
      `install Debian's slurm-wlm and munge (scripts/setup.sh does) to run it`,
  );
} else if (Deno.uid() !== 0) {
  // slurmd must run as root to start jobs; CI runs as root.
  missing.push("root");
  console.warn("SKIPPED sweep_slurm_test: starting slurmd needs root (CI runs as root)");
}

const BASE = {
  epochs: 2,
  width: 8,
  depth: 2,
  batch_size: 64,
  sample_size: 40,
  backend: "wasm",
  label_noise: 0.2,
};

function tinySweep(resultsDir: string, executor: "local" | "slurm"): Sweep {
  return {
    name: "tiny",
    resultsDir,
    concurrency: 2,
    executor,
    runs: grid(BASE, { loss: ["CrossEntropy", "LS"], seed: [1, 2] }),
  };
}

async function squeue(env: Record<string, string>, args: string[]): Promise<string> {
  const out = await new Deno.Command("squeue", { args: ["-h", ...args], env, stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).trim();
}

function manifests(stateDir: string): { jobId: string; keys: string[]; collected: boolean }[] {
  const dir = join(stateDir, "submissions");
  return [...Deno.readDirSync(dir)].filter((e) => /^\d+\.json$/.test(e.name))
    .sort((a, b) => parseInt(a.name) - parseInt(b.name))
    .map((e) => JSON.parse(Deno.readTextFileSync(join(dir, e.name))));
}

async function until<T>(what: string, get: () => Promise<T | undefined> | T | undefined) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const value = await get();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function testSettings(cluster: { partition: string; env: Record<string, string> }): SlurmSettings {
  return {
    partition: cluster.partition,
    time: "",
    cpus: 1,
    gpus: 0,
    extra: [],
    sharedPath: "",
    pollSeconds: 0.5,
    resubmits: 1,
    env: cluster.env,
  };
}

/** A temporary directory and a running test cluster for `body`; both gone afterwards. */
async function withCluster(
  prefix: string,
  body: (dir: string, cluster: SlurmCluster) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const cluster = await startSlurmCluster();
  try {
    await body(dir, cluster);
  } finally {
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "slurm executor: array %2, a killed task resubmitted, same tables as local; driver killed",
  ignore: missing.length > 0,
  fn: () =>
    withCluster("memdil-sweep-slurm-", async (dir, cluster) => {
      const settings = testSettings(cluster);
      const local = await runSweep(tinySweep(join(dir, "local"), "local"), {
        progress: false,
        registry: RUNNERS,
      });
      assert.deepEqual(local.failures.map((f) => f.error), []);

      // Kill task 1 of the first array while it runs; only it is resubmitted.
      const stateDir = join(dir, "slurm", "slurm");
      const sweeping = runSweep(tinySweep(join(dir, "slurm"), "slurm"), {
        registry: RUNNERS,
        progress: false,
        slurm: settings,
      });
      const jobId = await until("the array", () => {
        try {
          return manifests(stateDir)[0]?.jobId;
        } catch {
          return undefined;
        }
      });
      await until(
        "task 1 running",
        async () =>
          (await squeue(cluster.env, ["-r", "-j", `${jobId}_1`, "-o", "%T"])) === "RUNNING"
            ? true
            : undefined,
      );
      const cancel = await new Deno.Command("scancel", { args: [`${jobId}_1`], env: cluster.env })
        .output();
      assert.ok(cancel.success);
      const slurm = await sweeping;
      assert.deepEqual(slurm.failures.map((f) => f.error), []);
      assert.deepEqual(slurm.runs.map((r) => r.status), Array(4).fill("finished"));
      const submitted = manifests(stateDir);
      assert.equal(submitted.length, 2);
      assert.equal(submitted[0].keys.length, 4);
      assert.deepEqual(submitted[1].keys, [submitted[0].keys[1]]);
      assert.ok(submitted.every((m) => m.collected));

      // Same seeds, same backend: the same results table, row for row.
      const localRows = readParquet(local.tables.summary).toRecords();
      const slurmRows = readParquet(slurm.tables.summary).toRecords();
      assert.equal(slurmRows.length, 4);
      assert.deepEqual(slurmRows, localRows);

      // The driver dies (SIGKILL) after submitting; the array runs on; a new driver attaches.
      const file = join(dir, "resume.json");
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          name: "resume",
          resultsDir: join(dir, "resume"),
          concurrency: 2,
          executor: "slurm",
          base: { ...BASE, loss: "LS" },
          grid: { seed: [1, 2] },
        }),
      );
      // The sweep's directory is one of config.ini's places (sweep files write only there).
      const config = writeTestConfig(dir, (text) =>
        text.replace(/^PARTITION =.*$/m, `PARTITION = ${cluster.partition}`)
          .replace(/^POLL_SECONDS =.*$/m, "POLL_SECONDS = 0.5"));
      // `deno task sweep`'s own command line, run directly so the driver is this child.
      const cli = (args: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: [...taskArgs("sweep", [dir]), file, "--quiet", ...args],
          cwd: REPO_ROOT,
          env: { ...cluster.env, MEMDIL_CONFIG: config },
          stdout: "piped",
          stderr: "piped",
        });
      const driver = cli([]).spawn();
      const resumeState = join(dir, "resume", "slurm");
      const resumeJob = await until("the resume array", () => {
        try {
          return manifests(resumeState)[0]?.jobId;
        } catch {
          return undefined;
        }
      });
      driver.kill("SIGKILL");
      await driver.status;
      assert.notEqual(await squeue(cluster.env, ["-j", resumeJob]), "", "array gone with driver");
      const again = await cli([]).output();
      const stderr = new TextDecoder().decode(again.stderr);
      assert.equal(again.code, 0, stderr);
      const after = manifests(resumeState);
      assert.equal(after.length, 1, "attached to the running array, submitted nothing new");
      assert.ok(after[0].collected);
      const rows = readParquet(join(dir, "resume", "summary.parquet")).toRecords();
      assert.deepEqual(
        rows.map((r) => [r.loss, r.seed, r.test_acc_pct]),
        localRows.filter((r) =>
          r.loss === "LS"
        ).map((r) => [r.loss, r.seed, r.test_acc_pct]),
      );
    }),
});

Deno.test({
  name: "slurm executor: a search's trials as Slurm jobs, same trial table as local workers",
  ignore: missing.length > 0,
  fn: () =>
    withCluster("memdil-search-slurm-", async (dir, cluster) => {
      const search = (resultsDir: string): Search => ({
        name: "tiny_search",
        base: { ...BASE, loss: "LS", seed: 3 },
        algorithm: "random_search",
        trials: 2,
        concurrency: 1, // one at a time: the early-stopping decisions do not depend on timing
        resultsDir,
        retrain: false,
      });
      const local = await runSearch(search(join(dir, "local")), { log: () => {} });
      const slurmDir = join(dir, "slurm");
      const slurm = await runSearch(search(slurmDir), {
        log: () => {},
        launch: launcherFor("slurm", {
          name: "tiny_search",
          resultsDir: slurmDir,
          concurrency: 1,
          slurm: testSettings(cluster),
        }),
      });
      const comparable = (trials: typeof local.trials) =>
        trials.map(({ seconds: _, ...trial }) => trial);
      assert.deepEqual(comparable(slurm.trials), comparable(local.trials));
      assert.ok(slurm.trials.every((t) => t.status === "completed" || t.status === "stopped"));
      // Each trial was its own Slurm job.
      assert.equal(manifests(join(slurmDir, "slurm")).length, 2);
    }),
});
