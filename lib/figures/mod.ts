/**
 * Figures of memdil as Vega-Lite specs, rendered headlessly to SVG and PNG.
 *
 * @example
 * ```ts
 * import { featureScatterSpec, saveFigure } from "./lib/figures/mod.ts";
 * await saveFigure(featureScatterSpec(input), "results/run1/features_train");
 * ```
 *
 * @module
 */
export {
  type BoundarySegment,
  type Box,
  decisionBoundarySegments,
  type FeaturePoint,
  type FeatureScatterInput,
  featureScatterSpec,
  type LinearClassifier,
} from "./scatter.ts";
export {
  type EpochMetricsRow,
  metricCurvesSpec,
  type MetricPanel,
  trainingCurvesSpec,
  type TrainingHistoryRow,
} from "./curves.ts";
export {
  accuracyVsNoiseSpec,
  dilationVsMemorizationSpec,
  type MemorizationDilationRow,
  type Nc1Row,
  nc1VsNoiseSpec,
  type SummaryKey,
  type TestAccuracyRow,
} from "./summary.ts";
export {
  type RenderOptions,
  renderPng,
  renderSvg,
  type SavedFigure,
  saveFigure,
} from "./render.ts";
export {
  CLASS_COLORS,
  CLASS_SHAPES,
  FONT_FAMILY,
  NOISY_COLOR,
  STAR_SHAPE,
  theme,
} from "./theme.ts";
