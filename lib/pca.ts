/**
 * Principal component analysis in float64: center the rows, form the sample covariance,
 * and diagonalize it with the cyclic Jacobi method, which gives every eigenvalue (so the
 * explained-variance ratios are exact, not estimated from the top few) and orthonormal
 * eigenvectors to machine precision. Cost: `rows x cols²` for the covariance plus about
 * `10 x cols³` for the eigenvectors, fine up to a few hundred columns (latent widths).
 *
 * @example
 * ```ts
 * import { pca, pcaProject } from "./pca.ts";
 * const x = { data: new Float64Array([2, 0, -2, 0, 0, 1, 0, -1]), rows: 4, cols: 2 };
 * const fit = pca(x, 2);
 * fit.varianceRatio; // Float64Array [0.8, 0.2]
 * pcaProject(fit, x).data; // the scores, rows x 2
 * ```
 * @module
 */

import { ArgumentError, describe } from "./errors.ts";

/** Rows of observations, row-major: `rows x cols` values (a `Matrix` of `metrics/regression.ts` fits). */
export interface DataMatrix {
  /** The values, row by row. */
  data: ArrayLike<number>;
  /** Number of rows (observations). */
  rows: number;
  /** Number of columns (variables). */
  cols: number;
}

/** A fitted PCA: the mean, the top `k` components and the variance each explains. */
export interface PcaResult {
  /** Number of components kept. */
  k: number;
  /** Number of variables (columns of the data). */
  cols: number;
  /** Column means of the data, subtracted before projecting (length `cols`). */
  mean: Float64Array;
  /**
   * The components, `k x cols` row-major: orthonormal directions, by decreasing variance.
   * Each is signed so that its largest-magnitude entry is positive.
   */
  components: Float64Array;
  /** Sample variance (divisor `rows - 1`) of the data along each component (length `k`). */
  variance: Float64Array;
  /** Each component's share of the total variance (length `k`, each in [0, 1]). */
  varianceRatio: Float64Array;
  /** Total sample variance: the trace of the covariance, summed over all `cols` directions. */
  totalVariance: number;
}

/**
 * Fit a PCA with `k` components to `x` (one observation per row). The data need at least two
 * rows, finite values and some variance; `k` is an integer from 1 to `cols`.
 *
 * @example
 * ```ts
 * import { pca } from "./pca.ts";
 * // Points spread 2 along x and 1 along y: PC1 is the x axis, explaining 80 %.
 * const fit = pca({ data: [2, 0, -2, 0, 0, 1, 0, -1], rows: 4, cols: 2 }, 1);
 * fit.components; // Float64Array [1, 0]
 * fit.varianceRatio[0]; // 0.8
 * ```
 */
