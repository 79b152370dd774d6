/**
 * The paper's comparison of label smoothing (LS) against cross-entropy (CE): at the same
 * memorization, does LS pay less dilation, and does it test better? Computed from one row per
 * run (loss, noise level, seed and the run's final metrics), paired over seeds.
 *
 * Matching: for each seed, CE's runs over the noise levels trace a curve of dilation (and of test
 * accuracy) against memorization. Each LS run with noise is placed on the curve of the same seed
 * at the memorization it reached (piecewise-linear interpolation between CE's noise levels), and
 * the difference LS - CE is taken there. An LS memorization outside the range CE covers for that
 * seed is not matched (no extrapolation); the number of matched seeds is reported. Without noise
 * there is no memorization; LS and CE are then compared at the same noise level. Test accuracy is
 * also compared at the same noise level (the paper's "generalizes better under noise").
 *
 * Bounds where interpolation cannot match: LS and CE may memorize over disjoint ranges (LS keeps
 * its features at another scale). The paper's model has dilation grow with memorization, from the
 * noise-free run's dilation at zero memorization. Under that assumption CE's dilation at an LS
 * memorization outside CE's range lies between its nearest measured neighbours: at least the
 * dilation of the nearest CE point below it (the noise-free run counting as memorization 0) and
 * at most that of the nearest point above it (no upper limit beyond CE's largest). So for every
 * seed LS - CE lies in an interval [at least, at most] (both equal to the interpolated difference
 * where it matched). When some seed is not matched, the verdict uses these bounds over all seeds:
 * LS lower when the t-interval of "at most" lies below 0, LS higher when that of "at least" lies
 * above 0, otherwise inconclusive. The same-noise differences of memorization and dilation are
 * tabulated as well.
 *
 * Definitions: `raw` is the reference's (distances in feature units); `scale_free` divides
 * dilation and memorization by the run's mean distance between clean class centroids, since LS
 * and CE features live at different scales. The paper's figures and statement use the raw ones.
 *
 * Each difference gets a paired 95 % t-interval over seeds ({@link tInterval}).
 *
 * @module
 */
import { interpolateAlong, monotoneBounds } from "./interpolate.ts";
import { type TInterval, tInterval } from "./t_interval.ts";

/** One run, as the comparison reads it (a `summary.parquet` row, renamed). */
export interface ComparisonRun {
  /** `CrossEntropy`, `LS`, ... */
  loss: string;
  label_noise: number;
  seed: number;
  /** Mean distance of noisy training samples to their original class's clean centroid. */
  memorization: number;
  /** Mean over classes of the spread of clean training samples around their clean centroid. */
  dilation: number;
  /** Mean distance between the clean class centroids of the training features. */
  clean_centroid_distance: number;
  test_acc: number;
}

/** `raw`: the reference's definitions; `scale_free`: divided by the clean centroid distance. */
export type Definition = "raw" | "scale_free";

/** Both definitions, in reporting order. */
export const DEFINITIONS: Definition[] = ["raw", "scale_free"];

/**
 * Memorization and dilation of a run under a definition.
 *
 * @example
 * ```ts
 * const run = { loss: "LS", label_noise: 0.2, seed: 1, memorization: 2, dilation: 0.5,
 *   clean_centroid_distance: 4, test_acc: 0.9 };
 * underDefinition(run, "scale_free"); // { memorization: 0.5, dilation: 0.125 }
 * ```
 */
export function underDefinition(
  run: ComparisonRun,
  definition: Definition,
): { memorization: number; dilation: number } {
  const scale = definition === "raw" ? 1 : run.clean_centroid_distance;
  return { memorization: run.memorization / scale, dilation: run.dilation / scale };
}

/** One LS run paired with CE of the same seed. */
export interface PairedRun {
  definition: Definition;
  label_noise: number;
  seed: number;
  /**
   * `memorization` (interpolated along CE's curve), `bound` (outside CE's range: bounded, see the
   * module doc) or `noise` (same noise level, noise 0).
   */
  matched_by: "memorization" | "bound" | "noise";
  ls_memorization: number;
  ls_dilation: number;
  /** CE's dilation at LS's memorization (NaN when outside CE's range). */
  ce_dilation: number;
  /** LS - CE dilation at matched memorization (NaN when not matched). */
  dilation_difference: number;
  /** Lower bound of LS - CE dilation at matched memorization (= the difference when matched). */
  dilation_difference_at_least: number;
  /** Upper bound of LS - CE dilation at matched memorization (= the difference when matched). */
  dilation_difference_at_most: number;
  /** LS - CE test accuracy at matched memorization (NaN when not matched). */
  test_acc_difference_matched: number;
  /** LS - CE test accuracy at the same noise level and seed. */
  test_acc_difference: number;
  /** LS - CE memorization at the same noise level and seed (NaN without noise). */
  memorization_difference_same_noise: number;
  /** LS - CE dilation at the same noise level and seed. */
  dilation_difference_same_noise: number;
}

