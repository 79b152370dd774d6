/**
 * Small dense float64 linear algebra for the metrics module.
 *
 * Convention used everywhere in `lib/metrics`: a d×d matrix is a `Float64Array` of length d*d in
 * row-major order (entry (i, j) at index `i * dim + j`), always passed together with its
 * dimension `dim`. Vectors are `Float64Array`s of length d. The matrices met here are covariance
 * matrices of penultimate-layer features, so d is small (2..512) and O(d³) algorithms are fine.
 *
 * @module
 */

/** Eigendecomposition of a symmetric matrix: A = V diag(values) Vᵀ. */
export interface SymmetricEigen {
  /** Eigenvalues, sorted in descending order. */
  values: Float64Array;
  /**
   * Orthonormal eigenvectors, row-major d×d: column k (entries `vectors[i * dim + k]`) is the
   * unit eigenvector of `values[k]`.
   */
  vectors: Float64Array;
}

/** Options of {@linkcode pinvSymmetric}. */
export interface PinvOptions {
  /**
   * Relative cutoff: eigenvalues with |λ| <= rtol * max|λ| are treated as zero.
   * Defaults to `dim * Number.EPSILON`, the default of numpy's / scipy's `pinv`.
   */
  rtol?: number;
  /**
   * Invert at most this many (the largest) eigenvalues, for matrices whose rank is known to be
   * bounded, so that rounding noise in the null space can never be inverted. Default: no cap.
   */
  maxRank?: number;
}

/**
 * Throws unless `a` holds a dim×dim matrix.
 *
 * @example
 * ```ts
 * assertSquare(new Float64Array(4), 2); // ok
 * ```
 */
export function assertSquare(a: Float64Array, dim: number): void {
  if (!Number.isInteger(dim) || dim < 0 || a.length !== dim * dim) {
    throw new RangeError(`expected a ${dim}x${dim} matrix (length ${dim * dim}), got ${a.length}`);
  }
}

/**
 * The dim×dim identity matrix.
 *
 * @example
 * ```ts
 * identity(2); // Float64Array [1, 0, 0, 1]
 * ```
 */
export function identity(dim: number): Float64Array {
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) out[i * dim + i] = 1;
  return out;
}

/**
 * Trace of a dim×dim matrix.
 *
 * @example
 * ```ts
 * trace(new Float64Array([1, 2, 3, 4]), 2); // 5
 * ```
 */
export function trace(a: Float64Array, dim: number): number {
  assertSquare(a, dim);
  let t = 0;
  for (let i = 0; i < dim; i++) t += a[i * dim + i];
  return t;
}

/**
 * trace(A B) without forming the product: Σ_ij A_ij B_ji, O(d²).
 *
 * @example
 * ```ts
 * traceOfProduct(identity(2), new Float64Array([1, 2, 3, 4]), 2); // 5
 * ```
 */
export function traceOfProduct(a: Float64Array, b: Float64Array, dim: number): number {
  assertSquare(a, dim);
  assertSquare(b, dim);
  let t = 0;
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) t += a[i * dim + j] * b[j * dim + i];
  }
  return t;
}

/**
 * Matrix product A B of two dim×dim matrices.
 *
 * @example
 * ```ts
 * matMul(identity(2), new Float64Array([1, 2, 3, 4]), 2); // [1, 2, 3, 4]
 * ```
 */
export function matMul(a: Float64Array, b: Float64Array, dim: number): Float64Array {
  assertSquare(a, dim);
  assertSquare(b, dim);
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let k = 0; k < dim; k++) {
      const aik = a[i * dim + k];
      if (aik === 0) continue;
      const bRow = k * dim;
      const outRow = i * dim;
      for (let j = 0; j < dim; j++) out[outRow + j] += aik * b[bRow + j];
    }
  }
  return out;
}

/**
 * Transpose of a dim×dim matrix.
 *
 * @example
 * ```ts
 * transpose(new Float64Array([1, 2, 3, 4]), 2); // [1, 3, 2, 4]
 * ```
 */
export function transpose(a: Float64Array, dim: number): Float64Array {
  assertSquare(a, dim);
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) out[j * dim + i] = a[i * dim + j];
  }
  return out;
}

/**
 * Eigendecomposition of a symmetric dim×dim matrix.
 *
 * Householder reduction to tridiagonal form followed by the implicit QL algorithm (the
 * `tred2`/`tql2` routines of EISPACK as published in JAMA): O(d³) with a small constant, so a
 * 512×512 matrix takes well under a second, unlike cyclic Jacobi. The symmetric part (A + Aᵀ)/2 is
 * what gets decomposed, so tiny asymmetries from rounding do no harm.
 *
 * @example
 * ```ts
 * const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
 * // values = [3, 1]; column 0 of vectors = ±[1, 1] / √2
 * ```
 */
