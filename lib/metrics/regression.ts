/**
 * Linear regression and its scores, with scikit-learn's conventions. Everything is
 * float64 and solved in closed form from the Gram matrix.
 * @module
 */

import { type Array3, selectTrials } from "../array.ts";
import { ArgumentError } from "../errors.ts";
import { logspace } from "../math.ts";

/** A row-major matrix: `rows x cols` values. */
export interface Matrix {
  /** The values, row by row. */
  data: Float64Array | Float32Array;
  /** Number of rows (samples). */
  rows: number;
  /** Number of columns (features or targets). */
  cols: number;
}

/** A fitted linear model: `y = x · weights + intercept`. */
export interface RidgeModel {
  /** features x targets, row-major. */
  weights: Float64Array;
  /** One intercept per target. */
  intercept: Float64Array;
  /** Number of input features. */
  features: number;
  /** Number of targets. */
  targets: number;
  /** The ridge penalty it was fit with. */
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
 * Sufficient statistics of a block of rows (features shifted by `shiftX`, targets by
 * `shiftY`): everything ridge needs to fit on those rows, or to score a fit on them.
 */
interface RowStats {
  rows: number;
  /** Σx (p). */
  sumX: Float64Array;
  /** Σy (q). */
  sumY: Float64Array;
  /** Σy² per target (q). */
  sumYY: Float64Array;
  /** Σ x xᵀ (p x p, upper triangle filled). */
  gram: Float64Array;
  /** Σ x yᵀ (p x q). */
  cross: Float64Array;
}

function emptyStats(p: number, q: number): RowStats {
  return {
    rows: 0,
    sumX: new Float64Array(p),
    sumY: new Float64Array(q),
    sumYY: new Float64Array(q),
    gram: new Float64Array(p * p),
    cross: new Float64Array(p * q),
  };
}

/** `into += sign * from`, field by field. */
function addStats(into: RowStats, from: RowStats, sign: 1 | -1): void {
  into.rows += sign * from.rows;
  for (const key of ["sumX", "sumY", "sumYY", "gram", "cross"] as const) {
    const a = into[key], b = from[key];
    for (let i = 0; i < a.length; i++) a[i] += sign * b[i];
  }
}

const PANEL = 8; // rows per pass of the Gram kernel

/**
 * Statistics of rows [start, end). The Gram matrix is the hot loop: rows are packed
 * eight at a time into a column-major panel so that each Gram entry is loaded and stored
 * once per eight rows (about 3x faster than row-by-row rank-one updates in V8).
 */
function rowStats(
  x: Matrix,
  y: Matrix,
  shiftX: Float64Array,
  shiftY: Float64Array,
  start: number,
  end: number,
): RowStats {
  const p = x.cols, q = y.cols;
  const stats = emptyStats(p, q);
  const { gram, cross, sumX, sumY, sumYY } = stats;
  const panel = new Float64Array(p * PANEL);
  const yRow = new Float64Array(q);
  stats.rows = end - start;
  for (let r0 = start; r0 < end; r0 += PANEL) {
    const width = Math.min(PANEL, end - r0);
    if (width < PANEL) panel.fill(0);
    for (let t = 0; t < width; t++) {
      const r = r0 + t;
      for (let j = 0; j < p; j++) {
        const v = x.data[r * p + j] - shiftX[j];
        panel[j * PANEL + t] = v;
        sumX[j] += v;
      }
      for (let k = 0; k < q; k++) {
        const v = y.data[r * q + k] - shiftY[k];
        yRow[k] = v;
        sumY[k] += v;
        sumYY[k] += v * v;
      }
      for (let j = 0; j < p; j++) {
        const v = panel[j * PANEL + t];
        if (v !== 0) { for (let k = 0; k < q; k++) cross[j * q + k] += v * yRow[k]; }
      }
    }
    for (let j = 0; j < p; j++) {
      const o = j * PANEL;
      const a0 = panel[o], a1 = panel[o + 1], a2 = panel[o + 2], a3 = panel[o + 3];
      const a4 = panel[o + 4], a5 = panel[o + 5], a6 = panel[o + 6], a7 = panel[o + 7];
      const row = j * p;
      for (let k = j; k < p; k++) {
        const b = k * PANEL;
        gram[row + k] += a0 * panel[b] + a1 * panel[b + 1] + a2 * panel[b + 2] +
          a3 * panel[b + 3] + a4 * panel[b + 4] + a5 * panel[b + 5] + a6 * panel[b + 6] +
          a7 * panel[b + 7];
      }
    }
  }
  return stats;
}

/** Column means of a matrix (float64), used to shift data before accumulating. */
function columnMeans(m: Matrix): Float64Array {
  const out = new Float64Array(m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let j = 0; j < m.cols; j++) out[j] += m.data[r * m.cols + j];
  }
  for (let j = 0; j < m.cols; j++) out[j] /= Math.max(1, m.rows);
  return out;
}

