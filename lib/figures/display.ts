/**
 * Show saved figures inline in a Jupyter notebook on the Deno kernel.
 *
 * @module
 */
import { Buffer } from "node:buffer";

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
