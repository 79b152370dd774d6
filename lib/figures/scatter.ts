/**
 * The paper's 2-D penultimate-feature scatter: clean and noisy samples, class means, clean
 * centroids with their spread (the dilation), and the classifier's decision boundary.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import {
  labelColorEncoding,
  NOISY_GROUP,
  originalClassShapeEncoding,
  STAR_SHAPE,
  theme,
} from "./theme.ts";

/**
 * One training or test sample's 2-D feature.
 *
 * @example
 * ```ts
 * const point: FeaturePoint = { x: 0.4, y: -1.2, label: 1, originalLabel: 0, noisy: true, index: 17 };
 * ```
 */
export interface FeaturePoint {
  /** First feature coordinate. */
  x: number;
  /** Second feature coordinate. */
  y: number;
  /** Label the model was trained on (possibly corrupted). */
  label: number;
  /** True class before label noise was applied. */
  originalLabel: number;
  /** Whether the label was corrupted. */
  noisy: boolean;
  /** Index of the sample in its split, shown in the tooltip. */
  index: number;
}

/**
 * A linear classifier on 2-D features: logits = weights · h + bias.
 *
 * @example
 * ```ts
 * const classifier: LinearClassifier = { weights: [[1, 0], [-1, 0]], bias: [0, 0] };
 * ```
 */
export interface LinearClassifier {
  /** K×2, one row per class. */
  weights: number[][];
  /** K biases. */
  bias: number[];
}

/**
 * Everything {@link featureScatterSpec} draws. Vectors are `[x, y]`.
 *
 * @example
 * ```ts
 * const input: FeatureScatterInput = {
 *   points: [],
 *   classMeans: [[-1, 0], [1, 0]],
 *   cleanCentroids: [[-1.1, 0], [1.1, 0]],
 *   cleanSpread: [0.3, 0.4],
 *   title: "Test features",
 * };
 * ```
 */
export interface FeatureScatterInput {
  /** Every sample of the split. */
  points: FeaturePoint[];
  /** K×2 mean feature of the samples labelled c. */
  classMeans: number[][];
  /** K×2 mean of the clean samples labelled c; null where a class has no clean sample. */
  cleanCentroids: (number[] | null)[];
  /** Per class, the spread of clean samples around their centroid; drawn as a circle radius. */
  cleanSpread: number[];
  /** Optional K×K noisy centroids C[c][o]: mean of noisy samples labelled c from class o. */
  noisyCentroids?: (number[] | null)[][];
  /** Draws the boundary where the two largest logits tie. */
  classifier?: LinearClassifier;
  /** Display names per class; defaults to "class c". */
  classNames?: string[];
  /** Figure title, e.g. loss, depth x width, activation and noise. */
  title: string;
  /** Second title line, e.g. batch norm and weight decay. */
  subtitle?: string;
}

/**
 * An axis-aligned rectangle in feature space.
 *
 * @example
 * ```ts
 * const box: Box = { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
 * ```
 */
export interface Box {
  /** Left edge. */
  xMin: number;
  /** Right edge. */
  xMax: number;
  /** Bottom edge. */
  yMin: number;
  /** Top edge. */
  yMax: number;
}

/**
 * A piece of decision boundary between two classes: segment from (x, y) to (x2, y2).
 *
 * @example
 * ```ts
 * const segment: BoundarySegment = { classes: [0, 1], x: 0, y: -1, x2: 0, y2: 1 };
 * ```
 */
export interface BoundarySegment {
  /** The two classes whose logits tie along the segment. */
  classes: [number, number];
  /** First end point, x. */
  x: number;
  /** First end point, y. */
  y: number;
  /** Second end point, x. */
  x2: number;
  /** Second end point, y. */
  y2: number;
}

const PLOT_SIZE = 420;
const CIRCLE_VERTICES = 72;
const SPREAD_KIND = "clean spread (radius)";
const BOUNDARY_KIND = "decision boundary";
const MEAN_KIND = "class mean";
const CLEAN_CENTROID_KIND = "clean centroid";
const NOISY_CENTROID_KIND = "noisy centroid";