/**
 * Solve ridge on the rows summarized by `stats`: center with their means, solve
 * `(Xcᵀ Xc + αI) W = Xcᵀ Yc`, and express the intercept in unshifted units.
 */
function solveFromStats(
  stats: RowStats,
  alpha: number,
  shiftX: Float64Array,
  shiftY: Float64Array,
): RidgeModel {
  const p = shiftX.length, q = shiftY.length, n = stats.rows;
  const meanX = stats.sumX.map((v) => v / n);
  const meanY = stats.sumY.map((v) => v / n);
  const gram = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    for (let k = j; k < p; k++) {
      const v = stats.gram[j * p + k] - n * meanX[j] * meanX[k];
      gram[j * p + k] = v;
      gram[k * p + j] = v;
    }
    gram[j * p + j] += alpha;
  }
  const weights = new Float64Array(p * q);
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < q; k++) {
      weights[j * q + k] = stats.cross[j * q + k] - n * meanX[j] * meanY[k];
    }
  }
  solveSPD(gram, weights, p, q);
  const intercept = new Float64Array(q);
  for (let k = 0; k < q; k++) {
    let b = meanY[k] + shiftY[k];
    for (let j = 0; j < p; j++) b -= (meanX[j] + shiftX[j]) * weights[j * q + k];
    intercept[k] = b;
  }
  return { weights, intercept, features: p, targets: q, alpha };
}

/**
 * R² per target of `model` on the rows summarized by `stats`, from the statistics alone:
 * `SSE = Σy² − 2(wᵀΣxy + bΣy) + wᵀ(Σxxᵀ)w + 2b·wᵀΣx + n·b²`, so scoring a fold costs
 * O(p²) per target instead of a pass over its rows.
 */
function r2FromStats(
  model: RidgeModel,
  stats: RowStats,
  shiftX: Float64Array,
  shiftY: Float64Array,
): Float64Array {
  const p = model.features, q = model.targets, n = stats.rows;
  const out = new Float64Array(q);
  const gw = new Float64Array(p);
  for (let k = 0; k < q; k++) {
    // Intercept in shifted coordinates: y' = x'w + b'.
    let b = model.intercept[k] - shiftY[k];
    for (let j = 0; j < p; j++) b += shiftX[j] * model.weights[j * q + k];
    let wCross = 0, wSumX = 0, quadratic = 0;
    for (let j = 0; j < p; j++) {
      const wj = model.weights[j * q + k];
      wCross += wj * stats.cross[j * q + k];
      wSumX += wj * stats.sumX[j];
    }
    gw.fill(0);
    for (let j = 0; j < p; j++) { // (Σxxᵀ) w from the upper triangle
      const wj = model.weights[j * q + k];
      gw[j] += stats.gram[j * p + j] * wj;
      for (let i = j + 1; i < p; i++) {
        const g = stats.gram[j * p + i];
        gw[j] += g * model.weights[i * q + k];
        gw[i] += g * wj;
      }
    }
    for (let j = 0; j < p; j++) quadratic += model.weights[j * q + k] * gw[j];
    const sse = stats.sumYY[k] - 2 * (wCross + b * stats.sumY[k]) + quadratic + 2 * b * wSumX +
      n * b * b;
    const sst = stats.sumYY[k] - stats.sumY[k] ** 2 / n;
    out[k] = sst <= 0 ? (sse <= 1e-12 * Math.max(1, stats.sumYY[k]) ? 1 : 0) : 1 - sse / sst;
  }
  return out;
}

function checkRegression(x: Matrix, y: Matrix): void {
  checkMatrix(x, "x");
  checkMatrix(y, "y");
  if (x.rows !== y.rows) throw new ArgumentError(`x has ${x.rows} rows but y has ${y.rows}`);
  if (x.rows === 0) throw new ArgumentError("x has no rows: nothing to fit");
}

