/**
 * Vega-Lite figures of the comparison of two losses: dilation against memorization in the
 * paper's form (the reference's sum measure on x, one curve per loss through the noise levels
 * from its noise-free point (0, d(0)), every seed and the mean with 95 % intervals per level), and
 * the treatment - reference differences per noise level with their 95 % intervals.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { theme } from "../figures/theme.ts";
import { shortLoss } from "../losses/mod.ts";
import {
  type ComparisonRun,
  type Definition,
  DEFINITIONS,
  type EndpointRow,
  underDefinition,
} from "./paired_comparison.ts";
import { levelSummary } from "./level_summary.ts";

const DEFINITION_TITLES: Record<Definition, string> = {
  raw: "raw (the reference's definitions)",
  scale_free: "scale-free (divided by the clean centroid distance)",
};

/**
 * Dilation (y, clean spread) against memorization (x, the reference's sum measure): every seed
 * as a small open point; the mean over seeds per (loss, noise level) as a filled point with 95 %
 * t-intervals in both directions, connected in order of noise from the noise-free point
 * (memorization 0). One panel per definition (raw, scale-free), each with its own axes.
 *
 * @example
 * ```ts
 * import type { ComparisonRun } from "./paired_comparison.ts";
 * declare const runs: ComparisonRun[];
 * const spec = dilationVsMemorizationMatchedSpec(runs);
 * ```
 */
