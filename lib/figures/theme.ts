/**
 * The one visual theme shared by every memdil figure: fonts, sizes and colours.
 *
 * @module
 */
import type { Config } from "vega-lite";

/** Font used for all text; DejaVu Sans is installed with the system fonts resvg loads. */
export const FONT_FAMILY = "DejaVu Sans";

/** Colour of samples whose training label was corrupted (and of anything "noisy"). */
export const NOISY_COLOR = "#d62728";

/**
 * Categorical colours for clean classes (and for losses in the summary figures).
 * Red is deliberately absent so that it stays reserved for noisy samples.
 */
export const CLASS_COLORS: readonly string[] = [
  "#1f77b4",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#17becf",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#393b79",
];

/** Marker shapes for classes, indexed like {@link CLASS_COLORS}. */
export const CLASS_SHAPES: readonly string[] = [
  "circle",
  "square",
  "triangle-up",
  "triangle-down",
  "triangle-left",
  "triangle-right",
  "wedge",
  "arrow",
  "stroke",
  "triangle",
];

/** A five-pointed star as a Vega symbol path (unit coordinates), since Vega has no built-in star. */
export const STAR_SHAPE: string =
  "M0,-1L0.2245,-0.309L0.9511,-0.309L0.3633,0.118L0.5878,0.809L0,0.382L-0.5878,0.809" +
  "L-0.3633,0.118L-0.9511,-0.309L-0.2245,-0.309Z";

/**
 * Vega-Lite `config` applied to every figure.
 *
 * @example
 * ```ts
 * import { theme } from "./theme.ts";
 * const spec = { config: theme, mark: "point", data: { values: [] } };
 * ```
 */
export const theme: Config = {
  background: "white",
  font: FONT_FAMILY,
  padding: 12,
  title: {
    fontSize: 15,
    fontWeight: "bold",
    subtitleFontSize: 12,
    subtitleColor: "#444444",
    anchor: "start",
    offset: 10,
  },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: "normal",
    gridColor: "#e8e8e8",
    domainColor: "#555555",
    tickColor: "#555555",
  },
  legend: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: "normal",
    symbolSize: 80,
    symbolOpacity: 1,
    labelLimit: 260,
    titleLimit: 260,
  },
  header: { labelFontSize: 12, titleFontSize: 13 },
  view: { stroke: "#bbbbbb" },
  range: { category: [...CLASS_COLORS] },
  line: { strokeWidth: 2 },
  point: { size: 40 },
};

/** Legend entry of the points whose training label differs from their original class. */
export const NOISY_GROUP = "noisy label";

/**
 * Colour encoding of feature scatters: clean points by label, noisy points in red.
 *
 * @example
 * ```ts
 * const color = labelColorEncoding(["class 0", "class 1"], true);
 * ```
 */
export function labelColorEncoding(classes: string[], hasNoisy: boolean) {
  return {
    field: "group",
    type: "nominal" as const,
    title: "colour: label",
    scale: {
      domain: hasNoisy ? [...classes, NOISY_GROUP] : classes,
      range: [
        ...classes.map((_, c) => CLASS_COLORS[c % CLASS_COLORS.length]),
        ...(hasNoisy ? [NOISY_COLOR] : []),
      ],
    },
  };
}

/**
 * Shape encoding of feature scatters: the marker of each point's original class.
 *
 * @example
 * ```ts
 * const shape = originalClassShapeEncoding(["class 0", "class 1"]);
 * ```
 */
export function originalClassShapeEncoding(classes: string[]) {
  return {
    field: "marker",
    type: "nominal" as const,
    title: "marker: original class",
    scale: { domain: classes, range: classes.map((_, c) => CLASS_SHAPES[c % CLASS_SHAPES.length]) },
  };
}
