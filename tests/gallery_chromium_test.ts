/**
 * The gallery in a real browser: every figure type is saved into a temporary results directory,
 * the gallery is built and served on 127.0.0.1, and headless Chromium (Debian's `chromium`,
 * started with the flags that keep it off the network) loads it; every figure must render
 * marks, read back from the DOM. Specs are loaded on demand: a page of many figures loads only
 * those in view.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { saveFigure } from "../lib/figures/mod.ts";
import {
  buildGallery,
  type GalleryFigure,
  serveGallery,
  staticHandler,
} from "../lib/gallery/mod.ts";
import { markRunFinished } from "../lib/runs/mod.ts";
import { writeJsonAtomic } from "../lib/results/mod.ts";
import { everyFigure } from "./fixtures/gallery_figures.ts";

const CHROMIUM = "chromium";

/** Headless Chromium's DOM of `url` after scripts ran (virtual time lets them finish). */
async function dumpDom(url: string): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "memdil-chromium-" });
  try {
    const output = await new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=30000",
        "--dump-dom",
        url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output().catch((error) => {
      throw new Error(
        `cannot start ${CHROMIUM} (${error.message}): apt-get install chromium ` +
          `(scripts/setup.sh installs it)`,
      );
    });
    assert.ok(output.success, new TextDecoder().decode(output.stderr).slice(-2000));
    return new TextDecoder().decode(output.stdout);
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}

