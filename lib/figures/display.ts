/**
 * Show saved figures and tables inline in a Jupyter notebook on the Deno kernel.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { DataFrame } from "../results/mod.ts";

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

/**
 * A Jupyter display bundle for a figure saved by `saveFigure`: the PNG, which every front end
 * and `jupyter nbconvert --to html` show, and the interactive Vega-Lite spec under its version's
 * MIME type (JupyterLab renders it) unless it is larger than {@link FIGURE_BUNDLE_SPEC_LIMIT}.
 * The SVG stays on disk only (nbconvert drops it and it is the largest of the three).
 *
 * @example
 * ```ts
 * // In a notebook cell:
 * Deno.jupyter.display(figureBundle("../results/run/figures/features_train"), { raw: true });
 * ```
 */
export function figureBundle(basePath: string): Record<string, unknown> {
  const spec = JSON.parse(Deno.readTextFileSync(`${basePath}.vl.json`));
  const bundle: Record<string, unknown> = {
    "image/png": Buffer.from(Deno.readFileSync(`${basePath}.png`)).toString("base64"),
    "text/plain": `figure ${basePath}.{vl.json,svg,png}`,
  };
  if (JSON.stringify(spec).length <= FIGURE_BUNDLE_SPEC_LIMIT) {
    bundle[vegaLiteMimeType(spec)] = spec;
  }
  return bundle;
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

/** A table cell: integers as integers, other numbers to 4 significant digits, null as `–`. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/**
 * A DataFrame as an HTML table (what {@link showTable} displays): integer columns as integers,
 * other numbers to 4 significant digits, missing values (null) as `–`.
 *
 * @example
 * ```ts
 * import { rowsToFrame } from "../results/mod.ts";
 * tableHtml(rowsToFrame([{ loss: "LS", seed: 42, test_acc: 0.912345 }]));
 * // <table ...><tr><th>loss</th><th>seed</th><th>test_acc</th></tr>...<td>42</td><td>0.9123</td>
 * ```
 */
export function tableHtml(frame: DataFrame): string {
  const head = frame.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const rows = (frame.toRecords() as Record<string, unknown>[]).map((row) =>
    `<tr>${
      frame.columns.map((c) =>
        `<td style="text-align:${typeof row[c] === "string" ? "left" : "right"}">${
          escapeHtml(cellText(row[c]))
        }</td>`
      ).join("")
    }</tr>`
  ).join("");
  return `<table class="memdil-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * Show a table in the current notebook cell as HTML (with the plain-text table as the fallback);
 * outside Jupyter, print the plain-text table.
 *
 * @example
 * ```ts
 * import { summaryTable } from "../sweep/summary.ts";
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
 * import type { NoiseSweepResult } from "../paper/noise_sweep.ts";
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