export function pca(x: DataMatrix, k: number): PcaResult {
  checkMatrix("pca", x);
  const { rows, cols, data } = x;
  if (rows < 2) {
    throw new ArgumentError(
      `pca: needs at least 2 rows (observations) to have variance, got ${rows}`,
    );
  }
  if (!Number.isInteger(k) || k < 1 || k > cols) {
    throw new ArgumentError(
      `pca: k must be an integer from 1 to ${cols} (the number of columns), got ${describe(k)}`,
    );
  }
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      if (!Number.isFinite(v)) {
        throw new ArgumentError(`pca: x has ${v} at row ${r}, column ${c}; values must be finite`);
      }
      mean[c] += v;
    }
  }
  for (let c = 0; c < cols; c++) mean[c] /= rows;

  // Sample covariance (upper triangle, then mirrored).
  const cov = new Float64Array(cols * cols);
  const centered = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) centered[c] = data[r * cols + c] - mean[c];
    for (let i = 0; i < cols; i++) {
      const ci = centered[i];
      if (ci === 0) continue;
      const row = i * cols;
      for (let j = i; j < cols; j++) cov[row + j] += ci * centered[j];
    }
  }
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      cov[i * cols + j] /= rows - 1;
      cov[j * cols + i] = cov[i * cols + j];
    }
  }
  let totalVariance = 0;
  for (let i = 0; i < cols; i++) totalVariance += cov[i * cols + i];
  if (!(totalVariance > 0)) {
    throw new ArgumentError(
      `pca: all ${rows} rows are identical, so there is no variance to explain`,
    );
  }

  const { values, vectors } = symmetricEigen(cov, cols);
  const order = Array.from({ length: cols }, (_, i) => i).sort((a, b) => values[b] - values[a]);
  const components = new Float64Array(k * cols);
  const variance = new Float64Array(k);
  const varianceRatio = new Float64Array(k);
  for (let p = 0; p < k; p++) {
    const j = order[p];
    // Column j of `vectors` is the eigenvector; sign it so its largest entry is positive.
    let largest = 0;
    for (let i = 0; i < cols; i++) {
      if (Math.abs(vectors[i * cols + j]) > Math.abs(largest)) largest = vectors[i * cols + j];
    }
    const sign = largest < 0 ? -1 : 1;
    for (let i = 0; i < cols; i++) components[p * cols + i] = sign * vectors[i * cols + j];
    variance[p] = Math.max(0, values[j]); // rounding can leave -1e-17 for a null direction
    varianceRatio[p] = variance[p] / totalVariance;
  }
  return { k, cols, mean, components, variance, varianceRatio, totalVariance };
}

/**
 * Project rows onto a fitted PCA's components: `(x - mean) · componentsᵀ`, a `rows x k`
 * matrix of scores (float64). `x` must have the columns the PCA was fit on.
 */
export function pcaProject(fit: PcaResult, x: DataMatrix): DataMatrix & { data: Float64Array } {
  checkMatrix("pcaProject", x);
  if (x.cols !== fit.cols) {
    throw new ArgumentError(
      `pcaProject: x has ${x.cols} columns but the PCA was fit on ${fit.cols}`,
    );
  }
  const { rows, cols } = x;
  const out = new Float64Array(rows * fit.k);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < fit.k; p++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        sum += (x.data[r * cols + c] - fit.mean[c]) * fit.components[p * cols + c];
      }
      out[r * fit.k + p] = sum;
    }
  }
  return { data: out, rows, cols: fit.k };
}

function checkMatrix(fn: string, x: DataMatrix): void {
  if (x === null || typeof x !== "object" || typeof x.data?.length !== "number") {
    throw new ArgumentError(`${fn}: x must be { data, rows, cols }, got ${describe(x)}`);
  }
  const { rows, cols } = x;
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 1) {
    throw new ArgumentError(
      `${fn}: x.rows must be an integer >= 0 and x.cols an integer >= 1, got ${
        describe(rows)
      } and ${describe(cols)}`,
    );
  }
  if (x.data.length !== rows * cols) {
    throw new ArgumentError(
      `${fn}: x.data has ${x.data.length} values but ${rows} rows x ${cols} columns need ${
        rows * cols
      }`,
    );
  }
}

/**
 * Eigen-decomposition of a symmetric `n x n` matrix (row-major) by cyclic Jacobi rotations.
 * Returns the eigenvalues (unsorted) and the eigenvectors as the columns of an `n x n`
 * row-major matrix. The input is not modified.
 */
export function symmetricEigen(
  matrix: ArrayLike<number>,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  if (!Number.isInteger(n) || n < 1 || matrix.length !== n * n) {
    throw new ArgumentError(
      `symmetricEigen: needs an n x n matrix, got ${matrix.length} values for n = ${n}`,
    );
  }
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i] * a[i];
  const tolerance = 1e-30 * scale;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= tolerance) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // Rotation that zeroes a[p][q] (Rutishauser's stable form).
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // Columns p and q of A.
          const akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // Rows p and q of A.
          const apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: v };
}
