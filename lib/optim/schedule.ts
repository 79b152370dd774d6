/**
 * Learning-rate schedules of docs/reference.md#losses-and-optimization, stepped once per epoch: step decay
 * lr * gamma^floor(epoch / patience), or multistep `step_a_b_...` (lr * gamma^(number of
 * milestones a, b, ... already reached), as torch's MultiStepLR).
 *
 * @module
 */

/** A parsed `--decay_type`. */
export type DecayType = { kind: "step" } | { kind: "multistep"; milestones: number[] };

/**
 * Parse `--decay_type`: `step`, or `step_a_b_...` with increasing epoch milestones.
 *
 * @example
 * ```ts
 * parseDecayType("step_100_150"); // { kind: "multistep", milestones: [100, 150] }
 * ```
 */
export function parseDecayType(value: string): DecayType {
  if (value === "step") return { kind: "step" };
  const match = /^step((?:_\d+)+)$/.exec(value);
  if (!match) {
    throw new Error(`expected step or step_a_b_... (milestone epochs), got '${value}'`);
  }
  const milestones = match[1].slice(1).split("_").map(Number);
  if (milestones.some((m, i) => i > 0 && m <= milestones[i - 1])) {
    throw new Error(`the milestones of '${value}' must increase`);
  }
  return { kind: "multistep", milestones };
}

/** What a schedule needs (the reference's flag names). */
export interface ScheduleConfig {
  lr: number;
  gamma: number;
  patience: number;
  /** `step` (default) or `step_a_b_...`. */
  decay_type?: string;
}

/**
 * Step decay: lr * gamma^floor(epoch / patience), epoch counted from 0.
 *
 * @example
 * ```ts
 * stepDecayLr({ lr: 0.1, gamma: 0.1, patience: 40 }, 45); // 0.01
 * ```
 */
export function stepDecayLr(
  config: Pick<ScheduleConfig, "lr" | "gamma" | "patience">,
  epoch: number,
): number {
  return config.lr * config.gamma ** Math.floor(epoch / config.patience);
}

/**
 * The learning rate of 0-based `epoch` under `config.decay_type`.
 *
 * @example
 * ```ts
 * learningRateAt({ lr: 0.1, gamma: 0.1, patience: 40, decay_type: "step_2_5" }, 2); // 0.01
 * ```
 */
export function learningRateAt(config: ScheduleConfig, epoch: number): number {
  const decay = parseDecayType(config.decay_type ?? "step");
  if (decay.kind === "step") return stepDecayLr(config, epoch);
  const reached = decay.milestones.filter((m) => m <= epoch).length;
  return config.lr * config.gamma ** reached;
}