function assertRendered(dom: string, figures: GalleryFigure[], how: string): void {
  assert.match(dom, /data-gallery-done="true"/, how);
  for (const figure of figures) {
    // The chart's container up to the next figure: it must hold an SVG with drawn marks.
    const start = dom.indexOf(`id="${figure.id}"`);
    assert.ok(start >= 0, `${figure.name} is in the page (${how})`);
    const end = dom.indexOf('<figure class="figure"', start);
    const chart = dom.slice(start, end < 0 ? undefined : end);
    assert.match(chart.slice(0, 400), /data-rendered="true"/, `${figure.name} rendered (${how})`);
    assert.ok(chart.includes("<svg"), `${figure.name} has an SVG`);
    const marks = chart.match(/class="mark-(symbol|line|rule|text) role-mark/g) ?? [];
    assert.ok(marks.length > 0, `${figure.name} draws marks`);
    assert.ok((chart.match(/<path[^>]* d="M/g) ?? []).length > 0, `${figure.name} has paths`);
    // A single run's figure lists its run; a sweep's figures share one table above them.
    const listed = figure.runLabel === null
      ? dom.includes('<div class="runs experiment-runs">')
      : chart.includes('<div class="runs">');
    assert.ok(listed, `${figure.name} lists its runs`);
  }
}

Deno.test("gallery: every figure renders in headless Chromium, from disk and served", async () => {
  const results = await Deno.makeTempDir({ prefix: "memdil-gallery-" });
  try {
    // A sweep directory with summary figures and its run table, and one run with its own.
    const figures = everyFigure();
    const runDir = join(results, "exp", "runs", "run_a");
    for (const [name, spec] of Object.entries(figures)) {
      const perRun = name === "features_train" || name === "training_curves";
      await saveFigure(spec, join(perRun ? runDir : join(results, "exp"), "figures", name));
    }
    await writeJsonAtomic(join(results, "exp", "sweep.json"), {
      name: "exp",
      runs: [{ uid: "run_a", dir: "runs/run_a", label: "CE noise 0.2", status: "finished" }],
    });
    const config = { dataset: "fashionmnist", loss: "CrossEntropy", label_noise: 0.2, seed: 3 };
    await writeJsonAtomic(join(runDir, "args.json"), { ...config, model: "MLP", epochs: 2 });
    await writeJsonAtomic(join(runDir, "metrics.json"), { test_acc: 0.9, nc1_train: 0.5 });
    await markRunFinished(runDir, { uid: "run_a" });
    await Deno.writeTextFile(join(results, "exp", "summary.parquet"), "");
    await Deno.mkdir(join(results, "notebooks"));
    await Deno.writeTextFile(join(results, "notebooks", "exp.ipynb"), "{}");

    const built = await buildGallery(results);
    const count = Object.keys(figures).length;
    assert.equal(built.figures.length, count);
    // Sweep-level figures first, each with the configuration and metrics of its runs.
    const first = built.figures[0];
    assert.equal(first.section, "exp");
    assert.equal(first.runLabel, null);
    assert.equal(built.figures.at(-1)!.section, "exp/runs/run_a");
    assert.equal(
      built.figures.at(-1)!.runLabel,
      "fashionmnist · CrossEntropy · noise 0.2 · seed 3",
    );
    assert.equal(first.runs?.source, "exp/sweep.json");
    assert.deepEqual(first.runs?.columns.slice(0, 5), [
      "dataset",
      "model",
      "loss",
      "label_noise",
      "seed",
    ]);
    assert.ok(first.runs?.columns.includes("nc1_train"));
    assert.deepEqual(first.facets, {
      dataset: ["fashionmnist"],
      loss: ["CrossEntropy"],
      noise: ["0.2"],
      seed: ["3"],
    });
    assert.deepEqual(first.tables.map((t) => t.url), ["exp/summary.parquet"]);
    assert.equal(built.figures.at(-1)!.runs?.source, "exp/runs/run_a/metrics.json");
    const html = await Deno.readTextFile(built.index);
    assert.doesNotMatch(html, /(src|href)="https?:/, "no CDN: every script is local");
    assert.match(html, /href="notebooks\/exp.ipynb"/);
    assert.match(
      html,
      /<select name="loss"><option value="">all<\/option><option value="CrossEntropy">/,
    );

    // Opened from disk: the page and its scripts, one per figure, loaded from files.
    assert.doesNotMatch(html, /"\$schema"/, "no spec inside the page");
    assertRendered(await dumpDom(`file://${built.index}?render=all`), built.figures, "file://");
    // Filters, here from the page's query: a loss no run has hides every figure with runs.
    const filtered = await dumpDom(`file://${built.index}?loss=LS`);
    const hidden = [...filtered.matchAll(/<figure class="figure"[^>]*>/g)].map((m) => m[0]);
    assert.equal(hidden.length, count);
    assert.ok(hidden.every((tag) => / hidden=""/.test(tag)), hidden.join("\n"));
    // ... and the rows of the run tables with them.
    const rows = [...filtered.matchAll(/<tr data-[^>]*>/g)].map((m) => m[0]);
    assert.ok(rows.length > 0 && rows.every((tag) => / hidden=""/.test(tag)), rows.join("\n"));
    const kept = await dumpDom(`file://${built.index}?loss=CrossEntropy&seed=3`);
    assert.ok(!/<figure class="figure"[^>]* hidden/.test(kept), "matching figures stay");
    const server = await serveGallery(results, { port: 0 });
    try {
      assertRendered(
        await dumpDom(`${server.url}index.html?render=all`),
        built.figures,
        "served",
      );
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("gallery: specs load on demand, one script per figure, only figures in view", async () => {
  const results = await Deno.makeTempDir({ prefix: "memdil-gallery-lazy-" });
  try {
    // Forty figures of one sweep: far more than one screen holds.
    const spec = everyFigure().test_accuracy_vs_noise;
    const total = 40;
    for (let i = 0; i < total; i++) {
      await saveFigure(spec, join(results, "exp", "figures", `f${String(i).padStart(2, "0")}`));
    }
    const built = await buildGallery(results);
    assert.equal(built.figures.length, total);
    const scripts = [...Deno.readDirSync(join(results, "_gallery", "figures"))].map((e) => e.name);
    assert.equal(scripts.length, total, "one script per figure");
    const html = await Deno.readTextFile(built.index);
    assert.doesNotMatch(html, /"\$schema"/, "no spec inside the page");
    const dom = await dumpDom(`file://${built.index}`);
    assert.match(dom, /data-gallery-done="true"/);
    const loaded = (dom.match(/<script src="_gallery\/figures\/figure-\d+\.js">/g) ?? []).length;
    const rendered = (dom.match(/data-rendered="true"/g) ?? []).length;
    assert.ok(loaded >= 1 && loaded < total / 2, `${loaded} of ${total} specs loaded`);
    assert.equal(rendered, loaded, "the figures in view rendered");
    assert.match(dom, /id="figure-1"[^>]*data-rendered="true"/, "the first figure rendered");
    // A rebuild with fewer figures removes the scripts of the figures gone.
    await Deno.remove(join(results, "exp", "figures", "f39.vl.json"));
    await buildGallery(results);
    assert.equal([...Deno.readDirSync(join(results, "_gallery", "figures"))].length, total - 1);
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("gallery server: files under the results directory only", async () => {
  const root = await Deno.makeTempDir({ prefix: "memdil-static-" });
  try {
    await Deno.writeTextFile(join(root, "index.html"), "<p>hi</p>");
    const handle = staticHandler(root);
    const ok = await handle(new Request("http://127.0.0.1/"));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(await ok.text(), "<p>hi</p>");
    assert.equal((await handle(new Request("http://127.0.0.1/%2e%2e/etc/passwd"))).status, 404);
    assert.equal((await handle(new Request("http://127.0.0.1/missing.json"))).status, 404);
    // Issue 19 (Low): the server followed symlinks out of results/ and answered any Host.
    const outside = await Deno.makeTempDir({ prefix: "memdil-outside-" });
    try {
      await Deno.writeTextFile(join(outside, "secret.txt"), "secret");
      await Deno.symlink(join(outside, "secret.txt"), join(root, "link.txt"));
      await Deno.symlink(outside, join(root, "linked_dir"));
      for (const path of ["link.txt", "linked_dir/secret.txt"]) {
        const response = await handle(new Request(`http://127.0.0.1/${path}`));
        assert.equal(response.status, 404, path);
        await response.body?.cancel();
      }
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
    const server = await serveGallery(root, { port: 0 });
    try {
      const get = async (host: string) => {
        const connection = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
        await connection.write(
          new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
        );
        const reply = await new Response(connection.readable).text();
        return reply.split(" ")[1];
      };
      assert.equal(await get(`127.0.0.1:${server.port}`), "200");
      assert.equal(await get(`localhost:${server.port}`), "200");
      assert.equal(await get(`rebind.example:${server.port}`), "403");
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
