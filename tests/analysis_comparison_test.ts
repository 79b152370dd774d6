import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  CE_VS_LS,
  checkMemorized,
  CLAIMS,
  type ComparisonRun,
  type EndpointRow,
  endpointTable,
  formatVerdictTable,
  holmAdjust,
  interpolateAlong,
  leastSquaresLine,
  memorizationFromSum,
  memorizationReport,
  monotoneBounds,
  pairRuns,
  referenceMemorization,
  regularizedBeta,
  seedTradeOffs,
  studentTCdf,
  studentTQuantile,
  tInterval,
  verdictTable,
} from "../lib/analysis/mod.ts";

function close(actual: number, expected: number, tolerance = 1e-9, what = "") {
  ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${what} ${actual} != ${expected}`,
  );
}

// ------------------------------------------------------------ Student's t

Deno.test("t quantiles match the closed forms for df = 1, 2, 4 and the normal limit", () => {
  for (const p of [0.6, 0.9, 0.975, 0.995]) {
    close(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), 1e-10, `df 1, p ${p}`);
    close(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-10, `df 2, p ${p}`);
    // df = 4: t^2 = 4 (cos(theta / 3) / sqrt(a) - 1), a = 4p(1 - p), theta = acos(sqrt(a)).
    const a = 4 * p * (1 - p);
    const t4 = Math.sqrt(4 * (Math.cos(Math.acos(Math.sqrt(a)) / 3) / Math.sqrt(a) - 1));
    close(studentTQuantile(p, 4), t4, 1e-10, `df 4, p ${p}`);
    close(studentTQuantile(1 - p, 2), -studentTQuantile(p, 2), 1e-12, "symmetry");
  }
  close(studentTQuantile(0.975, 1e7), 1.959963984540054, 1e-6, "normal limit");
  equal(studentTQuantile(0.5, 3), 0);
  close(studentTCdf(studentTQuantile(0.975, 7), 7), 0.975, 1e-12, "CDF inverts the quantile");
  close(regularizedBeta(0.3, 1, 1), 0.3, 1e-12, "I_x(1, 1) = x");
  close(regularizedBeta(0.3, 2, 1), 0.09, 1e-12, "I_x(2, 1) = x^2");
  throws(() => studentTQuantile(1, 3), /0 < p < 1/);
});

Deno.test("tInterval: mean -/+ t * s / sqrt(n), non-finite values left out", () => {
  const r = tInterval([1, 2, 3, NaN]);
  equal(r.n, 3);
  close(r.mean, 2);
  close(r.std, 1);
  const half = (0.95 / Math.sqrt(2 * 0.975 * 0.025)) / Math.sqrt(3); // t_{0.975, 2} closed form
  close(r.low, 2 - half);
  close(r.high, 2 + half);
  const one = tInterval([5]);
  equal(one.n, 1);
  equal(one.mean, 5);
  ok(Number.isNaN(one.low) && Number.isNaN(one.high));
});

// ------------------------------------------------------------ interpolation

Deno.test("interpolateAlong: piecewise linear inside the range, NaN outside, duplicates averaged", () => {
  const curve = [{ x: 3, y: 9 }, { x: 1, y: 1 }, { x: 2, y: 4 }, { x: 2, y: 6 }];
  close(interpolateAlong(curve, 1.5), 3); // between (1, 1) and (2, 5)
  close(interpolateAlong(curve, 2), 5);
  close(interpolateAlong(curve, 2.25), 6);
  close(interpolateAlong(curve, 3), 9);
  ok(Number.isNaN(interpolateAlong(curve, 0.99)));
  ok(Number.isNaN(interpolateAlong(curve, 3.01)));
  ok(Number.isNaN(interpolateAlong([{ x: NaN, y: 1 }], 1)));
});

// ------------------------------------------------------------ statistics

Deno.test("tInterval's t-test: two-sided p in closed form for df = 1 and 2", () => {
  // [1, 3]: mean 2, std sqrt 2, standard error 1, t = 2, df = 1: p = 1 - 2 atan(2) / pi.
  const one = tInterval([1, 3]);
  close(one.t, 2);
  close(one.p, 1 - 2 * Math.atan(2) / Math.PI, 1e-12, "df 1");
  // [1, 2, 6]: mean 3, std sqrt 7, t = 3 / sqrt(7 / 3), df = 2: p = 1 - |t| / sqrt(2 + t^2).
  const two = tInterval([1, 2, 6]);
  const t = 3 / Math.sqrt(7 / 3);
  close(two.t, t);
  close(two.p, 1 - t / Math.sqrt(2 + t * t), 1e-12, "df 2");
  equal(tInterval([-1, 1, 0]).p, 1);
  equal(tInterval([0.5, 0.5, 0.5]).p, 0, "identical non-zero values: no doubt about the sign");
  equal(tInterval([0, 0]).p, 1);
  ok(Number.isNaN(tInterval([4]).p));
});

Deno.test("holmAdjust: the step-down adjustment in closed form; NaN counts in the family", () => {
  // Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running max.
  const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((p, i) => close(adjusted[i], p, 1e-12, `p ${i}`));
  deepEqual(holmAdjust([0.5, 0.9]), [1, 1]);
  // A test that could not be computed stays NaN and still makes the family larger.
  const withNaN = holmAdjust([0.01, NaN]);
  close(withNaN[0], 0.02, 1e-12);
  ok(Number.isNaN(withNaN[1]));
  deepEqual(holmAdjust([]), []);
});

Deno.test("leastSquaresLine: exact on a line, the OLS slope on a known scatter", () => {
  const line = leastSquaresLine([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }, { x: NaN, y: 9 }]);
  close(line.slope, 2);
  close(line.intercept, 1);
  equal(line.n, 3);
  // (0, 0), (1, 1), (2, 1): Sxy = 1, Sxx = 2.
  close(leastSquaresLine([{ x: 0, y: 0 }, { x: 1, y: 1 }, { x: 2, y: 1 }]).slope, 0.5);
  ok(Number.isNaN(leastSquaresLine([{ x: 1, y: 0 }, { x: 1, y: 2 }]).slope));
});

// ------------------------------------------------------------ the reference's memorization

Deno.test("referenceMemorization: the reference's formula on a hand-built example", () => {
  // Class 0: clean (0, 0), (2, 0) -> centroid (1, 0); noisy with original 0: (4, 4) at
  // distance 5 and (1, 3) at 3: sum 8. Class 1: clean (10, 0), (10, 2) -> centroid (10, 1);
  // noisy with original 1: (10, 1) at 0 and (13, 5) at 5: sum 5. Mean over classes 6.5.
  const data = {
    features: [[0, 0], [2, 0], [4, 4], [1, 3], [10, 0], [10, 2], [10, 1], [13, 5]],
    labels: [0, 0, 1, 1, 1, 1, 0, 0],
    originalLabels: [0, 0, 0, 0, 1, 1, 1, 1],
    numClasses: 2,
  };
  close(referenceMemorization(data), 6.5);
  // No noise: 0 (not NaN): nothing memorized.
  equal(referenceMemorization({ ...data, labels: data.originalLabels }), 0);
  // A noisy sample of a class without any clean sample: no centroid, no value.
  ok(Number.isNaN(referenceMemorization({ ...data, labels: [1, 1, 1, 1, 1, 1, 0, 0] })));
  close(memorizationFromSum(13, 2), 6.5);
});

// ------------------------------------------------------------ matched comparison

const OFFSETS = [0.2, 0.25, 0.18, 0.22]; // a_s: noise-free dilation of CE, per seed
const LS_SHIFT = [-0.1, -0.12, -0.08, -0.1]; // b_s: LS's noise-free dilation minus CE's
const SLOPE_NOISE = [1e-4, -1e-4, 2e-4, -2e-4]; // e_s: LS slope 0.0005 + e_s, CE slope 0.001
const ACC_SHIFT = [0.002, 0.004, 0, 0.006]; // c_s: LS test accuracy 0.01 + c_s above CE
const NOISE = [0, 0.1, 0.2, 0.3];

/**
 * Synthetic runs with known answers. Per seed s and noise eta: CE memorizes m = 1000 eta and
 * dilates a_s + 0.001 m; LS memorizes m = 700 eta (inside CE's range) and dilates
 * a_s + b_s + (0.0005 + e_s) m. Clean centroid distance 4 (CE), 2 (LS); clean mean square twice
 * the dilation; test accuracy 0.95 - 0.1 eta (CE) and 0.96 + c_s - 0.1 eta (LS).
 */
function syntheticRuns(): ComparisonRun[] {
  return [1, 2, 3, 4].flatMap((seed, s) =>
    NOISE.flatMap((eta) => {
      const ce = 1000 * eta;
      const ls = 700 * eta;
      const run = (loss: string, m: number, d: number, distance: number, acc: number) => ({
        loss,
        label_noise: eta,
        seed,
        memorization: m,
        memorization_per_sample: eta === 0 ? NaN : distance,
        dilation: d,
        clean_mean_square: 2 * d,
        clean_centroid_distance: distance,
        test_acc: acc,
      });
      return [
        run("CrossEntropy", ce, OFFSETS[s] + 0.001 * ce, 4, 0.95 - 0.1 * eta),
        run(
          "LS",
          ls,
          OFFSETS[s] + LS_SHIFT[s] + (0.0005 + SLOPE_NOISE[s]) * ls,
          2,
          0.96 + ACC_SHIFT[s] - 0.1 * eta,
        ),
      ];
    })
  );
}

function analyse(runs: ComparisonRun[], losses = CE_VS_LS) {
  const paired = pairRuns(runs, losses);
  const table = endpointTable(seedTradeOffs(runs, paired, losses), paired, losses);
  return { paired, table, verdict: verdictTable(table, losses) };
}

const find = (
  table: EndpointRow[],
  where: Partial<EndpointRow>,
): EndpointRow => {
  const rows = table.filter((r) =>
    Object.entries(where).every(([k, v]) =>
      Number.isNaN(v) ? Number.isNaN(r[k as keyof EndpointRow]) : r[k as keyof EndpointRow] === v
    )
  );
  equal(rows.length, 1, JSON.stringify(where));
  return rows[0];
};

Deno.test("monotoneBounds: the monotone envelope (running max below, running min above)", () => {
  const points = [{ x: 0, y: 1 }, { x: 3, y: 2 }, { x: 4, y: 2.5 }, { x: NaN, y: 9 }];
  deepEqual(monotoneBounds(points, 5), { low: 2.5, high: Infinity });
  deepEqual(monotoneBounds(points, 2), { low: 1, high: 2 });
  deepEqual(monotoneBounds(points, -1), { low: -Infinity, high: 1 });
  deepEqual(monotoneBounds(points, NaN), { low: -Infinity, high: Infinity });
  // Not monotone (y 3 at x 1, then 2 at x 2): at x 5 the running maximum 5 bounds from below,
  // at x 1.5 the largest value below (3) and the smallest above (2), not the nearest neighbours.
  const bumpy = [{ x: 1, y: 3 }, { x: 2, y: 2 }, { x: 4, y: 5 }];
  deepEqual(monotoneBounds(bumpy, 5), { low: 5, high: Infinity });
  deepEqual(monotoneBounds(bumpy, 3), { low: 3, high: 5 });
  deepEqual(monotoneBounds(bumpy, 1.5), { low: 3, high: 2 });
});

Deno.test("pairRuns: matched on the sum axis from (0, d(0)); differences and excess in closed form", () => {
  const { paired } = analyse(syntheticRuns());
  const raw = paired.filter((p) => p.definition === "raw" && p.dilation_measure === "clean_spread");
  equal(raw.length, 16);
  for (const p of raw) {
    const s = p.seed - 1;
    const m = 700 * p.label_noise;
    equal(p.matched_by, "memorization");
    close(p.treatment_memorization, m);
    // CE's curve is a line through (0, a_s): at m it dilates a_s + 0.001 m.
    close(p.reference_dilation, OFFSETS[s] + 0.001 * m);
    close(p.dilation_difference, LS_SHIFT[s] + (SLOPE_NOISE[s] - 0.0005) * m);
    equal(p.dilation_difference_at_most, p.dilation_difference);
    equal(p.dilation_difference_at_least, p.dilation_difference);
    // Excess d(eta) - d(0), LS minus CE at LS's memorization: the noise-free gap b_s is gone.
    close(p.excess_dilation_difference, (SLOPE_NOISE[s] - 0.0005) * m, 1e-9);
    close(p.test_acc_difference_pp, 100 * (0.01 + ACC_SHIFT[s]));
    close(p.memorization_difference_same_noise, -300 * p.label_noise);
  }
  // Scale-free: LS / 2, CE / 4. At noise 0.3 LS reaches 105, beyond CE's 75: bounded by CE's
  // largest dilation there, (a_s + 0.3) / 4, from below, with no upper limit.
  const bounded = paired.filter((p) =>
    p.definition === "scale_free" && p.dilation_measure === "clean_spread" && p.label_noise === 0.3
  );
  for (const p of bounded) {
    const s = p.seed - 1;
    equal(p.matched_by, "bound");
    ok(Number.isNaN(p.dilation_difference));
    const ls = (OFFSETS[s] + LS_SHIFT[s] + (0.0005 + SLOPE_NOISE[s]) * 210) / 2;
    close(p.dilation_difference_at_most, ls - (OFFSETS[s] + 0.3) / 4);
    equal(p.dilation_difference_at_least, -Infinity);
  }
  // The clean mean square (2 d here) is divided by the distance squared when scale-free.
  const square = paired.find((p) =>
    p.definition === "scale_free" && p.dilation_measure === "clean_mean_square" &&
    p.label_noise === 0 && p.seed === 1
  )!;
  close(square.treatment_dilation, 2 * (OFFSETS[0] + LS_SHIFT[0]) / 4);
});

Deno.test("endpointTable: slope and excess-dilation intervals equal the known per-seed values", () => {
  const { table } = analyse(syntheticRuns());
  const primary = table.filter((r) => r.primary);
  deepEqual(primary.map((r) => r.claim), CLAIMS);
  // (b) slope difference per seed: e_s - 0.0005 exactly (OLS through exact lines).
  const slope = find(table, { primary: true, quantity: "slope_difference" });
  const slopeExpected = tInterval(SLOPE_NOISE.map((e) => e - 0.0005));
  for (const key of ["mean", "low", "high", "p"] as const) {
    close(slope[key], slopeExpected[key], 1e-9, `slope ${key}`);
  }
  equal(slope.n, 4);
  // (a) per seed, the mean over noisy levels: b_s + 140 (e_s - 0.0005).
  const dilation = find(table, { primary: true, quantity: "dilation_difference" });
  const dilationExpected = tInterval(LS_SHIFT.map((b, s) => b + 140 * (SLOPE_NOISE[s] - 0.0005)));
  close(dilation.mean, dilationExpected.mean);
  close(dilation.low, dilationExpected.low);
  close(dilation.high, dilationExpected.high);
  // (c) test accuracy, pp.
  const accuracy = find(table, { primary: true, quantity: "test_acc_difference_pp" });
  close(accuracy.mean, 100 * (0.01 + 0.003));
  // Holm across the three primary endpoints.
  const adjusted = holmAdjust([dilation.p, slope.p, accuracy.p]);
  close(dilation.p_holm, adjusted[0], 1e-12);
  close(slope.p_holm, adjusted[1], 1e-12);
  equal(slope.holm_size, 3);
  equal(slope.decision, slope.p_holm <= 0.05 ? "LS lower" : "no difference detected");
  ok(slope.p_holm <= 0.05, `slope p_holm ${slope.p_holm}`);
  equal(accuracy.decision, "LS higher");
  // Excess dilation at noise 0.2: (e_s - 0.0005) 140, Holm across the three noisy levels.
  const excess = find(table, {
    scope: "level",
    quantity: "excess_dilation_difference",
    definition: "raw",
    dilation_measure: "clean_spread",
    label_noise: 0.2,
  });
  const excessExpected = tInterval(SLOPE_NOISE.map((e) => 140 * (e - 0.0005)));
  close(excess.mean, excessExpected.mean);
  close(excess.low, excessExpected.low);
  close(excess.high, excessExpected.high);
  equal(excess.holm_size, 3);
  const levels = [0.1, 0.2, 0.3].map((noise) =>
    find(table, {
      scope: "level",
      quantity: "excess_dilation_difference",
      definition: "raw",
      dilation_measure: "clean_spread",
      label_noise: noise,
    })
  );
  holmAdjust(levels.map((r) => r.p)).forEach((p, i) => close(levels[i].p_holm, p, 1e-12));
  // Noise 0 is shown, never counted: no Holm family, no decision.
  const noiseFree = find(table, {
    scope: "level",
    quantity: "dilation_difference",
    definition: "raw",
    dilation_measure: "clean_spread",
    label_noise: 0,
  });
  equal(noiseFree.counts_as_evidence, false);
  equal(noiseFree.holm_family, "");
  ok(Number.isNaN(noiseFree.p_holm));
  close(noiseFree.mean, LS_SHIFT.reduce((a, b) => a + b) / 4);
  ok(!table.some((r) => r.quantity === "excess_dilation_difference" && r.label_noise === 0));
});

Deno.test("endpointTable: bounded seeds use the conservative bound; an infinite bound is inconclusive", () => {
  const { table } = analyse(syntheticRuns());
  // Scale-free, noise 0.3: every seed only bounded ("at most"), each clearly below 0.
  const bounded = find(table, {
    scope: "level",
    quantity: "dilation_difference",
    definition: "scale_free",
    dilation_measure: "clean_spread",
    label_noise: 0.3,
  });
  equal(bounded.bounded_seeds, 4);
  equal(bounded.matched_seeds, 0);
  ok(Number.isNaN(bounded.mean));
  const atMost = tInterval(
    OFFSETS.map((a, s) => (a + LS_SHIFT[s] + (0.0005 + SLOPE_NOISE[s]) * 210) / 2 - (a + 0.3) / 4),
  );
  close(bounded.at_most_mean, atMost.mean);
  close(bounded.at_most_high, atMost.high);
  close(bounded.p, atMost.p, 1e-12); // one-sided p doubled: the two-sided p of the bound
  // The bounds straddle 0 (-0.012, -0.0305, +0.0035, -0.0385): not decided.
  ok(bounded.p_holm > 0.05);
  equal(bounded.decision, "inconclusive: 4 of 4 seeds only bounded");
  // Raw, LS's memorization at noise 0.3 moved to 400, beyond CE's 300: CE there dilates at
  // least a_s + 0.3, so LS - CE is at most b_s - 0.195 + 210 e_s, clearly below 0.
  const beyond = syntheticRuns().map((r) =>
    r.loss === "LS" && r.label_noise === 0.3 ? { ...r, memorization: 400 } : r
  );
  const lower = find(analyse(beyond).table, {
    scope: "level",
    quantity: "dilation_difference",
    definition: "raw",
    dilation_measure: "clean_spread",
    label_noise: 0.3,
  });
  const lowerExpected = tInterval(LS_SHIFT.map((b, s) => b - 0.195 + 210 * SLOPE_NOISE[s]));
  close(lower.at_most_mean, lowerExpected.mean);
  close(lower.p, lowerExpected.p, 1e-12);
  equal(lower.bounded_seeds, 4);
  equal(lower.decision, "LS lower");
  // Without CE's noise-free run of seed 1, an LS memorization below CE's smallest has no lower
  // bound on CE's dilation: LS - CE has no upper bound, the level cannot say "LS lower", and
  // the seed is counted, not dropped.
  const runs = syntheticRuns().filter((r) =>
    !(r.loss === "CrossEntropy" && r.seed === 1 && r.label_noise === 0)
  );
  const unbounded = find(analyse(runs).table, {
    scope: "level",
    quantity: "dilation_difference",
    definition: "raw",
    dilation_measure: "clean_spread",
    label_noise: 0.1,
  });
  equal(unbounded.seeds, 4);
  equal(unbounded.matched_seeds, 3);
  equal(unbounded.bounded_seeds, 1);
  equal(unbounded.p, 1);
  equal(unbounded.direction, 0);
  equal(unbounded.decision, "inconclusive: 1 of 4 seeds only bounded");
  ok(Number.isNaN(unbounded.at_most_mean), "an infinite bound leaves no mean of the bound");
  // A seed without any value (LS's run at 0.2 missing CE's partner): counted as missing.
  const missing = runs.filter((r) =>
    !(r.loss === "CrossEntropy" && r.seed === 2 && r.label_noise === 0.2)
  );
  const accuracy = find(analyse(missing).table, {
    scope: "level",
    quantity: "test_acc_difference_pp",
    label_noise: 0.2,
  });
  equal(accuracy.missing_seeds, 1);
  equal(accuracy.decision, "inconclusive: 1 of 4 seeds without a value");
});

Deno.test("verdictTable: three claims from the primary endpoints; swapped losses contradict", () => {
  const { verdict } = analyse(syntheticRuns());
  deepEqual(verdict.map((v) => v.claim), CLAIMS);
  deepEqual(verdict.map((v) => v.supports_paper), ["yes", "yes", "yes"]);
  ok(verdict[0].statement.startsWith("(a) LS has less dilation than CE"), verdict[0].statement);
  equal(verdict[1].levels, 3);
  equal(verdict[0].levels, 3, "noise 0 is not a level of evidence");
  const text = formatVerdictTable(verdict);
  equal(text.split("\n").length, 2 + 3);
  // The same runs with the names swapped: CE now "treatment", (b) and (c) contradicted. (a)
  // is undecided: CE's memorization at noise 0.3 (300) lies beyond LS's largest (210), where
  // LS's dilation has no upper bound, so "CE higher" cannot be concluded from those seeds.
  const swapped = analyse(syntheticRuns(), { reference: "LS", treatment: "CrossEntropy" });
  deepEqual(swapped.verdict.map((v) => v.supports_paper), ["not shown", "no", "no"]);
  equal(swapped.verdict[0].decision, "inconclusive: 4 of 4 seeds only bounded");
  ok(swapped.verdict[2].statement.includes("CE tests better than LS"));
  // Generic over the pair: LR against CE reads the same way.
  const lr = syntheticRuns().map((r) => r.loss === "LS" ? { ...r, loss: "LR" } : r);
  const lrVerdict = analyse(lr, { reference: "CrossEntropy", treatment: "LR" }).verdict;
  deepEqual(lrVerdict.map((v) => v.decision), ["LR lower", "LR lower", "LR higher"]);
});
// ------------------------------------------------------------ memorization check

Deno.test("checkMemorized flags every run below 99 % training accuracy, and says so", () => {
  const runs = [
    { uid: "ce-0.2-1", loss: "CrossEntropy", label_noise: 0.2, seed: 1, train_acc: 0.9899 },
    { uid: "ls-0.2-1", loss: "LS", label_noise: 0.2, seed: 1, train_acc: 0.99 },
    { uid: "ls-0.3-1", loss: "LS", label_noise: 0.3, seed: 1, train_acc: NaN },
  ];
  const checks = checkMemorized(runs);
  deepEqual(checks.map((c) => c.memorized), [false, true, false]);
  const report = memorizationReport(checks);
  ok(report.startsWith("NOT MEMORIZED: 2 of 3 runs"), report);
  ok(report.includes("ce-0.2-1") && report.includes("98.99%"), report);
  ok(!report.includes("ls-0.2-1"), report);
  const fine = memorizationReport(checkMemorized([runs[1]]));
  ok(fine.startsWith("memorized: all 1 runs"), fine);
  deepEqual(checkMemorized([runs[0]], 0.98).map((c) => c.memorized), [true]);
  // A failed run whose training features are often all zero says so (the likely reason).
  const stuck = memorizationReport(checkMemorized([{ ...runs[0], zero_features_train: 0.4875 }]));
  ok(stuck.includes("98.99%, features all zero for 48.8% of training samples"), stuck);
  ok(stuck.includes("--classifier_init etf"), stuck);
  // A run that already started at the ETF is not told to try it.
  const etf = memorizationReport(
    checkMemorized([{ ...runs[0], zero_features_train: 0.4875, classifier_init: "etf" }]),
  );
  ok(etf.includes("48.8% of training samples (no gradient there)"), etf);
  ok(!etf.includes("try --classifier_init"), etf);
  ok(!report.includes("features all zero"), report);
});
