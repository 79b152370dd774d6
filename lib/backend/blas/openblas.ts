/**
 * OpenBLAS through Deno's FFI: the {@link BlasProvider} of the `openblas` backend. Debian's
 * `libopenblas0-pthread` package (installed by `scripts/setup.sh`) provides the library; the
 * `MEMDIL_OPENBLAS_LIB` variable points at another build.
 *
 * @module
 */
import type { BlasProvider } from "./provider.ts";

/** Where Debian's `libopenblas0-pthread` puts the library (and its alternatives link). */
export const OPENBLAS_DEFAULT_PATHS: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
];

/**
 * The library path to load: `MEMDIL_OPENBLAS_LIB` when set, else the first default path that
 * exists (the first default when none does, so the error names it).
 *
 * @example
 * ```ts
 * openBlasPath(); // "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"
 * ```
 */
export function openBlasPath(): string {
  const chosen = Deno.env.get("MEMDIL_OPENBLAS_LIB");
  if (chosen) return chosen;
  return OPENBLAS_DEFAULT_PATHS.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  }) ?? OPENBLAS_DEFAULT_PATHS[0];
}

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_ssyrk: {
    parameters: ["i32", "i32", "i32", "i32", "i32", "f32", "buffer", "i32", "f32", "buffer", "i32"],
    result: "void",
  },
  cblas_sgemv: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  cblas_saxpy: { parameters: ["i32", "f32", "buffer", "i32", "buffer", "i32"], result: "void" },
  cblas_saxpby: {
    parameters: ["i32", "f32", "buffer", "i32", "f32", "buffer", "i32"],
    result: "void",
  },
  cblas_somatcopy: {
    parameters: ["i32", "i32", "i32", "i32", "f32", "buffer", "i32", "buffer", "i32"],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_corename: { parameters: [], result: "pointer" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** CBLAS constants: row-major order, upper triangle, no transpose, transpose. */
const ROW_MAJOR = 101;
const UPPER = 121;
const NO_TRANS = 111;
const TRANS = 112;

/**
 * "OpenBLAS 0.3.21 (Cooperlake kernels) from PATH". Reading the library's strings needs FFI
 * permission for everything (pointer reads); a process granted FFI for some paths only (every
 * `deno task`, sweep workers) reports the path, and is never prompted for more.
 */
function describe(lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"], path: string): string {
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return `OpenBLAS from ${path}`;
  }
  const text = (pointer: Deno.PointerValue) =>
    pointer ? Deno.UnsafePointerView.getCString(pointer) : "unknown";
  const version = text(lib.openblas_get_config()).split(" ").slice(0, 2).join(" ");
  return `${version} (${text(lib.openblas_get_corename())} kernels) from ${path}`;
}

/**
 * Load OpenBLAS from `path` and use `threads` threads. Throws an error naming the path and the
 * reason (missing file, no FFI permission, missing symbols) when it cannot.
 *
 * @example
 * ```ts
 * const blas = openOpenBlas(openBlasPath(), 2);
 * const c = new Float32Array(1);
 * blas.sgemm(false, false, 1, 1, 2, 1, Float32Array.of(1, 2), 2, Float32Array.of(3, 4), 1, 0, c, 1);
 * c[0]; // 11
 * ```
 */
export function openOpenBlas(path: string, threads: number): BlasProvider {
  if (!(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`BLAS thread count must be an integer >= 1, got ${threads}`);
  }
  const library = Deno.dlopen(path, SYMBOLS);
  const lib = library.symbols;
  const description = describe(lib, path);
  lib.openblas_set_num_threads(threads);
  return {
    name: "openblas",
    description,
    threads: () => lib.openblas_get_num_threads(),
    setThreads(count: number) {
      if (!(Number.isInteger(count) && count >= 1)) {
        throw new Error(`BLAS thread count must be an integer >= 1, got ${count}`);
      }
      lib.openblas_set_num_threads(count);
    },
    sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      lib.cblas_sgemm(
        ROW_MAJOR,
        transposeA ? TRANS : NO_TRANS,
        transposeB ? TRANS : NO_TRANS,
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc,
      );
    },
    ssyrkUpper: (n, k, alpha, a, lda, beta, c, ldc) =>
      lib.cblas_ssyrk(ROW_MAJOR, UPPER, TRANS, n, k, alpha, a, lda, beta, c, ldc),
    sgemv: (transposeA, m, n, alpha, a, lda, x, beta, y) =>
      lib.cblas_sgemv(
        ROW_MAJOR,
        transposeA ? TRANS : NO_TRANS,
        m,
        n,
        alpha,
        a,
        lda,
        x,
        1,
        beta,
        y,
        1,
      ),
    saxpy: (n, alpha, x, y) => lib.cblas_saxpy(n, alpha, x, 1, y, 1),
    saxpby: (n, alpha, x, beta, y) => lib.cblas_saxpby(n, alpha, x, 1, beta, y, 1),
    transpose: (rows, cols, a, b) =>
      lib.cblas_somatcopy(ROW_MAJOR, TRANS, rows, cols, 1, a, cols, b, rows),
  };
}