/**
 * Pieces of the decision boundary of a linear classifier inside `box`: for each class pair
 * (i, j), the part of the line where logits i and j tie and no other logit is larger. For K = 2
 * this is the single line (w0 - w1)·h + (b0 - b1) = 0 clipped to the box; vertical lines are
 * handled, and identical weight rows (zero normal) give no boundary.
 *
 * @example
 * ```ts
 * const box = { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
 * decisionBoundarySegments({ weights: [[1, 0], [0, 0]], bias: [0, 0] }, box);
 * // [{ classes: [0, 1], x: 0, y: 1, x2: 0, y2: -1 }] (the vertical line x = 0)
 * ```
 */
export function decisionBoundarySegments(
  classifier: LinearClassifier,
  box: Box,
): BoundarySegment[] {
  const { weights, bias } = classifier;
  // Half-plane a·h + c >= 0 written as [a0, a1, c]; logit i >= logit k is such a half-plane.
  const prefers = (i: number, k: number): number[] => [
    weights[i][0] - weights[k][0],
    weights[i][1] - weights[k][1],
    bias[i] - bias[k],
  ];
  const insideBox = [
    [1, 0, -box.xMin],
    [-1, 0, box.xMax],
    [0, 1, -box.yMin],
    [0, -1, box.yMax],
  ];
  const boxScale = Math.max(box.xMax - box.xMin, box.yMax - box.yMin);
  const segments: BoundarySegment[] = [];
  for (let i = 0; i < weights.length; i++) {
    for (let j = i + 1; j < weights.length; j++) {
      const [n0, n1, c] = prefers(i, j);
      const normSquared = n0 * n0 + n1 * n1;
      if (!(normSquared > 0)) continue;
      // Parametrise the tie line as origin + t·direction and clip t (Liang–Barsky style).
      const origin = [(-c * n0) / normSquared, (-c * n1) / normSquared];
      const direction = [-n1 / Math.sqrt(normSquared), n0 / Math.sqrt(normSquared)];
      const others = weights.map((_, k) => k).filter((k) => k !== i && k !== j);
      const constraints = [...insideBox, ...others.map((k) => prefers(i, k))];
      let tMin = -Infinity;
      let tMax = Infinity;
      for (const [a0, a1, offset] of constraints) {
        const value = a0 * origin[0] + a1 * origin[1] + offset;
        const slope = a0 * direction[0] + a1 * direction[1];
        if (slope === 0) {
          if (value < 0) tMax = -Infinity;
        } else if (slope > 0) tMin = Math.max(tMin, -value / slope);
        else tMax = Math.min(tMax, -value / slope);
      }
      // Direction is unit length, so t differences are distances; drop corner touches.
      if (!(tMax - tMin > 1e-9 * boxScale)) continue;
      segments.push({
        classes: [i, j],
        x: origin[0] + tMin * direction[0],
        y: origin[1] + tMin * direction[1],
        x2: origin[0] + tMax * direction[0],
        y2: origin[1] + tMax * direction[1],
      });
    }
  }
  return segments;
}

/**
 * Vega-Lite spec of the feature scatter for one split. Clean samples are coloured and shaped by
 * class; noisy samples are red with the shape of their original class. Class means are stars,
 * clean centroids crosses (noisy centroids red diamonds), circles of radius = clean spread are
 * drawn around clean centroids, and the decision boundary is dashed. Axes share one scale so
 * circles stay round. Point layers are named `clean_points` and `noisy_points`, the others
 * `clean_spread`, `decision_boundary` and `summary_markers` (SVG classes `<name>_marks`).
 *
 * @example
 * ```ts
 * import { renderSvg } from "./render.ts";
 * const spec = featureScatterSpec({
 *   points: [{ x: 0.1, y: 1, label: 0, originalLabel: 0, noisy: false, index: 0 }],
 *   classMeans: [[0.1, 1], [1, 0]],
 *   cleanCentroids: [[0.1, 1], null],
 *   cleanSpread: [0.2, 0],
 *   title: "CE, 2x64 ReLU, noise 0.2",
 * });
 * const svg = await renderSvg(spec);
 * ```
 */
