/**
 * Worker entry of memdil's runners (its loop: lib/sweep/worker_main.ts): a sweep or search starts it once
 * per run with only the permissions a run needs.
 *
 * @module
 */
import { workerMain } from "../../sweep/worker_main.ts";
import { RUNNERS } from "./mod.ts";

if (import.meta.main) Deno.exit(await workerMain(RUNNERS.runners));
