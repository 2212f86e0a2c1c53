/**
 * The Neural Latents Benchmark's spike-smoothing baseline: Gaussian-smoothed held-in
 * spikes as the held-in rates, and a Poisson GLM (log link, L2 penalty, as scikit-learn's
 * `PoissonRegressor`) from the smoothed held-in spikes to each held-out neuron's counts.
 * It has no dynamics, so the forward bins get each neuron's mean count. The GLM's penalty
 * is chosen on the val split (or by cross-validation over the fit trials), never on test.
 *
 * The GLM is fit for all held-out neurons at once by Newton's method: the exact gradient
 * over every row (float32 matrix products on the active tfjs backend, accumulated in
 * float64 over row chunks), the Hessian on an evenly spaced subsample of rows, a
 * per-neuron backtracking line search, and a stop when every neuron's gradient is below a
 * relative tolerance. It is deterministic for a given backend.
 * @module
 */

import { tf } from "../deps.ts";
import { type Array3, selectTrials } from "../array.ts";
import { type NeuralDataset, type Split, SPLITS, trialsInSplit } from "../data/dataset.ts";
import { requireBackend } from "../backend.ts";
import { ArgumentError, describe } from "../errors.ts";
import { logspace } from "../math.ts";
import { coBps, gaussianWindow, type RateSet, smoothSpikes } from "../metrics/nlb.ts";
import { kFoldBounds, type Matrix, solveSPD } from "../metrics/regression.ts";

// ---------------------------------------------------------------------------------------
// Poisson GLM
// ---------------------------------------------------------------------------------------

/** Options of `fitPoissonGLM`. */
export interface PoissonGLMOptions {
  /**
   * L2 penalty in scikit-learn's units: the objective is `mean deviance / 2 + alpha / 2 ·
   * ||w||²` over the coefficients of the standardized inputs (the intercept is not
   * penalized), i.e. `make_pipeline(StandardScaler(), PoissonRegressor(alpha))`.
   * Default 1e-2.
   */
  alpha?: number;
  /** Most Newton iterations. Default 100. */
  maxIterations?: number;
  /**
   * Stop when, for every target, the largest gradient entry (standardized coordinates)
   * divided by the target's mean count is at most this. Default 1e-6.
   */
  tolerance?: number;
  /** Rows the Hessian is computed on (evenly spaced); all rows when fewer. Default 8192. */
  hessianRows?: number;
}

/** A fitted Poisson GLM: `rate = exp(x · weights[0..p) + weights[p])`, per target. */
export interface PoissonGLM {
  /**
   * `(features + 1) x targets`, row-major, in the units of the raw inputs: row `k < p`
   * holds input k's coefficient, the last row the intercept.
   */
  weights: Float64Array;
  /** The same coefficients for the standardized inputs `(x - mean) / scale`. */
  standardizedWeights: Float64Array;
  /** Per-input mean of the training rows. */
  mean: Float64Array;
  /** Per-input standard deviation (ddof 0) of the training rows; 1 where it was 0. */
  scale: Float64Array;
  /** Number of inputs. */
  features: number;
  /** Number of targets. */
  targets: number;
  /** The penalty used. */
  alpha: number;
  /** Newton iterations run. */
  iterations: number;
  /**
   * The final convergence measure: the largest over targets of max |gradient| / mean count
   * (standardized coordinates, penalty included).
   */
  gradientNorm: number;
  /** Whether `gradientNorm <= tolerance` was reached within `maxIterations`. */
  converged: boolean;
  /** Targets with no count at all: no finite fit exists; they get intercept ln(1e-12). */
  silentTargets: number[];
}

const CHUNK_ROWS = 8192;
const SILENT_INTERCEPT = Math.log(1e-12);

function checkOption(ok: boolean, field: string, expected: string, value: unknown): void {
  if (!ok) throw new ArgumentError(`${field} must be ${expected}, got ${describe(value)}`);
}

function checkAlphas(alphas: readonly number[], field: string): void {
  checkOption(
    Array.isArray(alphas) && alphas.length > 0,
    field,
    "a non-empty array of penalties",
    alphas,
  );
  alphas.forEach((alpha, k) =>
    checkOption(
      typeof alpha === "number" && alpha >= 0 && Number.isFinite(alpha),
      `${field}[${k}]`,
      "a finite number >= 0",
      alpha,
    )
  );
}

function checkGLMOptions(o: Required<PoissonGLMOptions>): void {
  checkOption(
    typeof o.alpha === "number" && o.alpha >= 0 && Number.isFinite(o.alpha),
    "alpha",
    "a finite number >= 0",
    o.alpha,
  );
  checkOption(
    Number.isInteger(o.maxIterations) && o.maxIterations >= 1,
    "maxIterations",
    "an integer >= 1",
    o.maxIterations,
  );
  checkOption(
    typeof o.tolerance === "number" && o.tolerance > 0 && Number.isFinite(o.tolerance),
    "tolerance",
    "a finite number > 0",
    o.tolerance,
  );
  checkOption(
    Number.isInteger(o.hessianRows) && o.hessianRows >= 1,
    "hessianRows",
    "an integer >= 1",
    o.hessianRows,
  );
}