export function featureScatterSpec(input: FeatureScatterInput): TopLevelSpec {
  const classCount = input.points.reduce(
    (count, p) => Math.max(count, p.label + 1, p.originalLabel + 1),
    input.classMeans.length,
  );
  const className = (c: number): string => input.classNames?.[c] ?? `class ${c}`;
  const classes = Array.from({ length: classCount }, (_, c) => className(c));

  const pointRows = input.points.map((p) => ({
    ...p,
    group: p.noisy ? NOISY_GROUP : className(p.label),
    marker: className(p.noisy ? p.originalLabel : p.label),
  }));
  const summaryRows = summaryMarkerRows(input, className);
  const circleRows = spreadCircleRows(input, className);

  const box = squareBox([...pointRows, ...summaryRows, ...circleRows]);
  const boundaryRows = input.classifier
    ? decisionBoundarySegments(input.classifier, box).map((s) => ({
      ...s,
      kind: BOUNDARY_KIND,
      between: `${className(s.classes[0])} | ${className(s.classes[1])}`,
    }))
    : [];

  const hasNoisy = pointRows.some((p) => p.noisy) || summaryRows.some((r) => r.noisy);
  const color = labelColorEncoding(classes, hasNoisy);
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: "feature 1",
    scale: { domain: [box.xMin, box.xMax], nice: false, zero: false },
  };
  const y = {
    field: "y",
    type: "quantitative" as const,
    title: "feature 2",
    scale: { domain: [box.yMin, box.yMax], nice: false, zero: false },
  };
  const lineKinds = [
    ...(circleRows.length > 0 ? [SPREAD_KIND] : []),
    ...(boundaryRows.length > 0 ? [BOUNDARY_KIND] : []),
  ];
  const strokeDash = {
    field: "kind",
    type: "nominal" as const,
    title: null,
    scale: {
      domain: lineKinds,
      range: lineKinds.map((kind) => (kind === BOUNDARY_KIND ? [7, 4] : [1, 0])),
    },
    // Long, black legend strokes so the dash pattern is readable.
    legend: { symbolSize: 500, symbolStrokeColor: "black", symbolStrokeWidth: 1.5 },
  };
  const pointShape = originalClassShapeEncoding(classes);
  const pointTooltip = [
    { field: "index", type: "quantitative" as const, title: "sample" },
    { field: "label", type: "quantitative" as const, title: "label (trained on)" },
    { field: "originalLabel", type: "quantitative" as const, title: "original label" },
    { field: "noisy", type: "nominal" as const, title: "noisy" },
    { field: "x", type: "quantitative" as const, format: ".3f" },
    { field: "y", type: "quantitative" as const, format: ".3f" },
  ];
  const pointLayer = (name: string, rows: typeof pointRows, opacity: number): LayerChild => ({
    name,
    data: { values: rows },
    mark: { type: "point", filled: true, size: 36, opacity },
    encoding: { x, y, color, shape: pointShape, tooltip: pointTooltip },
  });
  const summaryKinds = [MEAN_KIND, CLEAN_CENTROID_KIND, NOISY_CENTROID_KIND].filter((kind) =>
    summaryRows.some((r) => r.kind === kind)
  );
  const summaryShapes: Record<string, string> = {
    [MEAN_KIND]: STAR_SHAPE,
    [CLEAN_CENTROID_KIND]: "cross",
    [NOISY_CENTROID_KIND]: "diamond",
  };

  const spreadLayer: LayerChild = {
    name: "clean_spread",
    data: { values: circleRows },
    mark: { type: "line", strokeWidth: 1.5, opacity: 0.9 },
    encoding: {
      x,
      y,
      color,
      detail: { field: "group", type: "nominal" },
      order: { field: "vertex", type: "quantitative" },
      strokeDash,
    },
  };
  const boundaryLayer: LayerChild = {
    name: "decision_boundary",
    data: { values: boundaryRows },
    mark: { type: "rule", color: "black", strokeWidth: 1.5 },
    encoding: {
      x,
      y,
      x2: { field: "x2" },
      y2: { field: "y2" },
      strokeDash,
      tooltip: [{ field: "between", type: "nominal", title: "decision boundary" }],
    },
  };
  const cleanPoints = pointRows.filter((p) => !p.noisy);
  const noisyPoints = pointRows.filter((p) => p.noisy);
  const summaryLayer: LayerChild = {
    name: "summary_markers",
    data: { values: summaryRows },
    mark: { type: "point", filled: true, size: 260, stroke: "black", strokeWidth: 1 },
    encoding: {
      x,
      y,
      color,
      shape: {
        field: "kind",
        type: "nominal",
        title: null,
        scale: { domain: summaryKinds, range: summaryKinds.map((k) => summaryShapes[k]) },
        legend: { symbolFillColor: "#bbbbbb", symbolStrokeColor: "black" },
      },
      tooltip: [
        { field: "kind", type: "nominal", title: "marker" },
        { field: "label", type: "nominal", title: "label" },
        { field: "originalLabel", type: "nominal", title: "original class" },
        { field: "x", type: "quantitative", format: ".3f" },
        { field: "y", type: "quantitative", format: ".3f" },
      ],
    },
  };

  // Layers without data are left out: an empty layer would still add empty scales and legends.
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: input.subtitle ? { text: input.title, subtitle: input.subtitle } : input.title,
    config: theme,
    width: PLOT_SIZE,
    height: PLOT_SIZE,
    layer: [
      ...(circleRows.length > 0 ? [spreadLayer] : []),
      ...(boundaryRows.length > 0 ? [boundaryLayer] : []),
      {
        // Nested so both point layers share one shape scale, independent of the summary markers.
        layer: [
          ...(cleanPoints.length > 0 ? [pointLayer("clean_points", cleanPoints, 0.55)] : []),
          ...(noisyPoints.length > 0 ? [pointLayer("noisy_points", noisyPoints, 0.9)] : []),
        ],
      },
      ...(summaryRows.length > 0 ? [summaryLayer] : []),
    ],
    resolve: { scale: { shape: "independent" } },
  };
}

