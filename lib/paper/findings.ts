/**
 * What an execution measured, in words generated from its own summary rows, so a notebook's
 * text never states a number its tables do not hold.
 *
 * @module
 */
import { shortLoss } from "../losses/mod.ts";
import type { SummaryRow } from "../sweep/seed_summary.ts";

function number(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function percent(value: unknown): string {
  const v = number(value);
  return v === null ? "n/a" : `${(100 * v).toFixed(1)} %`;
}

function plain(value: unknown): string {
  const v = number(value);
  return v === null ? "n/a" : Number(v.toPrecision(3)).toString();
}

/** The loss with the smallest (or largest) finite value of `key`, or undefined when none has one. */
function extreme(rows: SummaryRow[], key: string, sign: 1 | -1): string | undefined {
  const finite = rows.filter((row) => number(row[key]) !== null);
  if (finite.length < 2) return undefined;
  const best = finite.reduce((a, b) => sign * number(a[key])! <= sign * number(b[key])! ? a : b);
  return shortLoss(String(best.loss));
}

/**
 * One line per model and noise level of a large-scale sweep's rows over seeds: each loss's final
 * test accuracy (percent) and NC1 of the training features, and which loss has the lowest NC1
 * and the highest test accuracy. Missing values read `n/a`.
 *
 * @example
 * ```ts
 * largeScaleFindings([
 *   { model: "resnet18", label_noise: 0.2, loss: "CrossEntropy", seeds: 1,
 *     test_acc_mean: 0.8, nc1_train_mean: 1.5 },
 *   { model: "resnet18", label_noise: 0.2, loss: "LS", seeds: 1,
 *     test_acc_mean: 0.82, nc1_train_mean: 0.9 },
 * ]);
 * // "resnet18, label noise 0.2 (1 seed): CE test 80.0 %, NC1 1.5; LS test 82.0 %, NC1 0.9.
 * //  Lowest NC1: LS; highest test accuracy: LS."
 * ```
 */
export function largeScaleFindings(rows: readonly SummaryRow[]): string {
  const groups = new Map<string, SummaryRow[]>();
  for (const row of rows) {
    const key = `${row.model}|${row.label_noise}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((group) => {
    const { model, label_noise: noise } = group[0];
    const seeds = Math.min(...group.map((row) => Number(row.seeds ?? 1)));
    const losses = group.map((row) =>
      `${shortLoss(String(row.loss))} test ${percent(row.test_acc_mean)}, NC1 ${
        plain(row.nc1_train_mean)
      }`
    ).join("; ");
    const lowest = extreme(group, "nc1_train_mean", 1);
    const highest = extreme(group, "test_acc_mean", -1);
    const compared = [
      lowest ? `lowest NC1: ${lowest}` : "",
      highest ? `highest test accuracy: ${highest}` : "",
    ].filter(Boolean).join("; ");
    const where = Number(noise) === 0 ? "clean labels" : `label noise ${noise}`;
    return `${model}, ${where} (${seeds} seed${seeds === 1 ? "" : "s"}): ${losses}.` +
      (compared ? ` ${compared[0].toUpperCase()}${compared.slice(1)}.` : "");
  }).join("\n");
}
