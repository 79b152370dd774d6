/**
 * Curves over training epochs: loss, accuracies and learning rate of one run, and any per-epoch
 * metrics (NC1 to NC4, ECE, traces of the covariances) across several runs.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { CLASS_COLORS, theme } from "./theme.ts";

/** One evaluated epoch of a run's training history. */
export interface TrainingHistoryRow {
  epoch: number;
  train_loss: number;
  train_acc: number;
  /** Null when the run has no validation split. */
  val_acc: number | null;
  test_acc: number;
  lr: number;
}

/** One epoch of one run, with any numeric metrics (missing or null ones are skipped). */
export interface EpochMetricsRow {
  /** Name of the run, one line per run. */
  run: string;
  epoch: number;
  [metric: string]: string | number | null | undefined;
}

/** A panel of {@link metricCurvesSpec}: which field to plot and how. */
export interface MetricPanel {
  field: string;
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
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    config: theme,
    data: { values: rows },
    columns: 3,
    concat: metrics.map(({ field, title: metricTitle, scale = "linear" }) => ({
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      title: { text: metricTitle, fontSize: 13 },
      // Missing values, and non-positive ones on a log scale, cannot be drawn: drop them quietly.
      transform: [{ filter: validValue(field, scale) }],
      mark: "line",
      encoding: {
        x: { field: "epoch", type: "quantitative", title: "epoch" },
        y: { field, type: "quantitative", title: metricTitle, scale: { type: scale } },
        color: { field: "run", type: "nominal", title: "run" },
      },
    })),
  };
}

function isFiniteNumber(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value);
}

/** Vega expression keeping rows whose `field` can be drawn on a scale of the given type. */
function validValue(field: string, scale: "linear" | "log"): string {
  const value = `datum[${JSON.stringify(field)}]`;
  return scale === "log" ? `${value} > 0` : `isValid(${value}) && isFinite(${value})`;
}
