/**
 * Asynchronous successive halving (ASHA) as an early-stopping rule. Rungs sit at epochs
 * `grace * factor^k` below the full budget. The first time a trial reports at or past a rung,
 * its validation accuracy is compared with those of the trials that reached that rung before
 * it: below the `(1 - 1/factor)` quantile of theirs, it is stopped; otherwise it goes on. Its
 * value is then recorded at the rung. Each trial reports after every epoch, so trials really
 * are stopped early (the reference's trials reported only once, at the end, so its scheduler
 * never stopped any).
 *
 * @module
 */

/** ASHA's settings. */
export interface AshaOptions {
  /** Epochs every trial gets before it can be stopped (at least 1). */
  grace: number;
  /** Keep the top 1/factor at each rung (at least 2). */
  factor: number;
  /** The full budget in epochs. */
  maxEpochs: number;
}

/** A decision of {@link Asha.report}. */
export type AshaDecision = { stop: false } | { stop: true; reason: string };

/**
 * The `q` quantile (0..1) of values, linear interpolation between order statistics.
 *
 * @example
 * ```ts
 * quantile([1, 2, 3, 4], 0.5); // 2.5
 * ```
 */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (at - below) * (sorted[above] - sorted[below]);
}

/**
 * The stopping rule's state: values recorded at each rung, per trial.
 *
 * @example
 * ```ts
 * const asha = new Asha({ grace: 1, factor: 2, maxEpochs: 4 });
 * asha.rungs; // [1, 2]
 * asha.report("a", 1, 0.9); // { stop: false }
 * asha.report("b", 1, 0.5); // { stop: true, reason: "..." }
 * ```
 */
export class Asha {
  /** Epochs at which trials are compared, ascending. */
  readonly rungs: number[];
  #recorded: Map<number, Map<string, number>>;

  constructor(readonly options: AshaOptions) {
    const { grace, factor, maxEpochs } = options;
    if (!(Number.isInteger(grace) && grace >= 1)) {
      throw new Error(`ASHA grace period must be an integer >= 1 epoch, got ${grace}`);
    }
    if (!(factor >= 2)) throw new Error(`ASHA reduction factor must be >= 2, got ${factor}`);
    this.rungs = [];
    for (let r = grace; r < maxEpochs; r *= factor) this.rungs.push(r);
    this.#recorded = new Map(this.rungs.map((r) => [r, new Map()]));
  }

  /**
   * A trial's validation accuracy after `epoch` epochs: stop it or let it go on. Epochs that
   * are not past a new rung change nothing.
   */
  report(trial: string, epoch: number, value: number): AshaDecision {
    // The highest rung reached that this trial has not been compared at yet.
    for (const rung of [...this.rungs].reverse()) {
      if (epoch < rung) continue;
      const recorded = this.#recorded.get(rung)!;
      if (recorded.has(trial)) return { stop: false };
      const others = [...recorded.values()].filter(Number.isFinite);
      recorded.set(trial, value);
      if (others.length === 0) return { stop: false };
      const cutoff = quantile(others, 1 - 1 / this.options.factor);
      if (!(value >= cutoff)) {
        return {
          stop: true,
          reason: `ASHA rung ${rung}: validation accuracy ${value.toFixed(4)} below the ` +
            `cutoff ${cutoff.toFixed(4)} of ${others.length} earlier trial(s)`,
        };
      }
      return { stop: false };
    }
    return { stop: false };
  }
}
