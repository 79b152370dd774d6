/**
 * Figures of memdil as Vega-Lite specs, rendered headlessly to SVG and PNG.
 *
 * @example
 * ```ts
 * import { accuracyVsNoiseSpec, saveFigure } from "./mod.ts";
 * const rows = [{ dataset: "mnist", loss: "CE", label_noise: 0.2, test_acc: 0.91 }];
 * await saveFigure(accuracyVsNoiseSpec(rows), "results/figures/accuracy");
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
  RUN_SELECTION,
  trainingCurvesSpec,
  type TrainingHistoryRow,
} from "./curves.ts";
export { type FeaturePairsInput, featurePairsSpec, type FeatureVectorPoint } from "./pairs.ts";
export {
  accuracyVsNoiseSpec,
  dilationVsMemorizationSpec,
  type MemorizationDilationRow,
  type Nc1Row,
  nc1VsNoiseSpec,
  type SummaryKey,
  type SweepCurvesOptions,
  sweepCurvesSpec,
  type TestAccuracyRow,
} from "./summary_figures.ts";
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
export {
  FIGURE_BUNDLE_SPEC_LIMIT,
  figureBundle,
  showFigures,
  showTable,
  tableHtml,
  vegaLiteMimeType,
} from "./display.ts";
export { DISPLAY_POINTS, thinPoints } from "./thin.ts";
export { type SampleGridInput, sampleGridSpec, type SampleImage, samplesOf } from "./samples.ts";
export {
  bestSoFarSpec,
  paramsVsObjectiveSpec,
  type SearchTrialRow,
  validationCurvesSpec,
} from "./search_figures.ts";
