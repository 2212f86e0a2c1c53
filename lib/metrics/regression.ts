/**
 * Linear regression and its scores, with scikit-learn's conventions. Everything is
 * float64 and solved in closed form from the Gram matrix.
 * @module
 */

import { type Array3, selectTrials } from "../array.ts";
import { ArgumentError } from "../errors.ts";

/** A row-major matrix: `rows x cols` values. */
export interface Matrix {
  data: Float64Array | Float32Array;
  rows: number;
  cols: number;
}

/** A fitted linear model: `y = x · weights + intercept`. */
export interface RidgeModel {
  /** features x targets, row-major. */
  weights: Float64Array;
  /** One intercept per target. */
  intercept: Float64Array;
  features: number;
  targets: number;
  alpha: number;
}

/**
 * The chosen trials of an `Array3` as a design matrix: one row per (trial, bin), one
 * column per channel. Without `trials`, every trial.
 */
export function trialsAsRows(a: Array3, trials?: ArrayLike<number>): Matrix {
  const picked = trials ? selectTrials(a, trials) : a;
  return { data: picked.data, rows: picked.shape[0] * picked.shape[1], cols: picked.shape[2] };
}

function checkMatrix(m: Matrix, name: string): void {
  if (m.data.length !== m.rows * m.cols) {
    throw new ArgumentError(
      `${name}: ${m.data.length} values do not fill ${m.rows} rows x ${m.cols} columns`,
    );
  }
}

/**
 * Solve `A x = B` for a symmetric positive-definite `A` (n x n) and `B` (n x m), both
 * row-major, by Cholesky factorization. `A` and `B` are overwritten.
 */
export function solveSPD(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  for (let j = 0; j < n; j++) {
    const original = a[j * n + j];
    let diag = original;
    for (let k = 0; k < j; k++) diag -= a[j * n + k] ** 2;
    // A pivot that is only rounding error (relative to its column's scale) means the
    // column is a combination of earlier ones: singular, even if the float is positive.
    if (!(diag > original * 1e-12 * n)) {
      throw new ArgumentError(
        `the normal equations are singular at column ${j}; add a ridge penalty (alpha > 0)`,
      );
    }
    const l = Math.sqrt(diag);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
  }
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) { // forward: L y = b
      let s = b[i * m + c];
      for (let k = 0; k < i; k++) s -= a[i * n + k] * b[k * m + c];
      b[i * m + c] = s / a[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) { // backward: L^T x = y
      let s = b[i * m + c];
      for (let k = i + 1; k < n; k++) s -= a[k * n + i] * b[k * m + c];
      b[i * m + c] = s / a[i * n + i];
    }
  }
  return b;
}

/**
 * Ridge regression with an unpenalized intercept (scikit-learn's `Ridge`): minimizes
 * `|y - x w - b|² + alpha |w|²`. Rows whose targets contain NaN must be removed first.
 */
export function fitRidge(x: Matrix, y: Matrix, alpha = 1): RidgeModel {
  checkMatrix(x, "x");
  checkMatrix(y, "y");
  if (x.rows !== y.rows) throw new ArgumentError(`x has ${x.rows} rows but y has ${y.rows}`);
  if (!(alpha >= 0)) throw new ArgumentError(`alpha must be >= 0, got ${alpha}`);
  const { rows, cols: p } = x;
  const q = y.cols;
  const xMean = new Float64Array(p), yMean = new Float64Array(q);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < p; j++) xMean[j] += x.data[r * p + j];
    for (let j = 0; j < q; j++) yMean[j] += y.data[r * q + j];
  }
  for (let j = 0; j < p; j++) xMean[j] /= rows;
  for (let j = 0; j < q; j++) yMean[j] /= rows;
  // Centered Gram matrices: the intercept then drops out of the penalized problem.
  const gram = new Float64Array(p * p), cross = new Float64Array(p * q);
  const xc = new Float64Array(p);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < p; j++) xc[j] = x.data[r * p + j] - xMean[j];
    for (let j = 0; j < p; j++) {
      const v = xc[j];
      if (v === 0) continue;
      for (let k = j; k < p; k++) gram[j * p + k] += v * xc[k];
      for (let k = 0; k < q; k++) cross[j * q + k] += v * (y.data[r * q + k] - yMean[k]);
    }
  }
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < j; k++) gram[j * p + k] = gram[k * p + j];
    gram[j * p + j] += alpha;
  }
  const weights = solveSPD(gram, cross, p, q);
  const intercept = new Float64Array(q);
  for (let k = 0; k < q; k++) {
    let s = yMean[k];
    for (let j = 0; j < p; j++) s -= xMean[j] * weights[j * q + k];
    intercept[k] = s;
  }
  return { weights, intercept, features: p, targets: q, alpha };
}

/** Predictions of a fitted model for the rows of `x`. */
export function predictRidge(model: RidgeModel, x: Matrix): Matrix {
  checkMatrix(x, "x");
  if (x.cols !== model.features) {
    throw new ArgumentError(`x has ${x.cols} columns but the model was fit on ${model.features}`);
  }
  const q = model.targets, p = model.features;
  const out = new Float64Array(x.rows * q);
  for (let r = 0; r < x.rows; r++) {
    for (let k = 0; k < q; k++) out[r * q + k] = model.intercept[k];
    for (let j = 0; j < p; j++) {
      const v = x.data[r * p + j];
      if (v === 0) continue;
      for (let k = 0; k < q; k++) out[r * q + k] += v * model.weights[j * q + k];
    }
  }
  return { data: out, rows: x.rows, cols: q };
}

/**
 * Coefficient of determination per target, as scikit-learn's `r2_score` with
 * `multioutput="raw_values"`: 1 for a perfect prediction, 0 for predicting the mean, and
 * for a constant target 1 if predicted exactly, else 0.
 */
export function r2PerTarget(yTrue: Matrix, yPred: Matrix): Float64Array {
  checkMatrix(yTrue, "yTrue");
  checkMatrix(yPred, "yPred");
  if (yTrue.rows !== yPred.rows || yTrue.cols !== yPred.cols) {
    throw new ArgumentError(
      `yTrue is ${yTrue.rows} x ${yTrue.cols} but yPred is ${yPred.rows} x ${yPred.cols}`,
    );
  }
  const { rows, cols } = yTrue;
  const out = new Float64Array(cols);
  for (let k = 0; k < cols; k++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += yTrue.data[r * cols + k];
    mean /= rows;
    let residual = 0, total = 0;
    for (let r = 0; r < rows; r++) {
      const t = yTrue.data[r * cols + k];
      residual += (t - yPred.data[r * cols + k]) ** 2;
      total += (t - mean) ** 2;
    }
    out[k] = total === 0 ? (residual === 0 ? 1 : 0) : 1 - residual / total;
  }
  return out;
}

/** R² averaged uniformly over targets (scikit-learn's default `uniform_average`). */
export function r2Score(yTrue: Matrix, yPred: Matrix): number {
  const perTarget = r2PerTarget(yTrue, yPred);
  return perTarget.reduce((a, b) => a + b, 0) / perTarget.length;
}
