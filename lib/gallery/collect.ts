/**
 * Find every saved figure under a results directory, grouped by experiment, with the
 * configuration and key metrics of the runs it came from and links to their tables.
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { READER_COLUMNS } from "../results/mod.ts";
import { isRunDirectory, RUN_FILES } from "../runs/files.ts";

/** The runs behind a figure, as a small table. */
export interface RunsTable {
  /** Where the table was read from (relative to the results directory). */
  source: string;
  columns: string[];
  rows: (string | number | boolean | null)[][];
  /** Each row's values of the gallery's filters (dataset, loss, noise, seed), where it has them. */
  rowFacets: Partial<Record<keyof FigureFacets, string>>[];
}

/** The values a figure can be filtered by (each: the values among its runs). */
export interface FigureFacets {
  dataset: string[];
  loss: string[];
  noise: string[];
  seed: string[];
}

/** A link shown next to a figure or an experiment. */
export interface GalleryLink {
  label: string;
  /** URL relative to the gallery page. */
  url: string;
}

/** One figure of the gallery. */
export interface GalleryFigure {
  /** HTML id, unique in the page. */
  id: string;
  /** The figure's title (from its spec) or its file name. */
  title: string;
  /** Base name, e.g. `dilation_vs_memorization`. */
  name: string;
  /** The directory the figure belongs to (a sweep or a run), relative to the results directory. */
  section: string;
  /** Experiment: the first directory of `section` (`.` for figures at the top). */
  experiment: string;
  /** The run's configuration in words for a single run's figure, else null. */
  runLabel: string | null;
  /** The Vega-Lite spec, written to its own script file that the page loads on demand. */
  spec: unknown;
  /** URLs (relative to the gallery page) of the spec and the PNG. */
  specUrl: string;
  pngUrl: string | null;
  runs: RunsTable | null;
  facets: FigureFacets;
  /** Parquet tables of the figure's directory. */
  tables: GalleryLink[];
}

/** Columns of a figure's runs table: what a reader looks for (uids head the run sections). */
const RUN_COLUMNS = READER_COLUMNS.filter((name) => !/_mean$|^seeds$/.test(name));

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

/** The column each filter of the gallery reads. */
const FACET_COLUMNS: Record<keyof FigureFacets, string> = {
  dataset: "dataset",
  loss: "loss",
  noise: "label_noise",
  seed: "seed",
};

function tableOf(source: string, records: Record<string, unknown>[], columns?: string[]) {
  const names = columns ??
    [...new Set(records.flatMap((record) => Object.keys(record)))];
  // A switch that is off in every run says nothing: left out, like columns without values.
  const present = names.filter((name) =>
    records.some((record) => record[name] != null && record[name] !== false)
  );
  return {
    source,
    columns: present,
    rows: records.map((record) => present.map((name) => cell(record[name]))),
    rowFacets: records.map((record) =>
      Object.fromEntries(
        Object.entries(FACET_COLUMNS).flatMap(([facet, column]) =>
          record[column] == null ? [] : [[facet, String(record[column])]]
        ),
      )
    ),
  };
}

/** A run's configuration (`args.json`) merged with its metrics (`metrics.json`), or null. */
function runRecord(dir: string): Record<string, unknown> | null {
  const args = readJson(join(dir, RUN_FILES.args));
  const metrics = readJson(join(dir, RUN_FILES.summary));
  if (!metrics || typeof metrics !== "object") return null;
  return { ...(args && typeof args === "object" ? args : {}), ...metrics, uid: basename(dir) };
}

/** The run directories behind `owner`: its sweep's runs, or itself when it is a run. */
function runDirs(owner: string): string[] {
  const sweep = readJson(join(owner, "sweep.json")) as { runs?: { dir?: unknown }[] };
  if (sweep && Array.isArray(sweep.runs)) {
    return sweep.runs.flatMap((run) =>
      typeof run.dir === "string" ? [isAbsolute(run.dir) ? run.dir : join(owner, run.dir)] : []
    );
  }
  return [owner];
}

function records(basePath: string): { source: string; rows: Record<string, unknown>[] } | null {
  const sidecar = readJson(`${basePath}.runs.json`);
  if (Array.isArray(sidecar)) return { source: `${basePath}.runs.json`, rows: sidecar };
  const owner = dirname(dirname(basePath));
  const rows = runDirs(owner).flatMap((dir) => {
    const record = runRecord(dir);
    return record ? [record] : [];
  });
  if (rows.length === 0) return null;
  const source = rows.length === 1 && runDirs(owner)[0] === owner
    ? join(owner, RUN_FILES.summary)
    : join(owner, "sweep.json");
  return { source, rows };
}

/**
 * The runs a figure came from: `<figure>.runs.json` next to it (a list of row objects) when a
 * notebook wrote one; else, for the directory above `figures/`, the runs of its `sweep.json`
 * or the run itself, each as its configuration (`args.json`) and metrics (`metrics.json`):
 * configuration columns first, then test accuracy, NC1, dilation and memorization.
 *
 * @example
 * ```ts
 * const table = runsTableFor("results/md/figures/nc1_vs_noise", "results");
 * ```
 */