export function dilationVsMemorizationMatchedSpec(runs: ComparisonRun[]): TopLevelSpec {
  const seeds = DEFINITIONS.flatMap((definition) =>
    runs.map((run) => ({
      kind: "seed",
      panel: DEFINITION_TITLES[definition],
      loss: shortLoss(run.loss),
      label_noise: run.label_noise,
      seed: run.seed,
      ...underDefinition(run, definition),
    }))
  ).filter((p) => Number.isFinite(p.memorization) && Number.isFinite(p.dilation));
  const means = DEFINITIONS.flatMap((definition) =>
    levelSummary(runs, definition).map((level) => ({
      kind: "mean",
      panel: DEFINITION_TITLES[definition],
      loss: shortLoss(level.loss),
      label_noise: level.label_noise,
      seeds: level.seeds,
      memorization: level.memorization_mean,
      memorization_low: level.memorization_low,
      memorization_high: level.memorization_high,
      dilation: level.dilation_mean,
      dilation_low: level.dilation_low,
      dilation_high: level.dilation_high,
    }))
  ).filter((p) => Number.isFinite(p.memorization) && Number.isFinite(p.dilation));
  const x = { field: "memorization", type: "quantitative", title: "memorization" } as const;
  const y = { field: "dilation", type: "quantitative", title: "dilation" } as const;
  const color = { field: "loss", type: "nominal", title: "loss" } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Dilation against memorization",
      subtitle: [
        "open: seeds; filled: mean per noise level (labelled) with 95% t-intervals,",
        "each curve from its noise-free run at memorization 0",
      ],
    },
    config: theme,
    facet: { column: { field: "panel", type: "nominal", title: null } },
    data: { values: [...seeds, ...means] },
    spec: {
      width: 300,
      height: 240,
      layer: [
        {
          name: "seeds",
          transform: [{ filter: "datum.kind === 'seed'" }],
          mark: { type: "point", size: 22, opacity: 0.45 },
          encoding: {
            x,
            y,
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
          transform: [{ filter: "datum.kind === 'mean'" }],
          layer: [
            {
              name: "memorization_interval",
              mark: { type: "rule", opacity: 0.8 },
              encoding: {
                x: { ...x, field: "memorization_low" },
                x2: { field: "memorization_high" },
                y,
                color,
              },
            },
            {
              name: "dilation_interval",
              mark: { type: "rule", opacity: 0.8 },
              encoding: {
                x,
                y: { ...y, field: "dilation_low" },
                y2: { field: "dilation_high" },
                color,
              },
            },
            {
              name: "means",
              mark: { type: "line", point: { filled: true, size: 55 } },
              encoding: {
                x,
                y,
                color,
                order: { field: "label_noise", type: "quantitative" },
                tooltip: [
                  { field: "loss", type: "nominal" },
                  { field: "label_noise", type: "quantitative", title: "label noise" },
                  { field: "seeds", type: "quantitative" },
                  { field: "memorization", type: "quantitative", format: ".4~g" },
                  { field: "dilation", type: "quantitative", format: ".4~g" },
                  { field: "dilation_low", type: "quantitative", format: ".4~g" },
                  { field: "dilation_high", type: "quantitative", format: ".4~g" },
                ],
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

/** The panels of {@link differencesSpec}: one per claim, raw, clean spread. */
const DIFFERENCE_PANELS: { quantity: EndpointRow["quantity"]; title: string }[] = [
  { quantity: "dilation_difference", title: "(a) dilation, matched" },
  { quantity: "excess_dilation_difference", title: "(b) excess dilation, matched" },
  { quantity: "test_acc_difference_pp", title: "(c) test accuracy (pp)" },
];

/**
 * Treatment - reference per noise level (raw definitions, clean spread): the mean over seeds
 * (point) with its paired 95 % t-interval (bar) and a zero line; filled where the level counts as
 * evidence and Holm's correction decides it, open otherwise (noise 0 is shown, never counted).
 * Levels where some seed is only bounded show the mean of the upper bound ("at most") and its
 * interval. One panel per claim, each with its own y axis: about 620 px wide (1240 in the PNG).
 *
 * @example
 * ```ts
 * import { endpointTable, type PairedRun, type SeedTradeOff } from "./paired_comparison.ts";
 * declare const perSeed: SeedTradeOff[], paired: PairedRun[];
 * const spec = differencesSpec(endpointTable(perSeed, paired), "LS - CE");
 * ```
 */
export function differencesSpec(rows: EndpointRow[], label = "LS - CE"): TopLevelSpec {
  const values = DIFFERENCE_PANELS.flatMap((panel) =>
    rows.filter((r) =>
      r.scope === "level" && r.quantity === panel.quantity && r.definition === "raw" &&
      r.dilation_measure === "clean_spread"
    ).map((r) => {
      const matched = Number.isFinite(r.mean);
      const difference = matched ? r.mean : r.at_most_mean;
      // Without an interval (one seed; or only an upper bound) the bar collapses onto the point.
      const end = (v: number) => Number.isFinite(v) ? v : difference;
      return {
        panel: panel.title,
        label_noise: r.label_noise,
        difference,
        low: end(matched ? r.low : difference),
        high: end(matched ? r.high : r.at_most_high),
        estimate: matched ? "mean" : "at most",
        decided: r.direction !== 0
          ? "Holm-decided"
          : r.counts_as_evidence
          ? "undecided"
          : "noise 0",
        decision: r.decision,
        p_holm: r.p_holm,
        matched: `${r.matched_seeds} of ${r.seeds}`,
      };
    })
  ).filter((v) => Number.isFinite(v.difference));
  const x = {
    field: "label_noise",
    type: "quantitative",
    title: "label noise",
    scale: { padding: 12 },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `${label} per noise level`,
      subtitle: [
        "mean over seeds, paired 95% t-interval;",
        "(b) minus each loss's noise-free dilation;",
        "filled: decided after Holm; grey: noise 0",
      ],
    },
    config: theme,
    data: { values },
    spacing: 14,
    bounds: "flush",
    // A panel without any value (e.g. no noise-free runs for the excess) is left out.
    hconcat: DIFFERENCE_PANELS.filter((panel) => values.some((v) => v.panel === panel.title))
      .map((panel) => ({
        title: { text: panel.title, fontSize: 12, fontWeight: "normal" as const },
        width: 140,
        height: 150,
        transform: [{ filter: { field: "panel", equal: panel.title } }],
        layer: [
          {
            mark: { type: "rule", strokeDash: [4, 3], color: "#7f7f7f" },
            encoding: { y: { datum: 0 } },
          },
          {
            name: `${panel.quantity}_intervals`,
            mark: { type: "rule", strokeWidth: 2 },
            encoding: {
              x,
              y: { field: "low", type: "quantitative", title: null },
              y2: { field: "high" },
            },
          },
          {
            name: `${panel.quantity}_means`,
            mark: { type: "point", size: 60 },
            encoding: {
              x,
              y: { field: "difference", type: "quantitative" },
              fill: {
                field: "decided",
                type: "nominal",
                legend: null,
                scale: {
                  domain: ["Holm-decided", "undecided", "noise 0"],
                  range: ["#1f77b4", "white", "white"],
                },
              },
              stroke: {
                field: "decided",
                type: "nominal",
                legend: null,
                scale: {
                  domain: ["Holm-decided", "undecided", "noise 0"],
                  range: ["#1f77b4", "#1f77b4", "#7f7f7f"],
                },
              },
              tooltip: [
                { field: "label_noise", type: "quantitative", title: "label noise" },
                { field: "estimate", type: "nominal" },
                { field: "difference", type: "quantitative", format: ".4~g" },
                { field: "low", type: "quantitative", format: ".4~g" },
                { field: "high", type: "quantitative", format: ".4~g" },
                { field: "p_holm", type: "quantitative", format: ".3~g", title: "Holm p" },
                { field: "decision", type: "nominal" },
                { field: "matched", type: "nominal", title: "seeds matched" },
              ],
            },
          },
        ],
      })),
  };
}
