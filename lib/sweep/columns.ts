/**
 * Summary tables as a reader gets them: accuracy in percent (columns named `_pct`), one type
 * per column whatever the values, and a column dictionary beside each table
 * (`summary.columns.parquet`: column, dtype, unit, description) that polars or pandas read like
 * any table.
 *
 * @module
 */
import { SETTINGS } from "../config/schema.ts";
import { type DataFrame, readerOrder, rowsToFrame, writeParquetAtomic } from "../results/mod.ts";

/** A summary row: configuration columns and metrics. */
export type SummaryRow = Record<string, unknown>;

/** Accuracy columns of a run's metrics (fractions there), with or without an aggregate. */
const ACCURACY = /^((?:train|val|test)_acc|topk_acc_\w+?)(_mean|_std)?$/;

/** What a metric column measures, by its name without `_train`/`_test` and aggregate. */
const METRICS: Record<string, [unit: string, description: string]> = {
  train_acc: ["%", "top-1 accuracy on the trained samples against the labels trained on"],
  val_acc: ["%", "top-1 accuracy on the validation split (noisy labels)"],
  test_acc: ["%", "top-1 accuracy on the test set (true labels)"],
  topk_acc: ["%", "share of samples whose label is among the min(5, K) largest logits"],
  ece: ["fraction", "expected calibration error over 15 confidence bins"],
  nc1: ["", "NC1 = trace(Sigma_W pinv(Sigma_B)) / K of the penultimate features"],
  nc1_post: ["", "NC1 of the logits"],
  nc1_softmax: ["", "NC1 of the softmax outputs"],
  trace_sigma_w: ["feature units^2", "trace of the within-class covariance Sigma_W"],
  trace_sigma_b: ["feature units^2", "trace of the between-class covariance Sigma_B"],
  trace_sigma_w_post: ["logit units^2", "trace of Sigma_W of the logits"],
  trace_sigma_b_post: ["logit units^2", "trace of Sigma_B of the logits"],
  cdnv: ["", "class-distance normalized variance, mean over pairs of classes"],
  nc2: ["", "distance of the classifier's Gram matrix from a simplex ETF (NC2)"],
  nc2_means: ["", "distance of the class means' Gram matrix from a simplex ETF"],
  nc3: ["", "distance of W H from a simplex ETF (NC3)"],
  self_duality: ["", "distance between the normalized classifier and class means"],
  nc4: ["", "norm(W mu_G - b), as the reference computes NC4"],
  ncc_agreement: ["fraction", "share of samples whose largest logit is the nearest class mean"],
  equinorm_means: ["", "std / mean of the norms of the centred class means"],
  equinorm_classifier: ["", "std / mean of the norms of the classifier rows"],
  equiangularity_means: ["", "std over pairs of the cosines of the centred class means"],
  equiangularity_classifier: ["", "std over pairs of the cosines of the classifier rows"],
  max_angle_means: ["", "mean over pairs of abs(cos + 1/(K-1)) of the class means"],
  max_angle_classifier: ["", "mean over pairs of abs(cos + 1/(K-1)) of the classifier rows"],
  dilation: ["feature units", "mean over classes of the std of clean samples' distances to u_c"],
  clean_mean_square: ["feature units^2", "mean over classes of clean samples' squared distance"],
  distance_mean: ["feature units", "mean over classes of the mean distance to the class mean"],
  distance_variance: ["feature units^2", "mean over classes of the distance variance"],
  distance_std: ["feature units", "mean over classes of the distance std"],
  memorization: ["feature units", "mean distance of noisy samples to their original centroid"],
  memorization_per_class: ["feature units", "memorization averaged per label"],
  memorization_sum: ["feature units", "memorization summed over labels (four-class helper)"],
  clean_centroid_distance: ["feature units", "mean distance between clean class centroids"],
  corruption_bias: ["feature units", "mean projection of noisy means toward other classes"],
  noisy_count: ["samples", "samples whose label differs from their original class"],
  clean_count: ["samples", "samples whose label is their original class"],
  noisy_unmeasured_count: ["samples", "noisy samples without a clean centroid of their class"],
  zero_features: ["fraction", "share of samples whose features are all zero"],
};

