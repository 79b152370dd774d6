import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  checkMemorized,
  type ComparisonRun,
  differenceTable,
  direction,
  formatVerdictTable,
  interpolateAlong,
  memorizationReport,
  monotoneBounds,
  pairRuns,
  regularizedBeta,
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

// ------------------------------------------------------------ matched comparison

/**
 * Synthetic runs with known answers: per seed s, CE dilation = 0.2 m + a_s and LS dilation =
 * 0.1 m + a_s + b_s, test accuracy 0.9 - m / 100 (CE) and 0.92 - m / 100 (LS); memorization m
 * grows with noise, LS's sits inside CE's range except at the highest noise. Centroid distance 2
 * (CE) and 4 (LS).
 */
function syntheticRuns(): ComparisonRun[] {
  const offsets = [0, 0.05, -0.02]; // a_s
  const lsShift = [0.01, -0.03, 0.02]; // b_s
  const runs: ComparisonRun[] = [];
  const noise = [0, 0.1, 0.2, 0.3];
  for (const [s, seed] of [1, 2, 3].entries()) {
    for (const eta of noise) {
      const ceM = 10 * eta; // 0, 1, 2, 3
      const lsM = 10 * eta + 0.5; // 0.5 (noise 0: unused), 1.5, 2.5, 3.5 (outside)
      runs.push({
        loss: "CrossEntropy",
        label_noise: eta,
        seed,
        memorization: eta === 0 ? NaN : ceM,
        dilation: 0.2 * ceM + offsets[s],
        clean_centroid_distance: 2,
        test_acc: 0.9 - ceM / 100,
      });
      runs.push({
        loss: "LS",
        label_noise: eta,
        seed,
        memorization: eta === 0 ? NaN : lsM,
        dilation: 0.1 * (eta === 0 ? 0 : lsM) + offsets[s] + lsShift[s],
        clean_centroid_distance: 4,
        test_acc: 0.92 - (eta === 0 ? 0 : lsM) / 100,
      });
    }
  }
  return runs;
}

Deno.test("monotoneBounds: nearest measured neighbours below and above, open ends unbounded", () => {
  const points = [{ x: 0, y: 1 }, { x: 3, y: 2 }, { x: 4, y: 2.5 }, { x: NaN, y: 9 }];
  deepEqual(monotoneBounds(points, 5), { low: 2.5, high: Infinity });
  deepEqual(monotoneBounds(points, 2), { low: 1, high: 2 });
  deepEqual(monotoneBounds(points, 3), { low: 2, high: 2 });
  deepEqual(monotoneBounds(points, -1), { low: -Infinity, high: 1 });
  deepEqual(monotoneBounds(points, NaN), { low: -Infinity, high: Infinity });
});

Deno.test("pairRuns: LS placed on CE's curve of the same seed, differences in closed form", () => {
  const paired = pairRuns(syntheticRuns());
  const raw = paired.filter((p) => p.definition === "raw");
  equal(raw.length, 12);
  for (const p of raw) {
    const s = p.seed - 1;
    const b = [0.01, -0.03, 0.02][s];
    if (p.label_noise === 0) {
      equal(p.matched_by, "noise");
      close(p.dilation_difference, b); // same noise: LS - CE = b_s
      close(p.test_acc_difference, 0.02);
      continue;
    }
    const m = 10 * p.label_noise + 0.5;
    equal(p.matched_by, p.label_noise === 0.3 ? "bound" : "memorization");
    if (p.label_noise === 0.3) {
      // m = 3.5 lies beyond CE's largest memorization (3): not matched, only bounded: CE's
      // dilation there is at least 0.6 + a (no upper bound).
      ok(Number.isNaN(p.dilation_difference) && Number.isNaN(p.test_acc_difference_matched));
      equal(p.matched_by, "bound");
      close(p.dilation_difference_at_most, b - 0.25);
      equal(p.dilation_difference_at_least, -Infinity);
    } else {
      // (0.1 m + a + b) - (0.2 m + a) = b - 0.1 m; accuracy (0.92 - m/100) - (0.9 - m/100) = 0.02.
      close(p.dilation_difference, b - 0.1 * m);
      equal(p.dilation_difference_at_least, p.dilation_difference);
      equal(p.dilation_difference_at_most, p.dilation_difference);
      close(p.test_acc_difference_matched, 0.02);
    }
    // Same noise: LS memorization is 0.5 higher, so accuracy differs by 0.02 - 0.005, and
    // dilation by (0.1 (m) + a + b) - (0.2 (m - 0.5) + a) = b + 0.1 - 0.1 m.
    close(p.test_acc_difference, 0.015);
    close(p.memorization_difference_same_noise, 0.5);
    close(p.dilation_difference_same_noise, b + 0.1 - 0.1 * m);
  }
  // Scale-free: LS values / 4, CE values / 2. Noise 0.2, seed 1 (a = 0, b = 0.01): LS m = 2.5 / 4
  // = 0.625, d = (0.25 + 0.01) / 4 = 0.065; CE's curve is (m / 2, 0.2 m / 2), i.e. y = 0.2 x, so
  // 0.125 at x = 0.625.
  const scaleFree = paired.find((p) =>
    p.definition === "scale_free" && p.label_noise === 0.2 && p.seed === 1
  )!;
  close(scaleFree.ls_memorization, 0.625);
  close(scaleFree.ce_dilation, 0.125);
  close(scaleFree.dilation_difference, 0.065 - 0.125);
  // Noise 0.1: LS m = 1.5 / 4 = 0.375 lies below CE's scale-free range [0.5, 1.5].
  ok(
    paired.some((p) =>
      p.definition === "scale_free" && p.label_noise === 0.1 && Number.isNaN(p.dilation_difference)
    ),
  );
});