/** Losses compared: `treatment` - `reference`. */
export interface LossPair {
  reference: string;
  treatment: string;
}

/** CE as the reference, LS as the treatment. */
export const CE_VS_LS: LossPair = { reference: "CrossEntropy", treatment: "LS" };

/**
 * Pair every treatment (LS) run with the reference (CE) runs of its seed, under each definition.
 *
 * @example
 * ```ts
 * declare const runs: ComparisonRun[];
 * const paired = pairRuns(runs); // one row per (definition, LS run)
 * ```
 */
export function pairRuns(runs: ComparisonRun[], losses: LossPair = CE_VS_LS): PairedRun[] {
  const rows: PairedRun[] = [];
  for (const definition of DEFINITIONS) {
    for (const ls of runs.filter((r) => r.loss === losses.treatment)) {
      const ce = runs.filter((r) => r.loss === losses.reference && r.seed === ls.seed);
      const sameNoise = ce.find((r) => r.label_noise === ls.label_noise);
      const lsValues = underDefinition(ls, definition);
      const testAccDifference = sameNoise ? ls.test_acc - sameNoise.test_acc : NaN;
      const ceSameNoise = sameNoise
        ? underDefinition(sameNoise, definition)
        : { memorization: NaN, dilation: NaN };
      const sameNoiseDifferences = {
        memorization_difference_same_noise: lsValues.memorization - ceSameNoise.memorization,
        dilation_difference_same_noise: lsValues.dilation - ceSameNoise.dilation,
      };
      if (ls.label_noise === 0) {
        const ceDilation = ceSameNoise.dilation;
        rows.push({
          definition,
          label_noise: ls.label_noise,
          seed: ls.seed,
          matched_by: "noise",
          ls_memorization: NaN,
          ls_dilation: lsValues.dilation,
          ce_dilation: ceDilation,
          dilation_difference: lsValues.dilation - ceDilation,
          dilation_difference_at_least: lsValues.dilation - ceDilation,
          dilation_difference_at_most: lsValues.dilation - ceDilation,
          test_acc_difference_matched: testAccDifference,
          test_acc_difference: testAccDifference,
          ...sameNoiseDifferences,
        });
        continue;
      }
      const noisyCe = ce.filter((r) => r.label_noise > 0);
      const curve = noisyCe.map((r) => ({ ...underDefinition(r, definition), acc: r.test_acc }));
      const dilationCurve = curve.map((p) => ({ x: p.memorization, y: p.dilation }));
      const ceDilation = interpolateAlong(dilationCurve, lsValues.memorization);
      const ceAccuracy = interpolateAlong(
        curve.map((p) => ({ x: p.memorization, y: p.acc })),
        lsValues.memorization,
      );
      const matched = Number.isFinite(ceDilation);
      const noiseFree = ce.find((r) => r.label_noise === 0);
      const bounds = matched ? { low: ceDilation, high: ceDilation } : monotoneBounds([
        ...(noiseFree ? [{ x: 0, y: underDefinition(noiseFree, definition).dilation }] : []),
        ...dilationCurve,
      ], lsValues.memorization);
      rows.push({
        definition,
        label_noise: ls.label_noise,
        seed: ls.seed,
        matched_by: matched ? "memorization" : "bound",
        ls_memorization: lsValues.memorization,
        ls_dilation: lsValues.dilation,
        ce_dilation: ceDilation,
        dilation_difference: lsValues.dilation - ceDilation,
        dilation_difference_at_least: lsValues.dilation - bounds.high,
        dilation_difference_at_most: lsValues.dilation - bounds.low,
        test_acc_difference_matched: ls.test_acc - ceAccuracy,
        test_acc_difference: testAccDifference,
        ...sameNoiseDifferences,
      });
    }
  }
  return rows;
}

/** The quantities compared, each LS - CE. */
export type ComparedQuantity =
  | "dilation_at_matched_memorization"
  | "dilation_at_least_at_matched_memorization"
  | "dilation_at_most_at_matched_memorization"
  | "test_acc_at_matched_memorization"
  | "test_acc_at_same_noise"
  | "memorization_at_same_noise"
  | "dilation_at_same_noise";

