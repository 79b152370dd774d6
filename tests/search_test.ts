/**
 * Hyperparameter search: the reference's distributions (checked against their closed-form
 * moments), the TPE optimizer's density and its advantage over random search on a known
 * objective, the ASHA rule against hand-computed cutoffs, and the figures' data.
 */
import assert from "node:assert/strict";
import { Random } from "../lib/data/random.ts";
import {
  Asha,
  checkSpace,
  erf,
  fromUnit,
  type Params,
  proposeTpe,
  quantile,
  referenceSpace,
  runSearch,
  sampleSpace,
  searchDefinition,
  SearchError,
  type SearchSpace,
  SearchSpaceError,
  toUnit,
  UnitDensity,
} from "../lib/search/mod.ts";
import { lockRun, RunLockedError } from "../lib/runs/mod.ts";

Deno.test("reference space: lr log-uniform [1e-5, 0.5], gamma in {0.01, 0.1, 0.5}, alpha U[0.01, 0.25]", () => {
  assert.deepEqual(Object.keys(referenceSpace("CrossEntropy")), ["lr", "gamma"]);
  assert.deepEqual(Object.keys(referenceSpace("LS")), ["lr", "gamma", "ls_alpha"]);
  assert.deepEqual(Object.keys(referenceSpace("LR")), ["lr", "gamma", "lr_alpha"]);
  const rng = new Random(11);
  const n = 40_000;
  const draws = Array.from({ length: n }, () => sampleSpace(referenceSpace("LS"), rng));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = (xs: number[]) => {
    const m = mean(xs);
    return mean(xs.map((x) => (x - m) ** 2));
  };
  // log(lr) is uniform on [log 1e-5, log 0.5]: mean (a+b)/2, variance (b-a)^2/12.
  const logLr = draws.map((d) => Math.log(d.lr));
  const [a, b] = [Math.log(1e-5), Math.log(0.5)];
  assert.ok(logLr.every((x) => x >= a && x <= b));
  assert.ok(Math.abs(mean(logLr) - (a + b) / 2) < 0.05, `${mean(logLr)}`);
  assert.ok(Math.abs(variance(logLr) / ((b - a) ** 2 / 12) - 1) < 0.03);
  for (const g of [0.01, 0.1, 0.5]) {
    const share = draws.filter((d) => d.gamma === g).length / n;
    assert.ok(Math.abs(share - 1 / 3) < 0.01, `gamma ${g}: ${share}`);
  }
  const alpha = draws.map((d) => d.ls_alpha);
  assert.ok(alpha.every((x) => x >= 0.01 && x <= 0.25));
  assert.ok(Math.abs(mean(alpha) - 0.13) < 0.002);
  assert.ok(Math.abs(variance(alpha) / (0.24 ** 2 / 12) - 1) < 0.03);
  // Seeded: the same generator state gives the same trial.
  assert.deepEqual(
    sampleSpace(referenceSpace("LS"), new Random(5)),
    sampleSpace(referenceSpace("LS"), new Random(5)),
  );
});

Deno.test("search space files: unit scale round trip and clear errors", () => {
  const lr = { type: "loguniform", low: 1e-4, high: 1 } as const;
  assert.ok(Math.abs(toUnit(lr, 1e-2) - 0.5) < 1e-12);
  assert.ok(Math.abs(fromUnit(lr, 0.25) - 1e-3) < 1e-15);
  assert.throws(() => checkSpace({}), SearchSpaceError);
  assert.throws(
    () => checkSpace({ lr: { type: "loguniform", low: 0, high: 1 } }),
    /lr.*low > 0/,
  );
  assert.throws(() => checkSpace({ gamma: { type: "choice", values: [] } }), /gamma/);
  assert.throws(() => checkSpace({ lr: { type: "normal" } }), /unknown type/);
});

Deno.test("TPE density: erf, a proper density on [0, 1], mass near the good points", () => {
  // erf against tabulated values.
  for (const [x, value] of [[0, 0], [0.5, 0.5204998778], [1, 0.8427007929], [-2, -0.995322265]]) {
    assert.ok(Math.abs(erf(x) - value) < 2e-7, `erf(${x})`);
  }
  const density = new UnitDensity([0.1, 0.15, 0.95]);
  // Kernel widths: the larger gap to a neighbour (interval ends included), at least 1/4.
  [0.25, 0.8, 0.8].forEach((s, i) => assert.ok(Math.abs(density.sigmas[i] - s) < 1e-12));
  const integrate = (from: number, to: number) => {
    const steps = 20_000;
    let sum = 0;
    for (let i = 0; i <= steps; i++) {
      const w = i === 0 || i === steps ? 0.5 : 1;
      sum += w * density.pdf(from + (to - from) * i / steps) * (to - from) / steps;
    }
    return sum;
  };
  assert.ok(Math.abs(integrate(0, 1) - 1) < 1e-4, `integral ${integrate(0, 1)}`);
  assert.ok(density.pdf(0.12) > density.pdf(0.5));
  // Draws follow the density: the share below 0.3 matches its integral there.
  const rng = new Random(3);
  const samples = Array.from({ length: 20_000 }, () => density.sample(rng));
  assert.ok(samples.every((u) => u >= 0 && u <= 1));
  const low = samples.filter((u) => u < 0.3).length / samples.length;
  assert.ok(Math.abs(low - integrate(0, 0.3)) < 0.015, `${low} vs ${integrate(0, 0.3)}`);
});

