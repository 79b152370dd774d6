/**
 * A sweep's summary over seeds: runs that differ only in their seed are one configuration; each
 * numeric metric gets its mean and standard deviation over those seeds.
 *
 * @module
 */
import type { DataFrame } from "../results/mod.ts";
import { summaryFrame, type SummaryRow } from "./columns.ts";

export type { SummaryRow };

/**
 * Columns that identify a run rather than a configuration or a result: left out of the grouping
 * key and of the metrics.
 */
export const RUN_IDENTITY_COLUMNS: readonly string[] = ["uid", "seed", "backend"];

/** Options of {@link summarizeOverSeeds}. */
export interface SeedSummaryOptions {
  /**
   * Columns that define a configuration (default: every column that is not numeric, plus the
   * numeric columns listed in `configColumns`).
   */
  configColumns?: readonly string[];
  /** Numeric columns to aggregate (default: every numeric column not in the configuration). */
  metrics?: readonly string[];
}

/** Numeric configuration columns of the simple-model runs' summary rows. */
export const NUMERIC_CONFIG_COLUMNS: readonly string[] = [
  "classes",
  "label_noise",
  "ls_alpha",
  "lr_alpha",
  "sample_size",
  "fc_noise_degree",
  "width",
  "depth",
  "epochs",
  "batch_size",
  "lr",
  "weight_decay",
  "feature_decay_rate",
  "val_split_prop",
  "patience",
  "gamma",
  "fixdim",
  "history_size",
];

function isNumber(value: unknown): value is number {
  return typeof value === "number";
}

/**
 * Mean and sample standard deviation (n - 1) of each metric over the rows of each
 * configuration. Output rows hold the configuration columns, `seeds` (how many rows),
 * `seed_list`, and `<metric>_mean`, `<metric>_std` (null with a single seed, or when no row
 * has a finite value). Configurations keep the order of their first row.
 *
 * @example
 * ```ts
 * const rows = summarizeOverSeeds([
 *   { loss: "CE", label_noise: 0.2, seed: 1, test_acc: 0.8 },
 *   { loss: "CE", label_noise: 0.2, seed: 2, test_acc: 0.9 },
 * ]);
 * // [{ loss: "CE", label_noise: 0.2, seeds: 2, seed_list: "1,2",
 * //    test_acc_mean: 0.85, test_acc_std: 0.0707... }]
 * ```
 */
export function summarizeOverSeeds(
  rows: readonly SummaryRow[],
  options: SeedSummaryOptions = {},
): SummaryRow[] {
  if (rows.length === 0) return [];
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const numericConfig = new Set(options.configColumns ?? NUMERIC_CONFIG_COLUMNS);
  const identity = new Set(RUN_IDENTITY_COLUMNS);
  const numeric = (column: string) =>
    rows.every((row) => row[column] === null || row[column] === undefined || isNumber(row[column]));
  const configColumns = options.configColumns
    ? options.configColumns.filter((c) => !identity.has(c))
    : columns.filter((c) => !identity.has(c) && (numericConfig.has(c) || !numeric(c)));
  const metrics = options.metrics ??
    columns.filter((c) => !identity.has(c) && !configColumns.includes(c) && numeric(c));
  const groups = new Map<string, SummaryRow[]>();
  for (const row of rows) {
    const key = JSON.stringify(configColumns.map((c) => row[c] ?? null));
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].map((group) => {
    const out: SummaryRow = {};
    for (const column of configColumns) out[column] = group[0][column] ?? null;
    out.seeds = group.length;
    out.seed_list = group.map((row) => row.seed).join(",");
    for (const metric of metrics) {
      const values = group.map((row) => row[metric]).filter(
        (v): v is number => isNumber(v) && Number.isFinite(v),
      );
      const { mean, std } = meanAndStd(values);
      out[`${metric}_mean`] = mean;
      out[`${metric}_std`] = std;
    }
    return out;
  });
}

/**
 * Mean and sample standard deviation (divides by n - 1); null where undefined.
 *
 * @example
 * ```ts
 * meanAndStd([1, 2, 3]); // { mean: 2, std: 1 }
 * ```
 */
export function meanAndStd(values: readonly number[]): { mean: number | null; std: number | null } {
  if (values.length === 0) return { mean: null, std: null };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) return { mean, std: null };
  const squares = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(squares / (values.length - 1)) };
}

/**
 * The listed columns of summary rows that exist, as a DataFrame for display, in the units of the
 * summary tables on disk: an accuracy column asked for by the run's name (`test_acc_mean`) shows
 * in percent under its table name (`test_acc_pct_mean`).
 *
 * @example
 * ```ts
 * import type { SweepResult } from "./sweep.ts";
 * declare const result: { sweep: SweepResult };
 * console.log(summaryTable(result.sweep.overSeeds, ["loss", "test_acc_mean"]).toString());
 * // columns loss, test_acc_pct_mean
 * ```
 */
export function summaryTable(rows: SummaryRow[], columns: string[]): DataFrame {
  const frame = summaryFrame(rows);
  const named = columns.map((c) =>
    frame.columns.includes(c) ? c : c.replace(/_acc(?=_mean$|_std$|$)/, "_acc_pct")
  );
  return frame.select(...named.filter((c) => frame.columns.includes(c)));
}
