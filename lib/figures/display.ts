/**
 * Show saved figures and tables inline in a Jupyter notebook on the Deno kernel.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import type { DataFrame } from "../results/mod.ts";
import { VEGA_SCRIPTS, vegaScriptPath } from "./vega_scripts.ts";

/**
 * Largest Vega-Lite spec (characters of compact JSON) put into a display bundle; larger ones
 * are left out and the PNG stays. Executed notebooks stay small (a thinned scatter of 1,500
 * points is about 240 kB), and so do the kernel's messages.
 */
export const FIGURE_BUNDLE_SPEC_LIMIT = 400_000;

/**
 * The Jupyter MIME type of a Vega-Lite spec, from the major version in its `$schema`
 * (`.../vega-lite/v6.json` → `application/vnd.vegalite.v6+json`).
 *
 * @example
 * ```ts
 * vegaLiteMimeType({ $schema: "https://vega.github.io/schema/vega-lite/v6.json" });
 * // "application/vnd.vegalite.v6+json"
 * ```
 */
export function vegaLiteMimeType(spec: { $schema?: string }): string {
  const major = /vega-lite\/v(\d+)/.exec(spec.$schema ?? "")?.[1];
  if (!major) throw new Error(`not a Vega-Lite spec: $schema is ${spec.$schema}`);
  return `application/vnd.vegalite.v${major}+json`;
}

/** Whether this kernel session has sent the browser scripts (vega, vega-lite, vega-embed). */
let scriptsSent = false;

/** The three browser scripts, gzipped and base64-encoded (about 380 kB instead of 1.2 MB). */
let packedScripts: string | undefined;

/**
 * The browser scripts as one inline `<script>` that unpacks them (gzip, with the browser's
 * DecompressionStream) and runs them with `define`, `exports` and `module` hidden, so that their
 * UMD wrappers set globals even where the page has RequireJS (the classic Notebook). It leaves
 * `window.memdilVega`, a promise of vega-embed, for the figures.
 */
function inlineScripts(): string {
  packedScripts ??= gzipSync(
    VEGA_SCRIPTS.map((script) => Deno.readTextFileSync(vegaScriptPath(script))).join(";\n"),
    { level: 9 },
  ).toString("base64");
  return `<script>(function () {
  if (window.memdilVega) return;
  window.memdilVega = (async function () {
    var bytes = Uint8Array.from(atob("${packedScripts}"), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    var source = await new Response(stream).text();
    new Function("define", "exports", "module", source).call(window);
    return window.vegaEmbed;
  })();
})();</script>`;
}

/**
 * The HTML output of a figure: the PNG, replaced by the interactive chart once vega-embed renders
 * the spec. The first figure of a kernel session carries vega, vega-lite and vega-embed from the
 * pinned npm packages (packed, about 380 kB; no CDN); later ones use them. Where scripts do not
 * run (an untrusted notebook, GitHub's viewer) the PNG stays.
 */
