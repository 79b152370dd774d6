/**
 * Class selection, label noise and the validation split with the reference's semantics
 * (SPEC section 4).
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
 * K classes (possibly itself, so the expected flip rate is eta (K-1)/K). The input is untouched.
 *
 * @example
 * ```ts
 * const noisy = applyLabelNoise(Int32Array.from([0, 1, 0, 1]), 2, 0.2, new Random(42));
 * ```
 */
export function applyLabelNoise(
  labels: Int32Array,
  classes: number,
  eta: number,
  rng: Random,
): Int32Array {
  const noisy = Int32Array.from(labels);
  for (let i = 0; i < noisy.length; i++) {
    // Two draws per sample whatever the outcome, so sample i's fate is independent of eta's
    // effect on earlier samples.
    const corrupt = rng.uniform() < eta;
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
