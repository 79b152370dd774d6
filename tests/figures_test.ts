import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import * as vega from "vega";
import * as vl from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import {
  accuracyVsNoiseSpec,
  CLASS_COLORS,
  decisionBoundarySegments,
  dilationVsMemorizationSpec,
  type FeaturePoint,
  type FeatureScatterInput,
  featureScatterSpec,
  metricCurvesSpec,
  nc1VsNoiseSpec,
  NOISY_COLOR,
  renderPng,
  renderSvg,
  saveFigure,
  tableHtml,
  thinPoints,
  trainingCurvesSpec,
  type TrainingHistoryRow,
  vegaLiteMimeType,
} from "../lib/figures/mod.ts";
import { rowsToFrame } from "../lib/results/mod.ts";

// ---------------------------------------------------------------- fixtures

/** 20 two-class points; samples 3, 7, 11, 15, 19 have their label flipped. */
function twoClassInput(options: { classifier?: boolean } = {}): FeatureScatterInput {
  const points: FeaturePoint[] = Array.from({ length: 20 }, (_, index) => {
    const originalLabel = index % 2;
    const noisy = index % 4 === 3;
    const side = originalLabel === 0 ? -1 : 1;
    return {
      x: side * 2 + Math.cos(index),
      y: Math.sin(3 * index),
      label: noisy ? 1 - originalLabel : originalLabel,
      originalLabel,
      noisy,
      index,
    };
  });
  return {
    points,
    classMeans: [[-1.6, 0], [1.6, 0.1]],
    cleanCentroids: [[-2, 0], [2, 0.1]],
    cleanSpread: [0.8, 0.7],
    noisyCentroids: [[null, [0.5, 0.2]], [[-0.4, 0.1], null]],
    classifier: options.classifier === false
      ? undefined
      : { weights: [[-1, 0.2], [1, 0]], bias: [0, 0.1] },
    title: "Train features: CE, 2x64 ReLU, noise 0.25",
    subtitle: "BN, weight decay 5e-4",
  };
}

const history: TrainingHistoryRow[] = Array.from({ length: 30 }, (_, i) => ({
  epoch: i + 1,
  train_loss: 2 * Math.exp(-i / 8),
  train_acc: 1 - 0.5 * Math.exp(-i / 6),
  val_acc: null,
  test_acc: 0.9 - 0.4 * Math.exp(-i / 6),
  lr: 0.1 * (1 - i / 30),
}));