/** Standardized design rows `[(x - mean) / scale, 1]` of rows `[start, end)`, float32. */
function designRows(
  x: Matrix,
  mean: Float64Array,
  scale: Float64Array,
  rows: ArrayLike<number>,
): Float32Array {
  const p = x.cols, width = p + 1;
  const out = new Float32Array(rows.length * width);
  for (let k = 0; k < rows.length; k++) {
    const source = rows[k] * p, target = k * width;
    for (let c = 0; c < p; c++) out[target + c] = (x.data[source + c] - mean[c]) / scale[c];
    out[target + p] = 1;
  }
  return out;
}

function rangeOf(start: number, end: number): Int32Array {
  return Int32Array.from({ length: end - start }, (_, k) => start + k);
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  }
  return out;
}

/** Options of the Newton solver, without the penalty. */
type SolverOptions = Required<Omit<PoissonGLMOptions, "alpha">>;

/**
 * A Poisson GLM problem prepared once (validated counts, standardization, float32 design
 * tensors) and fit at any penalty, optionally from a starting point. Call `dispose`.
 */
interface GLMProblem {
  fit(alpha: number, start?: Float64Array): PoissonGLM;
  dispose(): void;
}

function prepareGLM(x: Matrix, y: Matrix, o: SolverOptions): GLMProblem {
  const n = x.rows, p = x.cols, q = y.cols, width = p + 1;
  if (x.data.length !== n * p || y.data.length !== y.rows * q) {
    throw new ArgumentError(
      `x (${x.data.length} values for ${n} x ${p}) or y (${y.data.length} values for ${y.rows} x ${q}) ` +
        "does not fill its shape",
    );
  }
  if (y.rows !== n) throw new ArgumentError(`x has ${n} rows but y has ${y.rows}`);
  if (n === 0) throw new ArgumentError("fitPoissonGLM needs at least one row; got 0");
  const ybar = new Float64Array(q);
  for (let i = 0; i < n * q; i++) {
    const v = y.data[i];
    if (!(v >= 0) || v === Infinity) {
      throw new ArgumentError(
        `y must hold finite counts >= 0; got ${v} at row ${Math.floor(i / q)}, target ${i % q}`,
      );
    }
    ybar[i % q] += v;
  }
  for (let j = 0; j < q; j++) ybar[j] /= n;

  // Standardization (StandardScaler: mean, population s.d., 1 where constant).
  const mean = new Float64Array(p), scale = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) mean[c] += x.data[i * p + c];
  for (let c = 0; c < p; c++) mean[c] /= n;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < p; c++) scale[c] += (x.data[i * p + c] - mean[c]) ** 2;
  }
  for (let c = 0; c < p; c++) {
    if (!Number.isFinite(mean[c])) {
      throw new ArgumentError(`x column ${c} is not finite (mean ${mean[c]})`);
    }
    const sd = Math.sqrt(scale[c] / n);
    scale[c] = sd > 0 ? sd : 1;
  }

  const active: number[] = [], silentTargets: number[] = [];
  for (let j = 0; j < q; j++) (ybar[j] > 0 ? active : silentTargets).push(j);

  const tensors: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (tensors.push(t), t);
  const dispose = () => {
    for (const t of tensors) t.dispose();
    tensors.length = 0;
  };
  // Row chunks: Z (rows x width), Zᵀ (width x rows) and Y, as float32 tensors.
  const chunks: { z: tf.Tensor2D; zt: tf.Tensor2D; y: tf.Tensor2D; rows: number }[] = [];
  let hz: tf.Tensor2D, hzt: tf.Tensor2D, m: number;
  try {
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const end = Math.min(n, start + CHUNK_ROWS), rows = end - start;
      const z = designRows(x, mean, scale, rangeOf(start, end));
      chunks.push({
        z: keep(tf.tensor2d(z, [rows, width])),
        zt: keep(tf.tensor2d(transpose(z, rows, width), [width, rows])),
        y: keep(tf.tensor2d(Float32Array.from(y.data.subarray(start * q, end * q)), [rows, q])),
        rows,
      });
    }
    m = Math.min(n, o.hessianRows);
    const sample = Int32Array.from({ length: m }, (_, k) => Math.floor((k * n) / m));
    const zs = designRows(x, mean, scale, sample);
    hz = keep(tf.tensor2d(zs, [m, width]));
    hzt = keep(tf.tensor2d(transpose(zs, m, width), [width, m]));
  } catch (error) {
    dispose();
    throw error;
  }

  // Objective per target and its gradient, at coefficients w, for penalty alpha.
  const evaluate = (w: Float64Array, alpha: number) => {
    const f = new Float64Array(q), g = new Float64Array(width * q);
    const wt = tf.tensor2d(Float32Array.from(w), [width, q]);
    try {
      for (const chunk of chunks) {
        const [u, gc] = tf.tidy(() => {
          const eta = tf.matMul(chunk.z, wt);
          const mu = tf.exp(eta);
          // Per-row objective terms, summed in blocks of 64 rows in float32 and the
          // block sums in float64: accurate enough to compare nearby points.
          const terms = tf.sub(mu, tf.mul(chunk.y, eta));
          const u = chunk.rows % 64 === 0
            ? tf.sum(tf.reshape(terms, [chunk.rows / 64, 64, q]), 1)
            : terms;
          return [u.dataSync(), tf.matMul(chunk.zt, tf.sub(mu, chunk.y)).dataSync()];
        });
        for (let i = 0; i < u.length; i++) f[i % q] += u[i];
        for (let i = 0; i < gc.length; i++) g[i] += gc[i];
      }
    } finally {
      wt.dispose();
    }
    for (let j = 0; j < q; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += w[k * q + j] ** 2;
      f[j] = f[j] / n + 0.5 * alpha * s;
    }
    for (let i = 0; i < g.length; i++) g[i] /= n;
    for (let i = 0; i < p * q; i++) g[i] += alpha * w[i];
    return { f, g };
  };
  const relativeGradient = (g: Float64Array, j: number) => {
    let largest = 0;
    for (let k = 0; k < width; k++) largest = Math.max(largest, Math.abs(g[k * q + j]));
    return largest / ybar[j];
  };
  // Hessians (width x width, float64) of the given targets on the sampled rows.
  const hessians = (w: Float64Array, targets: number[], alpha: number) => {
    const out = new Map<number, Float64Array>();
    const wt = tf.tensor2d(Float32Array.from(w), [width, q]);
    try {
      tf.tidy(() => {
        const muT = tf.transpose(tf.exp(tf.matMul(hz, wt))); // q x m
        for (const j of targets) {
          const h = tf.tidy(() =>
            tf.matMul(tf.mul(hzt, tf.slice(muT, [j, 0], [1, m])), hz).dataSync()
          );
          const hj = Float64Array.from(h, (value) => value / m);
          for (let k = 0; k < p; k++) hj[k * width + k] += alpha;
          // Symmetrize, and a tiny ridge so a constant or collinear input cannot make it
          // singular; the fixed point depends on the gradient only.
          let trace = 0;
          for (let k = 0; k < width; k++) trace += hj[k * width + k];
          for (let a = 0; a < width; a++) {
            for (let b = 0; b < a; b++) {
              const s = 0.5 * (hj[a * width + b] + hj[b * width + a]);
              hj[a * width + b] = hj[b * width + a] = s;
            }
            hj[a * width + a] += 1e-10 * (trace / width) + 1e-300;
          }
          out.set(j, hj);
        }
      });
    } finally {
      wt.dispose();
    }
    return out;
  };

  const fit = (alpha: number, startAt?: Float64Array): PoissonGLM => {
    if (tensors.length === 0) throw new Error("prepareGLM: the problem was disposed");
    // Standardized coefficients, intercept last row: from `startAt` (the active targets;
    // a warm start) or from zero weights and each target's log mean count.
    const v = new Float64Array(width * q);
    for (let j = 0; j < q; j++) {
      v[p * q + j] = ybar[j] > 0 ? Math.log(ybar[j]) : SILENT_INTERCEPT;
    }
    if (startAt) {
      if (startAt.length !== width * q) {
        throw new ArgumentError(
          `the starting coefficients have ${startAt.length} values; expected ${width * q} ` +
            `((${p} inputs + 1) x ${q} targets)`,
        );
      }
      for (const j of active) for (let k = 0; k < width; k++) v[k * q + j] = startAt[k * q + j];
    }
    let iterations = 0, gradientNorm = 0;
    let current = evaluate(v, alpha);
    let pending = active.filter((j) => relativeGradient(current.g, j) > o.tolerance);
    while (pending.length > 0 && iterations < o.maxIterations) {
      iterations++;
      const hs = hessians(v, pending, alpha);
      const direction = new Float64Array(width * q), slope = new Float64Array(q);
      for (const j of pending) {
        const rhs = new Float64Array(width);
        for (let k = 0; k < width; k++) rhs[k] = -current.g[k * q + j];
        const d = solveSPD(hs.get(j)!, rhs, width, 1);
        for (let k = 0; k < width; k++) {
          direction[k * q + j] = d[k];
          slope[j] += d[k] * current.g[k * q + j];
        }
      }
      // Backtracking (Armijo) per target; every target is evaluated together.
      const step = new Map(pending.map((j) => [j, 1]));
      const accepted = new Set<number>();
      const start = Float64Array.from(v);
      for (let tries = 0; tries < 60 && step.size > 0; tries++) {
        for (const [j, t] of step) {
          for (let k = 0; k < width; k++) {
            v[k * q + j] = start[k * q + j] + t * direction[k * q + j];
          }
        }
        const trial = evaluate(v, alpha);
        for (const [j, t] of step) {
          // The objective is summed from float32 terms: differences below ~1e-7 of its size
          // are rounding noise, so a step that small is taken (it is a Newton step).
          const slack = 1e-7 * (Math.abs(current.f[j]) + ybar[j]);
          // A full Newton step whose predicted decrease is below the noise is taken.
          const tiny = t === 1 && -slope[j] < slack;
          if (tiny || trial.f[j] <= current.f[j] + 1e-4 * t * slope[j] + slack) {
            accepted.add(j);
            step.delete(j);
          } else step.set(j, t / 2);
        }
        // Targets still searching are restored; the others keep their accepted values.
        for (const j of step.keys()) {
          for (let k = 0; k < width; k++) v[k * q + j] = start[k * q + j];
        }
        if (step.size === 0 || tries === 59) {
          current = step.size === 0 ? trial : evaluate(v, alpha);
        }
      }
      pending = active.filter((j) => relativeGradient(current.g, j) > o.tolerance);
      // A target whose line search found no decrease is at the float32 noise floor.
      if (accepted.size === 0) break;
    }
    for (const j of active) gradientNorm = Math.max(gradientNorm, relativeGradient(current.g, j));

    // Back to the raw inputs' units.
    const weights = new Float64Array(width * q);
    for (let j = 0; j < q; j++) {
      let intercept = v[p * q + j];
      for (let k = 0; k < p; k++) {
        const w = v[k * q + j] / scale[k];
        weights[k * q + j] = w;
        intercept -= w * mean[k];
      }
      weights[p * q + j] = intercept;
    }
    return {
      weights,
      standardizedWeights: v,
      mean: Float64Array.from(mean),
      scale: Float64Array.from(scale),
      features: p,
      targets: q,
      alpha,
      iterations,
      gradientNorm,
      converged: gradientNorm <= o.tolerance,
      silentTargets: [...silentTargets],
    };
  };
  return { fit, dispose };
}

