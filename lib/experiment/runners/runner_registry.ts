/**
 * memdil's runner registry: the runners sweep and search files may name (`simple`, `large`),
 * imported statically, and the worker entry that holds the same ones. It lives above the sweep
 * machinery, which receives it (lib/sweep never imports an experiment).
 *
 * @example
 * ```ts
 * import { RUNNERS } from "./runner_registry.ts";
 * import { runSweep } from "../../sweep/mod.ts";
 * await runSweep({ name: "s", resultsDir: "results/s", runs: [{ epochs: 2 }] }, { registry: RUNNERS });
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { RunnerRegistry, SweepRunner } from "../../sweep/runner.ts";
import large from "./large.ts";
import simple from "./simple.ts";

/** memdil's runners, by the names sweep and search files use. */
export const RUNNERS: RunnerRegistry = {
  runners: Object.freeze({
    simple: simple as unknown as SweepRunner,
    large: large as unknown as SweepRunner,
  }),
  worker: fileURLToPath(new URL("./worker.ts", import.meta.url)),
};
