/**
 * Headless rendering of Vega-Lite specs to SVG and PNG, and saving figures to disk.
 *
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import { dirname } from "node:path";
import { writeFileAtomic } from "../io/atomic.ts";
import { FONT_FAMILY } from "./theme.ts";

/**
 * Options controlling how compile-time and run-time diagnostics are reported.
 *
 * @example
 * ```ts
 * import type { TopLevelSpec } from "vega-lite";
 * const warnings: string[] = [];
 * const spec: TopLevelSpec = { data: { values: [{ a: 1 }] }, mark: "point" };
 * const svg = await renderSvg(spec, { onWarning: (message) => warnings.push(message) });
 * ```
 */
export interface RenderOptions {
  /**
   * Receives every warning from vega-lite's compiler and from the vega runtime.
   * Defaults to `console.warn`.
   */
  onWarning?: (message: string) => void;
}

/**
 * Paths of the three files written by {@link saveFigure}.
 *
 * @example
 * ```ts
 * import type { TopLevelSpec } from "vega-lite";
 * const spec: TopLevelSpec = { data: { values: [{ a: 1 }] }, mark: "point" };
 * const { png }: SavedFigure = await saveFigure(spec, "results/figures/example");
 * ```
 */
export interface SavedFigure {
  /** `basePath.vl.json`: the Vega-Lite spec with its data inline. */
  vlJson: string;
  /** `basePath.svg` */
  svg: string;
  /** `basePath.png` */
  png: string;
}

/**
 * Compile a Vega-Lite spec and render it to an SVG string without a browser.
 * Errors logged by vega-lite or vega make the promise reject; warnings go to `onWarning`.
 *
 * @example
 * ```ts
 * const svg = await renderSvg({ data: { values: [{ a: 1 }] }, mark: "point" });
 * ```
 */
export async function renderSvg(spec: TopLevelSpec, options: RenderOptions = {}): Promise<string> {
  const onWarning = options.onWarning ?? ((message: string) => console.warn(message));
  const errors: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (method, _level, args) => {
    const message = args.map(String).join(" ");
    if (method === "error") errors.push(message);
    else onWarning(message);
  });
  const vegaSpec = vl.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(vegaSpec), { renderer: "none", logger });
  try {
    const svg = await view.toSVG();
    if (errors.length > 0) throw new Error(`vega rendering failed: ${errors.join("; ")}`);
    return svg;
  } finally {
    view.finalize();
  }
}

/**
 * Rasterise an SVG string to PNG bytes with resvg, using the installed system fonts.
 * `scale` multiplies the SVG's pixel size (2 gives a sharp image for papers and screens).
 *
 * @example
 * ```ts
 * const png = renderPng(await renderSvg({ data: { values: [{ a: 1 }] }, mark: "point" }), 2);
 * ```
 */
export function renderPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY },
  });
  const png = resvg.render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/**
 * Render a spec and write `basePath.vl.json`, `basePath.svg` and `basePath.png`, creating the
 * directory. Each file is written under a temporary name and renamed, so readers never see a
 * partial figure. The spec must carry its data inline (no `url`), so the JSON is self-contained.
 *
 * @example
 * ```ts
 * import type { TopLevelSpec } from "vega-lite";
 * const spec: TopLevelSpec = { data: { values: [{ a: 1 }] }, mark: "point" };
 * const paths = await saveFigure(spec, "results/run1/example");
 * console.log(paths.png); // results/run1/example.png
 * ```
 */
export async function saveFigure(
  spec: TopLevelSpec,
  basePath: string,
  options: RenderOptions & { scale?: number } = {},
): Promise<SavedFigure> {
  assertInlineData(spec);
  const svg = await renderSvg(spec, options);
  const png = renderPng(svg, options.scale);
  await Deno.mkdir(dirname(basePath), { recursive: true });
  const paths: SavedFigure = {
    vlJson: `${basePath}.vl.json`,
    svg: `${basePath}.svg`,
    png: `${basePath}.png`,
  };
  await writeFileAtomic(paths.vlJson, JSON.stringify(spec, null, 2) + "\n");
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.png, png);
  return paths;
}

/** Throw if any `data` in the spec (at any depth, e.g. in layers or lookups) is loaded by url. */
function assertInlineData(spec: unknown): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "data" && value !== null && typeof value === "object" && "url" in value) {
        throw new Error("saveFigure needs inline data values; found a data url in the spec");
      }
      visit(value);
    }
  };
  visit(spec);
}