const QUANTITY_FIELDS: Record<ComparedQuantity, keyof PairedRun> = {
  dilation_at_matched_memorization: "dilation_difference",
  dilation_at_least_at_matched_memorization: "dilation_difference_at_least",
  dilation_at_most_at_matched_memorization: "dilation_difference_at_most",
  test_acc_at_matched_memorization: "test_acc_difference_matched",
  test_acc_at_same_noise: "test_acc_difference",
  memorization_at_same_noise: "memorization_difference_same_noise",
  dilation_at_same_noise: "dilation_difference_same_noise",
};

/** One difference LS - CE at one noise level, over seeds. */
export interface DifferenceRow extends Omit<TInterval, "level"> {
  definition: Definition;
  quantity: ComparedQuantity;
  label_noise: number;
  /** Seeds with an LS run at this noise level (n counts those matched). */
  seeds: number;
  level: number;
}

/**
 * Per definition, quantity and noise level: mean, sample std and paired t-interval of the
 * differences LS - CE over seeds. Test accuracy does not depend on the definition at the same
 * noise level; it is listed under `raw` only.
 *
 * @example
 * ```ts
 * declare const runs: ComparisonRun[];
 * const table = differenceTable(pairRuns(runs)); // rows with n, mean, low, high
 * ```
 */
export function differenceTable(paired: PairedRun[], level = 0.95): DifferenceRow[] {
  const rows: DifferenceRow[] = [];
  const noiseLevels = [...new Set(paired.map((p) => p.label_noise))].sort((a, b) => a - b);
  for (const definition of DEFINITIONS) {
    for (const quantity of Object.keys(QUANTITY_FIELDS) as ComparedQuantity[]) {
      if (quantity === "test_acc_at_same_noise" && definition !== "raw") continue;
      for (const noise of noiseLevels) {
        const group = paired.filter((p) => p.definition === definition && p.label_noise === noise);
        if (group.length === 0) continue;
        const values = group.map((p) => p[QUANTITY_FIELDS[quantity]] as number);
        rows.push({
          definition,
          quantity,
          label_noise: noise,
          seeds: group.length,
          ...tInterval(values, level),
        });
      }
    }
  }
  return rows;
}

/** What an interval says about LS - CE: below zero, above zero, or neither. */
export type Direction = "LS lower" | "LS higher" | "inconclusive" | "not matched";

/**
 * The direction an interval supports: `LS lower` when it lies below 0, `LS higher` above 0,
 * `inconclusive` when it contains 0, `not matched` with fewer than two values.
 *
 * @example
 * ```ts
 * direction({ n: 3, low: -0.2, high: -0.05 }); // "LS lower"
 * ```
 */
export function direction(row: Pick<DifferenceRow, "n" | "low" | "high">): Direction {
  if (row.n < 2 || !Number.isFinite(row.low)) return "not matched";
  if (row.high < 0) return "LS lower";
  if (row.low > 0) return "LS higher";
  return "inconclusive";
}

/** One row of the verdict table: a noise level. */
export interface VerdictRow {
  label_noise: number;
  /**
   * LS - CE dilation at matched memorization, raw definition: interval and direction (the
   * bounds where some seed's memorization lies outside CE's range).
   */
  dilation_raw: string;
  /** The same, scale-free definition. */
  dilation_scale_free: string;
  /** LS - CE test accuracy at the same noise level. */
  test_acc: string;
  /** LS - CE test accuracy at matched memorization (raw definition). */
  test_acc_matched: string;
  /** Does LS have less dilation (raw and scale-free) and better test accuracy (same noise)? */
  paper_prediction_holds: "yes" | "no" | "partly" | "inconclusive";
}

function describe(row: DifferenceRow | undefined, digits: number, scale = 1): string {
  if (!row) return "-";
  return `${interval(row, digits, scale)}: ${direction(row)}`;
}

function interval(row: DifferenceRow, digits: number, scale = 1): string {
  const f = (v: number) => (v * scale).toFixed(digits);
  const bounds = row.n >= 2 ? ` [${f(row.low)}, ${f(row.high)}]` : "";
  return `${Number.isFinite(row.mean) ? f(row.mean) : "n/a"}${bounds} n=${row.n}`;
}

/**
 * LS - CE dilation at matched memorization under one definition: the matched interval when every
 * seed matched, else the bounds over all seeds (see the module doc).
 */
