/**
 * The gallery's browser scripts: vega, vega-lite and vega-embed copied from the pinned npm
 * packages beside the page, so the gallery needs no CDN and no network.
 *
 * @module
 */
import { join } from "node:path";
import { VEGA_SCRIPTS, vegaScriptPath } from "../figures/vega_scripts.ts";

export { packageRoot, VEGA_EMBED_VERSION } from "../figures/vega_scripts.ts";

/** The browser scripts the gallery page loads, in load order (vega-embed needs the other two). */
export const GALLERY_SCRIPTS: typeof VEGA_SCRIPTS = VEGA_SCRIPTS;

/**
 * Copy the browser scripts into `dir` (e.g. `results/_gallery`), returning their file names.
 *
 * @example
 * ```ts
 * await copyGalleryScripts("results/_gallery");
 * ```
 */
export async function copyGalleryScripts(dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  for (const script of GALLERY_SCRIPTS) {
    await Deno.copyFile(vegaScriptPath(script), join(dir, script.name));
  }
  return GALLERY_SCRIPTS.map((script) => script.name);
}
