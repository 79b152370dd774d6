/**
 * The results gallery: `results/index.html` embeds every saved figure interactively with
 * vega-embed (vega, vega-lite and vega-embed copied from the pinned npm packages: no CDN), each
 * with the table of runs it came from; served on localhost by `deno task gallery`.
 *
 * @example
 * ```ts
 * import { buildGallery, serveGallery } from "./mod.ts";
 * await buildGallery("results");
 * const server = await serveGallery("results", { port: 8000 });
 * console.log(`open ${server.url}`);
 * ```
 *
 * @module
 */
export * from "./assets.ts";
export * from "./collect.ts";
export * from "./html.ts";
export * from "./serve.ts";