export function runsTableFor(basePath: string, resultsDir: string): RunsTable | null {
  const found = records(basePath);
  if (!found) return null;
  const source = relative(resultsDir, found.source);
  return found.source.endsWith(".runs.json")
    ? tableOf(source, found.rows)
    : tableOf(source, found.rows, RUN_COLUMNS);
}

function facetsOf(rows: Record<string, unknown>[]): FigureFacets {
  const values = (key: string) =>
    [...new Set(rows.flatMap((row) => (row[key] == null ? [] : [String(row[key])])))].sort();
  return {
    dataset: values("dataset"),
    loss: values("loss"),
    noise: values("label_noise"),
    seed: values("seed"),
  };
}

/**
 * A run's configuration in words, e.g. `fashionmnist · LS · noise 0.2 · seed 1`.
 *
 * @example
 * ```ts
 * runLabel({ dataset: "mnist", loss: "LS", label_noise: 0.2, seed: 1 });
 * // "mnist · LS · noise 0.2 · seed 1"
 * ```
 */
export function runLabel(config: Record<string, unknown>): string {
  const parts = [
    config.dataset,
    config.model !== "MLP" ? config.model : undefined,
    config.loss,
    config.label_noise != null ? `noise ${config.label_noise}` : undefined,
    config.fourclass_problem ? `degree ${config.fc_noise_degree}` : undefined,
    config.seed != null ? `seed ${config.seed}` : undefined,
  ];
  return parts.filter((part) => part != null && part !== "").join(" · ");
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

function* walk(dir: string, suffix: string): Generator<string> {
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
    if (entry.isDirectory) yield* walk(path, suffix);
    else if (entry.isFile && entry.name.endsWith(suffix)) yield path;
  }
}

/** A path under the results directory as a URL relative to the gallery page. */
function urlOf(resultsDir: string, path: string): string {
  return relative(resultsDir, path).split("/").map(encodeURIComponent).join("/");
}

/** The Parquet tables directly in `dir`. */
function tablesIn(resultsDir: string, dir: string): GalleryLink[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((entry) => entry.isFile && entry.name.endsWith(".parquet"))
      .map((entry) => entry.name).sort()
      .map((name) => ({ label: name, url: urlOf(resultsDir, join(dir, name)) }));
  } catch {
    return [];
  }
}

/**
 * The executed notebooks under `resultsDir` (`*.ipynb`, with their `.html` export when one
 * exists), as links for the gallery page.
 *
 * @example
 * ```ts
 * for (const link of collectNotebooks("results")) console.log(link.label, link.url);
 * ```
 */
export function collectNotebooks(resultsDir: string): GalleryLink[] {
  const links: GalleryLink[] = [];
  for (const path of walk(resultsDir, ".ipynb")) {
    if (path.endsWith(".failed.ipynb")) continue;
    links.push({ label: relative(resultsDir, path), url: urlOf(resultsDir, path) });
    const html = path.replace(/\.ipynb$/, ".html");
    try {
      Deno.statSync(html);
      links.push({ label: `${relative(resultsDir, html)}`, url: urlOf(resultsDir, html) });
    } catch {
      // not exported
    }
  }
  return links;
}

/**
 * Every `*.vl.json` under `resultsDir` (hidden and `_` directories skipped), grouped by
 * experiment (the first directory); in each, the experiment's own figures come before the
 * figures of its single runs.
 *
 * @example
 * ```ts
 * for (const figure of collectFigures("results")) console.log(figure.experiment, figure.name);
 * ```
 */
export function collectFigures(resultsDir: string): GalleryFigure[] {
  const figures: GalleryFigure[] = [];
  for (const path of walk(resultsDir, ".vl.json")) {
    const basePath = path.slice(0, -".vl.json".length);
    const name = basename(basePath);
    const directory = dirname(basePath);
    const owner = basename(directory) === "figures" ? dirname(directory) : directory;
    const section = relative(resultsDir, owner) || ".";
    const png = `${basePath}.png`;
    let hasPng = true;
    try {
      Deno.statSync(png);
    } catch {
      hasPng = false;
    }
    const spec = readJson(path);
    const found = records(basePath);
    const isRun = isRunDirectory(owner);
    figures.push({
      id: "",
      title: titleOf(spec, name),
      name,
      section,
      experiment: section.split("/")[0],
      runLabel: isRun && found ? runLabel(found.rows[0]) : null,
      spec,
      specUrl: urlOf(resultsDir, path),
      pngUrl: hasPng ? urlOf(resultsDir, png) : null,
      runs: runsTableFor(basePath, resultsDir),
      facets: facetsOf(found?.rows ?? []),
      tables: tablesIn(resultsDir, owner),
    });
  }
  // By experiment; in each, sections with fewer path components (sweeps) first; stable otherwise.
  const depth = (section: string) => (section === "." ? 0 : section.split("/").length);
  return figures
    .map((figure, order) => ({ figure, order }))
    .sort((a, b) =>
      a.figure.experiment.localeCompare(b.figure.experiment) ||
      depth(a.figure.section) - depth(b.figure.section) ||
      a.figure.section.localeCompare(b.figure.section) || a.order - b.order
    )
    .map(({ figure }, i) => ({ ...figure, id: `figure-${i + 1}` }));
}