function solverOptions(options: PoissonGLMOptions): Required<PoissonGLMOptions> {
  const o: Required<PoissonGLMOptions> = {
    alpha: 1e-2,
    maxIterations: 100,
    tolerance: 1e-6,
    hessianRows: 8192,
    ...options,
  };
  checkGLMOptions(o);
  return o;
}

/**
 * Fit a Poisson GLM with log link and L2 penalty per target column of `y` (counts) from
 * the inputs `x`, as scikit-learn's `PoissonRegressor` on standardized inputs (see
 * `PoissonGLMOptions.alpha`). All targets are fit together by Newton's method (exact
 * gradient over all rows, Hessian on at most `hessianRows` rows, backtracking line search);
 * check `converged` and `gradientNorm`. Uses the active tfjs backend and leaves no tensor.
 *
 * @example
 * ```ts
 * import { fitPoissonGLM } from "./smoothing.ts";
 * const x = { data: Float64Array.from({ length: 200 }, (_, i) => Math.sin(i)), rows: 100, cols: 2 };
 * const y = { data: Float64Array.from({ length: 100 }, (_, i) => i % 3), rows: 100, cols: 1 };
 * const glm = fitPoissonGLM(x, y, { alpha: 1e-2 });
 * glm.weights; // [w0, w1, intercept]
 * ```
 */
