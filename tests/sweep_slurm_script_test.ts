/**
 * The Slurm batch script gives each array task as many BLAS threads as CPUs it was given, so
 * tasks running side by side on one node do not oversubscribe its cores. The script is run with
 * bash (no Slurm needed), with `env` in place of deno so that the task's output is the
 * environment the worker would have started with.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { batchScript, type SlurmSettings } from "../lib/sweep/mod.ts";

const SETTINGS: SlurmSettings = {
  partition: "",
  time: "",
  cpus: 3,
  gpus: 0,
  extra: [],
  sharedPath: "",
  pollSeconds: 1,
  resubmits: 0,
};

/** Runs array task 0 of the batch script and returns its worker's environment. */
async function workerEnvironment(slurmEnv: Record<string, string>): Promise<Map<string, string>> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "0.json"), "{}");
    await Deno.writeTextFile(join(dir, "0.log_path"), join(dir, "0.log"));
    const script = batchScript({
      name: "threads",
      dir,
      tasks: 1,
      concurrency: 1,
      args: [],
      settings: SETTINGS,
      deno: "/usr/bin/env",
    });
    await Deno.writeTextFile(join(dir, "job.sh"), script);
    const { success } = await new Deno.Command("bash", {
      args: [join(dir, "job.sh")],
      // A clean environment: an inherited MEMDIL_BLAS_THREADS must not decide the outcome.
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", SLURM_ARRAY_TASK_ID: "0", ...slurmEnv },
    }).output();
    assert.ok(success, "the batch script failed");
    const lines = (await Deno.readTextFile(join(dir, "0.out"))).trim().split("\n");
    return new Map(lines.map((line) => [line.split("=")[0], line.slice(line.indexOf("=") + 1)]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("slurm batch script: --cpus-per-task and BLAS threads from [SLURM] cpus", async () => {
  const script = batchScript({
    name: "threads",
    dir: "/tmp/x",
    tasks: 4,
    concurrency: 2,
    args: [],
    settings: SETTINGS,
  });
  assert.match(script, /^#SBATCH --cpus-per-task=3$/m);
  // Outside an allocation (no SLURM_CPUS_PER_TASK) the configured cpus are used.
  const env = await workerEnvironment({});
  assert.equal(env.get("MEMDIL_BLAS_THREADS"), "3");
});

Deno.test("slurm batch script: BLAS threads follow the CPUs Slurm allocated", async () => {
  const env = await workerEnvironment({ SLURM_CPUS_PER_TASK: "2" });
  assert.equal(env.get("MEMDIL_BLAS_THREADS"), "2");
});
