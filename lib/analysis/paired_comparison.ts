/**
 * The paper's comparison of two losses (label smoothing against cross-entropy by default; any
 * pair, e.g. LR against CE): at the same memorization, does the treatment pay less dilation, does
 * it pay less extra dilation per unit of memorization, and does it test better? Computed from one
 * row per run (loss, noise level, seed and the run's final metrics), paired over seeds.
 *
 * Memorization is the reference's sum measure ({@link referenceMemorization}): 0 without noise,
 * so each loss's noise-free run is the point (0, d(0)) of its curve, measured, not assumed.
 *
 * Per seed, the reference loss's runs over the noise levels (noise 0 included) trace dilation
 * (and test accuracy) against memorization. Each treatment run is placed on the curve of the same
 * seed at the memorization it reached, by linear interpolation, and the difference treatment -
 * reference is taken there ("matched"). Beyond the reference's largest memorization nothing is
 * extrapolated: the reference's dilation there is bounded by its monotone envelope (at least the
 * largest dilation measured at a smaller memorization, no upper limit), which bounds the
 * difference ("at most", "at least"). A seed whose needed bound is infinite makes its row
 * inconclusive in that direction; no seed is ever dropped.
 *
 * The three claims and their primary endpoints (fixed before any run; see docs/comparison.md):
 * - (a) less dilation at matched memorization: per seed, the mean over the noisy levels of the
 *   dilation difference at matched memorization (raw, clean spread);
 * - (b) less extra dilation per unit of memorization: per seed, the difference of the slopes of
 *   dilation against memorization (least squares through every noise level, noise 0 included;
 *   raw, clean spread);
 * - (c) better test accuracy: per seed, the mean over the noisy levels of the test accuracy
 *   difference at the same noise level, in percentage points.
 * Each is tested with a paired two-sided t-test over seeds, Holm-corrected across the three
 * claims. Per-level rows (dilation difference, excess dilation d(noise) - d(0) at matched
 * memorization, test accuracy) are Holm-corrected across the noisy levels of their family. Noise
 * 0 is shown and never counted. Scale-free definitions and the clean mean square as the dilation
 * measure are secondary and robustness rows of the same tables.
 *
 * @module
 */
import { shortLoss } from "../losses/mod.ts";
import { interpolateAlong, monotoneBounds } from "./interpolate.ts";
import { holmAdjust } from "./holm.ts";
import { leastSquaresLine } from "./least_squares.ts";
import { type TInterval, tInterval } from "./t_interval.ts";

/** One run, as the comparison reads it (a `summary.parquet` row, renamed). */
export interface ComparisonRun {
  /** `CrossEntropy`, `LS`, ... */
  loss: string;
  label_noise: number;
  seed: number;
  /** The reference's memorization: sum over noisy samples per original class, mean over classes. */
  memorization: number;
  /** Secondary: mean distance per noisy sample to its original class's clean centroid. */
  memorization_per_sample: number;
  /** Dilation: mean over classes of the std of the clean samples' distances to their centroid. */
  dilation: number;
  /** Mean over classes of the mean square of those distances (the robustness measure). */
  clean_mean_square: number;
  /** Mean distance between the clean class centroids of the training features. */
  clean_centroid_distance: number;
  /** Test accuracy (true labels), in [0, 1]. */
  test_acc: number;
  /** Realized share of training labels the noise changed, in [0, 1] (reported, not compared). */
  flipped_share?: number;
}

/** `raw`: the reference's definitions; `scale_free`: divided by the clean centroid distance. */
export type Definition = "raw" | "scale_free";

/** Both definitions, in reporting order. */
export const DEFINITIONS: Definition[] = ["raw", "scale_free"];

/** `clean_spread`: the reference's dilation; `clean_mean_square`: the robustness check. */
export type DilationMeasure = "clean_spread" | "clean_mean_square";

/** Both dilation measures, in reporting order. */
export const DILATION_MEASURES: DilationMeasure[] = ["clean_spread", "clean_mean_square"];

/**
 * Memorization and dilation of a run under a definition and dilation measure. Scale-free divides
 * distances by the clean centroid distance D (the mean square by D squared).
 *
 * @example
 * ```ts
 * const run = { loss: "LS", label_noise: 0.2, seed: 1, memorization: 200, dilation: 0.5,
 *   memorization_per_sample: 2, clean_mean_square: 1, clean_centroid_distance: 4, test_acc: 0.9 };
 * underDefinition(run, "scale_free"); // { memorization: 50, dilation: 0.125 }
 * ```
 */