export function fitPoissonGLM(x: Matrix, y: Matrix, options: PoissonGLMOptions = {}): PoissonGLM {
  requireBackend("fitPoissonGLM");
  const o = solverOptions(options);
  const problem = prepareGLM(x, y, o);
  try {
    return problem.fit(o.alpha);
  } finally {
    problem.dispose();
  }
}

/**
 * Fit the Poisson GLM of `fitPoissonGLM` at each penalty of `alphas` on the same rows: the
 * standardization and design are built once, and the fits run from the largest penalty
 * to the smallest, each starting from the previous solution (a warm start: fewer Newton
 * steps; the solution is the same up to the `tolerance`). Returns one GLM per penalty, in
 * the order of `alphas`. `options.alpha` is ignored. Leaves no tensor.
 *
 * @example
 * ```ts
 * import { fitPoissonGLMPath } from "./smoothing.ts";
 * const x = { data: Float64Array.from({ length: 200 }, (_, i) => Math.sin(i)), rows: 100, cols: 2 };
 * const y = { data: Float64Array.from({ length: 100 }, (_, i) => i % 3), rows: 100, cols: 1 };
 * const [strong, weak] = fitPoissonGLMPath(x, y, [1, 1e-3]);
 * strong.alpha; // 1
 * ```
 */
