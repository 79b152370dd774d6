/**
 * Result tables and documents: polars DataFrames, Parquet and JSON written atomically, the
 * column order readers expect.
 *
 * @module
 */
export * from "./data_frame.ts";
export * from "./json_files.ts";
export * from "./parquet.ts";
export * from "./reader_order.ts";