export function underDefinition(
  run: ComparisonRun,
  definition: Definition,
  measure: DilationMeasure = "clean_spread",
): { memorization: number; dilation: number } {
  const scale = definition === "raw" ? 1 : run.clean_centroid_distance;
  return {
    memorization: run.memorization / scale,
    dilation: measure === "clean_spread"
      ? run.dilation / scale
      : run.clean_mean_square / scale ** 2,
  };
}

/** Losses compared: `treatment` - `reference`. */
export interface LossPair {
  reference: string;
  treatment: string;
}

/** CE as the reference, LS as the treatment. */
export const CE_VS_LS: LossPair = { reference: "CrossEntropy", treatment: "LS" };

/** How a treatment run's reference value was found. */
export type MatchedBy = "memorization" | "bound" | "missing";

/** One treatment run paired with the reference runs of its seed. */
export interface PairedRun {
  dilation_measure: DilationMeasure;
  definition: Definition;
  label_noise: number;
  seed: number;
  /** `memorization`: interpolated on the reference's curve; `bound`: beyond it, bounded. */
  matched_by: MatchedBy;
  treatment_memorization: number;
  treatment_dilation: number;
  /** The reference's dilation at the treatment's memorization (NaN when only bounded). */
  reference_dilation: number;
  /** Treatment - reference dilation at matched memorization (NaN when only bounded). */
  dilation_difference: number;
  /** Lower and upper bound of that difference (both equal to it when matched). */
  dilation_difference_at_least: number;
  dilation_difference_at_most: number;
  /** The treatment's excess dilation d(noise) - d(0). */
  treatment_excess_dilation: number;
  /** The reference's excess dilation at the treatment's memorization, d(m) - d(0). */
  reference_excess_dilation: number;
  /** Treatment - reference excess dilation at matched memorization, with its bounds. */
  excess_dilation_difference: number;
  excess_dilation_difference_at_least: number;
  excess_dilation_difference_at_most: number;
  /** Treatment - reference test accuracy at the same noise level, percentage points. */
  test_acc_difference_pp: number;
  /** Treatment - reference test accuracy at matched memorization, percentage points. */
  test_acc_difference_matched_pp: number;
  /** Treatment - reference at the same noise level. */
  memorization_difference_same_noise: number;
  dilation_difference_same_noise: number;
  /** Secondary: treatment - reference mean distance per noisy sample, same noise level. */
  memorization_per_sample_difference_same_noise: number;
}

