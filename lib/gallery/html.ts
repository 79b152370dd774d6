/**
 * The gallery page: every figure embedded interactively with vega-embed, grouped by experiment,
 * with the runs it came from. The page holds no spec: each figure's spec is a script file of its
 * own (`_gallery/figures/<id>.js`), loaded when the figure scrolls into view, so the page opens
 * at once from disk (`file://`, where a page cannot fetch JSON) as well as served.
 *
 * @module
 */
import { FONT_FAMILY } from "../figures/theme.ts";
import { GALLERY_SCRIPTS } from "./assets.ts";
import type { GalleryFigure, GalleryLink, RunsTable } from "./collect.ts";

/** Directory (inside the results directory) holding the gallery's scripts. */
export const ASSETS_DIR = "_gallery";

/** Directory (inside {@link ASSETS_DIR}) holding one script per figure with its spec. */
export const FIGURES_DIR = "figures";

/**
 * The script file of one figure: it hands the spec to the page's `memdilFigure` when loaded.
 *
 * @example
 * ```ts
 * figureScript("figure-1", { mark: "point" }); // memdilFigure("figure-1", {"mark":"point"});
 * ```
 */
export function figureScript(id: string, spec: unknown): string {
  return `memdilFigure(${JSON.stringify(id)}, ${scriptJson(spec)});\n`;
}

/** URL (relative to the page) of a figure's script file. */
export function figureScriptUrl(id: string): string {
  return `${ASSETS_DIR}/${FIGURES_DIR}/${id}.js`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function formatCell(value: string | number | boolean | null): string {
  if (value === null) return "n/a";
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
  }
  return escapeHtml(String(value));
}

function runsTableHtml(table: RunsTable, className = "runs"): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = table.rows.map((row, i) => {
    const facets = Object.entries(table.rowFacets[i] ?? {}).map(([key, value]) =>
      ` data-${key}="${escapeHtml(value)}"`
    ).join("");
    return `<tr${facets}>${row.map((value) => `<td>${formatCell(value)}</td>`).join("")}</tr>`;
  }).join("");
  return `<div class="${className}"><div class="source">${table.rows.length} run${
    table.rows.length === 1 ? "" : "s"
  } (${escapeHtml(table.source)})</div><table><thead><tr>${head}</tr></thead>` +
    `<tbody>${body}</tbody></table></div>`;
}

function linksHtml(links: GalleryLink[]): string {
  return links.map((link) => `<a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a>`)
    .join(" · ");
}