Deno.test("differenceTable: paired t-intervals over seeds, unmatched seeds left out", () => {
  const table = differenceTable(pairRuns(syntheticRuns()));
  const row = (quantity: string, noise: number, definition = "raw") =>
    table.find((r) =>
      r.quantity === quantity && r.label_noise === noise && r.definition === definition
    )!;
  // Noise 0.1: differences b_s - 0.15 = -0.14, -0.18, -0.13.
  const d = row("dilation_at_matched_memorization", 0.1);
  const values = [-0.14, -0.18, -0.13];
  const interval = tInterval(values);
  close(d.mean, -0.15);
  close(d.low, interval.low);
  close(d.high, interval.high);
  equal(d.n, 3);
  equal(d.seeds, 3);
  equal(direction(d), "LS lower");
  // Noise 0.3: nothing matched.
  const unmatched = row("dilation_at_matched_memorization", 0.3);
  equal(unmatched.n, 0);
  equal(direction(unmatched), "not matched");
  // Test accuracy: +0.02 at matched memorization for every seed (std 0: a zero-width interval).
  const acc = row("test_acc_at_matched_memorization", 0.2);
  close(acc.low, 0.02);
  equal(direction(acc), "LS higher");
  ok(!table.some((r) => r.definition === "scale_free" && r.quantity === "test_acc_at_same_noise"));
});

Deno.test("verdictTable: yes when all intervals agree with the paper, no when one contradicts", () => {
  const verdict = verdictTable(differenceTable(pairRuns(syntheticRuns())));
  deepEqual(verdict.map((v) => v.label_noise), [0, 0.1, 0.2, 0.3]);
  const at = (noise: number) => verdict.find((v) => v.label_noise === noise)!;
  // Noise 0.2: LS has less dilation (raw, scale-free) and better accuracy.
  equal(at(0.2).paper_prediction_holds, "yes");
  // Noise 0.1: scale-free, LS's memorization 0.375 lies below CE's range [0.5, 1.5]; CE there
  // dilates between its noise-free a / 2 and (0.2 + a) / 2, which leaves LS - CE undecided
  // (at most 0.04, 0.0175, 0.0475); the other two agree.
  equal(at(0.1).paper_prediction_holds, "partly");
  ok(
    at(0.1).dilation_scale_free.includes("inconclusive (3 of 3 seeds bounded)"),
    at(0.1).dilation_scale_free,
  );
  // Noise 0.3: raw, LS's memorization (3.5) lies beyond CE's range (largest 3, dilation 0.6 + a):
  // CE at 3.5 dilates at least 0.6 + a, so LS - CE is at most (0.35 + a + b) - (0.6 + a) =
  // b - 0.25 (-0.24, -0.28, -0.23): LS lower. Scale-free it matches (0.875 inside [0.5, 1.5]);
  // accuracy is better: yes.
  const atMost = tInterval([-0.24, -0.28, -0.23]);
  ok(
    at(0.3).dilation_raw.startsWith(
      `at most -0.2500 [${atMost.low.toFixed(4)}, ${atMost.high.toFixed(4)}] n=3: LS lower`,
    ),
    at(0.3).dilation_raw,
  );
  equal(at(0.3).paper_prediction_holds, "yes");
  // Noise 0: LS - CE dilation = b_s (0.01, -0.03, 0.02) contains 0.
  ok(at(0).dilation_raw.includes("inconclusive"));
  // A contradiction: LS with more dilation and worse accuracy everywhere.
  const swapped = syntheticRuns().map((r) => ({
    ...r,
    loss: r.loss === "LS" ? "CrossEntropy" : "LS",
  }));
  const reversed = verdictTable(differenceTable(pairRuns(swapped)));
  // Swapped: "LS" (was CE) memorization 1, 2 lies within "CE" (was LS) range [1.5, 3.5] for 2.
  equal(reversed.find((v) => v.label_noise === 0.2)!.paper_prediction_holds, "no");
  // Below CE's range (LS memorization 0.5 < 1): CE at 0.5 dilates at most as at 1 (0.2 + a), at
  // least as without noise (a); LS dilating 1 more is higher than the upper bound.
  const atNoise03 = (change: (r: ComparisonRun) => ComparisonRun) =>
    verdictTable(
      differenceTable(
        pairRuns(
          syntheticRuns().map((r) => r.loss === "LS" && r.label_noise === 0.3 ? change(r) : r),
        ),
      ),
    ).find((v) => v.label_noise === 0.3)!;
  const dominated = atNoise03((r) => ({ ...r, memorization: 0.5, dilation: r.dilation + 1 }));
  ok(dominated.dilation_raw.includes(": LS higher (3 of 3 seeds bounded)"), dominated.dilation_raw);
  // Beyond CE's range, more dilation than CE's largest proves nothing (no upper bound there).
  const steep = atNoise03((r) => ({ ...r, dilation: r.dilation + 1 }));
  ok(steep.dilation_raw.includes("inconclusive (3 of 3 seeds bounded)"), steep.dilation_raw);
  const text = formatVerdictTable(verdict);
  ok(text.split("\n").length === 2 + verdict.length);
  ok(text.includes("paper holds"));
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
  ok(!report.includes("features all zero"), report);
});
