/**
 * The BLAS interface the native CPU backend computes with. OpenBLAS implements it through Deno's
 * FFI ({@link openOpenBlas}); another library with the same routines (a CUDA BLAS with managed
 * memory, a vendor BLAS) slots in by implementing it and is registered the same way.
 *
 * Every array argument is a `Float32Array` view that starts at the operand's first element (a
 * view on the tensor storage itself, so nothing is copied); matrices are row-major.
 *
 * @module
 */

/** Single-precision BLAS routines and thread control. */
export interface BlasProvider {
  /** Short name (`openblas`), used as the tfjs backend name. */
  readonly name: string;
  /** Where the library came from and which CPU kernels it uses, for the backend report. */
  readonly description: string;
  /** Threads the routines use (fixed for reproducibility: results may depend on it). */
  threads(): number;
  /** Use `count` threads (at least 1). */
  setThreads(count: number): void;
  /**
   * C = alpha op(A) op(B) + beta C for row-major A (m x k after op), B (k x n after op) and
   * C (m x n), with leading dimensions (row strides) lda, ldb, ldc.
   */
  sgemm(
    transposeA: boolean,
    transposeB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * The upper triangle (diagonal included) of C = alpha AᵀA + beta C for a row-major k x n
   * matrix A with leading dimension lda and an n x n C: the Gram matrix at half the work of
   * sgemm. The strictly lower triangle of C is left as it was.
   */
  ssyrkUpper(
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * y = alpha op(A) x + beta y for a row-major m x n matrix A with leading dimension lda (x and
   * y have n and m elements, or m and n with the transpose).
   */
  sgemv(
    transposeA: boolean,
    m: number,
    n: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    x: Float32Array,
    beta: number,
    y: Float32Array,
  ): void;
  /** y = alpha x + y over the first n elements. */
  saxpy(n: number, alpha: number, x: Float32Array, y: Float32Array): void;
  /** y = alpha x + beta y over the first n elements. */
  saxpby(n: number, alpha: number, x: Float32Array, beta: number, y: Float32Array): void;
  /** b = transpose of the row-major rows x cols matrix a (b is cols x rows). */
  transpose(rows: number, cols: number, a: Float32Array, b: Float32Array): void;
}