export function fitPoissonGLMPath(
  x: Matrix,
  y: Matrix,
  alphas: readonly number[],
  options: PoissonGLMOptions = {},
): PoissonGLM[] {
  requireBackend("fitPoissonGLM");
  checkAlphas(alphas, "alphas");
  const o = solverOptions(options);
  const order = alphas.map((_, k) => k).sort((a, b) => alphas[b] - alphas[a] || a - b);
  const problem = prepareGLM(x, y, o);
  const out: PoissonGLM[] = new Array(alphas.length);
  try {
    let previous: Float64Array | undefined;
    for (const k of order) {
      out[k] = problem.fit(alphas[k], previous);
      previous = out[k].standardizedWeights;
    }
  } finally {
    problem.dispose();
  }
  return out;
}

/**
 * Rates `exp(x · w + b)` of a fitted GLM for the rows of `x`: a `rows x targets` float64
 * matrix. Uses the active tfjs backend (float32 products) and leaves no tensor.
 *
 * @example
 * ```ts
 * import { fitPoissonGLM, predictPoissonGLM } from "./smoothing.ts";
 * const x = { data: Float64Array.from({ length: 200 }, (_, i) => Math.sin(i)), rows: 100, cols: 2 };
 * const y = { data: Float64Array.from({ length: 100 }, (_, i) => i % 3), rows: 100, cols: 1 };
 * const rates = predictPoissonGLM(fitPoissonGLM(x, y), x); // 100 x 1
 * ```
 */
export function predictPoissonGLM(model: PoissonGLM, x: Matrix): Matrix {
  const p = model.features, q = model.targets, width = p + 1;
  if (x.cols !== p || x.data.length !== x.rows * p) {
    throw new ArgumentError(
      `x has ${x.cols} columns (${x.data.length} values for ${x.rows} rows); the GLM expects ${p} inputs`,
    );
  }
  const out = new Float64Array(x.rows * q);
  const wt = tf.tensor2d(Float32Array.from(model.standardizedWeights), [width, q]);
  try {
    for (let start = 0; start < x.rows; start += CHUNK_ROWS) {
      const end = Math.min(x.rows, start + CHUNK_ROWS);
      const z = designRows(x, model.mean, model.scale, rangeOf(start, end));
      const eta = tf.tidy(() => tf.matMul(tf.tensor2d(z, [end - start, width]), wt).dataSync());
      for (let i = 0; i < eta.length; i++) out[start * q + i] = Math.exp(eta[i]);
    }
  } finally {
    wt.dispose();
  }
  return { data: out, rows: x.rows, cols: q };
}

// ---------------------------------------------------------------------------------------
// The smoothing baseline
// ---------------------------------------------------------------------------------------

/**
 * The penalties `fitSmoothingBaseline` chooses among by default: `logspace(-4, 0, 9)`,
 * 1e-4 to 1 in half decades (scikit-learn's units on standardized inputs; the grid of the
 * NLB velocity decoder). Measured on the synthetic reach data (300 trials, 40 held-in and
 * 12 held-out neurons): with one version of the generator val co-bps peaked at 1e-3 (test
 * co-bps at 1e-2), with another at 3e-2, where 1e-2 lost 40% of the co-bps; 1e-4 scores
 * as no penalty does, and 1 shrinks every weight to almost nothing. Half decades from
 * 1e-4 to 1 cover that range. The warm-started path over the 9 penalties costs about 4
 * cold fits (800 trials, 137 x 45 neurons: 29 s against 73 s fitting each from scratch,
 * 2 CPU cores, wasm); cross-validation costs `folds` times that.
 */
export const SMOOTHING_ALPHAS: readonly number[] = Object.freeze(logspace(-4, 0, 9));

/** Options of `fitSmoothingBaseline`. */
export interface SmoothingBaselineOptions {
  /** S.d. of the Gaussian smoothing kernel, ms (NLB's default 50). */
  kernelSdMs?: number;
  /**
   * L2 penalty of the Poisson GLM, scikit-learn's units on standardized inputs
   * (`mean deviance / 2 + alpha / 2 · ||w||²`). Given, it is used as is
   * (`selection.by === "given"`). Left out (the default), it is chosen among `alphas` by
   * held-out co-bps, never on the test split: on the `val` split when the dataset has val
   * trials and `fitSplit` does not include them, else by `folds`-fold cross-validation
   * over the fit trials (see `fitSmoothingBaseline`).
   *
   * The data term's curvature per standardized coefficient is about a neuron's mean count
   * per bin (≈ 0.02–0.15 at 5 ms bins), so scikit-learn's default alpha = 1 shrinks every
   * weight to almost nothing, while the smoothed inputs are strongly collinear and want
   * some shrinkage: the best penalty lay between 1e-3 and 3e-2 in every measurement and
   * depends on the data, hence the search.
   */
  alpha?: number;
  /** The penalties searched when `alpha` is left out. Default `SMOOTHING_ALPHAS`. */
  alphas?: readonly number[];
  /**
   * Folds of the cross-validation used when there is no val split to select on:
   * contiguous blocks of the fit trials in dataset order. Default 3.
   */
  folds?: number;
  /** The split(s) whose trials the GLM and the forward means are fit on. Default "train". */
  fitSplit?: Split | Split[];
  /** Most Newton iterations of the GLM fit. Default 100. */
  maxIterations?: number;
  /**
   * Smallest rate predicted (spikes per bin): smoothed spikes are 0 far from any spike, and
   * a zero rate makes the Poisson likelihood of a spike infinite. Default 1e-4.
   */
  minRate?: number;
  /** Relative gradient tolerance of the GLM fit (see `PoissonGLMOptions`). Default 1e-6. */
  tolerance?: number;
}