/** A child of a layered Vega-Lite spec. */
type LayerChild = Extract<TopLevelSpec, { layer: unknown }>["layer"][number];

interface SummaryRow {
  kind: string;
  group: string;
  label: string;
  originalLabel: string;
  noisy: boolean;
  x: number;
  y: number;
}

function summaryMarkerRows(
  input: FeatureScatterInput,
  className: (c: number) => string,
): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const add = (kind: string, vector: number[] | null, label: number, original: number) => {
    if (!vector || !vector.every(Number.isFinite)) return;
    const noisy = label !== original;
    rows.push({
      kind,
      group: noisy ? NOISY_GROUP : className(label),
      label: className(label),
      originalLabel: className(original),
      noisy,
      x: vector[0],
      y: vector[1],
    });
  };
  input.classMeans.forEach((mean, c) => add(MEAN_KIND, mean, c, c));
  input.cleanCentroids.forEach((centroid, c) => add(CLEAN_CENTROID_KIND, centroid, c, c));
  input.noisyCentroids?.forEach((byOriginal, c) =>
    byOriginal.forEach((centroid, o) => {
      if (o !== c) add(NOISY_CENTROID_KIND, centroid, c, o);
    })
  );
  return rows;
}

/** Closed polylines (first vertex repeated) approximating each class's clean-spread circle. */
function spreadCircleRows(input: FeatureScatterInput, className: (c: number) => string) {
  return input.cleanCentroids.flatMap((centroid, c) => {
    const radius = input.cleanSpread[c];
    if (!centroid || !centroid.every(Number.isFinite) || !(radius > 0)) return [];
    return Array.from({ length: CIRCLE_VERTICES + 1 }, (_, vertex) => {
      const angle = (2 * Math.PI * vertex) / CIRCLE_VERTICES;
      return {
        group: className(c),
        kind: SPREAD_KIND,
        vertex,
        x: centroid[0] + radius * Math.cos(angle),
        y: centroid[1] + radius * Math.sin(angle),
      };
    });
  });
}

/** Smallest square around the finite coordinates, padded by 5% per side, so x and y share units. */
function squareBox(coordinates: { x: number; y: number }[]): Box {
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const { x, y } of coordinates) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    xMin = Math.min(xMin, x);
    xMax = Math.max(xMax, x);
    yMin = Math.min(yMin, y);
    yMax = Math.max(yMax, y);
  }
  if (xMin > xMax) return { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
  const span = Math.max(xMax - xMin, yMax - yMin);
  const half = span > 0 ? 0.55 * span : 1;
  const xCenter = (xMin + xMax) / 2;
  const yCenter = (yMin + yMax) / 2;
  return {
    xMin: xCenter - half,
    xMax: xCenter + half,
    yMin: yCenter - half,
    yMax: yCenter + half,
  };
}