export function symmetricEigen(a: Float64Array, dim: number): SymmetricEigen {
  assertSquare(a, dim);
  const n = dim;
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) v[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: v };
  tridiagonalize(v, d, e, n);
  // The QL rotations combine pairs of eigenvector columns; working on the transpose makes those
  // contiguous rows, which is several times faster for large d.
  const vt = transpose(v, n);
  tridiagonalQl(vt, d, e, n);

  // Sort descending (the QL routine leaves them unordered).
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const src = order[k];
    values[k] = d[src];
    for (let i = 0; i < n; i++) vectors[i * n + k] = vt[src * n + i];
  }
  return { values, vectors };
}

/** Householder tridiagonalization (EISPACK tred2): on exit d = diagonal, e = sub-diagonal. */
function tridiagonalize(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    // Scale to avoid under/overflow.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[(i - 1) * n + j];
        v[i * n + j] = 0;
        v[j * n + i] = 0;
      }
    } else {
      // Generate the Householder vector.
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[j * n + i] = f;
        g = e[j] + v[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k * n + j] * d[k];
          e[k] += v[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) v[k * n + j] -= f * e[k] + g * d[k];
        d[j] = v[(i - 1) * n + j];
        v[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i];
    v[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k * n + i + 1] * v[k * n + j];
        for (let k = 0; k <= i; k++) v[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[(n - 1) * n + j];
    v[(n - 1) * n + j] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * Implicit QL on the tridiagonal matrix (EISPACK tql2): eigenvalues into d; the rotations are
 * accumulated into `vt`, the TRANSPOSED eigenvector matrix (row k = eigenvector of d[k]).
 */
function tridiagonalQl(vt: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = Number.EPSILON;
  // Generous cap: QL converges in ~2 iterations per eigenvalue in practice.
  const maxIterations = 60;
  for (let l = 0; l < n; l++) {
    // Find a small sub-diagonal element.
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iteration = 0;
      do {
        if (++iteration > maxIterations) {
          throw new Error("symmetricEigen: QL iteration did not converge (non-finite input?)");
        }
        // Implicit shift.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // Implicit QL transformation.
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // Accumulate the rotation into the eigenvectors.
          const rowI = i * n;
          const rowNext = rowI + n;
          for (let k = 0; k < n; k++) {
            h = vt[rowNext + k];
            vt[rowNext + k] = s * vt[rowI + k] + c * h;
            vt[rowI + k] = c * vt[rowI + k] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * The cutoff below which {@linkcode pinvSymmetric} treats an eigenvalue as zero:
 * `rtol * max|λ|`, with `rtol` defaulting to `dim * Number.EPSILON` (numpy/scipy `pinv` default).
 *
 * @example
 * ```ts
 * pinvCutoff(new Float64Array([4, 1e-20]), 2); // 4 * 2 * 2.22e-16 ≈ 1.78e-15
 * ```
 */
export function pinvCutoff(values: Float64Array, dim: number, rtol?: number): number {
  let maxAbs = 0;
  for (const value of values) maxAbs = Math.max(maxAbs, Math.abs(value));
  return maxAbs * (rtol ?? dim * Number.EPSILON);
}

/**
 * Moore-Penrose pseudo-inverse of a symmetric (typically positive semi-definite) dim×dim matrix,
 * via its eigendecomposition: pinv(A) = Σ_{|λ_k| > cutoff} v_k v_kᵀ / λ_k.
 *
 * Eigenvalues with |λ| <= max|λ| * dim * Number.EPSILON (see {@linkcode pinvCutoff}) are treated
 * as zero, like numpy's and scipy's `pinv` default; pass `rtol` to change the relative cutoff.
 * With `maxRank` = r, only the r eigenvalues largest in magnitude can be inverted.
 * The zero matrix has the zero matrix as pseudo-inverse.
 *
 * @example
 * ```ts
 * // A singular matrix: diag(2, 0) -> diag(0.5, 0).
 * pinvSymmetric(new Float64Array([2, 0, 0, 0]), 2); // [0.5, 0, 0, 0]
 * ```
 */
export function pinvSymmetric(
  a: Float64Array,
  dim: number,
  options: PinvOptions = {},
): Float64Array {
  const { values, vectors } = symmetricEigen(a, dim);
  const cutoff = pinvCutoff(values, dim, options.rtol);
  // The rank cap keeps the eigenvalues largest in magnitude, as the cutoff itself is on |λ|.
  const byMagnitude = Array.from({ length: dim }, (_, k) => k)
    .sort((x, y) => Math.abs(values[y]) - Math.abs(values[x]))
    .slice(0, Math.max(0, Math.min(dim, options.maxRank ?? dim)));
  const out = new Float64Array(dim * dim);
  for (const k of byMagnitude) {
    const lambda = values[k];
    if (!(Math.abs(lambda) > cutoff)) continue;
    const inverse = 1 / lambda;
    for (let i = 0; i < dim; i++) {
      const vik = vectors[i * dim + k] * inverse;
      if (vik === 0) continue;
      const row = i * dim;
      for (let j = 0; j < dim; j++) out[row + j] += vik * vectors[j * dim + k];
    }
  }
  return out;
}
