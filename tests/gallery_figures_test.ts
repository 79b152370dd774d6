/**
 * Every figure type of the gallery: valid against the Vega-Lite JSON schema, renders to SVG
 * (without warnings) and PNG headlessly, and encodes the right fields and marks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import AjvModule from "ajv";
import { NOISY_COLOR, renderPng, renderSvg, RUN_SELECTION } from "../lib/figures/mod.ts";
import { packageRoot } from "../lib/gallery/mod.ts";
import {
  EPOCH_PANELS,
  EPOCH_ROWS,
  everyFigure,
  PAIR_NOISY,
  PAIR_PANELS,
  SCATTER_NOISY,
} from "./fixtures/gallery_figures.ts";

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (
  options: Record<string, unknown>,
) => { compile(schema: unknown): Validate };

const schema = JSON.parse(
  Deno.readTextFileSync(join(packageRoot("vega-lite"), "build", "vega-lite-schema.json")),
);
// The schema uses Vega-Lite's own keywords and formats: validate structure, not those.
const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false })
  .compile(schema);

const FIGURES = everyFigure();

for (const [name, spec] of Object.entries(FIGURES)) {
  Deno.test(`${name}: valid Vega-Lite, renders to SVG and PNG without warnings`, async () => {
    const valid = validate(spec);
    assert.ok(valid, `${name}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    const warnings: string[] = [];
    const svg = await renderSvg(spec, { onWarning: (message) => warnings.push(message) });
    assert.deepEqual(warnings, []);
    assert.match(svg, /^<svg/);
    const png = renderPng(svg, 1);
    assert.deepEqual([...png.slice(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  });
}

/** Symbols (points) drawn in the noisy colour. */
function noisySymbols(svg: string): number {
  return (svg.match(new RegExp(`<path[^>]*fill="${NOISY_COLOR}"[^>]*>`, "g")) ?? [])
    .filter((path) => !path.includes("pointer-events") || path.includes("d=")).length;
}

Deno.test("scatter: one red point per noisy sample, tooltips name index and both labels", async () => {
  const spec = FIGURES.features_train;
  const text = JSON.stringify(spec);
  for (const field of ['"index"', '"label"', '"originalLabel"', '"noisy"']) {
    assert.ok(text.includes(`"field":${field}`), `tooltip field ${field}`);
  }
  const svg = await renderSvg(spec);
  const noisyLayer = svg.split('class="mark-symbol role-mark noisy_points_marks"')[1]
    ?.split("</g>")[0] ?? "";
  assert.equal((noisyLayer.match(/<path/g) ?? []).length, SCATTER_NOISY);
  assert.equal((noisyLayer.match(new RegExp(`fill="${NOISY_COLOR}"`, "g")) ?? []).length, 6);
});

Deno.test("feature pairs: 6 panels for 4 features, noisy samples red in each", async () => {
  const spec = FIGURES.features_pairs as { concat: { encoding: Record<string, unknown> }[] };
  assert.equal(spec.concat.length, PAIR_PANELS);
  const tooltip = JSON.stringify(spec.concat[0].encoding.tooltip);
  for (const field of ["index", "label", "originalLabel", "noisy"]) {
    assert.ok(tooltip.includes(`"field":"${field}"`));
  }
  const svg = await renderSvg(FIGURES.features_pairs);
  // Legend swatches are symbols too: count only the marks inside the panels' point groups.
  const panels = svg.split("role-mark pair_").slice(1).map((part) => part.split("</g>")[0]);
  assert.equal(panels.length, PAIR_PANELS);
  for (const panel of panels) {
    assert.equal((panel.match(/<path/g) ?? []).length, 16);
    assert.equal((panel.match(new RegExp(`fill="${NOISY_COLOR}"`, "g")) ?? []).length, PAIR_NOISY);
  }
  assert.ok(noisySymbols(svg) >= PAIR_NOISY * PAIR_PANELS);
});

Deno.test("metric curves: one line per run in every panel, legend selects runs", async () => {
  const spec = FIGURES.nc_curves as {
    params: { name: string; bind: string; views: string[] }[];
    concat: { encoding: { opacity: { condition: { param: string } } } }[];
  };
  assert.equal(spec.params[0].name, RUN_SELECTION);
  assert.equal(spec.params[0].bind, "legend");
  assert.equal(spec.params[0].views.length, EPOCH_PANELS.length);
  assert.ok(spec.concat.every((panel) => panel.encoding.opacity.condition.param === RUN_SELECTION));
  const svg = await renderSvg(FIGURES.nc_curves);
  // Vega draws each run's line as its own group inside the panel's path group.
  const runs = new Set(EPOCH_ROWS.map((row) => row.run)).size;
  for (const { field } of EPOCH_PANELS) {
    const groups = svg.match(new RegExp(`class="mark-line role-mark panel_${field}_marks"`, "g"));
    assert.equal(groups?.length, runs, `panel ${field}`);
  }
});

Deno.test("summary figures: seeds averaged, legend selection of losses", async () => {
  const spec = FIGURES.test_accuracy_vs_noise as {
    transform: { aggregate?: unknown; groupby?: string[] }[];
    spec: { layer: { name?: string; params?: { bind: string }[] }[] };
  };
  // Accuracy in percent first, then the mean over seeds per dataset, loss and noise level.
  const aggregate = spec.transform.find((step) => step.aggregate);
  assert.deepEqual(aggregate?.groupby, ["dataset", "loss", "label_noise"]);
  const curves = spec.spec.layer.find((layer) => layer.name === "curves");
  assert.equal(curves?.params?.[0].bind, "legend");
  // 2 losses x 3 noise levels = 6 averaged points (12 rows, 2 seeds each).
  const svg = await renderSvg(FIGURES.test_accuracy_vs_noise);
  const points = svg.split("role-mark noise_levels").slice(1)
    .map((part) => (part.split("</g>")[0].match(/<path/g) ?? []).length);
  assert.deepEqual(points, [6]);
});

Deno.test("latent-class curves: fc_noise_degree on x, one panel per feature count", async () => {
  const spec = FIGURES.latent_test_accuracy as {
    facet: { column: { field: string } };
    spec: { layer: { encoding: { x: { field: string } } }[] };
  };
  assert.equal(spec.facet.column.field, "features");
  assert.ok(spec.spec.layer.every((layer) => layer.encoding.x.field === "fc_noise_degree"));
  const svg = await renderSvg(FIGURES.latent_test_accuracy);
  assert.equal(svg.split("role-mark noise_levels").length - 1, 2, "two panels");
});
