/**
 * Sweep grids: the cartesian product of flag values over a base configuration, written with the
 * reference's flag names (`loss`, `label_noise`, `seed`, any other flag of `deno task train`).
 *
 * @module
 */

/** A flag value as a sweep holds it: what a JSON sweep file can write. */
export type FlagValue = string | number | boolean | null | number[];

/**
 * Flag values by flag name (no leading `--`), e.g. `{ loss: "LS", label_noise: 0.2 }`; an
 * undefined value leaves the default.
 */
export type Flags = Record<string, FlagValue | undefined>;

/**
 * Every combination of `axes` values, each merged over `base`; the first axis varies slowest.
 * An empty axis is an error (it would silently give no runs).
 *
 * @example
 * ```ts
 * const runs = grid({ epochs: 2 }, { loss: ["CrossEntropy", "LS"], label_noise: [0, 0.2] });
 * // 4 runs: CE 0, CE 0.2, LS 0, LS 0.2, each with epochs 2
 * ```
 */
export function grid<T extends Flags>(
  base: T,
  axes: Record<string, readonly FlagValue[]>,
): (T & Flags)[] {
  let points: (T & Flags)[] = [{ ...base }];
  for (const [flag, values] of Object.entries(axes)) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new Error(`sweep grid: flag '${flag}' needs a non-empty list of values`);
    }
    points = points.flatMap((point) => values.map((value) => ({ ...point, [flag]: value })));
  }
  return points;
}
