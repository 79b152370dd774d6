/**
 * Figures of a hyperparameter search, from its trial table: the best validation accuracy so far
 * against the trial number, each varied parameter against the objective, and every trial's
 * validation curve, completed trials apart from those stopped early.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { CLASS_COLORS, NOISY_COLOR, theme } from "./theme.ts";

/** One trial as the figures read it (a row of the search's trial table). */
export interface SearchTrialRow {
  trial: number;
  status: string;
  objective: number | null;
  params: Record<string, number>;
  val_curve: (number | null)[];
}

const STATUS_COLOR = {
  field: "status",
  type: "nominal",
  title: "trial",
  scale: {
    domain: ["completed", "stopped", "failed"],
    range: [CLASS_COLORS[0], CLASS_COLORS[3], NOISY_COLOR],
  },
} as const;

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** What every one-panel search figure starts with: schema, title, theme, size, inline data. */
function singlePanel(title: string, values: Record<string, unknown>[]) {
  return { $schema: SCHEMA, title, config: theme, width: 420, height: 260, data: { values } };
}

/**
 * Best validation accuracy over the trials so far (a step line), with each trial's own
 * objective as a point coloured by how it ended.
 *
 * @example
 * ```ts
 * bestSoFarSpec([{ trial: 0, status: "completed", objective: 0.8, params: {}, val_curve: [] }]);
 * ```
 */
export function bestSoFarSpec(trials: SearchTrialRow[], title = "Search progress"): TopLevelSpec {
  let best = -Infinity;
  const values = [...trials].sort((a, b) => a.trial - b.trial).map((t) => {
    if (t.status === "completed" && t.objective !== null) best = Math.max(best, t.objective);
    return {
      trial: t.trial,
      status: t.status,
      objective: t.objective,
      best_so_far: Number.isFinite(best) ? best : null,
    };
  });
  const x = { field: "trial", type: "quantitative", title: "trial", axis: { tickMinStep: 1 } };
  return {
    ...singlePanel(title, values),
    layer: [
      {
        mark: { type: "line", interpolate: "step-after", color: "black" },
        encoding: {
          x,
          y: { field: "best_so_far", type: "quantitative", title: "validation accuracy" },
        },
      },
      {
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x,
          y: { field: "objective", type: "quantitative" },
          color: STATUS_COLOR,
          tooltip: [
            { field: "trial", type: "quantitative" },
            { field: "status", type: "nominal" },
            { field: "objective", type: "quantitative", format: ".4f" },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * One panel per varied parameter: its value (log axis for `logScale` parameters) against the
 * trial's validation accuracy.
 *
 * @example
 * ```ts
 * import type { TrialRecord } from "../search/trials.ts";
 * declare const trials: TrialRecord[];
 * paramsVsObjectiveSpec(trials, ["lr", "gamma"], new Set(["lr"]));
 * ```
 */
export function paramsVsObjectiveSpec(
  trials: SearchTrialRow[],
  params: string[],
  logScale: Set<string>,
  title = "Parameters against validation accuracy",
): TopLevelSpec {
  const values = trials.filter((t) => t.objective !== null).map((t) => ({
    trial: t.trial,
    status: t.status,
    objective: t.objective,
    ...t.params,
  }));
  return {
    $schema: SCHEMA,
    title,
    config: theme,
    data: { values },
    hconcat: params.map((param) => ({
      width: 220,
      height: 200,
      mark: { type: "point", filled: true, size: 50 },
      encoding: {
        x: {
          field: param,
          type: "quantitative",
          title: param,
          scale: logScale.has(param) ? { type: "log" } : { zero: false },
        },
        y: { field: "objective", type: "quantitative", title: "validation accuracy" },
        color: STATUS_COLOR,
        tooltip: [
          { field: "trial", type: "quantitative" },
          { field: param, type: "quantitative", format: ".4g" },
          { field: "objective", type: "quantitative", format: ".4f" },
        ],
      },
    })),
  } as TopLevelSpec;
}

/**
 * Every trial's validation accuracy per epoch; trials stopped early end early, in their own
 * colour.
 *
 * @example
 * ```ts
 * validationCurvesSpec([{ trial: 0, status: "stopped", objective: 0.5, params: {},
 *   val_curve: [0.5] }]);
 * ```
 */
export function validationCurvesSpec(
  trials: SearchTrialRow[],
  title = "Validation accuracy per epoch",
): TopLevelSpec {
  const values = trials.flatMap((t) =>
    t.val_curve.map((v, i) => ({ trial: t.trial, status: t.status, epoch: i + 1, val_acc: v }))
  ).filter((row) => row.val_acc !== null);
  const encoding = {
    x: { field: "epoch", type: "quantitative", title: "epoch", axis: { tickMinStep: 1 } },
    y: { field: "val_acc", type: "quantitative", title: "validation accuracy" },
    color: STATUS_COLOR,
    detail: { field: "trial", type: "nominal" },
    tooltip: [
      { field: "trial", type: "quantitative" },
      { field: "epoch", type: "quantitative" },
      { field: "val_acc", type: "quantitative", format: ".4f" },
    ],
  };
  return {
    ...singlePanel(title, values),
    layer: [
      { mark: { type: "line", opacity: 0.8 }, encoding },
      { mark: { type: "point", filled: true, size: 30 }, encoding },
    ],
  } as TopLevelSpec;
}
