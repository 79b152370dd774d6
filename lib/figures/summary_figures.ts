/**
 * The paper's summary figures across noise levels, built from rows of a results table: dilation
 * against memorization, and test accuracy or NC1 against label noise, one line per loss and one
 * panel per dataset. Seeds are averaged in the spec; error bars show their standard deviation.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { theme } from "./theme.ts";

/**
 * Identifies one configuration; rows sharing it (different seeds) are averaged.
 *
 * @example
 * ```ts
 * const key: SummaryKey = { dataset: "mnist", loss: "LS", label_noise: 0.2 };
 * ```
 */
export interface SummaryKey {
  /** Dataset name; one panel per dataset. */
  dataset: string;
  /** Loss name, e.g. "CE" or "LS"; one line per loss. */
  loss: string;
  /** Label noise level, e.g. 0.2. */
  label_noise: number;
}

/**
 * A results-table row for {@link dilationVsMemorizationSpec}.
 *
 * @example
 * ```ts
 * const row: MemorizationDilationRow = {
 *   dataset: "mnist",
 *   loss: "CE",
 *   label_noise: 0.2,
 *   memorization: 4.1,
 *   dilation: 0.9,
 * };
 * ```
 */
export interface MemorizationDilationRow extends SummaryKey {
  /** Mean distance of noisy samples' features to their original class's clean centroid. */
  memorization: number;
  /** Spread of clean samples around their clean centroid. */
  dilation: number;
}

/**
 * A results-table row for {@link accuracyVsNoiseSpec}.
 *
 * @example
 * ```ts
 * const row: TestAccuracyRow = { dataset: "mnist", loss: "CE", label_noise: 0.2, test_acc: 0.91 };
 * ```
 */
export interface TestAccuracyRow extends SummaryKey {
  /** Test accuracy against the true labels. */
  test_acc: number;
}

/**
 * A results-table row for {@link nc1VsNoiseSpec}.
 *
 * @example
 * ```ts
 * const row: Nc1Row = { dataset: "mnist", loss: "CE", label_noise: 0.2, nc1: 0.07 };
 * ```
 */
export interface Nc1Row extends SummaryKey {
  /** NC1 of the training features. */
  nc1: number;
}

/** Tooltip of a (loss, noise level) point averaged over seeds: means, stds and seed count. */
export const MEAN_MEMORIZATION_DILATION_TOOLTIP = [
  { field: "loss", type: "nominal" as const },
  { field: "label_noise", type: "quantitative" as const, title: "label noise" },
  { field: "memorization", type: "quantitative" as const, format: ".4~g" },
  { field: "memorization_std", type: "quantitative" as const, format: ".2~g" },
  { field: "dilation", type: "quantitative" as const, format: ".4~g" },
  { field: "dilation_std", type: "quantitative" as const, format: ".2~g" },
  { field: "seeds", type: "quantitative" as const },
];

/** A child of a layered Vega-Lite spec. */
type LayerChild = Extract<TopLevelSpec, { layer: unknown }>["layer"][number];

const PANEL_WIDTH = 280;
const PANEL_HEIGHT = 230;
const GROUP_BY = ["dataset", "loss", "label_noise"];
const ONE_PANEL_PER_DATASET = {
  column: { field: "dataset", type: "nominal", title: null },
} as const;

/**
 * Dilation (y) against memorization (x): per loss, one point per noise level (labelled with it),
 * connected in order of noise; one panel per dataset, each with its own axes.
 *
 * @example
 * ```ts
 * const spec = dilationVsMemorizationSpec([
 *   { dataset: "mnist", loss: "CE", label_noise: 0.1, memorization: 3.2, dilation: 0.8 },
 *   { dataset: "mnist", loss: "CE", label_noise: 0.2, memorization: 5.1, dilation: 1.1 },
 * ]);
 * ```
 */
