/**
 * Show saved figures inline in a Jupyter notebook on the Deno kernel.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * Largest Vega-Lite spec (bytes of JSON) put into a display bundle. Larger ones are left out
 * (the PNG stays): the Deno kernel drops iopub messages of a megabyte and more when they come
 * faster than the client reads them, and a partly dropped message is the Jupyter client's
 * `ValueError: Invalid Signature` (see tests/notebooks_display_test.ts).
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
  const specText = Deno.readTextFileSync(`${basePath}.vl.json`);
  const spec = JSON.parse(specText);
  const bundle: Record<string, unknown> = {
    "image/png": Buffer.from(Deno.readFileSync(`${basePath}.png`)).toString("base64"),
    "text/plain": `figure ${basePath}.{vl.json,svg,png}`,
  };
  if (specText.length <= FIGURE_BUNDLE_SPEC_LIMIT) bundle[vegaLiteMimeType(spec)] = spec;
  return bundle;
}

/**
 * Display one or more saved figures in the current notebook cell (no-op outside Jupyter).
 *
 * @example
 * ```ts
 * await showFigures(sweep.figures.dilation_vs_memorization);
 * ```
 */
export async function showFigures(...basePaths: string[]): Promise<void> {
  let jupyter: { display(bundle: unknown, options: { raw: boolean }): Promise<void> } | undefined;
  try {
    // Outside the Jupyter kernel, reading Deno.jupyter throws.
    jupyter = (Deno as unknown as { jupyter?: typeof jupyter }).jupyter;
  } catch {
    jupyter = undefined;
  }
  for (const basePath of basePaths) {
    if (jupyter) await jupyter.display(figureBundle(basePath), { raw: true });
    else console.log(`figure: ${basePath}.png`);
  }
}
