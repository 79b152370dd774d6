/**
 * `deno task data list|fetch NAME|verify [--data_dir DIR]`: where each dataset was found, getting
 * one, checking every copy found.
 *
 * @module
 */
import { Command } from "commander";
import { DATASET_NAMES, parseCommandLine, UsageError } from "../lib/config/flags.ts";
import { readIniConfig } from "../lib/config/ini.ts";
import { SETTINGS } from "../lib/config/schema.ts";
import { checkCacheFile, defaultCacheDir } from "../lib/data/cache.ts";
import { exists } from "../lib/runs/files.ts";
import {
  type DatasetInfo,
  DATASETS,
  expandHome,
  type LoadOptions,
  loadPrepared,
  type PreparedSplit,
} from "../lib/data/mod.ts";
import { runCli } from "./common.ts";

function classCounts(split: PreparedSplit, classes: number): number[] {
  const counts = new Array(classes).fill(0);
  split.labels.forEach((y) => counts[y]++);
  return counts;
}

function sizeOf(paths: string[]): string {
  const bytes = paths.reduce((sum, p) => sum + Deno.statSync(p).size, 0);
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function summarizeCounts(counts: number[]): string {
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  return min === max
    ? `${counts.length} x ${min}`
    : `${counts.length} classes, ${min}..${max} each`;
}

async function list(options: LoadOptions): Promise<void> {
  for (const info of Object.values(DATASETS)) {
    const found = info.locate(options);
    if (!found) {
      console.log(`${info.name} (${info.title}): not found; looked in`);
      info.searchDirs(options).forEach((dir) => console.log(`    ${dir}/`));
      console.log(`  ${info.howToGet(options.dataDir)}`);
      continue;
    }
    const data = await loadPrepared(info.name, { ...options, download: false });
    console.log(
      `${info.name} (${info.title}): ${found.dir} (${sizeOf(found.paths)}; ` +
        `${data.fromCache ? "cached" : "decoded"})\n` +
        `  train ${data.train.count}: ${summarizeCounts(classCounts(data.train, info.classes))}\n` +
        `  test  ${data.test.count}: ${summarizeCounts(classCounts(data.test, info.classes))}`,
    );
  }
}

async function fetchDataset(info: DatasetInfo, options: LoadOptions): Promise<void> {
  const data = await loadPrepared(info.name, { ...options, download: true });
  console.log(
    `${info.name}: ${data.source} (${data.train.count} train, ${data.test.count} test samples, ` +
      `verified)`,
  );
}

async function verify(options: LoadOptions): Promise<boolean> {
  let ok = true;
  const cacheDir = defaultCacheDir();
  const cacheFiles = exists(cacheDir)
    ? [...Deno.readDirSync(cacheDir)].filter((e) => e.isFile && e.name.endsWith(".bin"))
    : [];
  for (const entry of cacheFiles) {
    const problem = await checkCacheFile(`${cacheDir}/${entry.name}`);
    if (problem) ok = false;
    console.log(`cache ${entry.name}: ${problem ? `FAILED: ${problem}` : "ok"}`);
  }
  for (const info of Object.values(DATASETS)) {
    const found = info.locate(options);
    if (!found) {
      console.log(`${info.name}: not found (skipped)`);
      continue;
    }
    try {
      const raw = await info.decode(found, { verify: true, skipChecksums: options.skipChecksums });
      console.log(
        `${info.name}: ok (${found.dir}: ${raw.train.count} train, ${raw.test.count} test)`,
      );
    } catch (error) {
      ok = false;
      console.log(`${info.name}: FAILED: ${(error as Error).message}`);
    }
  }
  return ok;
}

if (import.meta.main) {
  await runCli(async (args) => {
    const program = new Command("data")
      .description("Datasets: list where each was found, fetch one, verify every copy found.")
      .argument("<command>", "list | fetch | verify")
      .argument("[name]", `dataset for fetch: ${DATASET_NAMES.join(" | ")}`)
      .option("--data_dir <dir>", "dataset root (default: config.ini [DATA] DATA_DIR)")
      .option("--skip_checksums", SETTINGS.skip_checksums.help);
    parseCommandLine(program, args);
    const [command, name] = program.args;
    const dataDir = expandHome(program.opts().data_dir ?? readIniConfig().dataDir);
    const options: LoadOptions = { dataDir, skipChecksums: program.opts().skip_checksums === true };
    if (command === "list") return await list(options);
    if (command === "verify") {
      if (!(await verify(options))) throw new Error("some datasets failed verification");
      return;
    }
    if (command === "fetch") {
      if (!name) throw new UsageError(`fetch needs a dataset: ${DATASET_NAMES.join(" | ")}`);
      if (!(name in DATASETS)) {
        throw new UsageError(`unknown dataset '${name}'; use ${DATASET_NAMES.join(" | ")}`);
      }
      return await fetchDataset(DATASETS[name as keyof typeof DATASETS], options);
    }
    throw new UsageError(`unknown command '${command}'; use list, fetch NAME or verify`);
  });
}
