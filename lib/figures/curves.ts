/**
 * Curves over training epochs: loss, accuracies and learning rate of one run, and any per-epoch
 * metrics (NC1 to NC4, ECE, traces of the covariances) across several runs.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { CLASS_COLORS, theme } from "./theme.ts";

/**
 * One evaluated epoch of a run's training history.
 *
 * @example
 * ```ts
 * const row: TrainingHistoryRow = {
 *   epoch: 3,
 *   train_loss: 0.41,
 *   train_acc: 0.88,
 *   val_acc: null,
 *   test_acc: 0.86,
 *   lr: 0.05,
 * };
 * ```
 */
export interface TrainingHistoryRow {
  /** Epoch after which the row was evaluated. */
  epoch: number;
  /** Mean training loss. */
  train_loss: number;
  /** Training accuracy against the (noisy) training labels. */
  train_acc: number;
  /** Null when the run has no validation split. */
  val_acc: number | null;
  /** Test accuracy against the true labels. */
  test_acc: number;
  /** Learning rate used in the epoch. */
  lr: number;
}

/**
 * One epoch of one run, with any numeric metrics (missing or null ones are skipped).
 *
 * @example
 * ```ts
 * const row: EpochMetricsRow = { run: "CE noise 0.2", epoch: 10, nc1: 0.8, nc2: 0.3 };
 * ```
 */
export interface EpochMetricsRow {
  /** Name of the run, one line per run. */
  run: string;
  /** Epoch after which the metrics were computed. */
  epoch: number;
  /** Metric values by field name. */
  [metric: string]: string | number | null | undefined;
}

/**
 * A panel of {@link metricCurvesSpec}: which field to plot and how.
 *
 * @example
 * ```ts
 * const panel: MetricPanel = { field: "nc1", title: "NC1", scale: "log" };
 * ```
 */
export interface MetricPanel {
  /** Row field holding the metric. */
  field: string;
  /** Panel and axis title. */
  title: string;
  /** Log scale for metrics spanning orders of magnitude, such as NC1 (needs positive values). */
  scale?: "linear" | "log";
}

const PANEL_WIDTH = 260;
const PANEL_HEIGHT = 190;

/**
 * Three panels side by side: training loss, accuracies (train, validation when present, test;
 * coloured by split) and learning rate, all against the epoch.
 *
 * @example
 * ```ts
 * const spec = trainingCurvesSpec(
 *   [{ epoch: 1, train_loss: 0.7, train_acc: 0.5, val_acc: null, test_acc: 0.5, lr: 0.1 }],
 *   "CE, noise 0.2",
 * );
 * ```
 */
export function trainingCurvesSpec(history: TrainingHistoryRow[], title: string): TopLevelSpec {
  const splits = [
    { field: "train_acc", split: "train" },
    { field: "val_acc", split: "validation" },
    { field: "test_acc", split: "test" },
  ].filter(({ field }) => history.some((row) => isFiniteNumber(row[field as keyof typeof row])));
  const epoch = { field: "epoch", type: "quantitative" as const, title: "epoch" };
  const singleLine = (field: string, axisTitle: string) => ({
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    mark: { type: "line" as const, color: CLASS_COLORS[0] },
    encoding: {
      x: epoch,
      y: { field, type: "quantitative" as const, title: axisTitle },
    },
  });

  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    config: theme,
    data: { values: history },
    hconcat: [
      singleLine("train_loss", "training loss"),
      {
        width: PANEL_WIDTH,
        height: PANEL_HEIGHT,
        transform: [
          { fold: splits.map((s) => s.field), as: ["metric", "accuracy"] },
          { filter: "isValid(datum.accuracy) && isFinite(datum.accuracy)" },
          {
            lookup: "metric",
            from: { data: { values: splits }, key: "field", fields: ["split"] },
          },
        ],
        mark: "line",
        encoding: {
          x: epoch,
          y: { field: "accuracy", type: "quantitative", title: "accuracy" },
          color: {
            field: "split",
            type: "nominal",
            title: "split",
            scale: { domain: splits.map((s) => s.split) },
          },
        },
      },
      singleLine("lr", "learning rate"),
    ],
  };
}

/**
 * One panel per metric (three per row), each with one line per run against the epoch: the
 * spec's curves of NC1, NC1 post, NC2, NC3, NC4, accuracies, ECE and covariance traces.
 *
 * @example
 * ```ts
 * const spec = metricCurvesSpec(
 *   [{ run: "CE", epoch: 1, nc1: 2.5 }, { run: "LS", epoch: 1, nc1: 1.2 }],
 *   [{ field: "nc1", title: "NC1", scale: "log" }],
 *   "Neural collapse, noise 0.2",
 * );
 * ```
 */
export function metricCurvesSpec(
  rows: EpochMetricsRow[],
  metrics: MetricPanel[],
  title: string,
): TopLevelSpec {
  const panelName = (field: string) => `panel_${field.replace(/[^A-Za-z0-9_]/g, "_")}`;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    config: theme,
    data: { values: rows },
    // Clicking a run in the legend highlights its lines in every panel (shift-click adds more).
    params: [{
      name: RUN_SELECTION,
      select: { type: "point", fields: ["run"] },
      bind: "legend",
      views: metrics.map(({ field }) => panelName(field)),
    }],
    columns: 3,
    concat: metrics.map(({ field, title: metricTitle, scale = "linear" }) => ({
      name: panelName(field),
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      title: { text: metricTitle, fontSize: 13 },
      // Missing values, and non-positive ones on a log scale, cannot be drawn: drop them quietly.
      transform: [{ filter: validValue(field, scale) }],
      mark: { type: "line", point: { size: 18 } },
      encoding: {
        x: {
          field: "epoch",
          type: "quantitative",
          title: "epoch",
          axis: { tickMinStep: 1, format: "d" },
        },
        y: { field, type: "quantitative", title: metricTitle, scale: { type: scale } },
        color: { field: "run", type: "nominal", title: "run" },
        opacity: { condition: { param: RUN_SELECTION, value: 1 }, value: DIMMED },
        tooltip: [
          { field: "run", type: "nominal" },
          { field: "epoch", type: "quantitative" },
          { field, type: "quantitative", title: metricTitle, format: ".4~g" },
        ],
      },
    })),
  };
}

/** Name of the legend-bound selection of runs (or losses) on curve figures. */
export const RUN_SELECTION = "legend_selection";
/** Opacity of the lines not selected in the legend. */
const DIMMED = 0.15;

function isFiniteNumber(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value);
}

/** Vega expression keeping rows whose `field` can be drawn on a scale of the given type. */
function validValue(field: string, scale: "linear" | "log"): string {
  const value = `datum[${JSON.stringify(field)}]`;
  return scale === "log" ? `${value} > 0` : `isValid(${value}) && isFinite(${value})`;
}
