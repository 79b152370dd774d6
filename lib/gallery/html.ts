/**
 * The gallery page: every figure embedded interactively with vega-embed (scripts served from the
 * results directory itself), each with the table of runs it came from.
 *
 * @module
 */
import { FONT_FAMILY } from "../figures/theme.ts";
import { GALLERY_SCRIPTS } from "./assets.ts";
import type { GalleryFigure, RunsTable } from "./collect.ts";

/** Directory (inside the results directory) holding the gallery's scripts. */
export const ASSETS_DIR = "_gallery";

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function formatCell(value: string | number | boolean | null): string {
  if (value === null) return "";
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
  }
  return escapeHtml(String(value));
}

function runsTableHtml(table: RunsTable): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = table.rows.map((row) =>
    `<tr>${row.map((value) => `<td>${formatCell(value)}</td>`).join("")}</tr>`
  ).join("");
  return `<details class="runs"><summary>${table.rows.length} run${
    table.rows.length === 1 ? "" : "s"
  } (${escapeHtml(table.source)})</summary><table><thead><tr>${head}</tr></thead>` +
    `<tbody>${body}</tbody></table></details>`;
}

function figureHtml(figure: GalleryFigure): string {
  const links = [
    `<a href="${figure.specUrl}">spec</a>`,
    ...(figure.pngUrl ? [`<a href="${figure.pngUrl}">png</a>`] : []),
  ].join(" · ");
  return `<figure class="figure" data-name="${escapeHtml(figure.name)}">` +
    `<figcaption><strong>${escapeHtml(figure.title)}</strong> <span class="links">${links}` +
    `</span></figcaption><div class="chart" id="${figure.id}" data-spec="${figure.specUrl}">` +
    `</div>${figure.runs ? runsTableHtml(figure.runs) : ""}</figure>`;
}

/**
 * The complete HTML page. The script embeds the figures one after the other (SVG renderer, so
 * every mark is in the DOM), marks each chart `data-rendered="true"` or `data-error="..."`, and
 * sets `data-gallery-done` on the body at the end.
 *
 * @example
 * ```ts
 * const html = galleryHtml(collectFigures("results"), { title: "memdil results" });
 * ```
 */
export function galleryHtml(
  figures: GalleryFigure[],
  options: { title?: string; generated?: string } = {},
): string {
  const title = options.title ?? "memdil results";
  const sections = [...new Set(figures.map((f) => f.section))];
  const toc = sections.map((section, i) =>
    `<li><a href="#section-${i + 1}">${escapeHtml(section)}</a> (${
      figures.filter((f) => f.section === section).length
    })</li>`
  ).join("");
  const body = sections.map((section, i) =>
    `<section id="section-${i + 1}"><h2>${escapeHtml(section)}</h2>${
      figures.filter((f) => f.section === section).map(figureHtml).join("")
    }</section>`
  ).join("");
  const scripts = GALLERY_SCRIPTS.map((s) => `<script src="${ASSETS_DIR}/${s.name}"></script>`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: "${FONT_FAMILY}", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; border-bottom: 1px solid #ddd; padding-top: 12px; }
.figure { margin: 18px 0 30px 0; }
figcaption { margin-bottom: 6px; } .links { font-size: 12px; color: #666; margin-left: 8px; }
.chart[data-error] { color: #d62728; white-space: pre-wrap; }
details.runs { font-size: 12px; margin-top: 6px; }
details.runs table { border-collapse: collapse; margin-top: 4px; }
details.runs td, details.runs th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
</style>
${scripts}
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${figures.length} figures${
    options.generated ? `, built ${escapeHtml(options.generated)}` : ""
  }. Hover points for details; click a legend entry to highlight its runs (shift-click for
several). Each figure lists the runs it came from.</p>
<ul class="toc">${toc}</ul>
${body}
<script>
(async () => {
  const charts = document.querySelectorAll(".chart");
  for (const chart of charts) {
    try {
      const response = await fetch(chart.dataset.spec);
      if (!response.ok) throw new Error("HTTP " + response.status + " for " + chart.dataset.spec);
      const spec = await response.json();
      await vegaEmbed(chart, spec, {
        renderer: "svg",
        actions: { export: true, source: true, compiled: false, editor: false },
      });
      chart.dataset.rendered = "true";
    } catch (error) {
      chart.dataset.error = String(error && error.message || error);
      chart.textContent = "could not render: " + chart.dataset.error;
    }
  }
  document.body.dataset.galleryDone = "true";
})();
</script>
</body>
</html>
`;
}
