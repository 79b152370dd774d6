/**
 * Find every saved figure under a results directory, with the table of runs it came from.
 *
 * @module
 */
import { basename, dirname, join, relative } from "node:path";

/** The runs behind a figure, as a small table. */
export interface RunsTable {
  /** Where the table was read from (relative to the results directory). */
  source: string;
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

/** One figure of the gallery. */
export interface GalleryFigure {
  /** HTML id, unique in the page. */
  id: string;
  /** The figure's title (from its spec) or its file name. */
  title: string;
  /** Base name, e.g. `dilation_vs_memorization`. */
  name: string;
  /** Section: the directory the figure belongs to, relative to the results directory. */
  section: string;
  /** URLs (relative to the gallery page) of the spec and the PNG. */
  specUrl: string;
  pngUrl: string | null;
  runs: RunsTable | null;
}

/** Summary-row columns shown for a single run, when present. */
const RUN_COLUMNS = [
  "uid",
  "dataset",
  "model",
  "loss",
  "label_noise",
  "fc_noise_degree",
  "seed",
  "epochs",
  "test_acc",
  "nc1_train",
  "dilation_train",
  "memorization_train",
];

function readJson(path: string): unknown {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}

function cell(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") {
    return value;
  }
  return JSON.stringify(value);
}

function tableOf(source: string, records: Record<string, unknown>[], columns?: string[]) {
  const names = columns ??
    [...new Set(records.flatMap((record) => Object.keys(record)))];
  const present = names.filter((name) => records.some((record) => name in record));
  return {
    source,
    columns: present,
    rows: records.map((record) => present.map((name) => cell(record[name]))),
  };
}

/**
 * The runs a figure came from: `<figure>.runs.json` next to it (a list of row objects) when a
 * notebook wrote one; else the sweep table (`sweep.json`) or the run's `metrics.json` in the
 * directory above `figures/`.
 *
 * @example
 * ```ts
 * const table = runsTableFor("results/md/figures/nc1_vs_noise", "results");
 * ```
 */
export function runsTableFor(basePath: string, resultsDir: string): RunsTable | null {
  const rel = (path: string) => relative(resultsDir, path);
  const sidecar = readJson(`${basePath}.runs.json`);
  if (Array.isArray(sidecar)) {
    return tableOf(rel(`${basePath}.runs.json`), sidecar as Record<string, unknown>[]);
  }
  const owner = dirname(dirname(basePath));
  const sweep = readJson(join(owner, "sweep.json")) as { runs?: Record<string, unknown>[] };
  if (sweep && Array.isArray(sweep.runs)) {
    return tableOf(rel(join(owner, "sweep.json")), sweep.runs, [
      "label",
      "status",
      "seconds",
      "uid",
      "error",
    ]);
  }
  const metrics = readJson(join(owner, "metrics.json"));
  if (metrics && typeof metrics === "object") {
    return tableOf(
      rel(join(owner, "metrics.json")),
      [metrics as Record<string, unknown>],
      RUN_COLUMNS,
    );
  }
  return null;
}

function titleOf(spec: unknown, fallback: string): string {
  const title = (spec as { title?: unknown })?.title;
  if (typeof title === "string") return title;
  if (title && typeof title === "object" && "text" in title) {
    const text = (title as { text: unknown }).text;
    return Array.isArray(text) ? text.join(" ") : String(text);
  }
  return fallback;
}

function* walk(dir: string): Generator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith(".") || entry.name.startsWith("_")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile && entry.name.endsWith(".vl.json")) yield path;
  }
}

/**
 * Every `*.vl.json` under `resultsDir` (hidden and `_` directories skipped), sections ordered
 * so that sweep-level figures come before the figures of single runs.
 *
 * @example
 * ```ts
 * for (const figure of collectFigures("results")) console.log(figure.section, figure.name);
 * ```
 */
export function collectFigures(resultsDir: string): GalleryFigure[] {
  const figures: GalleryFigure[] = [];
  for (const path of walk(resultsDir)) {
    const basePath = path.slice(0, -".vl.json".length);
    const name = basename(basePath);
    const directory = dirname(basePath);
    const owner = basename(directory) === "figures" ? dirname(directory) : directory;
    const section = relative(resultsDir, owner) || ".";
    const url = (p: string) => relative(resultsDir, p).split("/").map(encodeURIComponent).join("/");
    let png: string | null = `${basePath}.png`;
    try {
      Deno.statSync(png);
    } catch {
      png = null;
    }
    figures.push({
      id: `figure-${figures.length + 1}`,
      title: titleOf(readJson(path), name),
      name,
      section,
      specUrl: url(path),
      pngUrl: png ? url(png) : null,
      runs: runsTableFor(basePath, resultsDir),
    });
  }
  // Sections with fewer path components (sweeps) first; stable otherwise.
  const depth = (section: string) => (section === "." ? 0 : section.split("/").length);
  return figures
    .map((figure, order) => ({ figure, order }))
    .sort((a, b) =>
      depth(a.figure.section) - depth(b.figure.section) ||
      a.figure.section.localeCompare(b.figure.section) || a.order - b.order
    )
    .map(({ figure }, i) => ({ ...figure, id: `figure-${i + 1}` }));
}