/** How the smoothing baseline's GLM penalty was chosen. */
export interface PenaltySelection {
  /**
   * `"val"`: by co-bps on the val split; `"cv"`: by mean co-bps over cross-validation
   * folds of the fit trials; `"given"`: `alpha` was given and used as is.
   */
  by: "val" | "cv" | "given";
  /** The penalties compared, in the order given (the given penalty alone for `"given"`). */
  alphas: number[];
  /**
   * co-bps of each penalty: on the val trials, or the mean over the folds; empty for
   * `"given"`.
   */
  scores: number[];
  /** The penalty used: the first of `alphas` with the highest score. */
  chosen: number;
  /** co-bps per fold (rows) and penalty (columns), for `"cv"`; else empty. */
  foldScores: number[][];
  /** Number of trials the scores were computed on (val trials, or every fit trial for "cv"). */
  scoredTrials: number;
}

/** A fitted smoothing baseline. */
export interface SmoothingBaseline {
  /**
   * The options it was fit with, defaults filled in; `alpha` is the penalty used (the
   * chosen one when it was selected; see `selection`).
   */
  options: Required<SmoothingBaselineOptions>;
  /** How the GLM's penalty was chosen, and the scores of the penalties compared. */
  selection: PenaltySelection;
  /**
   * The GLM's weights from the smoothed held-in spikes (spikes per bin) to the held-out
   * log rates: `(heldin + 1) x heldout`, row-major, last row the intercept.
   */
  weights: Float64Array;
  /** The GLM with its convergence record (`iterations`, `gradientNorm`, `converged`). */
  glm: PoissonGLM;
  /** Mean count per bin of each held-in neuron over the fit trials' forward bins. */
  forwardHeldinMean: Float64Array;
  /** Mean count per bin of each held-out neuron over the fit trials' forward bins. */
  forwardHeldoutMean: Float64Array;
  /**
   * Rates for the trials of `split` of `dataset` (this one or another with the same
   * neurons, bins and bin width): smoothed held-in spikes, GLM held-out rates and the
   * forward means, all floored at `minRate`. Throws an `ArgumentError` on a mismatch.
   */
  predict(dataset: NeuralDataset, split: Split): RateSet;
}

const BASELINE_DEFAULTS: Omit<Required<SmoothingBaselineOptions>, "alpha"> = {
  kernelSdMs: 50,
  alphas: SMOOTHING_ALPHAS,
  folds: 3,
  fitSplit: "train",
  maxIterations: 100,
  minRate: 1e-4,
  tolerance: 1e-6,
};

function checkBaselineOptions(o: SmoothingBaselineOptions & typeof BASELINE_DEFAULTS): void {
  checkOption(
    typeof o.kernelSdMs === "number" && o.kernelSdMs > 0 && Number.isFinite(o.kernelSdMs),
    "kernelSdMs",
    "a finite number of ms > 0",
    o.kernelSdMs,
  );
  checkOption(
    typeof o.minRate === "number" && o.minRate > 0 && Number.isFinite(o.minRate),
    "minRate",
    "a finite rate > 0",
    o.minRate,
  );
  const splits = typeof o.fitSplit === "string" ? [o.fitSplit] : o.fitSplit;
  checkOption(
    Array.isArray(splits) && splits.length > 0 &&
      splits.every((s) => (SPLITS as readonly string[]).includes(s)),
    "fitSplit",
    `one of ${SPLITS.join(", ")} or a non-empty array of them`,
    o.fitSplit,
  );
  checkOption(
    Number.isInteger(o.folds) && o.folds >= 2,
    "folds",
    "an integer >= 2",
    o.folds,
  );
  if (o.alpha === undefined) checkAlphas(o.alphas, "alphas");
  checkGLMOptions({ ...o, alpha: o.alpha ?? 0, hessianRows: 1 });
}

/** Smoothed held-in spikes of the given trials as float64 rows. */
function smoothedRows(dataset: NeuralDataset, trials: number[], sdMs: number): Matrix {
  const smoothed = smoothSpikes(selectTrials(dataset.heldinSpikes, trials), sdMs, dataset.binMs);
  return { data: smoothed.data, rows: trials.length * smoothed.shape[1], cols: smoothed.shape[2] };
}