export function dilationVsMemorizationSpec(
  rows: MemorizationDilationRow[],
  title = "Dilation against memorization",
): TopLevelSpec {
  // Without a zero baseline the points spread over the panel, which is what is compared here.
  const x = {
    field: "memorization",
    type: "quantitative",
    title: "memorization",
    scale: { zero: false },
  } as const;
  const y = {
    field: "dilation",
    type: "quantitative",
    title: "dilation",
    scale: { zero: false },
  } as const;
  const color = { field: "loss", type: "nominal", title: "loss" } as const;
  const errorBars: LayerChild[] = [
    {
      name: "memorization_error",
      mark: { type: "rule", opacity: 0.6 },
      encoding: {
        x: { ...x, field: "memorization_low" },
        x2: { field: "memorization_high" },
        y,
        color,
      },
    },
    {
      name: "dilation_error",
      mark: { type: "rule", opacity: 0.6 },
      encoding: {
        x,
        y: { ...y, field: "dilation_low" },
        y2: { field: "dilation_high" },
        color,
      },
    },
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    config: theme,
    data: { values: rows },
    transform: [
      ...meanAndStdOverSeeds(["memorization", "dilation"]),
      // Output fields named like the inputs keep the axis and tooltip titles readable.
      { calculate: "datum.memorization_mean", as: "memorization" },
      { calculate: "datum.dilation_mean", as: "dilation" },
    ],
    facet: ONE_PANEL_PER_DATASET,
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      layer: [
        ...(hasSeveralSeeds(rows) ? errorBars : []),
        {
          name: "curves",
          params: [legendSelection("loss")],
          mark: "line",
          encoding: {
            x,
            y,
            color,
            opacity: { condition: { param: LEGEND_SELECTION, value: 1 }, value: 0.15 },
            order: { field: "label_noise", type: "quantitative" },
          },
        },
        {
          name: "noise_levels",
          mark: { type: "point", filled: true, size: 50 },
          encoding: {
            x,
            y,
            color,
            opacity: { condition: { param: LEGEND_SELECTION, value: 1 }, value: 0.15 },
            tooltip: MEAN_MEMORIZATION_DILATION_TOOLTIP,
          },
        },
        {
          name: "noise_labels",
          mark: { type: "text", align: "left", dx: 6, dy: -7, fontSize: 10 },
          encoding: { x, y, color, text: { field: "label_noise", type: "quantitative" } },
        },
      ],
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
}

/**
 * Test accuracy against label noise, one line per loss, one panel per dataset.
 *
 * @example
 * ```ts
 * const spec = accuracyVsNoiseSpec([
 *   { dataset: "mnist", loss: "CE", label_noise: 0.1, test_acc: 0.97 },
 *   { dataset: "mnist", loss: "LS", label_noise: 0.1, test_acc: 0.98 },
 * ]);
 * ```
 */
export function accuracyVsNoiseSpec(
  rows: TestAccuracyRow[],
  title = "Test accuracy against label noise",
): TopLevelSpec {
  return noiseCurvesSpec(rows, "test_acc", "test accuracy", title, "linear");
}

/**
 * NC1 of the training features against label noise, one line per loss, one panel per dataset.
 * The y scale is logarithmic when every value is positive, since NC1 spans orders of magnitude.
 *
 * @example
 * ```ts
 * const spec = nc1VsNoiseSpec([{ dataset: "mnist", loss: "CE", label_noise: 0.1, nc1: 0.05 }]);
 * ```
 */
export function nc1VsNoiseSpec(rows: Nc1Row[], title = "NC1 against label noise"): TopLevelSpec {
  const scale = rows.every((row) => row.nc1 > 0) ? "log" : "linear";
  return noiseCurvesSpec(rows, "nc1", "NC1", title, scale);
}

/**
 * Mean and standard deviation of `fields` over seeds, plus `<field>_low` and `<field>_high` for
 * error bars (mean ∓ std). A single seed has no spread, so its bar collapses onto the point; on a
 * log axis (`positive`) a bar that would reach zero or below is cut at the mean.
 */
function meanAndStdOverSeeds(fields: string[], positive = false, groupby: string[] = GROUP_BY) {
  return [
    {
      aggregate: [
        ...fields.flatMap((field) => [
          { op: "mean" as const, field, as: `${field}_mean` },
          { op: "stdev" as const, field, as: `${field}_std` },
        ]),
        { op: "count" as const, as: "seeds" },
      ],
      groupby,
    },
    ...fields.flatMap((field) => {
      const [mean, std] = [`datum.${field}_mean`, `datum.${field}_std`];
      const lowDrawable = positive ? `datum.seeds > 1 && ${mean} > ${std}` : "datum.seeds > 1";
      return [
        { calculate: `${lowDrawable} ? ${mean} - ${std} : ${mean}`, as: `${field}_low` },
        { calculate: `datum.seeds > 1 ? ${mean} + ${std} : ${mean}`, as: `${field}_high` },
      ];
    }),
  ];
}

/**
 * Whether some (dataset, loss, noise) has several rows. Error bars are only added then: a layer
 * of empty bars would make vega warn about empty scale extents.
 */
function hasSeveralSeeds(
  rows: Record<string, unknown>[] | SummaryKey[],
  groupby: string[] = GROUP_BY,
): boolean {
  const keys = new Set(
    rows.map((r) => JSON.stringify(groupby.map((k) => (r as Record<string, unknown>)[k]))),
  );
  return keys.size < rows.length;
}

function noiseCurvesSpec(
  rows: SummaryKey[],
  field: string,
  axisTitle: string,
  title: string,
  scale: "linear" | "log",
): TopLevelSpec {
  return sweepCurvesSpec(rows as unknown as Record<string, unknown>[], {
    x: { field: "label_noise", title: "label noise" },
    y: { field, title: axisTitle, scale },
    title,
  });
}

/**
 * What {@link sweepCurvesSpec} plots: a metric (y) against a swept parameter (x), one line per
 * `color` value, one panel per `column` value.
 *
 * @example
 * ```ts
 * const options: SweepCurvesOptions = {
 *   x: { field: "fc_noise_degree", title: "latent-class degree" },
 *   y: { field: "test_acc", title: "test accuracy" },
 *   column: { field: "features", title: "penultimate features" },
 *   title: "Four-class problem: test accuracy",
 * };
 * ```
 */
export interface SweepCurvesOptions {
  /** The swept parameter. */
  x: { field: string; title: string };
  /** The metric; a log scale needs positive values. */
  y: { field: string; title: string; scale?: "linear" | "log" };
  /** One line per value (default: `loss`). */
  color?: { field: string; title: string };
  /** One panel per value (default: `dataset`). */
  column?: { field: string; title: string | null };
  title: string;
}

/**
 * A metric against a swept parameter, seeds averaged (error bars: their standard deviation),
 * one line per loss (or `color`), one panel per dataset (or `column`). Clicking a legend entry
 * highlights its line. The figures against label noise are this with x = `label_noise`. An
 * accuracy (`..._acc`, a fraction in the rows) is drawn in percent; the y axis is zoomed to the
 * data (it does not start at 0).
 *
 * @example
 * ```ts
 * const spec = sweepCurvesSpec(
 *   [{ dataset: "mnist", loss: "CE", fc_noise_degree: 0.5, test_acc: 0.9 }],
 *   { x: { field: "fc_noise_degree", title: "degree" }, y: { field: "test_acc", title: "accuracy" }, title: "t" },
 * );
 * ```
 */
export function sweepCurvesSpec(
  rows: Record<string, unknown>[],
  options: SweepCurvesOptions,
): TopLevelSpec {
  const colorField = options.color ?? { field: "loss", title: "loss" };
  const columnField = options.column ?? { field: "dataset", title: null };
  const field = options.y.field;
  const scale = options.y.scale ?? "linear";
  const groupby = [columnField.field, colorField.field, options.x.field];
  const x = { field: options.x.field, type: "quantitative", title: options.x.title } as const;
  // Accuracies are plotted in percent (the team's unit); every axis is zoomed to the data, so a
  // difference of a point between two losses is visible.
  const percent = ACCURACY_FIELD.test(field);
  const y = {
    field,
    type: "quantitative",
    title: percent ? `${options.y.title} (%)` : options.y.title,
    scale: scale === "log" ? { type: scale } : { type: scale, zero: false },
  } as const;
  const color = { field: colorField.field, type: "nominal", title: colorField.title } as const;
  const opacity = { condition: { param: LEGEND_SELECTION, value: 1 }, value: 0.15 } as const;
  const errorBars: LayerChild[] = [{
    name: "error_bars",
    mark: { type: "rule", opacity: 0.6 },
    encoding: { x, y: { ...y, field: `${field}_low` }, y2: { field: `${field}_high` }, color },
  }];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title,
    config: theme,
    data: { values: rows },
    transform: [
      ...(percent ? [{ calculate: `100 * datum[${JSON.stringify(field)}]`, as: field }] : []),
      ...meanAndStdOverSeeds([field], scale === "log", groupby),
      { calculate: `datum[${JSON.stringify(`${field}_mean`)}]`, as: field },
    ],
    facet: { column: { field: columnField.field, type: "nominal", title: columnField.title } },
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      layer: [
        ...(hasSeveralSeeds(rows, groupby) ? errorBars : []),
        {
          name: "curves",
          params: [legendSelection(colorField.field)],
          mark: "line",
          encoding: { x, y, color, opacity },
        },
        {
          name: "noise_levels",
          mark: { type: "point", filled: true, size: 50 },
          encoding: {
            x,
            y,
            color,
            opacity,
            tooltip: [
              { field: colorField.field, type: "nominal", title: colorField.title },
              { field: options.x.field, type: "quantitative", title: options.x.title },
              { field, type: "quantitative", title: options.y.title, format: ".4~g" },
              { field: `${field}_std`, type: "quantitative", title: "std", format: ".2~g" },
              { field: "seeds", type: "quantitative" },
            ],
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
}

/** Metric fields holding an accuracy as a fraction (`test_acc`, `train_acc`). */
const ACCURACY_FIELD = /(^|_)acc$/;

/** Name of the legend-bound selection on summary figures. */
const LEGEND_SELECTION = "legend_selection";

/** A point selection of `field` bound to the legend: clicking an entry highlights its line. */
function legendSelection(field: string) {
  return {
    name: LEGEND_SELECTION,
    select: { type: "point" as const, fields: [field] },
    bind: "legend" as const,
  };
}