/** Columns of a summary table that are neither settings nor metrics. */
const OTHER: Record<string, [unit: string, description: string]> = {
  uid: ["", "run directory name: readable uid and digest of the other settings"],
  backend: ["", "compute backend the run trained on"],
  blas_threads: ["threads", "OpenBLAS threads of the run (openblas backend)"],
  seeds: ["runs", "number of seeds aggregated in this row"],
  seed_list: ["", "the seeds aggregated in this row, comma-separated"],
  seconds: ["s", "wall time of the run"],
  epoch: ["", "epoch the metrics were measured after"],
  train_loss: ["", "mean training loss of the last epoch (training mode)"],
  topk: ["", "k of the top-k accuracy: min(5, K)"],
  label_noise_per_class: ["", "per-class label noise rates, when given per class"],
};

/** One row of a column dictionary. */
export interface ColumnInfo {
  column: string;
  dtype: string;
  unit: string;
  description: string;
}

/**
 * Unit and description of a summary-table column: a setting's help from the configuration
 * schema, a metric's definition (split from its `_train`/`_test` suffix), `_mean`/`_std` over
 * seeds; empty strings for a column it does not know.
 *
 * @example
 * ```ts
 * describeColumn("test_acc_pct_mean");
 * // { unit: "%", description: "top-1 accuracy on the test set (true labels); mean over seeds" }
 * ```
 */
export function describeColumn(name: string): { unit: string; description: string } {
  const aggregate = /_(mean|std)$/.exec(name)?.[1];
  const base = name.replace(/_(mean|std)$/, "").replace(/_pct$/, "");
  const over = aggregate === "mean"
    ? "; mean over seeds"
    : aggregate === "std"
    ? "; sample standard deviation over seeds (n/a for one seed)"
    : "";
  const setting = (SETTINGS as Record<string, { help: string }>)[base];
  if (setting && !aggregate) return { unit: "", description: `setting: ${setting.help}` };
  if (OTHER[base]) return { unit: OTHER[base][0], description: OTHER[base][1] + over };
  const split = /_(train|test)$/.exec(base)?.[1];
  const metric = METRICS[base] ?? METRICS[base.replace(/_(train|test)$/, "")];
  if (!metric) return { unit: "", description: over.slice(2) };
  const where = split === "train"
    ? " (training features, labels trained on)"
    : split === "test"
    ? " (test features, true labels)"
    : "";
  return {
    unit: metric[0],
    description: metric[1] + (metric === METRICS[base] ? "" : where) + over,
  };
}

/**
 * Summary rows as the table written to disk: accuracy columns in percent and renamed `_pct`
 * (`test_acc_mean` -> `test_acc_pct_mean`), the reader's columns first, and one type per column
 * whatever the values (counts Int64, means and standard deviations Float64).
 *
 * @example
 * ```ts
 * summaryFrame([{ loss: "LS", seed: 1, test_acc: 0.9 }]); // loss, seed, test_acc_pct: 90
 * ```
 */
export function summaryFrame(rows: readonly SummaryRow[]): DataFrame {
  const converted = rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => {
        const accuracy = ACCURACY.exec(key);
        if (!accuracy) return [key, value];
        const pct = typeof value === "number" ? 100 * value : value;
        return [`${accuracy[1]}_pct${accuracy[2] ?? ""}`, pct];
      }),
    )
  );
  const frame = rowsToFrame(converted);
  return frame.select(...readerOrder(frame.columns));
}

/**
 * The column dictionary of a table: each column's name, Parquet type, unit and description.
 *
 * @example
 * ```ts
 * declare const rows: SummaryRow[];
 * columnDictionary(summaryFrame(rows)).toRecords()[0];
 * // { column: "dataset", dtype: "String", unit: "", description: "setting: dataset name ..." }
 * ```
 */
export function columnDictionary(frame: DataFrame): DataFrame {
  return rowsToFrame(frame.columns.map((column, i): Record<string, unknown> => ({
    column,
    dtype: String(frame.dtypes[i]).replace(/^DataType\((.*)\)$/, "$1"),
    ...describeColumn(column),
  })));
}

/**
 * Write summary rows as `path` (see {@link summaryFrame}) and their column dictionary as
 * `<path without .parquet>.columns.parquet`.
 *
 * @example
 * ```ts
 * declare const result: { summary: SummaryRow[] };
 * await writeSummaryTable(result.summary, "results/sweep/summary.parquet");
 * ```
 */
export async function writeSummaryTable(rows: readonly SummaryRow[], path: string): Promise<void> {
  const frame = summaryFrame(rows);
  await writeParquetAtomic(frame, path);
  await writeParquetAtomic(columnDictionary(frame), path.replace(/\.parquet$/, ".columns.parquet"));
}