function forwardMeans(spikes: Array3, trials: number[]): Float64Array {
  const [, time, channels] = spikes.shape;
  const sums = new Float64Array(channels);
  for (const i of trials) {
    for (let j = i * time * channels; j < (i + 1) * time * channels; j++) {
      sums[j % channels] += spikes.data[j];
    }
  }
  const count = trials.length * time;
  return sums.map((s) => (count > 0 ? s / count : 0));
}

function tiled(means: Float64Array, trials: number, time: number, floor: number): Array3 {
  const channels = means.length;
  const data = new Float64Array(trials * time * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(floor, means[i % channels]);
  return { data, shape: [trials, time, channels] };
}

/** Held-out rates of a GLM for some smoothed rows, floored at `minRate` (as `predict`). */
function flooredRates(glm: PoissonGLM, x: Matrix, minRate: number): Float64Array {
  const rates = predictPoissonGLM(glm, x).data as Float64Array;
  for (let i = 0; i < rates.length; i++) {
    const r = rates[i];
    rates[i] = r >= minRate ? r : minRate; // also maps a NaN to the floor
  }
  return rates;
}

/** Rows `[start, end)` of a matrix, and the rest, as new matrices. */
function splitRows(m: Matrix, start: number, end: number): { inside: Matrix; outside: Matrix } {
  const c = m.cols;
  const inside = m.data.slice(start * c, end * c);
  const outside = new Float64Array((m.rows - (end - start)) * c);
  outside.set(m.data.subarray(0, start * c));
  outside.set(m.data.subarray(end * c), start * c);
  return {
    inside: { data: inside, rows: end - start, cols: c },
    outside: { data: outside, rows: m.rows - (end - start), cols: c },
  };
}

/** Index of the first largest score. */
function firstBest(scores: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < scores.length; k++) if (scores[k] > scores[best]) best = k;
  return best;
}

/**
 * Fit the NLB smoothing baseline on the `fitSplit` trials of `dataset`: smooth held-in
 * spikes with a Gaussian kernel (`kernelSdMs`), fit a Poisson GLM per held-out neuron
 * from the smoothed held-in spikes (every trial x bin of the fit trials is a row) to the
 * held-out counts, and take each neuron's mean forward-bin count for the forward window
 * (the baseline has no dynamics to extrapolate with). Deterministic; leaves no tensor.
 *
 * The GLM's L2 penalty is `alpha` when given. Otherwise it is selected among `alphas` by
 * co-bps (held-out rates floored at `minRate`, as `predict` gives them), and never on the
 * test split:
 *
 * - `"val"`: when the dataset has val trials and `fitSplit` does not include them, the
 *   GLM is fit on the fit trials at every penalty (from the largest down, each fit
 *   warm-started from the previous one) and scored on the val trials; the best fit is
 *   kept as is.
 * - `"cv"`: otherwise, the fit trials are cut into `folds` contiguous blocks; each block
 *   is scored by the GLMs fit on the others, the penalty with the best mean co-bps wins,
 *   and the GLM is refit on every fit trial at that penalty.
 *
 * `selection` records the penalties, their scores and the choice. Only the fit trials'
 * spikes (and the val trials' held-in and held-out spikes, for `"val"`) are read, so the
 * test split's spikes cannot change the fit.
 *
 * @example
 * ```ts
 * import { fitSmoothingBaseline } from "./smoothing.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * import { evaluateNLB } from "../metrics/nlb.ts";
 * const data = reachDataset({ trials: 300, heldinNeurons: 40, heldoutNeurons: 12, seed: 1 });
 * const baseline = fitSmoothingBaseline(data, { kernelSdMs: 50 });
 * baseline.selection; // { by: "val", alphas: [1e-4, ..., 1], scores: [...], chosen, ... }
 * const record = evaluateNLB(data, {
 *   train: baseline.predict(data, "train"),
 *   eval: baseline.predict(data, "test"),
 * });
 * record.coBps;
 * ```
 */
