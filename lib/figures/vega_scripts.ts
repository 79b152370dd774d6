/**
 * The browser builds of vega, vega-lite and vega-embed, taken from the npm packages pinned in
 * deno.json: the gallery copies them beside its page, notebooks embed them in their first figure,
 * so no figure needs a CDN or the network.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// A real import keeps vega-embed in the module graph, so `deno install` and `deno run` fetch it.
import vegaEmbed from "vega-embed";

/** The browser scripts, in load order (vega-embed needs the other two). */
export const VEGA_SCRIPTS: readonly { name: string; package: string; file: string }[] = [
  { name: "vega.min.js", package: "vega", file: "build/vega.min.js" },
  { name: "vega-lite.min.js", package: "vega-lite", file: "build/vega-lite.min.js" },
  { name: "vega-embed.min.js", package: "vega-embed", file: "build/vega-embed.min.js" },
];

/** Version of vega-embed the figures are embedded with. */
export const VEGA_EMBED_VERSION: string = (vegaEmbed as unknown as { version: string }).version;

/**
 * The root directory of an npm package as Deno resolved it (in Deno's npm cache, or in a
 * node_modules directory).
 *
 * @example
 * ```ts
 * packageRoot("vega-embed"); // e.g. /root/.cache/deno/npm/registry.npmjs.org/vega-embed/7.3.0
 * ```
 */
export function packageRoot(name: string): string {
  const resolved = import.meta.resolve(name);
  if (!resolved.startsWith("file:")) {
    throw new Error(
      `npm package ${name} is not installed (resolved to ${resolved}); run ./scripts/setup.sh ` +
        `or deno install`,
    );
  }
  let dir = dirname(fileURLToPath(resolved));
  while (dir !== dirname(dir)) {
    try {
      const manifest = JSON.parse(Deno.readTextFileSync(join(dir, "package.json")));
      if (manifest.name === name) return dir;
    } catch { /* not the package root yet */ }
    dir = dirname(dir);
  }
  throw new Error(`cannot find the package root of ${name} above ${fileURLToPath(resolved)}`);
}

/**
 * The path of one browser script in its npm package.
 *
 * @example
 * ```ts
 * vegaScriptPath(VEGA_SCRIPTS[0]); // .../vega/6.4.0/build/vega.min.js
 * ```
 */
export function vegaScriptPath(script: (typeof VEGA_SCRIPTS)[number]): string {
  return join(packageRoot(script.package), script.file);
}