/** JSON inside a <script> element: `<` escaped so no `</script>` can end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

function figureHtml(figure: GalleryFigure, showRuns = true): string {
  const links = linksHtml([
    { label: "spec", url: figure.specUrl },
    ...(figure.pngUrl ? [{ label: "png", url: figure.pngUrl }] : []),
    ...figure.tables,
  ]);
  const facets = Object.entries(figure.facets).map(([key, values]) =>
    ` data-${key}="${escapeHtml(values.join("|"))}"`
  ).join("");
  // The PNG shows until vega-embed replaces it, and stays when scripts cannot run.
  const fallback = figure.pngUrl
    ? `<img src="${escapeHtml(figure.pngUrl)}" alt="${escapeHtml(figure.title)}" loading="lazy">`
    : "";
  return `<figure class="figure" data-name="${escapeHtml(figure.name)}"${facets}>` +
    `<figcaption><strong>${escapeHtml(figure.title)}</strong> <span class="links">${links}` +
    `</span></figcaption><div class="body"><div class="chart" id="${figure.id}" data-src="${
      figureScriptUrl(figure.id)
    }">${fallback}</div>` +
    `${showRuns && figure.runs ? runsTableHtml(figure.runs) : ""}</div></figure>`;
}

function filterHtml(figures: GalleryFigure[]): string {
  const keys = ["dataset", "loss", "noise", "seed"] as const;
  return `<form class="filters">Show: ` + keys.map((key) => {
    const values = [...new Set(figures.flatMap((f) => f.facets[key]))]
      .sort((a, b) => (Number(a) - Number(b)) || a.localeCompare(b));
    const options = values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`)
      .join("");
    return `<label>${key} <select name="${key}"><option value="">all</option>${options}` +
      `</select></label>`;
  }).join(" ") + `</form>`;
}

function experimentHtml(experiment: string, index: number, figures: GalleryFigure[]): string {
  const own = figures.filter((f) => f.runLabel === null);
  // Figures of one sweep share its runs: their table is shown once, above them.
  const sources = new Set(own.map((f) => f.runs?.source ?? null));
  const shared = own.length > 1 && sources.size === 1 && own[0].runs ? own[0].runs : null;
  const runs = [...new Set(figures.filter((f) => f.runLabel !== null).map((f) => f.section))];
  const runHtml = runs.map((section) => {
    const inRun = figures.filter((f) => f.section === section);
    return `<section class="run"><h3>${escapeHtml(inRun[0].runLabel ?? section)} ` +
      `<span class="uid">${escapeHtml(section)}</span></h3>${
        inRun.map((f) => figureHtml(f)).join("")
      }</section>`;
  }).join("");
  return `<section class="experiment" id="experiment-${index}"><h2>${escapeHtml(experiment)}</h2>` +
    `${shared ? runsTableHtml(shared, "runs experiment-runs") : ""}${
      own.map((f) => figureHtml(f, !shared)).join("")
    }${runs.length ? `<h3 class="runs-heading">Single runs (${runs.length})</h3>` : ""}${runHtml}` +
    `</section>`;
}

/**
 * The complete HTML page: one section per experiment (the table of its runs once, its own
 * figures, then its single runs', each headed by its configuration), every figure with links to
 * its spec, PNG and Parquet tables; filters by dataset, loss, noise and seed that hide figures and
 * table rows alike (also from the page's query, `index.html?loss=LS&noise=0.2`); links to the
 * executed notebooks. A chart is rendered when it scrolls into view, from its spec's script file
 * (see {@link figureScript}), its PNG showing until then; `?render=all` renders every chart. The
 * script marks each chart `data-rendered="true"` or `data-error="..."`, and sets
 * `data-gallery-done` on the body once the charts in view (or all, with `?render=all`) rendered.
 *
 * @example
 * ```ts
 * import { collectFigures } from "./collect.ts";
 * const html = galleryHtml(collectFigures("results"), { title: "memdil results" });
 * ```
 */
