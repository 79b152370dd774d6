/**
 * Vega-Lite figures of the CE/LS comparison: dilation against memorization with every seed as a
 * point and mean -/+ std per noise level, and the LS - CE differences per noise level with their
 * 95 % intervals.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { MEAN_MEMORIZATION_DILATION_TOOLTIP } from "../figures/summary.ts";
import { theme } from "../figures/theme.ts";
import { shortLoss } from "../losses/mod.ts";
import {
  type ComparedQuantity,
  type ComparisonRun,
  type Definition,
  DEFINITIONS,
  type DifferenceRow,
  underDefinition,
} from "./comparison.ts";

/** One run under one definition, for {@link seedsDilationVsMemorizationSpec}. */
export interface SeedPoint {
  definition: Definition;
  /** Short loss name: CE, LS. */
  loss: string;
  label_noise: number;
  seed: number;
  memorization: number;
  dilation: number;
}

/**
 * Every run under both definitions, losses shortened (CrossEntropy: CE).
 *
 * @example
 * ```ts
 * import type { ComparisonRun } from "./comparison.ts";
 * declare const runs: ComparisonRun[];
 * const points = seedPoints(runs); // 2 rows per run: raw and scale-free
 * ```
 */
export function seedPoints(runs: ComparisonRun[]): SeedPoint[] {
  return DEFINITIONS.flatMap((definition) =>
    runs.map((run) => ({
      definition,
      loss: shortLoss(run.loss),
      label_noise: run.label_noise,
      seed: run.seed,
      ...underDefinition(run, definition),
    }))
  );
}

const DEFINITION_TITLES: Record<Definition, string> = {
  raw: "raw (the paper's definitions)",
  scale_free: "scale-free (divided by the clean centroid distance)",
};

/** The panels of {@link differencesSpec}: the verdict's evidence, in reading order. */
const DIFFERENCE_PANELS: { quantity: ComparedQuantity; definition: Definition; title: string }[] = [
  {
    quantity: "dilation_at_most_at_matched_memorization",
    definition: "raw",
    title: "dilation at matched memorization (at most), raw",
  },
  {
    quantity: "dilation_at_most_at_matched_memorization",
    definition: "scale_free",
    title: "dilation at matched memorization (at most), scale-free",
  },
  {
    quantity: "memorization_at_same_noise",
    definition: "scale_free",
    title: "memorization at the same noise, scale-free",
  },
  { quantity: "test_acc_at_same_noise", definition: "raw", title: "test acc. (pp), same noise" },
];

/**
 * Dilation (y) against memorization (x): every seed as a small open point, the mean over seeds
 * per (loss, noise level) as a filled point with -/+ std bars in both directions, means connected
 * in order of noise; one panel per definition (raw, scale-free), each with its own axes. Runs
 * without memorization (noise 0) are left out.
 *
 * @example
 * ```ts
 * const spec = seedsDilationVsMemorizationSpec([
 *   { definition: "raw", loss: "CE", label_noise: 0.2, seed: 1, memorization: 2.4, dilation: 0.3 },
 * ]);
 * ```
 */
