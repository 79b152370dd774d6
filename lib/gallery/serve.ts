/**
 * Build the gallery (`results/index.html` plus its scripts) and serve the results directory on
 * localhost.
 *
 * @module
 */
import { extname, join, normalize, resolve } from "node:path";
import { writeFileAtomic } from "../runs/mod.ts";
import { copyGalleryScripts } from "./assets.ts";
import { collectFigures, collectNotebooks, type GalleryFigure } from "./collect.ts";
import { ASSETS_DIR, FIGURES_DIR, figureScript, galleryHtml } from "./html.ts";

/** What {@link buildGallery} wrote. */
export interface BuiltGallery {
  /** Path of index.html. */
  index: string;
  figures: GalleryFigure[];
}

/**
 * One script per figure (its spec) in `dir`, the gallery's own directory; scripts of figures of
 * an earlier build that no longer exist are removed from it.
 */
async function writeFigureScripts(dir: string, figures: GalleryFigure[]): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const wanted = new Set(figures.map((figure) => `${figure.id}.js`));
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /^figure-\d+\.js$/.test(entry.name) && !wanted.has(entry.name)) {
      await Deno.remove(join(dir, entry.name));
    }
  }
  for (const figure of figures) {
    await writeFileAtomic(join(dir, `${figure.id}.js`), figureScript(figure.id, figure.spec));
  }
}

/**
 * Write `<resultsDir>/index.html` listing every figure found under `resultsDir`, each figure's
 * spec as a script in `<resultsDir>/_gallery/figures/`, and copy the vega scripts to
 * `<resultsDir>/_gallery/`.
 *
 * @example
 * ```ts
 * const { index, figures } = await buildGallery("results");
 * console.log(`${figures.length} figures in ${index}`);
 * ```
 */
export async function buildGallery(
  resultsDir: string,
  options: { title?: string } = {},
): Promise<BuiltGallery> {
  const root = resolve(resultsDir);
  const figures = collectFigures(root);
  await copyGalleryScripts(join(root, ASSETS_DIR));
  await writeFigureScripts(join(root, ASSETS_DIR, FIGURES_DIR), figures);
  const index = join(root, "index.html");
  await writeFileAtomic(
    index,
    galleryHtml(figures, {
      title: options.title,
      generated: new Date().toISOString(),
      notebooks: collectNotebooks(root),
    }),
  );
  return { index, figures };
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".css": "text/css",
  ".parquet": "application/octet-stream",
  ".ipynb": "application/json",
};

/** Host names a page served on the loopback interface is reached by. */
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * A request handler serving the regular files under `root` (index.html for `/`): a path escaping
 * `root`, also through a symlink, gets 404; a request whose Host header is not a loopback name
 * (DNS rebinding: another site's name resolved to 127.0.0.1) gets 403.
 *
 * @example
 * ```ts
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, staticHandler("results"));
 * ```
 */
export function staticHandler(root: string): (request: Request) => Promise<Response> {
  const base = resolve(root);
  let realBase: string | undefined;
  return async (request) => {
    const url = new URL(request.url);
    const host = request.headers.get("host") ?? url.host;
    if (!LOCAL_HOSTS.has(host.replace(/:\d+$/, "").toLowerCase())) {
      return new Response("forbidden host", { status: 403 });
    }
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return new Response("bad path", { status: 400 });
    }
    if (path.endsWith("/")) path += "index.html";
    const file = normalize(join(base, path));
    const notFound = () => new Response("not found", { status: 404 });
    if (file !== base && !file.startsWith(base + "/")) return notFound();
    try {
      // Where the file really is: a symlink out of the results directory is not served.
      realBase ??= await Deno.realPath(base);
      const real = await Deno.realPath(file);
      if (!real.startsWith(realBase + "/") || !(await Deno.stat(real)).isFile) return notFound();
      const body = await Deno.readFile(real);
      return new Response(body, {
        headers: {
          "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
          "cache-control": "no-store",
        },
      });
    } catch {
      return notFound();
    }
  };
}

/**
 * Serve `root` on 127.0.0.1 (port 0 picks a free one). Resolves once listening.
 *
 * @example
 * ```ts
 * const server = await serveGallery("results", { port: 8000 });
 * console.log(server.url);
 * await server.shutdown();
 * ```
 */
export async function serveGallery(
  root: string,
  options: { port?: number; hostname?: string } = {},
): Promise<{ url: string; port: number; shutdown(): Promise<void>; finished: Promise<void> }> {
  const hostname = options.hostname ?? "127.0.0.1";
  let listening: (port: number) => void = () => {};
  const ready = new Promise<number>((resolvePort) => (listening = resolvePort));
  const server = Deno.serve({
    hostname,
    port: options.port ?? 8000,
    onListen: ({ port }) => listening(port),
    onError: () => new Response("internal error", { status: 500 }),
  }, staticHandler(root));
  const port = await ready;
  return {
    url: `http://${hostname}:${port}/`,
    port,
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
