/**
 * Search spaces: which flags a hyperparameter search varies and how each is drawn. The default
 * space is the reference's: learning rate log-uniform in [1e-5, 0.5], step-decay factor gamma
 * one of 0.01, 0.1, 0.5, and (for the LS and LR losses) the smoothing / relaxation alpha uniform
 * in [0.01, 0.25].
 *
 * @module
 */
import type { Random } from "../data/random.ts";

/** One varied flag: a continuous range (uniform or log-uniform) or a list of choices. */
export type Dimension =
  | { type: "uniform"; low: number; high: number }
  | { type: "loguniform"; low: number; high: number }
  | { type: "choice"; values: number[] };

/** Flag name (as on the command line, without `--`) -> how it is drawn. */
export type SearchSpace = Record<string, Dimension>;

/** Parameter values of one trial. */
export type Params = Record<string, number>;

/**
 * The reference's search space for a loss: lr, gamma, and the loss's alpha for LS / LR.
 *
 * @example
 * ```ts
 * Object.keys(referenceSpace("LS")); // ["lr", "gamma", "ls_alpha"]
 * ```
 */
export function referenceSpace(loss: string): SearchSpace {
  const space: SearchSpace = {
    lr: { type: "loguniform", low: 1e-5, high: 0.5 },
    gamma: { type: "choice", values: [0.01, 0.1, 0.5] },
  };
  if (loss === "LS") space.ls_alpha = { type: "uniform", low: 0.01, high: 0.25 };
  if (loss === "LR") space.lr_alpha = { type: "uniform", low: 0.01, high: 0.25 };
  return space;
}

/** A search space that cannot be used; the message names the dimension and the fix. */
export class SearchSpaceError extends Error {
  override name = "SearchSpaceError";
}

/**
 * Check a search space read from JSON and return it typed.
 *
 * @example
 * ```ts
 * const space = checkSpace({ lr: { type: "loguniform", low: 1e-4, high: 0.1 } });
 * ```
 */
export function checkSpace(value: unknown): SearchSpace {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SearchSpaceError(
      `a search space is an object of flag -> {type, ...}, got ${JSON.stringify(value)}`,
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new SearchSpaceError("the search space has no dimensions");
  for (const [flag, dim] of entries) {
    const d = dim as Record<string, unknown>;
    const bad = (why: string) =>
      new SearchSpaceError(
        `search space dimension '${flag}': ${why}; write {"type": "uniform" | "loguniform", ` +
          `"low": a, "high": b} or {"type": "choice", "values": [...]}`,
      );
    if (d === null || typeof d !== "object") throw bad("not an object");
    if (d.type === "uniform" || d.type === "loguniform") {
      const { low, high } = d;
      if (typeof low !== "number" || typeof high !== "number" || !(low < high)) {
        throw bad(`needs numbers low < high, got low ${low}, high ${high}`);
      }
      if (d.type === "loguniform" && low <= 0) throw bad(`loguniform needs low > 0, got ${low}`);
    } else if (d.type === "choice") {
      const values = d.values;
      if (
        !Array.isArray(values) || values.length === 0 || values.some((v) => !Number.isFinite(v))
      ) {
        throw bad(`choice needs a non-empty list of numbers, got ${JSON.stringify(values)}`);
      }
    } else {
      throw bad(`unknown type ${JSON.stringify(d.type)}`);
    }
  }
  return value as SearchSpace;
}

/**
 * A dimension's value as a point of [0, 1] (log scale for log-uniform; a choice's index for a
 * choice), and back: the optimizer works on this unit scale.
 *
 * @example
 * ```ts
 * toUnit({ type: "loguniform", low: 1e-4, high: 1 }, 1e-2); // 0.5
 * ```
 */
export function toUnit(dim: Dimension, value: number): number {
  switch (dim.type) {
    case "uniform":
      return (value - dim.low) / (dim.high - dim.low);
    case "loguniform":
      return Math.log(value / dim.low) / Math.log(dim.high / dim.low);
    case "choice":
      return dim.values.indexOf(value);
  }
}

/**
 * Inverse of {@link toUnit} for continuous dimensions; for a choice, the value at an index.
 *
 * @example
 * ```ts
 * fromUnit({ type: "uniform", low: 0, high: 2 }, 0.25); // 0.5
 * ```
 */
export function fromUnit(dim: Dimension, unit: number): number {
  switch (dim.type) {
    case "uniform":
      return dim.low + unit * (dim.high - dim.low);
    case "loguniform":
      return dim.low * Math.exp(unit * Math.log(dim.high / dim.low));
    case "choice":
      return dim.values[unit];
  }
}

/**
 * Draw every dimension from its own distribution (what random search does).
 *
 * @example
 * ```ts
 * import { Random } from "../data/random.ts";
 * sampleSpace(referenceSpace("CrossEntropy"), new Random(1)); // { lr: ..., gamma: ... }
 * ```
 */
export function sampleSpace(space: SearchSpace, rng: Random): Params {
  const params: Params = {};
  for (const [flag, dim] of Object.entries(space)) {
    params[flag] = dim.type === "choice"
      ? dim.values[rng.integer(dim.values.length)]
      : fromUnit(dim, rng.uniform());
  }
  return params;
}