function checkAlpha(alpha: number): void {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) {
    throw new ArgumentError(`alpha must be a finite number >= 0, got ${alpha}`);
  }
}

/**
 * Ridge regression with an unpenalized intercept (scikit-learn's `Ridge`): minimizes
 * `|y − x w − b|² + alpha |w|²`. Rows whose targets contain NaN must be removed first.
 */
export function fitRidge(x: Matrix, y: Matrix, alpha = 1): RidgeModel {
  checkRegression(x, y);
  checkAlpha(alpha);
  const shiftX = columnMeans(x), shiftY = columnMeans(y);
  return solveFromStats(rowStats(x, y, shiftX, shiftY, 0, x.rows), alpha, shiftX, shiftY);
}

/**
 * Contiguous, unshuffled K-fold boundaries as scikit-learn's `KFold`: every fold has
 * `floor(n / k)` rows and the first `n % k` folds one more. Returns `[start, end)` pairs.
 */
export function kFoldBounds(rows: number, folds: number): [number, number][] {
  if (!Number.isInteger(folds) || folds < 2) {
    throw new ArgumentError(`folds must be an integer >= 2, got ${folds}`);
  }
  if (rows < folds) throw new ArgumentError(`${rows} rows cannot be split into ${folds} folds`);
  const base = Math.floor(rows / folds), extra = rows % folds;
  const bounds: [number, number][] = [];
  let start = 0;
  for (let f = 0; f < folds; f++) {
    const end = start + base + (f < extra ? 1 : 0);
    bounds.push([start, end]);
    start = end;
  }
  return bounds;
}

/** What `fitRidgeCV` returns: the refit model and the whole search. */
export interface RidgeCVResult {
  /** Refit on every row with the chosen penalty. */
  model: RidgeModel;
  /** The chosen penalty: the first with the highest mean validation R². */
  alpha: number;
  /** The penalties searched, in order. */
  alphas: number[];
  /** Mean validation R² (uniform over targets) per penalty. */
  meanScores: Float64Array;
  /** Validation R² per fold (rows) and penalty (columns). */
  foldScores: Float64Array[];
  /** The folds' `[start, end)` row ranges. */
  folds: [number, number][];
}

/**
 * Ridge with the penalty chosen by K-fold cross-validation on R², as scikit-learn's
 * `GridSearchCV(Ridge(), {"alpha": alphas}, cv=folds)` with its defaults (contiguous
 * unshuffled folds, mean of fold scores, first best on ties, refit on all rows).
 *
 * The statistics of each fold are built once (float64); every training set's are the
 * total minus its fold, and validation R² comes from the fold's statistics, so each
 * penalty costs one p x p solve per fold and no pass over the rows.
 */
export function fitRidgeCV(
  x: Matrix,
  y: Matrix,
  options: { alphas?: readonly number[]; folds?: number } = {},
): RidgeCVResult {
  const alphas = options.alphas ?? logspace(-4, 0, 9);
  const folds = options.folds ?? 5;
  checkRegression(x, y);
  if (alphas.length === 0) throw new ArgumentError("alphas must hold at least one penalty");
  alphas.forEach(checkAlpha);
  const bounds = kFoldBounds(x.rows, folds);
  const shiftX = columnMeans(x), shiftY = columnMeans(y);
  const foldStats = bounds.map(([start, end]) => rowStats(x, y, shiftX, shiftY, start, end));
  const total = emptyStats(x.cols, y.cols);
  for (const s of foldStats) addStats(total, s, 1);

  const foldScores = foldStats.map((validation) => {
    const training = emptyStats(x.cols, y.cols);
    addStats(training, total, 1);
    addStats(training, validation, -1);
    return Float64Array.from(alphas, (alpha) => {
      const model = solveFromStats(training, alpha, shiftX, shiftY);
      const perTarget = r2FromStats(model, validation, shiftX, shiftY);
      return perTarget.reduce((a, b) => a + b, 0) / perTarget.length;
    });
  });
  const meanScores = Float64Array.from(
    alphas,
    (_, a) => foldScores.reduce((sum, scores) => sum + scores[a], 0) / foldScores.length,
  );
  let best = 0;
  for (let a = 1; a < alphas.length; a++) if (meanScores[a] > meanScores[best]) best = a;
  return {
    model: solveFromStats(total, alphas[best], shiftX, shiftY),
    alpha: alphas[best],
    alphas: [...alphas],
    meanScores,
    foldScores,
    folds: bounds,
  };
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
