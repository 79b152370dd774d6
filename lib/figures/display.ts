/**
 * Show saved figures inline in a Jupyter notebook on the Deno kernel.
 *
 * @module
 */

/**
 * A Jupyter display bundle for a figure saved by `saveFigure`: the interactive Vega-Lite spec
 * (JupyterLab renders it) with the SVG as the fallback every front end shows.
 *
 * @example
 * ```ts
 * // In a notebook cell:
 * Deno.jupyter.display(figureBundle("../results/run/figures/features_train"), { raw: true });
 * ```
 */
export function figureBundle(basePath: string): Record<string, unknown> {
  return {
    "application/vnd.vegalite.v5+json": JSON.parse(Deno.readTextFileSync(`${basePath}.vl.json`)),
    "image/svg+xml": Deno.readTextFileSync(`${basePath}.svg`),
    "text/plain": `figure ${basePath}.{vl.json,svg,png}`,
  };
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