/** A known objective on the reference's LS space without gamma: best at lr 1e-2, alpha 0.1. */
function toyObjective(p: Params): number {
  return -((Math.log10(p.lr) + 2) ** 2) - 10 * (p.ls_alpha - 0.1) ** 2;
}

function bestAfter(trials: number, seed: number, tpe: boolean, space: SearchSpace): number {
  const observations: { params: Params; value: number }[] = [];
  for (let t = 0; t < trials; t++) {
    const rng = new Random(seed * 1000 + t);
    const params = tpe ? proposeTpe(space, observations, rng) : sampleSpace(space, rng);
    observations.push({ params, value: toyObjective(params) });
  }
  return Math.max(...observations.map((o) => o.value));
}

Deno.test("TPE finds a better optimum than random search with the same budget", () => {
  const { gamma: _, ...space } = referenceSpace("LS");
  const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const tpe = mean(seeds.map((s) => bestAfter(20, s, true, space)));
  const random = mean(seeds.map((s) => bestAfter(20, s, false, space)));
  assert.ok(tpe > random, `TPE ${tpe} vs random ${random}`);
  // The first trials (fewer than 5 observations) are the random search's own draws.
  assert.deepEqual(proposeTpe(space, [], new Random(9)), sampleSpace(space, new Random(9)));
});

Deno.test("ASHA: rungs, cutoffs as the (1 - 1/factor) quantile of earlier trials", () => {
  const asha = new Asha({ grace: 1, factor: 3, maxEpochs: 10 });
  assert.deepEqual(asha.rungs, [1, 3, 9]);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.ok(Math.abs(quantile([0.5, 0.9], 2 / 3) - (0.5 + (2 / 3) * 0.4)) < 1e-12);
  assert.deepEqual(asha.report("a", 1, 0.5), { stop: false }); // first at the rung
  assert.deepEqual(asha.report("b", 1, 0.9), { stop: false }); // above 0.5
  const c = asha.report("c", 1, 0.7); // cutoff: 2/3 quantile of [0.5, 0.9] = 0.7667
  assert.equal(c.stop, true);
  assert.match((c as { reason: string }).reason, /rung 1.*0\.7000.*0\.7667.*2 earlier/);
  assert.deepEqual(asha.report("b", 2, 0.1), { stop: false }); // between rungs: no decision
  assert.deepEqual(asha.report("b", 3, 0.95), { stop: false });
  assert.deepEqual(asha.report("a", 3, 0.6).stop, true); // cutoff 0.95 at rung 3
  assert.throws(() => new Asha({ grace: 0, factor: 2, maxEpochs: 4 }), /grace/);
  assert.throws(() => new Asha({ grace: 1, factor: 1, maxEpochs: 4 }), /factor/);
});

Deno.test("search: every search-space value is checked before anything is written", () => {
  // Issue 19 (Low): values were unchecked until trial 0 had written trials.json, after which
  // --continue_ho failed forever.
  const search = (space: unknown) => ({
    name: "s",
    base: { epochs: 2, width: 8, depth: 2 },
    algorithm: "random_search" as const,
    trials: 2,
    resultsDir: "/nonexistent/never_written",
    space: space as SearchSpace,
  });
  const refused = (space: unknown, pattern: RegExp) =>
    assert.throws(() => searchDefinition(search(space)), (error: Error) => {
      assert.ok(error instanceof SearchError || error instanceof SearchSpaceError, error.message);
      assert.match(error.message, pattern);
      return true;
    });
  refused({ width: { type: "choice", values: [256, 0] } }, /'width'.*value 0/);
  refused(JSON.parse('{"__proto__": {"type": "choice", "values": [1]}}'), /'__proto__'/);
  refused({ lr: { type: "uniform", low: 0.1, high: 1e309 } }, /'lr'/);
  refused({ seed: { type: "choice", values: [1, 2] } }, /'seed'/);
  const ok = searchDefinition(search({ width: { type: "choice", values: [8, 16] } }));
  assert.deepEqual(Object.keys(ok.definition.space), ["width"]);
});

Deno.test("search: a second search on one directory is refused before anything is deleted", async () => {
  // Issue 19 #4: the second search (with --continue_ho) deleted the first's running trial.
  const dir = await Deno.makeTempDir({ prefix: "memdil-search-lock-" });
  try {
    const held = lockRun(dir, "search", "search first");
    const trial = `${dir}/trials/trial_000`;
    await Deno.mkdir(trial, { recursive: true });
    await Deno.writeTextFile(`${trial}/running.txt`, "in use");
    try {
      await assert.rejects(
        runSearch({
          name: "second",
          base: { epochs: 1, width: 8, depth: 2 },
          algorithm: "random_search",
          trials: 1,
          resultsDir: dir,
        }, { resume: true, log: () => {} }),
        (error: Error) =>
          error instanceof RunLockedError && /search second .* is in use/.test(error.message),
      );
      assert.equal(await Deno.readTextFile(`${trial}/running.txt`), "in use");
    } finally {
      held.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