function figureHtml(spec: unknown, png: string, alt: string): string {
  const id = `memdil-figure-${crypto.randomUUID()}`;
  const scripts = scriptsSent ? "" : inlineScripts();
  scriptsSent = true;
  const json = JSON.stringify(spec).replace(/<\//g, "<\\/");
  return `<div id="${id}"><img src="data:image/png;base64,${png}" alt="${escapeHtml(alt)}"></div>` +
    scripts +
    `<script>(function () {
  var el = document.getElementById(${JSON.stringify(id)});
  var ready = window.memdilVega ||
    (typeof window.vegaEmbed === "function" ? Promise.resolve(window.vegaEmbed) : null);
  if (!el || !ready) return;
  var target = document.createElement("div");
  ready.then(function (vegaEmbed) {
    return vegaEmbed(target, ${json}, { actions: { export: true, source: false,
      compiled: false, editor: false } });
  }).then(function () { el.replaceChildren(target); })
    .catch(function (e) { console.error("memdil figure:", e); });
})();</script>`;
}

/**
 * A Jupyter display bundle for a figure saved by `saveFigure`: an HTML output that shows the
 * figure interactively in the classic Notebook, VS Code and `jupyter nbconvert --to html` (the
 * spec, rendered by vega-embed), holding the PNG, which shows until the chart renders and stays
 * where scripts do not run and in HTML exports. A spec larger than
 * {@link FIGURE_BUNDLE_SPEC_LIMIT} is left out (the PNG alone, as `image/png`). The SVG stays on
 * disk (it is the largest of the three).
 *
 * @example
 * ```ts
 * // In a notebook cell:
 * Deno.jupyter.display(figureBundle("../results/run/figures/features_train"), { raw: true });
 * ```
 */
export function figureBundle(basePath: string): Record<string, unknown> {
  const spec = JSON.parse(Deno.readTextFileSync(`${basePath}.vl.json`));
  vegaLiteMimeType(spec); // a Vega-Lite spec, or an error naming the file's $schema
  const png = Buffer.from(Deno.readFileSync(`${basePath}.png`)).toString("base64");
  const text = `figure ${basePath}.{vl.json,svg,png}`;
  // The PNG goes once: inside the HTML output (front ends and nbconvert's HTML show it until
  // the chart renders), or on its own for a spec too large to embed.
  if (JSON.stringify(spec).length > FIGURE_BUNDLE_SPEC_LIMIT) {
    return { "image/png": png, "text/plain": text };
  }
  const alt = basePath.split("/").at(-1) ?? "figure";
  return { "text/html": figureHtml(spec, png, alt), "text/plain": text };
}

type JupyterDisplay = { display(bundle: unknown, options: { raw: boolean }): Promise<void> };

/** The Deno kernel's Jupyter API, or undefined outside it (where reading it throws). */
function jupyterDisplay(): JupyterDisplay | undefined {
  try {
    return (Deno as unknown as { jupyter?: JupyterDisplay }).jupyter;
  } catch {
    return undefined;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Rows shown before a long table is cut in the middle (the first and last half of them). */
export const TABLE_ROWS_SHOWN = 40;

/**
 * A table cell: integers as integers, other numbers to 4 significant digits, null, undefined and
 * NaN as `n/a`.
 */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return "n/a";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "n/a";
    return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
  }
  if (typeof value === "bigint") return String(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * A DataFrame as an HTML table (what {@link showTable} displays): its shape first (rows x
 * columns), integer columns as integers, other numbers to 4 significant digits, missing values
 * (null) as `n/a`; a table longer than {@link TABLE_ROWS_SHOWN} rows shows its first and last
 * rows and says how many are left out.
 *
 * @example
 * ```ts
 * import { rowsToFrame } from "../results/mod.ts";
 * tableHtml(rowsToFrame([{ loss: "LS", seed: 42, test_acc_pct: 91.2345 }]));
 * // <p ...>1 row x 3 columns</p><table ...><tr><th>loss</th>...<td>42</td><td>91.23</td>
 * ```
 */
export function tableHtml(frame: DataFrame, maxRows = TABLE_ROWS_SHOWN): string {
  const [height, width] = [frame.height, frame.width];
  const records = frame.toRecords() as Record<string, unknown>[];
  const cut = height > maxRows;
  const half = Math.ceil(maxRows / 2);
  const shown = cut ? [...records.slice(0, half), undefined, ...records.slice(-half)] : records;
  const head = frame.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const rows = shown.map((row) =>
    row === undefined
      ? `<tr><td colspan="${width}" style="text-align:center">… ${
        height - 2 * half
      } rows left out …</td></tr>`
      : `<tr>${
        frame.columns.map((c) =>
          `<td style="text-align:${typeof row[c] === "string" ? "left" : "right"}">${
            escapeHtml(cellText(row[c]))
          }</td>`
        ).join("")
      }</tr>`
  ).join("");
  const shape = `${height} row${height === 1 ? "" : "s"} x ${width} column${
    width === 1 ? "" : "s"
  }`;
  return `<p class="memdil-table-shape">${shape}</p>` +
    `<table class="memdil-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * Show a table in the current notebook cell as HTML (with the plain-text table as the fallback);
 * outside Jupyter, print the plain-text table.
 *
 * @example
 * ```ts
 * import { summaryTable } from "../sweep/seed_summary.ts";
 * import type { SweepResult } from "../sweep/sweep.ts";
 * declare const sweep: SweepResult;
 * await showTable(summaryTable(sweep.overSeeds, ["loss", "label_noise", "test_acc_mean"]));
 * ```
 */
export async function showTable(frame: DataFrame): Promise<void> {
  const jupyter = jupyterDisplay();
  if (!jupyter) {
    console.log(frame.toString());
    return;
  }
  await jupyter.display({ "text/html": tableHtml(frame), "text/plain": frame.toString() }, {
    raw: true,
  });
}

/**
 * Display one or more saved figures in the current notebook cell (no-op outside Jupyter).
 *
 * @example
 * ```ts
 * import type { NoiseSweepResult } from "../paper/experiments.ts";
 * declare const sweep: NoiseSweepResult;
 * await showFigures(sweep.figures.dilation_vs_memorization);
 * ```
 */
export async function showFigures(...basePaths: string[]): Promise<void> {
  const jupyter = jupyterDisplay();
  for (const basePath of basePaths) {
    if (jupyter) await jupyter.display(figureBundle(basePath), { raw: true });
    else console.log(`figure: ${basePath}.png`);
  }
}