/** Two datasets × two losses × three noise levels × `seeds` seeds. */
function summaryRows(seeds: number) {
  const rows = [];
  for (const dataset of ["mnist", "cifar10"]) {
    for (const loss of ["CE", "LS"]) {
      for (const label_noise of [0.1, 0.2, 0.3]) {
        for (let seed = 0; seed < seeds; seed++) {
          const memorization = (loss === "CE" ? 2 : 1) * label_noise * 10 + 0.1 * seed;
          rows.push({
            dataset,
            loss,
            label_noise,
            memorization,
            dilation: 0.2 + 0.1 * memorization,
            test_acc: 0.95 - label_noise / 2 - 0.01 * seed,
            nc1: 0.05 * (1 + label_noise * 20) + 0.01 * seed,
          });
        }
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------- helpers

/** Compile with vega-lite and render, returning the SVG and every warning from either stage. */
async function renderCollectingWarnings(spec: TopLevelSpec) {
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, _level, args) => {
    warnings.push(args.map(String).join(" "));
  });
  vl.compile(spec, { logger });
  const svg = await renderSvg(spec, { onWarning: (message) => warnings.push(message) });
  return { svg, warnings };
}

/** The drawn items (`<path>` or `<line>`) of the layer named `name`, across all its groups. */
function marksOf(svg: string, name: string): string[] {
  // Empty mark groups are self-closing (`<g .../>`) and hold nothing.
  const groups = svg.matchAll(
    new RegExp(`<g class="mark-\\w+ role-mark ${name}_marks"[^>]*?(/>|>(.*?)</g>)`, "g"),
  );
  return [...groups].flatMap((group) => group[2]?.match(/<(path|line)\b[^>]*>/g) ?? []);
}

function attribute(element: string, name: string): string | undefined {
  return element.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
}

// ---------------------------------------------------------------- every spec compiles and renders cleanly

const allSpecs: [string, TopLevelSpec][] = [
  ["feature scatter", featureScatterSpec(twoClassInput())],
  ["feature scatter without classifier", featureScatterSpec(twoClassInput({ classifier: false }))],
  ["training curves", trainingCurvesSpec(history, "CE, noise 0.2")],
  [
    "metric curves",
    metricCurvesSpec(
      history.flatMap((row) => [
        { ...row, run: "CE", nc1: row.train_loss },
        { ...row, run: "LS", nc1: row.train_loss / 2 },
      ]),
      [{ field: "nc1", title: "NC1", scale: "log" }, { field: "test_acc", title: "test accuracy" }],
      "Neural collapse",
    ),
  ],
  ["dilation vs memorization (3 seeds)", dilationVsMemorizationSpec(summaryRows(3))],
  ["dilation vs memorization (1 seed)", dilationVsMemorizationSpec(summaryRows(1))],
  ["accuracy vs noise", accuracyVsNoiseSpec(summaryRows(3))],
  [
    "accuracy vs noise (some configurations with one seed)",
    accuracyVsNoiseSpec([
      ...summaryRows(2),
      { dataset: "svhn", loss: "CE", label_noise: 0.1, test_acc: 0.9 },
    ]),
  ],
  ["nc1 vs noise", nc1VsNoiseSpec(summaryRows(2))],
  [
    "nc1 vs noise (spread larger than the mean on a log axis)",
    nc1VsNoiseSpec(
      [0.01, 1, 0.01].map((nc1) => ({ dataset: "mnist", loss: "CE", label_noise: 0.2, nc1 })),
    ),
  ],
];

for (const [name, spec] of allSpecs) {
  Deno.test(`${name}: compiles and renders without warnings`, async () => {
    const { svg, warnings } = await renderCollectingWarnings(spec);
    deepEqual(warnings, []);
    ok(svg.startsWith("<svg"));
    ok(svg.includes('font-family="DejaVu Sans"'));
  });
}

// ---------------------------------------------------------------- feature scatter

Deno.test("scatter: exactly the noisy samples are red, clean ones use class colours", async () => {
  const svg = await renderSvg(featureScatterSpec(twoClassInput()));
  const noisy = marksOf(svg, "noisy_points");
  const clean = marksOf(svg, "clean_points");
  equal(noisy.length, 5);
  equal(clean.length, 15);
  for (const mark of noisy) equal(attribute(mark, "fill"), NOISY_COLOR);
  for (const mark of clean) ok(CLASS_COLORS.slice(0, 2).includes(attribute(mark, "fill")!));
  const redSymbols = svg.match(
    new RegExp(`<path[^>]*role="graphics-symbol"[^>]*fill="${NOISY_COLOR}"`, "g"),
  );
  // The red diamonds are the two noisy centroids; nothing else drawn in data space is red.
  equal(redSymbols?.length, 5 + 2);
});

Deno.test("scatter: noisy samples keep the marker of their original class", async () => {
  const input = twoClassInput();
  const svg = await renderSvg(featureScatterSpec(input));
  const shapeOf = (mark: string) => attribute(mark, "d");
  const cleanShapeByClass = new Map<number, string | undefined>();
  for (const mark of marksOf(svg, "clean_points")) {
    const index = Number(attribute(mark, "aria-label")!.match(/sample: (\d+)/)![1]);
    cleanShapeByClass.set(input.points[index].label, shapeOf(mark));
  }
  ok(cleanShapeByClass.get(0) !== cleanShapeByClass.get(1), "classes need different markers");
  for (const mark of marksOf(svg, "noisy_points")) {
    const index = Number(attribute(mark, "aria-label")!.match(/sample: (\d+)/)![1]);
    equal(shapeOf(mark), cleanShapeByClass.get(input.points[index].originalLabel));
  }
});

Deno.test("scatter: tooltips name sample index, noisy label and original label", async () => {
  const svg = await renderSvg(featureScatterSpec(twoClassInput()));
  const sample3 = marksOf(svg, "noisy_points").find((mark) => mark.includes("sample: 3;"));
  ok(sample3);
  const label = attribute(sample3, "aria-label")!;
  ok(label.includes("label (trained on): 0"), label);
  ok(label.includes("original label: 1"), label);
});

Deno.test("scatter: means, centroids and one spread circle per class", async () => {
  const svg = await renderSvg(featureScatterSpec(twoClassInput()));
  // 2 class means + 2 clean centroids + 2 noisy centroids
  equal(marksOf(svg, "summary_markers").length, 6);
  const circles = marksOf(svg, "clean_spread");
  equal(circles.length, 2);
  // A closed 73-vertex polyline: "M" then 72 "L" segments.
  for (const circle of circles) equal(attribute(circle, "d")!.match(/L/g)?.length, 72);
});

Deno.test("scatter: spread circles are round on screen (equal x and y units)", () => {
  const spec = featureScatterSpec(twoClassInput()) as {
    width: number;
    height: number;
    layer: {
      encoding?: { x?: { scale: { domain: number[] } }; y?: { scale: { domain: number[] } } };
    }[];
  };
  const encoding = spec.layer[0].encoding!;
  const [x0, x1] = encoding.x!.scale.domain;
  const [y0, y1] = encoding.y!.scale.domain;
  ok(Math.abs((x1 - x0) / spec.width - (y1 - y0) / spec.height) < 1e-12);
});

Deno.test("scatter: decision boundary drawn for K=2 and absent without a classifier", async () => {
  const withBoundary = await renderSvg(featureScatterSpec(twoClassInput()));
  const boundary = marksOf(withBoundary, "decision_boundary");
  equal(boundary.length, 1);
  ok(boundary[0].startsWith("<line"));
  ok(attribute(boundary[0], "stroke-dasharray"));

  const without = await renderSvg(featureScatterSpec(twoClassInput({ classifier: false })));
  equal(marksOf(without, "decision_boundary").length, 0);
  ok(!without.includes("decision boundary"));
});

Deno.test("scatter: split with no noisy sample has no red and no noisy legend entry", async () => {
  const input = twoClassInput({ classifier: false });
  const clean = {
    ...input,
    points: input.points.filter((p) => !p.noisy),
    noisyCentroids: undefined,
  };
  const svg = await renderSvg(featureScatterSpec(clean));
  equal(marksOf(svg, "noisy_points").length, 0);
  ok(!svg.includes(NOISY_COLOR));
});

// ---------------------------------------------------------------- decision boundary geometry

const unitBox = { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

Deno.test("boundary: K=2 line clipped to the box", () => {
  // (w0 - w1)·h + (b0 - b1) = -x + y = 0: the diagonal.
  const [segment, ...rest] = decisionBoundarySegments(
    { weights: [[0, 1], [1, 0]], bias: [0, 0] },
    unitBox,
  );
  equal(rest.length, 0);
  deepEqual(segment.classes, [0, 1]);
  const ends = [[segment.x, segment.y], [segment.x2, segment.y2]].map((p) => p.map(Math.round));
  deepEqual(ends.sort(), [[-1, -1], [1, 1]]);
});

Deno.test("boundary: vertical line", () => {
  const [segment] = decisionBoundarySegments(
    { weights: [[2, 0], [0, 0]], bias: [-1, 0] },
    unitBox,
  );
  // 2x - 1 = 0
  ok(close(segment.x, 0.5) && close(segment.x2, 0.5));
  ok(close(Math.abs(segment.y - segment.y2), 2));
});

Deno.test("boundary: zero normal or a line outside the box gives nothing", () => {
  deepEqual(decisionBoundarySegments({ weights: [[1, 2], [1, 2]], bias: [0, 1] }, unitBox), []);
  deepEqual(decisionBoundarySegments({ weights: [[1, 0], [0, 0]], bias: [5, 0] }, unitBox), []);
});

Deno.test("boundary: K=3 gives three rays meeting where all logits tie", () => {
  const angles = [0, 2, 4].map((k) => (k * Math.PI) / 3);
  const segments = decisionBoundarySegments(
    { weights: angles.map((a) => [Math.cos(a), Math.sin(a)]), bias: [0, 0, 0] },
    unitBox,
  );
  equal(segments.length, 3);
  for (const s of segments) {
    const fromOrigin = [Math.hypot(s.x, s.y), Math.hypot(s.x2, s.y2)].sort((a, b) => a - b);
    ok(close(fromOrigin[0], 0), "each piece starts at the triple point");
  }
});

// ---------------------------------------------------------------- curves and summaries

Deno.test("training curves: no validation entry when val_acc is always null", async () => {
  const svg = await renderSvg(trainingCurvesSpec(history, "t"));
  ok(svg.includes(">train<") && svg.includes(">test<"));
  ok(!svg.includes(">validation<"));
  const withValidation = history.map((row) => ({ ...row, val_acc: row.test_acc - 0.02 }));
  ok((await renderSvg(trainingCurvesSpec(withValidation, "t"))).includes(">validation<"));
});

Deno.test("summary: seeds are averaged into one point per dataset, loss and noise", async () => {
  const svg = await renderSvg(dilationVsMemorizationSpec(summaryRows(3)));
  equal(marksOf(svg, "noise_levels").length, 2 * 2 * 3);
  equal(marksOf(svg, "dilation_error").length, 2 * 2 * 3);
  const mean = marksOf(svg, "noise_levels").find((m) =>
    attribute(m, "aria-label")!.includes("loss: CE; label noise: 0.1;")
  );
  ok(mean);
  // CE at noise 0.1: memorization 2, 2.1, 2.2 over seeds.
  const label = attribute(mean, "aria-label")!;
  ok(label.includes("memorization: 2.1;"), label);
});

Deno.test("summary: no error bars with a single seed", async () => {
  const accuracy = await renderSvg(accuracyVsNoiseSpec(summaryRows(1)));
  equal(marksOf(accuracy, "noise_levels").length, 12);
  equal(marksOf(accuracy, "error_bars").length, 0);
  const withSeeds = await renderSvg(accuracyVsNoiseSpec(summaryRows(2)));
  equal(marksOf(withSeeds, "error_bars").length, 12);
});

// ---------------------------------------------------------------- PNG and saving

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

Deno.test("png: signature and size scaled from the SVG", async () => {
  const svg = await renderSvg(featureScatterSpec(twoClassInput()));
  const svgWidth = Number(svg.match(/width="(\d+)"/)![1]);
  const png = renderPng(svg, 2);
  deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
  // IHDR: width is the big-endian uint32 at byte 16.
  equal(new DataView(png.buffer, png.byteOffset).getUint32(16), svgWidth * 2);
  ok(png.length > 20_000 && png.length < 5_000_000, `${png.length} bytes`);
});

Deno.test("saveFigure: writes three files atomically, self-contained and reproducible", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const base = `${directory}/nested/run/features_train`;
    const spec = featureScatterSpec(twoClassInput());
    const paths = await saveFigure(spec, base);
    deepEqual(paths, { vlJson: `${base}.vl.json`, svg: `${base}.svg`, png: `${base}.png` });

    const written = [...Deno.readDirSync(`${directory}/nested/run`)].map((e) => e.name).sort();
    deepEqual(written, ["features_train.png", "features_train.svg", "features_train.vl.json"]);

    const saved = JSON.parse(await Deno.readTextFile(paths.vlJson));
    for (const layer of saved.layer.filter((l: { data?: unknown }) => l.data)) {
      ok(Array.isArray(layer.data.values), "data is inline");
    }
    const svg = await Deno.readTextFile(paths.svg);
    equal(await renderSvg(saved), svg);
    deepEqual([...(await Deno.readFile(paths.png)).subarray(0, 8)], PNG_SIGNATURE);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("saveFigure: refuses specs that load data from a url", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const spec: TopLevelSpec = { data: { url: "data.csv" }, mark: "point" };
    await rejects(saveFigure(spec, `${directory}/figure`), /inline data/);
    deepEqual([...Deno.readDirSync(directory)], []);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

// ---------------------------------------------------------------- notebook display

Deno.test("tables in notebooks: shape, integers as integers, 4 significant digits, n/a", () => {
  const html = tableHtml(rowsToFrame([
    { loss: "LS", seed: 42, test_acc_pct: 91.2345, memorization_train: NaN },
    { loss: "CE", seed: 7, test_acc_pct: 50, memorization_train: 1.23456 },
  ]));
  const cells = [...html.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
  deepEqual(cells, ["LS", "42", "91.23", "n/a", "CE", "7", "50", "1.235"]);
  ok(html.startsWith('<p class="memdil-table-shape">2 rows x 4 columns</p><table'), html);
  ok(html.includes("<thead><tr><th>loss</th><th>seed</th>"));
  // A long table: its first and last rows, and how many are left out.
  const long = tableHtml(rowsToFrame(Array.from({ length: 100 }, (_, i) => ({ i }))), 10);
  const shown = [...long.matchAll(/<td style[^>]*>(\d+)<\/td>/g)].map((m) => Number(m[1]));
  deepEqual(shown, [0, 1, 2, 3, 4, 95, 96, 97, 98, 99]);
  ok(long.includes("100 rows x 1 column") && long.includes("90 rows left out"), long);
});

Deno.test("figures for notebooks: MIME type from the spec's schema; thinning keeps noisy points", () => {
  equal(
    vegaLiteMimeType({ $schema: "https://vega.github.io/schema/vega-lite/v6.json" }),
    "application/vnd.vegalite.v6+json",
  );
  equal(
    vegaLiteMimeType({ $schema: "https://vega.github.io/schema/vega-lite/v5.20.1.json" }),
    "application/vnd.vegalite.v5+json",
  );
  const points = Array.from({ length: 9600 }, (_, i) => ({ i, noisy: i % 10 < 3 }));
  const shown = thinPoints(points, 1500);
  equal(shown.length, 1500);
  // 2,880 noisy points do not fit in half the budget: 750 of each group, evenly spread.
  equal(shown.filter((p) => p.noisy).length, 750);
  ok(shown.every((p, k) => k === 0 || p.i > shown[k - 1].i), "order kept");
  ok(shown.at(-1)!.i > 9000, "spread over the whole set");
  // Few noisy points are all kept.
  const few = thinPoints(points.map((p) => ({ ...p, noisy: p.i % 100 === 0 })), 1500);
  equal(few.filter((p) => p.noisy).length, 96);
  deepEqual(thinPoints(points.slice(0, 10), 1500).length, 10);
});

Deno.test("accuracy against noise: percent on an axis zoomed to the data", async () => {
  const rows = [0, 0.1, 0.2].flatMap((noise) => [
    { dataset: "fashionmnist", loss: "CE", label_noise: noise, test_acc: 0.98 - noise / 10 },
    { dataset: "fashionmnist", loss: "LS", label_noise: noise, test_acc: 0.985 - noise / 10 },
  ]);
  const view = await new vega.View(vega.parse(vl.compile(accuracyVsNoiseSpec(rows)).spec), {
    renderer: "none",
  }).runAsync();
  const svg = await view.toSVG();
  view.finalize();
  ok(svg.includes("test accuracy (%)"), "the axis says percent");
  // Tick labels of the y axis: percent values near the data (96-98.5), not a 0-1 or 0-100 axis.
  const ticks = [...svg.matchAll(/<text[^>]*>([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
  ok(ticks.some((t) => t >= 96 && t <= 99), `ticks ${ticks}`);
  ok(!ticks.some((t) => t > 1 && t < 50), `no tick between 1 and 50: ${ticks}`);
});