export function galleryHtml(
  figures: GalleryFigure[],
  options: { title?: string; generated?: string; notebooks?: GalleryLink[] } = {},
): string {
  const title = options.title ?? "memdil results";
  const experiments = [...new Set(figures.map((f) => f.experiment))];
  const toc = experiments.map((experiment, i) =>
    `<li><a href="#experiment-${i + 1}">${escapeHtml(experiment)}</a> (${
      figures.filter((f) => f.experiment === experiment).length
    } figures)</li>`
  ).join("");
  const body = experiments.map((experiment, i) =>
    experimentHtml(experiment, i + 1, figures.filter((f) => f.experiment === experiment))
  ).join("");
  const notebooks = options.notebooks?.length
    ? `<p>Executed notebooks: ${linksHtml(options.notebooks)}</p>`
    : "";
  const scripts = GALLERY_SCRIPTS.map((s) => `<script src="${ASSETS_DIR}/${s.name}"></script>`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: "${FONT_FAMILY}", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-top: 12px; }
h3 { font-size: 15px; } .uid { font-size: 11px; color: #888; font-weight: normal; }
.figure { margin: 18px 0 30px 0; } .figure[hidden], .run[hidden] { display: none; }
figcaption { margin-bottom: 6px; } .links { font-size: 12px; color: #666; margin-left: 8px; }
.body { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.body > .chart { flex: 0 0 auto; } .body > .runs { flex: 1 1 420px; overflow-x: auto; }
.chart .vega-embed { width: auto; }
.chart img { max-width: 640px; }
.chart[data-error] { color: #d62728; white-space: pre-wrap; }
.runs { font-size: 12px; } .runs .source { color: #666; margin-bottom: 4px; }
.runs table { border-collapse: collapse; }
.runs td, .runs th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
.runs tr[hidden] { display: none; } .experiment-runs { margin: 8px 0 12px 0; }
.filters { margin: 12px 0; } .filters label { margin-right: 12px; }
</style>
${scripts}
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${figures.length} figures${
    options.generated ? `, built ${escapeHtml(options.generated)}` : ""
  }. Hover points for details; click a legend entry to highlight its runs (shift-click for
several). Each figure lists the runs it came from with their configuration and final metrics.</p>
${notebooks}
<ul class="toc">${toc}</ul>
${filterHtml(figures)}
${body}
<script>
(() => {
  // Filters: a figure stays visible when it has no value for a key or one of its values matches.
  const form = document.querySelector(".filters");
  const apply = () => {
    const wanted = Object.fromEntries([...form.querySelectorAll("select")].map((s) => [s.name, s.value]));
    for (const figure of document.querySelectorAll(".figure")) {
      figure.hidden = Object.entries(wanted).some(([key, value]) => {
        const values = figure.dataset[key];
        return value !== "" && values && !values.split("|").includes(value);
      });
    }
    for (const run of document.querySelectorAll(".run")) {
      run.hidden = [...run.querySelectorAll(".figure")].every((f) => f.hidden);
    }
    // Table rows follow the same filters as the figures.
    for (const row of document.querySelectorAll(".runs tbody tr")) {
      row.hidden = Object.entries(wanted).some(([key, value]) => {
        const own = row.dataset[key];
        return value !== "" && own !== undefined && own !== value;
      });
    }
  };
  form.addEventListener("change", apply);
  // A filtered view can be shared as a link: index.html?loss=LS&noise=0.2
  const query = new URLSearchParams(location.search);
  for (const select of form.querySelectorAll("select")) {
    const value = query.get(select.name);
    if (value === null) continue;
    // A value no figure has still filters (to nothing), so the link shows what it asks for.
    if (![...select.options].some((option) => option.value === value)) select.add(new Option(value, value));
    select.value = value;
  }
  apply();
})();
(() => {
  // Each figure's spec is a script of its own, loaded when the figure comes into view.
  const waiting = new Map();
  window.memdilFigure = (id, spec) => waiting.get(id)?.resolve(spec);
  const loadSpec = (chart) => new Promise((resolve, reject) => {
    waiting.set(chart.id, { resolve });
    const script = document.createElement("script");
    script.src = chart.dataset.src;
    script.onerror = () => reject(new Error("cannot load " + chart.dataset.src));
    document.head.appendChild(script);
  });
  const render = async (chart) => {
    if (chart.dataset.started) return;
    chart.dataset.started = "true";
    try {
      if (typeof vegaEmbed !== "function") throw new Error("vega-embed did not load");
      const spec = await loadSpec(chart);
      const fallback = chart.querySelector("img");
      await vegaEmbed(chart, spec, {
        renderer: "svg",
        actions: { export: true, source: true, compiled: false, editor: false },
      });
      if (fallback) fallback.remove();
      chart.dataset.rendered = "true";
    } catch (error) {
      chart.dataset.error = String(error && error.message || error);
    }
  };
  const charts = [...document.querySelectorAll(".chart")];
  if (new URLSearchParams(location.search).get("render") === "all" ||
      typeof IntersectionObserver !== "function") {
    Promise.all(charts.map(render)).then(() => { document.body.dataset.galleryDone = "true"; });
    return;
  }
  let first = true;
  const observer = new IntersectionObserver((entries) => {
    const visible = entries.filter((e) => e.isIntersecting).map((e) => e.target);
    visible.forEach((chart) => observer.unobserve(chart));
    const done = Promise.all(visible.map(render));
    if (first) {
      first = false;
      done.then(() => { document.body.dataset.galleryDone = "true"; });
    }
  }, { rootMargin: "400px" });
  charts.forEach((chart) => observer.observe(chart));
})();
</script>
</body>
</html>
`;
}
