/**
 * Figures shown in a headless notebook arrive, every time, and survive `jupyter nbconvert --to
 * html`. The Deno kernel sends a large display late, after the cell went idle and tagged with
 * the next request (the runner's flush sentinel); the runner keeps such displays with their
 * cell. Bundles stay small: PNG + an HTML output with the thinned Vega-Lite spec, no SVG; the
 * renderer's scripts come once per kernel session.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  DEFAULT_NOTEBOOKS_DIR,
  executeNotebook,
  type Notebook,
  REPO_ROOT,
} from "../lib/notebooks/mod.ts";
import { exportedPngCount, writeNotebook } from "./fixtures/notebook_files.ts";
import { TEST_NOTEBOOK_LIMITS } from "./fixtures/notebook_limits.ts";

const FIGURES_MOD = pathToFileURL(join(REPO_ROOT, "lib", "figures", "mod.ts")).href;
const SHOWS = 24;

Deno.test("a figure of 9,600 points shown 24 times in one cell: every display arrives", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-display-" });
  try {
    const path = await writeNotebook(
      dir,
      "display",
      `const shows = ${SHOWS};\nconst base = ${JSON.stringify(join(dir, "scatter"))};`,
      [
        `import { featureScatterSpec, saveFigure, showFigures, thinPoints } from "${FIGURES_MOD}";\n` +
        // A paper-sized scatter: 9,600 training samples, 30% noisy, thinned for display.
        "const all = Array.from({ length: 9600 }, (_, i) => ({ x: Math.sin(i), y: Math.cos(3 * i),\n" +
        "  label: i % 2, originalLabel: i % 10 < 3 ? 1 - (i % 2) : i % 2, noisy: i % 10 < 3, index: i }));\n" +
        "await saveFigure(featureScatterSpec({ points: thinPoints(all), classMeans: [[0, 0], [1, 1]],\n" +
        "  cleanCentroids: [[0, 0], [1, 1]], cleanSpread: [0.5, 0.5], title: 'scatter' }), base);\n" +
        "for (let i = 0; i < shows; i++) {\n  console.log(`show ${i}`);\n  await showFigures(base);\n}",
      ],
    );
    // The kernel runs in notebooks/, where deno.json maps the npm imports.
    const result = await executeNotebook(path, {
      outputDir: join(dir, "out"),
      cwd: DEFAULT_NOTEBOOKS_DIR,
      ...TEST_NOTEBOOK_LIMITS,
      log: () => {},
    });
    const executed = JSON.parse(await Deno.readTextFile(result.outputPath)) as Notebook;
    const outputs = (executed.cells[1].outputs ?? []) as Record<string, unknown>[];
    const displays = outputs.filter((o) => o.output_type === "display_data");
    assert.equal(displays.length, SHOWS, "every display arrived");
    for (const d of displays) {
      const data = d.data as Record<string, unknown>;
      const html = String(data["text/html"]);
      assert.ok(html.includes('"$schema":"https://vega.github.io/schema/vega-lite/v6'), "spec");
      assert.match(html, /<img src="data:image\/png;base64,[A-Za-z0-9+/]{1000,}/, "the PNG, once");
      assert.equal(data["image/png"], undefined);
      assert.ok(html.includes("return vegaEmbed(target,"), "rendered by vega-embed");
      assert.equal(data["image/svg+xml"], undefined);
    }
    // The renderer (vega, vega-lite, vega-embed from the pinned packages) comes once, first.
    const renderer = (d: Record<string, unknown>) =>
      String((d.data as Record<string, unknown>)["text/html"]).includes("DecompressionStream");
    assert.deepEqual(displays.map(renderer), displays.map((_, i) => i === 0));
    // nbconvert (Debian's, as setup installs it) keeps every figure as an inline PNG.
    assert.equal(await exportedPngCount(result.outputPath, join(dir, "display.html")), SHOWS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a headless run relays a sweep's per-run lines as they are printed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "memdil-lines-" });
  try {
    const path = await writeNotebook(dir, "lines", "const runs = 2;", [
      "for (let i = 1; i <= runs; i++) {\n" +
      "  console.log(`training ${i}`);\n" +
      "  console.log(`sweep [${i}/${runs}] finished in 1.0s: run ${i}`);\n}",
    ]);
    const lines: string[] = [];
    await executeNotebook(path, {
      outputDir: dir,
      ...TEST_NOTEBOOK_LIMITS,
      log: () => {},
      onOutputLine: (line) => lines.push(line),
    });
    assert.deepEqual(lines, [
      "sweep [1/2] finished in 1.0s: run 1",
      "sweep [2/2] finished in 1.0s: run 2",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