/** One (measure, definition, seed): the trade-off's slopes and per-seed means over noisy levels. */
export interface SeedTradeOff {
  dilation_measure: DilationMeasure;
  definition: Definition;
  seed: number;
  /** Least-squares slope of dilation against memorization, noise 0 included. */
  reference_slope: number;
  treatment_slope: number;
  slope_difference: number;
  /** Noisy levels of the treatment averaged over below. */
  noisy_levels: number;
  /** Mean over noisy levels of the dilation difference at matched memorization (NaN if bounded). */
  dilation_difference: number;
  dilation_difference_at_least: number;
  dilation_difference_at_most: number;
  /** Mean over noisy levels of the excess dilation difference at matched memorization. */
  excess_dilation_difference: number;
  excess_dilation_difference_at_least: number;
  excess_dilation_difference_at_most: number;
  /** Mean over noisy levels of the test accuracy difference at the same noise, pp. */
  test_acc_difference_pp: number;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Pair every treatment run with the reference runs of its seed, under each dilation measure and
 * definition: matched (or bounded) differences, excess dilation, same-noise differences.
 *
 * @example
 * ```ts
 * declare const runs: ComparisonRun[];
 * const paired = pairRuns(runs); // one row per (measure, definition, LS run)
 * ```
 */
export function pairRuns(runs: ComparisonRun[], losses: LossPair = CE_VS_LS): PairedRun[] {
  const rows: PairedRun[] = [];
  for (const measure of DILATION_MEASURES) {
    for (const definition of DEFINITIONS) {
      for (const treatment of runs.filter((r) => r.loss === losses.treatment)) {
        const reference = runs.filter((r) =>
          r.loss === losses.reference && r.seed === treatment.seed
        );
        const at = (run: ComparisonRun) => underDefinition(run, definition, measure);
        const curve = reference.map((r) => ({ ...at(r), acc: r.test_acc }));
        const dilationCurve = curve.map((p) => ({ x: p.memorization, y: p.dilation }));
        const own = at(treatment);
        const referenceDilation = interpolateAlong(dilationCurve, own.memorization);
        const referenceAccuracy = interpolateAlong(
          curve.map((p) => ({ x: p.memorization, y: p.acc })),
          own.memorization,
        );
        const matched = Number.isFinite(referenceDilation);
        const bounds = matched
          ? { low: referenceDilation, high: referenceDilation }
          : monotoneBounds(dilationCurve, own.memorization);
        const referenceNoiseFree = reference.find((r) => r.label_noise === 0);
        const treatmentNoiseFree = runs.find((r) =>
          r.loss === losses.treatment && r.seed === treatment.seed && r.label_noise === 0
        );
        const referenceZero = referenceNoiseFree ? at(referenceNoiseFree).dilation : NaN;
        const treatmentZero = treatmentNoiseFree ? at(treatmentNoiseFree).dilation : NaN;
        // Excess differences subtract the noise-free gap d_T(0) - d_R(0) from the differences.
        const zeroGap = treatmentZero - referenceZero;
        const sameNoise = reference.find((r) => r.label_noise === treatment.label_noise);
        const sameNoiseValues = sameNoise ? at(sameNoise) : { memorization: NaN, dilation: NaN };
        const atLeast = own.dilation - bounds.high;
        const atMost = own.dilation - bounds.low;
        rows.push({
          dilation_measure: measure,
          definition,
          label_noise: treatment.label_noise,
          seed: treatment.seed,
          matched_by: matched
            ? "memorization"
            : Number.isFinite(own.memorization) && curve.length > 0
            ? "bound"
            : "missing",
          treatment_memorization: own.memorization,
          treatment_dilation: own.dilation,
          reference_dilation: referenceDilation,
          dilation_difference: own.dilation - referenceDilation,
          dilation_difference_at_least: atLeast,
          dilation_difference_at_most: atMost,
          treatment_excess_dilation: own.dilation - treatmentZero,
          reference_excess_dilation: referenceDilation - referenceZero,
          excess_dilation_difference: own.dilation - referenceDilation - zeroGap,
          excess_dilation_difference_at_least: atLeast - zeroGap,
          excess_dilation_difference_at_most: atMost - zeroGap,
          test_acc_difference_pp: 100 * (treatment.test_acc - (sameNoise?.test_acc ?? NaN)),
          test_acc_difference_matched_pp: 100 * (treatment.test_acc - referenceAccuracy),
          memorization_difference_same_noise: own.memorization - sameNoiseValues.memorization,
          dilation_difference_same_noise: own.dilation - sameNoiseValues.dilation,
          memorization_per_sample_difference_same_noise: treatment.memorization_per_sample -
            (sameNoise?.memorization_per_sample ?? NaN),
        });
      }
    }
  }
  return rows;
}

/**
 * Per (measure, definition, seed): each loss's least-squares slope of dilation against
 * memorization through all its noise levels (noise 0 included), their difference, and the means
 * over the noisy levels of the paired differences (bounds averaged alike; a mean is NaN when some
 * level is only bounded).
 *
 * @example
 * ```ts
 * declare const runs: ComparisonRun[];
 * const perSeed = seedTradeOffs(runs, pairRuns(runs));
 * ```
 */
export function seedTradeOffs(
  runs: ComparisonRun[],
  paired: PairedRun[],
  losses: LossPair = CE_VS_LS,
): SeedTradeOff[] {
  const seeds = [...new Set(runs.filter((r) => r.loss === losses.treatment).map((r) => r.seed))]
    .sort((a, b) => a - b);
  const rows: SeedTradeOff[] = [];
  for (const measure of DILATION_MEASURES) {
    for (const definition of DEFINITIONS) {
      for (const seed of seeds) {
        const slope = (loss: string) =>
          leastSquaresLine(
            runs.filter((r) => r.loss === loss && r.seed === seed).map((r) => {
              const v = underDefinition(r, definition, measure);
              return { x: v.memorization, y: v.dilation };
            }),
          ).slope;
        const noisy = paired.filter((p) =>
          p.dilation_measure === measure && p.definition === definition && p.seed === seed &&
          p.label_noise > 0
        );
        const over = (field: keyof PairedRun) =>
          noisy.length === 0 ? NaN : mean(noisy.map((p) => p[field] as number));
        const referenceSlope = slope(losses.reference);
        const treatmentSlope = slope(losses.treatment);
        rows.push({
          dilation_measure: measure,
          definition,
          seed,
          reference_slope: referenceSlope,
          treatment_slope: treatmentSlope,
          slope_difference: treatmentSlope - referenceSlope,
          noisy_levels: noisy.length,
          dilation_difference: over("dilation_difference"),
          dilation_difference_at_least: over("dilation_difference_at_least"),
          dilation_difference_at_most: over("dilation_difference_at_most"),
          excess_dilation_difference: over("excess_dilation_difference"),
          excess_dilation_difference_at_least: over("excess_dilation_difference_at_least"),
          excess_dilation_difference_at_most: over("excess_dilation_difference_at_most"),
          test_acc_difference_pp: over("test_acc_difference_pp"),
        });
      }
    }
  }
  return rows;
}

/** The paper's three claims about the treatment (LS) against the reference (CE). */
export type Claim =
  | "less_dilation_at_matched_memorization"
  | "less_dilation_per_memorization"
  | "better_test_accuracy";

/** The claims in reporting order, (a) to (c). */
export const CLAIMS: Claim[] = [
  "less_dilation_at_matched_memorization",
  "less_dilation_per_memorization",
  "better_test_accuracy",
];

/** The sign of treatment - reference each claim predicts. */
export const PREDICTED_SIGN: Record<Claim, -1 | 1> = {
  less_dilation_at_matched_memorization: -1,
  less_dilation_per_memorization: -1,
  better_test_accuracy: 1,
};

/** The quantity tested, treatment - reference. */
export type EndpointQuantity =
  | "dilation_difference"
  | "excess_dilation_difference"
  | "slope_difference"
  | "test_acc_difference_pp";

/** What a row of the comparison table tests. */
export interface EndpointKey {
  claim: Claim;
  quantity: EndpointQuantity;
  /** `seed_mean`: the per-seed summary (slope, or mean over noisy levels); `level`: one noise level. */
  scope: "seed_mean" | "level";
  /** The pre-registered endpoint of its claim (raw, clean spread, per-seed summary). */
  primary: boolean;
  definition: Definition;
  dilation_measure: DilationMeasure;
  /** The noise level (NaN for per-seed summaries). */
  label_noise: number;
}

/** A row of the comparison table: one tested difference over seeds. */
export interface EndpointRow extends EndpointKey {
  /** False for noise 0: shown, never counted as evidence, outside every Holm family. */
  counts_as_evidence: boolean;
  /** Seeds with a treatment value at this row. */
  seeds: number;
  /** Seeds matched (a finite difference), only bounded, and without any value. */
  matched_seeds: number;
  bounded_seeds: number;
  missing_seeds: number;
  /** Over matched seeds when every seed matched (else NaN): mean, std, 95 % interval, t, p. */
  n: number;
  mean: number;
  std: number;
  low: number;
  high: number;
  t: number;
  /**
   * Two-sided p of "difference = 0". With bounded seeds: from the conservative bound (the "at
   * most" values for a negative difference, the "at least" values for a positive one), 1 in a
   * direction where some seed's bound is infinite.
   */
  p: number;
  /** Means and 95 % interval ends of the bounds over seeds (equal to the values when matched). */
  at_most_mean: number;
  at_most_high: number;
  at_least_mean: number;
  at_least_low: number;
  /** Name and size of the Holm family, the Holm-adjusted p ("" / 0 / NaN outside a family). */
  holm_family: string;
  holm_size: number;
  p_holm: number;
  /** -1: treatment lower, 1: treatment higher, 0: not decided at family-wise alpha. */
  direction: number;
  /** In words: `LS lower`, `LS higher`, `no difference detected`, `inconclusive: ...`. */
  decision: string;
}

/** Family-wise error rate of every decision. */
export const ALPHA = 0.05;

interface SeedValue {
  value: number;
  atLeast: number;
  atMost: number;
}

/** The t statistics of a row from per-seed values and bounds (before Holm). */
function testValues(values: SeedValue[]) {
  const seeds = values.length;
  const matched = values.filter((v) => Number.isFinite(v.value)).length;
  const missing =
    values.filter((v) =>
      !Number.isFinite(v.value) && !Number.isFinite(v.atLeast) && !Number.isFinite(v.atMost)
    ).length;
  const atMost = tInterval(values.map((v) => v.atMost));
  const atLeast = tInterval(values.map((v) => v.atLeast));
  const bounds = {
    at_most_mean: atMost.n === seeds ? atMost.mean : NaN,
    at_most_high: atMost.n === seeds ? atMost.high : NaN,
    at_least_mean: atLeast.n === seeds ? atLeast.mean : NaN,
    at_least_low: atLeast.n === seeds ? atLeast.low : NaN,
  };
  const counts = { seeds, matched_seeds: matched, bounded_seeds: seeds - matched - missing };
  if (seeds > 0 && matched === seeds) {
    const interval: TInterval = tInterval(values.map((v) => v.value));
    const { n, mean, std, low, high, t, p } = interval;
    return { ...counts, missing_seeds: 0, n, mean, std, low, high, t, p, ...bounds, side: 0 };
  }
  // Some seed only bounded: a direction is testable only when every seed bounds it finitely.
  const oneSided = (interval: TInterval, sign: -1 | 1) =>
    interval.n === seeds && seeds >= 2 && Math.sign(interval.mean) === sign ? interval.p / 2 : 1;
  const lower = oneSided(atMost, -1);
  const higher = oneSided(atLeast, 1);
  return {
    ...counts,
    missing_seeds: missing,
    n: matched,
    mean: NaN,
    std: NaN,
    low: NaN,
    high: NaN,
    t: NaN,
    p: Math.min(1, 2 * Math.min(lower, higher)),
    ...bounds,
    side: lower <= higher ? -1 : 1,
  };
}

/** The decision of a tested row, once its Holm-adjusted p is known. */
function decide(
  row: ReturnType<typeof testValues>,
  pHolm: number,
  treatment: string,
): { direction: number; decision: string } {
  const sign = Number.isFinite(row.mean) ? Math.sign(row.mean) : row.side;
  if (pHolm <= ALPHA && sign !== 0) {
    return { direction: sign, decision: `${treatment} ${sign < 0 ? "lower" : "higher"}` };
  }
  const unresolved = row.seeds - row.matched_seeds;
  if (row.seeds < 2) return { direction: 0, decision: "inconclusive: fewer than 2 seeds" };
  if (unresolved > 0) {
    return {
      direction: 0,
      decision: `inconclusive: ${unresolved} of ${row.seeds} seeds ${
        row.missing_seeds > 0 ? "without a value" : "only bounded"
      }`,
    };
  }
  return { direction: 0, decision: "no difference detected" };
}

/** Per-level quantity of each claim, and where its values and bounds live in a paired row. */
const LEVEL_QUANTITIES: {
  claim: Claim;
  quantity: EndpointQuantity;
  fields: [keyof PairedRun, keyof PairedRun, keyof PairedRun];
  noiseFree: boolean;
}[] = [
  {
    claim: "less_dilation_at_matched_memorization",
    quantity: "dilation_difference",
    fields: ["dilation_difference", "dilation_difference_at_least", "dilation_difference_at_most"],
    noiseFree: true,
  },
  {
    claim: "less_dilation_per_memorization",
    quantity: "excess_dilation_difference",
    fields: [
      "excess_dilation_difference",
      "excess_dilation_difference_at_least",
      "excess_dilation_difference_at_most",
    ],
    noiseFree: false,
  },
  {
    claim: "better_test_accuracy",
    quantity: "test_acc_difference_pp",
    fields: ["test_acc_difference_pp", "test_acc_difference_pp", "test_acc_difference_pp"],
    noiseFree: true,
  },
];

/** Per-seed summary quantity of each claim, in a {@link SeedTradeOff}. */
const SEED_QUANTITIES: {
  claim: Claim;
  quantity: EndpointQuantity;
  fields: [keyof SeedTradeOff, keyof SeedTradeOff, keyof SeedTradeOff];
}[] = [
  {
    claim: "less_dilation_at_matched_memorization",
    quantity: "dilation_difference",
    fields: ["dilation_difference", "dilation_difference_at_least", "dilation_difference_at_most"],
  },
  {
    claim: "less_dilation_per_memorization",
    quantity: "slope_difference",
    fields: ["slope_difference", "slope_difference", "slope_difference"],
  },
  {
    claim: "better_test_accuracy",
    quantity: "test_acc_difference_pp",
    fields: ["test_acc_difference_pp", "test_acc_difference_pp", "test_acc_difference_pp"],
  },
];

/** Test accuracy does not depend on the definition or dilation measure: tested once. */
const testedOnce = (claim: Claim, definition: Definition, measure: DilationMeasure) =>
  claim !== "better_test_accuracy" || (definition === "raw" && measure === "clean_spread");

/**
 * The comparison table: per claim, dilation measure and definition, the per-seed summary row
 * (the primary endpoint for raw and clean spread) and one row per noise level, each with its
 * paired t-interval and p-value over seeds, Holm-adjusted within its family: the per-seed
 * summaries of one (measure, definition) across the claims, the per-level rows of one (claim,
 * measure, definition) across the noisy levels. Noise 0 rows are outside every family.
 *
 * @example
 * ```ts
 * declare const runs: ComparisonRun[];
 * const paired = pairRuns(runs);
 * const table = endpointTable(seedTradeOffs(runs, paired), paired);
 * ```
 */
export function endpointTable(
  perSeed: SeedTradeOff[],
  paired: PairedRun[],
  losses: LossPair = CE_VS_LS,
): EndpointRow[] {
  const treatment = shortLoss(losses.treatment);
  type Tested = EndpointKey & { test: ReturnType<typeof testValues>; family: string };
  const tested: Tested[] = [];
  const seedValues = <T>(rows: T[], fields: [keyof T, keyof T, keyof T]): SeedValue[] =>
    rows.map((r) => ({
      value: r[fields[0]] as number,
      atLeast: r[fields[1]] as number,
      atMost: r[fields[2]] as number,
    }));
  const add = (key: EndpointKey, values: SeedValue[], family: string) => {
    tested.push({ ...key, test: testValues(values), family: key.label_noise === 0 ? "" : family });
  };
  for (const measure of DILATION_MEASURES) {
    for (const definition of DEFINITIONS) {
      for (const q of SEED_QUANTITIES) {
        if (!testedOnce(q.claim, definition, measure)) continue;
        const rows = perSeed.filter((r) =>
          r.dilation_measure === measure && r.definition === definition
        );
        add(
          {
            claim: q.claim,
            quantity: q.quantity,
            scope: "seed_mean",
            primary: definition === "raw" && measure === "clean_spread",
            definition,
            dilation_measure: measure,
            label_noise: NaN,
          },
          seedValues(rows, q.fields),
          `seed_mean/${definition}/${measure}`,
        );
      }
      for (const q of LEVEL_QUANTITIES) {
        if (!testedOnce(q.claim, definition, measure)) continue;
        const group = paired.filter((p) =>
          p.dilation_measure === measure && p.definition === definition
        );
        const levels = [...new Set(group.map((p) => p.label_noise))].sort((a, b) => a - b);
        for (const noise of levels) {
          if (noise === 0 && !q.noiseFree) continue;
          add(
            {
              claim: q.claim,
              quantity: q.quantity,
              scope: "level",
              primary: false,
              definition,
              dilation_measure: measure,
              label_noise: noise,
            },
            seedValues(group.filter((p) => p.label_noise === noise), q.fields),
            `level/${q.claim}/${definition}/${measure}`,
          );
        }
      }
    }
  }
  const families = new Map<string, Tested[]>();
  for (const row of tested) {
    if (row.family) families.set(row.family, [...(families.get(row.family) ?? []), row]);
  }
  const adjusted = new Map<Tested, number>();
  for (const members of families.values()) {
    holmAdjust(members.map((m) => m.test.p)).forEach((p, i) => adjusted.set(members[i], p));
  }
  return tested.map((entry) => {
    const { test, family, ...key } = entry;
    const { side: _side, ...statistics } = test;
    const pHolm = family ? adjusted.get(entry)! : NaN;
    const decision = family
      ? decide(test, pHolm, treatment)
      : { direction: 0, decision: "noise 0: shown, not counted" };
    return {
      ...key,
      counts_as_evidence: key.label_noise !== 0,
      ...statistics,
      holm_family: family,
      holm_size: family ? families.get(family)!.length : 0,
      p_holm: pHolm,
      ...decision,
    };
  });
}

/** One row of the verdict table: a claim, its primary endpoint and the supporting evidence. */
export interface VerdictRow {
  claim: Claim;
  /** What the claim says, in words. */
  statement: string;
  /** The primary endpoint's quantity and unit. */
  endpoint: string;
  n: number;
  seeds: number;
  mean: number;
  low: number;
  high: number;
  p: number;
  p_holm: number;
  decision: string;
  /** `yes`: the primary endpoint is decided in the predicted direction; `no`: in the opposite; `not shown`: undecided. */
  supports_paper: "yes" | "no" | "not shown";
  /** Noisy levels whose Holm-adjusted per-level row is decided in the predicted direction, the opposite one, and all. */
  levels_supporting: number;
  levels_contradicting: number;
  levels: number;
  /** The same endpoint, scale-free: mean (NaN when some seed is only bounded), mean of the upper bounds, decision. */
  scale_free_mean: number;
  scale_free_at_most: number;
  scale_free_decision: string;
  /** The same endpoint with the clean mean square as dilation (raw): likewise. */
  mean_square_mean: number;
  mean_square_at_most: number;
  mean_square_decision: string;
}

const STATEMENTS: Record<Claim, (t: string, r: string) => string> = {
  less_dilation_at_matched_memorization: (t, r) =>
    `(a) ${t} has less dilation than ${r} at matched memorization`,
  less_dilation_per_memorization: (t, r) =>
    `(b) ${t} pays less extra dilation per unit of memorization than ${r}`,
  better_test_accuracy: (t, r) => `(c) ${t} tests better than ${r} under label noise`,
};

const ENDPOINTS: Record<Claim, string> = {
  less_dilation_at_matched_memorization:
    "per-seed mean over noisy levels of the dilation difference at matched memorization",
  less_dilation_per_memorization:
    "per-seed difference of the least-squares slopes of dilation on memorization (noise 0 included)",
  better_test_accuracy:
    "per-seed mean over noisy levels of the test accuracy difference at the same noise (pp)",
};

/**
 * The three-part verdict from the comparison table: per claim, the primary endpoint (raw, clean
 * spread) with its Holm-adjusted decision, how many per-level rows support or contradict it, and
 * the same endpoint scale-free and with the clean mean square.
 *
 * @example
 * ```ts
 * declare const perSeed: SeedTradeOff[], paired: PairedRun[];
 * const verdict = verdictTable(endpointTable(perSeed, paired));
 * ```
 */
export function verdictTable(rows: EndpointRow[], losses: LossPair = CE_VS_LS): VerdictRow[] {
  return CLAIMS.map((claim) => {
    const summary = (definition: Definition, measure: DilationMeasure) =>
      rows.find((r) =>
        r.claim === claim && r.scope === "seed_mean" && r.definition === definition &&
        r.dilation_measure === measure
      );
    const primary = summary("raw", "clean_spread");
    const levels = rows.filter((r) =>
      r.claim === claim && r.scope === "level" && r.definition === "raw" &&
      r.dilation_measure === "clean_spread" && r.counts_as_evidence
    );
    const sign = PREDICTED_SIGN[claim];
    const scaleFree = claim === "better_test_accuracy"
      ? primary
      : summary("scale_free", "clean_spread");
    const meanSquare = claim === "better_test_accuracy"
      ? primary
      : summary("raw", "clean_mean_square");
    return {
      claim,
      statement: STATEMENTS[claim](shortLoss(losses.treatment), shortLoss(losses.reference)),
      endpoint: ENDPOINTS[claim],
      n: primary?.n ?? 0,
      seeds: primary?.seeds ?? 0,
      mean: primary?.mean ?? NaN,
      low: primary?.low ?? NaN,
      high: primary?.high ?? NaN,
      p: primary?.p ?? NaN,
      p_holm: primary?.p_holm ?? NaN,
      decision: primary?.decision ?? "not computed",
      supports_paper: primary?.direction === sign
        ? "yes"
        : primary?.direction === -sign
        ? "no"
        : "not shown",
      levels_supporting: levels.filter((r) => r.direction === sign).length,
      levels_contradicting: levels.filter((r) => r.direction === -sign).length,
      levels: levels.length,
      scale_free_mean: scaleFree?.mean ?? NaN,
      scale_free_at_most: scaleFree?.at_most_mean ?? NaN,
      scale_free_decision: scaleFree?.decision ?? "not computed",
      mean_square_mean: meanSquare?.mean ?? NaN,
      mean_square_at_most: meanSquare?.at_most_mean ?? NaN,
      mean_square_decision: meanSquare?.decision ?? "not computed",
    };
  });
}

/** A number for a table: 4 significant digits, `n/a` when not finite. */
export function formatNumber(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return "n/a";
  return Math.abs(value) >= 1e-3 || value === 0
    ? Number(value.toPrecision(digits)).toString()
    : value.toExponential(digits - 1);
}

/** A mean over seeds, or "at most" the mean of the upper bounds where some seed is only bounded. */
export function formatEstimate(mean: number, atMost: number): string {
  return Number.isFinite(mean) || !Number.isFinite(atMost)
    ? formatNumber(mean)
    : `at most ${formatNumber(atMost)}`;
}

/** A p-value for a table. */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return "n/a";
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

/** Rows of cells as an aligned text table. */
export function alignedTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(" | ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join(
    "\n",
  );
}

