/**
 * Class selection, label noise and the validation split with the reference's semantics
 * (docs/reference.md#data).
 *
 * @module
 */
import { Random } from "./random.ts";

/**
 * Indices of the samples whose label is one of the first `classes` labels (0..K-1).
 *
 * @example
 * ```ts
 * selectClasses(new Uint8Array([0, 3, 1, 2]), 2); // Int32Array [0, 2]
 * ```
 */
export function selectClasses(labels: ArrayLike<number>, classes: number): Int32Array {
  const kept: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] < classes) kept.push(i);
  return Int32Array.from(kept);
}

/**
 * Corrupt labels: each label becomes, with probability `eta`, a label drawn uniformly from the
 * K classes (possibly itself, so the expected flip rate is eta (K-1)/K). With one rate per class,
 * a sample uses the rate of its label. The input is untouched.
 *
 * @example
 * ```ts
 * import { Random } from "./random.ts";
 * const noisy = applyLabelNoise(Int32Array.from([0, 1, 0, 1]), 2, 0.2, new Random(42));
 * const perClass = applyLabelNoise(Int32Array.from([0, 1, 0, 1]), 2, [0.1, 0.4], new Random(42));
 * ```
 */
export function applyLabelNoise(
  labels: Int32Array,
  classes: number,
  eta: number | readonly number[],
  rng: Random,
): Int32Array {
  if (typeof eta !== "number" && eta.length !== classes) {
    throw new Error(`label noise lists ${eta.length} rates for ${classes} classes`);
  }
  const noisy = Int32Array.from(labels);
  for (let i = 0; i < noisy.length; i++) {
    // Two draws per sample whatever the outcome, so sample i's fate is independent of eta's
    // effect on earlier samples.
    const rate = typeof eta === "number" ? eta : eta[labels[i]];
    const corrupt = rng.uniform() < rate;
    const drawn = rng.integer(classes);
    if (corrupt) noisy[i] = drawn;
  }
  return noisy;
}

/**
 * Split positions 0..n-1 into validation (the first floor(p n) of a seeded shuffle) and
 * training (the rest, in shuffled order).
 *
 * @example
 * ```ts
 * import { Random } from "./random.ts";
 * const { train, validation } = validationSplit(10, 0.2, new Random(6)); // 8 and 2 positions
 * ```
 */
export function validationSplit(
  n: number,
  proportion: number,
  rng: Random,
): { train: Int32Array; validation: Int32Array } {
  const order = rng.permutation(n);
  const cut = Math.floor(proportion * n);
  return { validation: order.slice(0, cut), train: order.slice(cut) };
}

/**
 * The reference's class balancing after per-class noise: with m the smallest count of any noisy
 * label 0..K-1, keep for each label only its first m samples. Returns the kept positions, in
 * order.
 *
 * @example
 * ```ts
 * balanceClasses(Int32Array.from([0, 1, 0, 0, 1]), 2); // Int32Array [0, 1, 2, 4]
 * ```
 */
export function balanceClasses(labels: Int32Array, classes: number): Int32Array {
  const counts = new Array(classes).fill(0);
  labels.forEach((y) => counts[y]++);
  return firstPerLabel(labels, Math.min(...counts));
}

/**
 * Positions of the first `n` samples of each label, in order (`--sample_size`).
 *
 * @example
 * ```ts
 * firstPerLabel(Int32Array.from([1, 1, 0, 1, 0, 0]), 2); // Int32Array [0, 1, 2, 4]
 * ```
 */
export function firstPerLabel(labels: Int32Array, n: number): Int32Array {
  const seen = new Map<number, number>();
  const kept: number[] = [];
  labels.forEach((y, i) => {
    const count = seen.get(y) ?? 0;
    if (count < n) kept.push(i);
    seen.set(y, count + 1);
  });
  return Int32Array.from(kept);
}

/**
 * The four-class problem's latent classes: each label c becomes c + 2 with probability `degree`
 * (one draw per sample). The input is untouched.
 *
 * @example
 * ```ts
 * import { Random } from "./random.ts";
 * moveToLatentClasses(Int32Array.from([0, 1, 0, 1]), 0.5, new Random(6));
 * ```
 */
export function moveToLatentClasses(labels: Int32Array, degree: number, rng: Random): Int32Array {
  return Int32Array.from(labels, (y) => (rng.uniform() < degree ? y + 2 : y));
}
