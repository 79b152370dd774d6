/**
 * Penultimate features of more than two dimensions (e.g. the four-class problem with 4
 * features): one scatter panel per pair of features, coloured like the 2-D feature scatter.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { labelColorEncoding, NOISY_GROUP, originalClassShapeEncoding, theme } from "./theme.ts";

/**
 * One sample with all its penultimate features.
 *
 * @example
 * ```ts
 * const point: FeatureVectorPoint = {
 *   features: [0.1, 2.0, 0, 0.4],
 *   label: 3,
 *   originalLabel: 1,
 *   noisy: true,
 *   index: 17,
 * };
 * ```
 */
export interface FeatureVectorPoint {
  /** The P penultimate features. */
  features: number[];
  /** Label the model was trained on. */
  label: number;
  /** True class before label noise. */
  originalLabel: number;
  /** Whether the sample counts as noisy (four-class problem: a latent class). */
  noisy: boolean;
  /** Index of the sample in its source set, shown in the tooltip. */
  index: number;
}

/**
 * What {@link featurePairsSpec} draws.
 *
 * @example
 * ```ts
 * const input: FeaturePairsInput = { points: [], title: "Train features, 4 features" };
 * ```
 */
export interface FeaturePairsInput {
  points: FeatureVectorPoint[];
  /** Display names per class; defaults to "class c". */
  classNames?: string[];
  title: string;
  subtitle?: string;
}

const PANEL_SIZE = 200;

/**
 * One panel per feature pair (i < j), three per row: clean samples coloured by the label they
 * were trained on, noisy ones red, every sample shaped by its original class; tooltips name the
 * sample index, the label trained on, the original label and whether it is noisy. The point
 * layer of each panel is named `pair_<i>_<j>`.
 *
 * @example
 * ```ts
 * const spec = featurePairsSpec({
 *   points: [{ features: [0, 1, 2], label: 0, originalLabel: 0, noisy: false, index: 0 }],
 *   title: "Train features",
 * });
 * ```
 */
export function featurePairsSpec(input: FeaturePairsInput): TopLevelSpec {
  const dimension = input.points.reduce((d, p) => Math.max(d, p.features.length), 0);
  if (dimension < 2) throw new Error("featurePairsSpec needs at least two features per point");
  const classCount = input.points.reduce(
    (count, p) => Math.max(count, p.label + 1, p.originalLabel + 1),
    0,
  );
  const className = (c: number) => input.classNames?.[c] ?? `class ${c}`;
  const classes = Array.from({ length: classCount }, (_, c) => className(c));
  const hasNoisy = input.points.some((p) => p.noisy);
  const rows = input.points.map((p) => ({
    ...Object.fromEntries(p.features.map((value, k) => [`f${k}`, value])),
    index: p.index,
    label: p.label,
    originalLabel: p.originalLabel,
    noisy: p.noisy,
    // Draw order: noisy samples last, on top of the clean cluster.
    layer: p.noisy ? 1 : 0,
    group: p.noisy ? NOISY_GROUP : className(p.label),
    marker: className(p.originalLabel),
  }));
  const pairs: [number, number][] = [];
  for (let i = 0; i < dimension; i++) {
    for (let j = i + 1; j < dimension; j++) pairs.push([i, j]);
  }
  const color = labelColorEncoding(classes, hasNoisy);
  const shape = originalClassShapeEncoding(classes);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: input.subtitle ? { text: input.title, subtitle: input.subtitle } : input.title,
    config: theme,
    data: { values: rows },
    columns: Math.min(3, pairs.length),
    concat: pairs.map(([i, j]) => ({
      name: `pair_${i}_${j}`,
      width: PANEL_SIZE,
      height: PANEL_SIZE,
      mark: { type: "point" as const, filled: true, size: 24, opacity: 0.6 },
      encoding: {
        x: { field: `f${i}`, type: "quantitative" as const, title: `feature ${i + 1}` },
        y: { field: `f${j}`, type: "quantitative" as const, title: `feature ${j + 1}` },
        color,
        shape,
        // Noisy samples on top, so they are not hidden under the clean cluster.
        order: { field: "layer", type: "quantitative" as const },
        tooltip: [
          { field: "index", type: "quantitative" as const, title: "sample" },
          { field: "label", type: "quantitative" as const, title: "label (trained on)" },
          { field: "originalLabel", type: "quantitative" as const, title: "original label" },
          { field: "noisy", type: "nominal" as const, title: "noisy" },
          { field: `f${i}`, type: "quantitative" as const, format: ".3f" },
          { field: `f${j}`, type: "quantitative" as const, format: ".3f" },
        ],
      },
    })),
  };
}