export function seedsDilationVsMemorizationSpec(points: SeedPoint[]): TopLevelSpec {
  const values = points
    .filter((p) => Number.isFinite(p.memorization) && Number.isFinite(p.dilation))
    .map((p) => ({ ...p, panel: DEFINITION_TITLES[p.definition] }));
  const x = { field: "memorization", type: "quantitative", scale: { zero: false } } as const;
  const y = { field: "dilation", type: "quantitative", scale: { zero: false } } as const;
  const color = { field: "loss", type: "nominal", title: "loss" } as const;
  const meanTransform = [
    {
      aggregate: [
        { op: "mean" as const, field: "memorization", as: "memorization" },
        { op: "stdev" as const, field: "memorization", as: "memorization_std" },
        { op: "mean" as const, field: "dilation", as: "dilation" },
        { op: "stdev" as const, field: "dilation", as: "dilation_std" },
        { op: "count" as const, as: "seeds" },
      ],
      groupby: ["panel", "loss", "label_noise"],
    },
    // One seed has no spread: its bars collapse onto the point.
    { calculate: "datum.seeds > 1 ? datum.memorization_std : 0", as: "memorization_sd" },
    { calculate: "datum.seeds > 1 ? datum.dilation_std : 0", as: "dilation_sd" },
    { calculate: "datum.memorization - datum.memorization_sd", as: "memorization_low" },
    { calculate: "datum.memorization + datum.memorization_sd", as: "memorization_high" },
    { calculate: "datum.dilation - datum.dilation_sd", as: "dilation_low" },
    { calculate: "datum.dilation + datum.dilation_sd", as: "dilation_high" },
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Dilation against memorization: every seed, mean -/+ std per noise level",
      subtitle: "open points: seeds; filled: mean over seeds, labelled with the noise level",
    },
    config: theme,
    data: { values },
    facet: { column: { field: "panel", type: "nominal", title: null } },
    spec: {
      width: 300,
      height: 240,
      layer: [
        {
          name: "seeds",
          mark: { type: "point", size: 28, opacity: 0.55 },
          encoding: {
            x: { ...x, title: "memorization" },
            y: { ...y, title: "dilation" },
            color,
            tooltip: [
              { field: "loss", type: "nominal" },
              { field: "label_noise", type: "quantitative", title: "label noise" },
              { field: "seed", type: "quantitative" },
              { field: "memorization", type: "quantitative", format: ".4~g" },
              { field: "dilation", type: "quantitative", format: ".4~g" },
            ],
          },
        },
        {
          transform: meanTransform,
          layer: [
            {
              name: "memorization_std",
              mark: { type: "rule", opacity: 0.7 },
              encoding: {
                x: { ...x, field: "memorization_low" },
                x2: { field: "memorization_high" },
                y,
                color,
              },
            },
            {
              name: "dilation_std",
              mark: { type: "rule", opacity: 0.7 },
              encoding: {
                x,
                y: { ...y, field: "dilation_low" },
                y2: { field: "dilation_high" },
                color,
              },
            },
            {
              name: "means",
              mark: { type: "line", point: { filled: true, size: 60 } },
              encoding: {
                x,
                y,
                color,
                order: { field: "label_noise", type: "quantitative" },
                tooltip: MEAN_MEMORIZATION_DILATION_TOOLTIP,
              },
            },
            {
              name: "noise_labels",
              mark: { type: "text", align: "left", dx: 6, dy: -8, fontSize: 10 },
              encoding: { x, y, color, text: { field: "label_noise", type: "quantitative" } },
            },
          ],
        },
      ],
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
}

/**
 * LS - CE per noise level: the mean difference over seeds (point) with its paired 95 %
 * t-interval (bar) and a zero line, each panel with its own y axis: dilation at matched
 * memorization as its upper bound (the difference itself where the seed matched; raw and
 * scale-free), memorization at the same noise (scale-free) and test accuracy at the same noise
 * (percentage points). Below zero on the dilation panels and above zero on the accuracy panel is
 * what the paper predicts.
 *
 * @example
 * ```ts
 * import { type ComparisonRun, differenceTable, pairRuns } from "./comparison.ts";
 * declare const runs: ComparisonRun[];
 * const spec = differencesSpec(differenceTable(pairRuns(runs)));
 * ```
 */
export function differencesSpec(rows: DifferenceRow[]): TopLevelSpec {
  const values = DIFFERENCE_PANELS.flatMap((panel) =>
    rows.filter((r) =>
      r.quantity === panel.quantity && r.definition === panel.definition && Number.isFinite(r.mean)
    ).map((r) => ({ ...r, panel: panel.title }))
  ).map((r) => {
    const scale = r.quantity.startsWith("test_acc") ? 100 : 1;
    const interval = r.n >= 2;
    return {
      panel: r.panel,
      label_noise: r.label_noise,
      difference: r.mean * scale,
      low: interval ? r.low * scale : r.mean * scale,
      high: interval ? r.high * scale : r.mean * scale,
      n: r.n,
    };
  });
  const x = {
    field: "label_noise",
    type: "quantitative",
    title: "label noise",
    scale: { padding: 10 },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "LS minus CE per noise level, mean over seeds with paired 95% t-interval",
      subtitle: "matched: at the memorization LS reached, on CE's curve of the same seed " +
        "(bounded outside its range). The paper predicts dilation below 0, test accuracy above 0",
    },
    config: theme,
    data: { values },
    facet: { field: "panel", type: "nominal", title: null, sort: null },
    columns: 4,
    spec: {
      width: 170,
      height: 180,
      layer: [
        {
          mark: { type: "rule", strokeDash: [4, 3], color: "#7f7f7f" },
          encoding: { y: { datum: 0 } },
        },
        {
          name: "intervals",
          mark: { type: "rule", strokeWidth: 2 },
          encoding: {
            x,
            y: { field: "low", type: "quantitative", title: "LS - CE" },
            y2: { field: "high" },
          },
        },
        {
          name: "means",
          mark: { type: "point", filled: true, size: 60 },
          encoding: {
            x,
            y: { field: "difference", type: "quantitative" },
            tooltip: [
              { field: "label_noise", type: "quantitative", title: "label noise" },
              { field: "difference", type: "quantitative", format: ".4~g" },
              { field: "low", type: "quantitative", format: ".4~g" },
              { field: "high", type: "quantitative", format: ".4~g" },
              { field: "n", type: "quantitative", title: "seeds matched" },
            ],
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
}