function dilationVerdict(
  matched: DifferenceRow | undefined,
  atLeast: DifferenceRow | undefined,
  atMost: DifferenceRow | undefined,
): { text: string; direction: Direction } {
  if (!matched) return { text: "-", direction: "not matched" };
  if (matched.n === matched.seeds || !atLeast || !atMost) {
    return { text: describe(matched, 4), direction: direction(matched) };
  }
  const bounded = `${matched.seeds - matched.n} of ${matched.seeds} seeds bounded`;
  if (atMost.n >= 2 && atMost.high < 0) {
    return {
      text: `at most ${interval(atMost, 4)}: LS lower (${bounded})`,
      direction: "LS lower",
    };
  }
  if (atLeast.n >= 2 && atLeast.low > 0) {
    return {
      text: `at least ${interval(atLeast, 4)}: LS higher (${bounded})`,
      direction: "LS higher",
    };
  }
  const inconclusive = atMost.n >= 2 && Number.isFinite(atMost.high);
  return {
    text: `${inconclusive ? `at most ${interval(atMost, 4)}` : "unbounded"}: ${
      inconclusive ? "inconclusive" : "not matched"
    } (${bounded})`,
    direction: inconclusive ? "inconclusive" : "not matched",
  };
}

/**
 * The verdict per noise level: differences LS - CE with their 95 % intervals (test accuracy in
 * percentage points) and whether the paper's prediction (less dilation at matched memorization,
 * better test accuracy) holds: `yes` when all three intervals agree with it, `no` when one
 * contradicts it (lies on the wrong side of 0) and none supports it, `partly` when some support
 * and some contradict or are inconclusive, `inconclusive` when none is decided.
 *
 * @example
 * ```ts
 * declare const runs: ComparisonRun[];
 * const verdict = verdictTable(differenceTable(pairRuns(runs)));
 * ```
 */
export function verdictTable(differences: DifferenceRow[]): VerdictRow[] {
  const noiseLevels = [...new Set(differences.map((d) => d.label_noise))].sort((a, b) => a - b);
  return noiseLevels.map((noise) => {
    const find = (definition: Definition, quantity: ComparedQuantity) =>
      differences.find((d) =>
        d.definition === definition && d.quantity === quantity && d.label_noise === noise
      );
    const dilation = (definition: Definition) =>
      dilationVerdict(
        find(definition, "dilation_at_matched_memorization"),
        find(definition, "dilation_at_least_at_matched_memorization"),
        find(definition, "dilation_at_most_at_matched_memorization"),
      );
    const dilationRaw = dilation("raw");
    const dilationScaleFree = dilation("scale_free");
    const testAcc = find("raw", "test_acc_at_same_noise");
    const votes = [dilationRaw.direction, dilationScaleFree.direction]
      .map((d) => d === "LS lower" ? 1 : d === "LS higher" ? -1 : 0);
    const accuracyDirection = testAcc ? direction(testAcc) : "not matched";
    votes.push(accuracyDirection === "LS higher" ? 1 : accuracyDirection === "LS lower" ? -1 : 0);
    const support = votes.filter((v) => v === 1).length;
    const against = votes.filter((v) => v === -1).length;
    return {
      label_noise: noise,
      dilation_raw: dilationRaw.text,
      dilation_scale_free: dilationScaleFree.text,
      test_acc: describe(testAcc, 2, 100),
      test_acc_matched: describe(find("raw", "test_acc_at_matched_memorization"), 2, 100),
      paper_prediction_holds: support === votes.length
        ? "yes"
        : support === 0 && against > 0
        ? "no"
        : support > 0
        ? "partly"
        : "inconclusive",
    };
  });
}

/**
 * The verdict table as aligned text, for a terminal or a notebook.
 *
 * @example
 * ```ts
 * declare const runs: ComparisonRun[];
 * console.log(formatVerdictTable(verdictTable(differenceTable(pairRuns(runs)))));
 * ```
 */
export function formatVerdictTable(rows: VerdictRow[]): string {
  const header = [
    "noise",
    "LS-CE dilation @ matched memorization (raw)",
    "(scale-free)",
    "LS-CE test acc, pp (same noise)",
    "paper holds",
  ];
  const body = rows.map((r) => [
    String(r.label_noise),
    r.dilation_raw,
    r.dilation_scale_free,
    r.test_acc,
    r.paper_prediction_holds,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(" | ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join(
    "\n",
  );
}