export function fitSmoothingBaseline(
  dataset: NeuralDataset,
  options: SmoothingBaselineOptions = {},
): SmoothingBaseline {
  const o = { ...BASELINE_DEFAULTS, ...options };
  checkBaselineOptions(o);
  gaussianWindow(o.kernelSdMs, dataset.binMs); // throws when the kernel is under half a bin
  requireBackend("fitPoissonGLM");
  const trials = trialsInSplit(dataset, o.fitSplit);
  if (trials.length === 0) {
    throw new ArgumentError(`fitSplit ${describe(o.fitSplit)} has no trials to fit on`);
  }
  const [, time, heldin] = dataset.heldinSpikes.shape;
  const heldout = dataset.heldoutSpikes.shape[2];
  const forwardBins = dataset.forwardHeldinSpikes.shape[1];
  const x = smoothedRows(dataset, trials, o.kernelSdMs);
  const y: Matrix = {
    data: selectTrials(dataset.heldoutSpikes, trials).data,
    rows: x.rows,
    cols: heldout,
  };
  const solver = { maxIterations: o.maxIterations, tolerance: o.tolerance, hessianRows: 8192 };
  const fitSplits = typeof o.fitSplit === "string" ? [o.fitSplit] : o.fitSplit;
  const valTrials = fitSplits.includes("val") ? [] : trialsInSplit(dataset, "val");
  const alphas = [...o.alphas];

  let glm: PoissonGLM, selection: PenaltySelection;
  if (options.alpha !== undefined) {
    glm = fitPoissonGLM(x, y, { ...solver, alpha: options.alpha });
    selection = {
      by: "given",
      alphas: [options.alpha],
      scores: [],
      chosen: options.alpha,
      foldScores: [],
      scoredTrials: 0,
    };
  } else if (valTrials.length > 0) {
    const glms = fitPoissonGLMPath(x, y, alphas, solver);
    const valX = smoothedRows(dataset, valTrials, o.kernelSdMs);
    const valSpikes = selectTrials(dataset.heldoutSpikes, valTrials);
    const scores = glms.map((g) =>
      coBps({ data: flooredRates(g, valX, o.minRate), shape: valSpikes.shape }, valSpikes)
    );
    const best = firstBest(scores);
    glm = glms[best];
    selection = {
      by: "val",
      alphas,
      scores,
      chosen: alphas[best],
      foldScores: [],
      scoredTrials: valTrials.length,
    };
  } else {
    if (trials.length < o.folds) {
      throw new ArgumentError(
        `folds: ${o.folds}-fold cross-validation of the penalty needs at least ${o.folds} ` +
          `fit trials; fitSplit ${describe(o.fitSplit)} has ${trials.length} (give alpha, ` +
          "or fewer folds)",
      );
    }
    const foldScores = kFoldBounds(trials.length, o.folds).map(([first, last]) => {
      const xs = splitRows(x, first * time, last * time);
      const ys = splitRows(y, first * time, last * time);
      const spikes: Array3 = { data: ys.inside.data, shape: [last - first, time, heldout] };
      return fitPoissonGLMPath(xs.outside, ys.outside, alphas, solver).map((g) =>
        coBps({ data: flooredRates(g, xs.inside, o.minRate), shape: spikes.shape }, spikes)
      );
    });
    const scores = alphas.map((_, k) =>
      foldScores.reduce((sum, fold) => sum + fold[k], 0) / foldScores.length
    );
    const best = firstBest(scores);
    glm = fitPoissonGLM(x, y, { ...solver, alpha: alphas[best] });
    selection = {
      by: "cv",
      alphas,
      scores,
      chosen: alphas[best],
      foldScores,
      scoredTrials: trials.length,
    };
  }
  const fitOptions: Required<SmoothingBaselineOptions> = { ...o, alphas, alpha: glm.alpha };
  const forwardHeldinMean = forwardMeans(dataset.forwardHeldinSpikes, trials);
  const forwardHeldoutMean = forwardMeans(dataset.forwardHeldoutSpikes, trials);
  const fitted = { heldin, heldout, time, forwardBins, binMs: dataset.binMs };

  const predict = (data: NeuralDataset, split: Split): RateSet => {
    const actual = {
      heldin: data.heldinSpikes.shape[2],
      heldout: data.heldoutSpikes.shape[2],
      time: data.heldinSpikes.shape[1],
      forwardBins: data.forwardHeldinSpikes.shape[1],
      binMs: data.binMs,
    };
    const names = {
      heldin: "held-in neurons",
      heldout: "held-out neurons",
      time: "bins per trial",
      forwardBins: "forward bins",
      binMs: "binMs",
    };
    for (const key of Object.keys(fitted) as (keyof typeof fitted)[]) {
      if (actual[key] !== fitted[key]) {
        throw new ArgumentError(
          `predict: dataset "${data.name}" has ${actual[key]} ${names[key]}; the baseline was ` +
            `fit with ${fitted[key]}`,
        );
      }
    }
    checkOption(
      (SPLITS as readonly string[]).includes(split),
      "split",
      `one of ${SPLITS.join(", ")}`,
      split,
    );
    const chosen = trialsInSplit(data, split);
    const n = chosen.length;
    const rows = smoothedRows(data, chosen, o.kernelSdMs);
    const heldoutRates = n > 0 ? flooredRates(glm, rows, o.minRate) : new Float64Array(0);
    const heldinRates = rows.data as Float64Array;
    for (let i = 0; i < heldinRates.length; i++) {
      heldinRates[i] = Math.max(o.minRate, heldinRates[i]);
    }
    return {
      heldin: { data: heldinRates, shape: [n, time, heldin] },
      heldout: { data: heldoutRates, shape: [n, time, heldout] },
      forwardHeldin: tiled(forwardHeldinMean, n, forwardBins, o.minRate),
      forwardHeldout: tiled(forwardHeldoutMean, n, forwardBins, o.minRate),
    };
  };

  return {
    options: fitOptions,
    selection,
    weights: glm.weights,
    glm,
    forwardHeldinMean,
    forwardHeldoutMean,
    predict,
  };
}