/**
 * The verdict table as aligned text, for a terminal or a notebook.
 *
 * @example
 * ```ts
 * declare const table: EndpointRow[];
 * console.log(formatVerdictTable(verdictTable(table)));
 * ```
 */
export function formatVerdictTable(rows: VerdictRow[]): string {
  return alignedTable(
    [
      "claim",
      "primary endpoint: mean [95% CI]",
      "n",
      "p",
      "p Holm",
      "decision",
      "paper",
      "levels +/-/all",
      "scale-free",
      "mean square",
    ],
    rows.map((r) => [
      r.statement,
      `${formatNumber(r.mean)} [${formatNumber(r.low)}, ${formatNumber(r.high)}]`,
      `${r.n}/${r.seeds}`,
      formatP(r.p),
      formatP(r.p_holm),
      r.decision,
      r.supports_paper,
      `${r.levels_supporting}/${r.levels_contradicting}/${r.levels}`,
      `${formatEstimate(r.scale_free_mean, r.scale_free_at_most)}: ${r.scale_free_decision}`,
      `${formatEstimate(r.mean_square_mean, r.mean_square_at_most)}: ${r.mean_square_decision}`,
    ]),
  );
}

/**
 * The per-level rows of one definition and dilation measure as aligned text: per claim and noise
 * level, mean [95 % interval], seeds matched / bounded, p and Holm-adjusted p, decision.
 *
 * @example
 * ```ts
 * declare const table: EndpointRow[];
 * console.log(formatLevelTable(table, "raw", "clean_spread"));
 * ```
 */
export function formatLevelTable(
  rows: EndpointRow[],
  definition: Definition = "raw",
  measure: DilationMeasure = "clean_spread",
): string {
  const selected = rows.filter((r) =>
    r.scope === "level" &&
    (r.claim === "better_test_accuracy"
      ? r.definition === "raw" && r.dilation_measure === "clean_spread"
      : r.definition === definition && r.dilation_measure === measure)
  );
  return alignedTable(
    ["quantity", "noise", "mean [95% CI]", "matched/bounded/seeds", "p", "p Holm", "decision"],
    selected.map((r) => [
      r.quantity,
      String(r.label_noise),
      Number.isFinite(r.mean)
        ? `${formatNumber(r.mean)} [${formatNumber(r.low)}, ${formatNumber(r.high)}]`
        : `at most ${formatNumber(r.at_most_mean)} (95% upper ${formatNumber(r.at_most_high)})`,
      `${r.matched_seeds}/${r.bounded_seeds}/${r.seeds}`,
      formatP(r.p),
      formatP(r.p_holm),
      r.decision,
    ]),
  );
}
