/**
 * The Neural Latents Benchmark's metrics, with the semantics of its reference
 * implementation (nlb_tools): Poisson log-likelihood in bits per spike (co-bps, fp-bps),
 * velocity decoding R² (vel R2) and PSTH R² (psth R2). Sums are float64.
 * tests/metrics/nlb_tools_test.ts checks every metric against nlb_tools 0.0.4 itself.
 * @module
 */

import { attachDisplay, escapeHtml, formatCell, htmlTable } from "../html.ts";
import { type Array3, assertArray3, concat3, selectTrials } from "../array.ts";
import { type NeuralDataset, type Split, subsetTrials, trialsInSplit } from "../data/dataset.ts";
import type { NWBDataset } from "../data/nwb.ts";
import { ArgumentError } from "../errors.ts";
import { logGamma, logspace } from "../math.ts";
import {
  fitRidge,
  fitRidgeCV,
  type Matrix,
  predictRidge,
  r2PerTarget,
  r2Score,
} from "./regression.ts";

const ZERO_RATE = 1e-9;

// ln(n!) for small counts, looked up instead of recomputed per entry.
const LOG_FACTORIAL = Float64Array.from({ length: 256 }, (_, n) => logGamma(n + 1));
const logFactorial = (n: number) => (n < 256 && n === (n | 0) ? LOG_FACTORIAL[n] : logGamma(n + 1));

function checkPair(rates: Array3, spikes: Array3, what: string): void {
  assertArray3(rates, `${what} rates`);
  assertArray3(spikes, `${what} spikes`);
  if (rates.shape.some((n, k) => n !== spikes.shape[k])) {
    throw new ArgumentError(
      `${what}: rates have shape [${rates.shape.join(", ")}] but spikes have [${
        spikes.shape.join(", ")
      }]`,
    );
  }
}

/**
 * Poisson negative log-likelihood, `Σ r − n·ln r + ln n!`, over the entries whose spike
 * count is not NaN. A negative or NaN rate is an error; a zero rate counts as 1e-9.
 */
export function poissonNLL(rates: Array3, spikes: Array3): number {
  checkPair(rates, spikes, "poissonNLL");
  const r = rates.data, n = spikes.data;
  let total = 0;
  for (let i = 0; i < r.length; i++) {
    const count = n[i];
    if (Number.isNaN(count)) continue;
    let rate = r[i];
    if (!(rate >= 0)) {
      const channels = rates.shape[2], time = rates.shape[1];
      throw new ArgumentError(
        `rates must be >= 0 and not NaN; got ${rate} at trial ${
          Math.floor(i / (channels * time))
        }, bin ${Math.floor(i / channels) % time}, neuron ${i % channels}`,
      );
    }
    if (rate === 0) rate = ZERO_RATE;
    total += rate - count * Math.log(rate) + logFactorial(count);
  }
  return total;
}

/** Each neuron's mean count over all trials and bins, skipping NaN, as a rates array. */
function nullRates(spikes: Array3): Array3<Float64Array> {
  const channels = spikes.shape[2];
  const sums = new Float64Array(channels), counts = new Float64Array(channels);
  for (let i = 0; i < spikes.data.length; i++) {
    const v = spikes.data[i];
    if (!Number.isNaN(v)) (sums[i % channels] += v, counts[i % channels]++);
  }
  const data = new Float64Array(spikes.data.length);
  for (let i = 0; i < data.length; i++) {
    const c = i % channels;
    data[i] = counts[c] > 0 ? sums[c] / counts[c] : 0;
  }
  return { data, shape: [...spikes.shape] };
}

/**
 * Bits per spike: how much better the rates explain the spikes than a null model that
 * predicts each neuron's mean count, `(NLL_null − NLL) / Σn / ln 2`. 0 for the null model,
 * positive when the rates carry information. NaN spikes are skipped. Spikes without a
 * single spike are an ArgumentError (the reference divides by 0 and returns -inf or NaN).
 */
export function bitsPerSpike(rates: Array3, spikes: Array3): number {
  const nll = poissonNLL(rates, spikes);
  const nullNll = poissonNLL(nullRates(spikes), spikes);
  let total = 0;
  for (const v of spikes.data) if (!Number.isNaN(v)) total += v;
  if (total === 0) {
    throw new ArgumentError("bitsPerSpike: the spikes hold no spike; bits per spike is undefined");
  }
  return (nullNll - nll) / total / Math.LN2;
}

/** co-bps: bits per spike of the held-out neurons' rates on evaluation trials. */
export function coBps(heldoutRates: Array3, heldoutSpikes: Array3): number {
  return bitsPerSpike(heldoutRates, heldoutSpikes);
}

/**
 * fp-bps: bits per spike over the forward-prediction window, held-in and held-out
 * neurons concatenated along the neuron axis (as the reference does).
 */
export function fpBps(
  forward: {
    heldinRates: Array3;
    heldoutRates: Array3;
    heldinSpikes: Array3;
    heldoutSpikes: Array3;
  },
): number {
  return bitsPerSpike(
    concat3([forward.heldinRates, forward.heldoutRates], 2),
    concat3([forward.heldinSpikes, forward.heldoutSpikes], 2),
  );
}

/** Flatten trials x time rows, keeping rows whose behavior has no NaN. */
function decodingRows(rates: Array3, behavior: Array3, what: string): { x: Matrix; y: Matrix } {
  assertArray3(rates, `${what} rates`);
  assertArray3(behavior, `${what} behavior`);
  if (rates.shape[0] !== behavior.shape[0] || rates.shape[1] !== behavior.shape[1]) {
    throw new ArgumentError(
      `${what}: rates have ${rates.shape[0]} trials x ${rates.shape[1]} bins but behavior has ${
        behavior.shape[0]
      } x ${behavior.shape[1]}`,
    );
  }
  const p = rates.shape[2], q = behavior.shape[2];
  const rows = rates.shape[0] * rates.shape[1];
  const keep: number[] = [];
  for (let r = 0; r < rows; r++) {
    let ok = true;
    for (let k = 0; k < q; k++) if (Number.isNaN(behavior.data[r * q + k])) ok = false;
    if (ok) keep.push(r);
    for (let j = 0; j < p; j++) {
      const v = rates.data[r * p + j];
      if (!Number.isFinite(v)) {
        throw new ArgumentError(
          `${what} rates have ${v} at row ${r}, neuron ${j}; expected finite rates`,
        );
      }
    }
  }
  if (keep.length === 0) throw new ArgumentError(`${what} behavior is NaN in every bin`);
  if (keep.length === rows) { // nothing to drop: use the arrays as they are, no copy
    return { x: { data: rates.data, rows, cols: p }, y: { data: behavior.data, rows, cols: q } };
  }
  const x = new (rates.data.constructor as Float32ArrayConstructor)(keep.length * p);
  const y = new Float64Array(keep.length * q);
  keep.forEach((r, i) => {
    x.set(rates.data.subarray(r * p, (r + 1) * p), i * p);
    y.set(behavior.data.subarray(r * q, (r + 1) * q), i * q);
  });
  return { x: { data: x, rows: keep.length, cols: p }, y: { data: y, rows: keep.length, cols: q } };
}

/**
 * Which trials each velocity decoder sees: one mask per decoder, over the train trials
 * (`train[k]`) and the evaluation trials (`eval[k]`); a true or non-zero entry includes
 * the trial. The reference's `train_decode_mask` and `eval_decode_mask` (trials x
 * decoders), one mask per column.
 */
export interface DecodeMasks {
  /** One mask over the train trials per decoder. */
  train: readonly ArrayLike<boolean | number>[];
  /** One mask over the evaluation trials per decoder, in the same order. */
  eval: readonly ArrayLike<boolean | number>[];
}

/** Inputs of `velR2`. Rates are held-in and held-out concatenated along neurons. */
export interface VelR2Options {
  /** Rates of the training trials: trials x time x neurons. */
  trainRates: Array3;
  /** Behavior of the training trials (NaN rows are dropped). */
  trainBehavior: Array3;
  /** Rates of the evaluation trials. */
  evalRates: Array3;
  /** Behavior of the evaluation trials (NaN rows are dropped). */
  evalBehavior: Array3;
  /** Choose the ridge penalty by cross-validation (default true); else alpha = 1e-2. */
  gridSearch?: boolean;
  /** Penalties searched. Default `logspace(-4, 0, 9)`. */
  alphas?: readonly number[];
  /** Cross-validation folds (contiguous, unshuffled). Default 5. */
  folds?: number;
  /**
   * Fit one decoder per mask and average their R² (the reference's Area2_Bump rule: one
   * decoder for active, one for passive trials). Default: one decoder on every trial.
   */
  decodeMasks?: DecodeMasks;
}

/** One velocity decoder of `velR2`: its score and how it was chosen. */
export interface VelR2Decoder {
  /** R² on its evaluation rows, averaged uniformly over behavior dimensions. */
  r2: number;
  /** R² per behavior dimension. */
  r2PerDimension: Float64Array;
  /** The penalty used. */
  alpha: number;
  /** Mean cross-validated R² per searched penalty (empty without grid search). */
  cvScores: Float64Array;
  /** Train trials it was fit on. */
  trainTrials: number;
  /** Evaluation trials it was scored on. */
  evalTrials: number;
  /** Rows used for fitting (after dropping NaN behavior). */
  trainRows: number;
  /** Rows used for scoring (after dropping NaN behavior). */
  evalRows: number;
}

/** Result of `velR2`: the score and how the decoder (or decoders) were chosen. */
export interface VelR2Result {
  /**
   * R² on the evaluation rows, averaged uniformly over behavior dimensions; with several
   * decoders, the mean of theirs.
   */
  r2: number;
  /** R² per behavior dimension (with several decoders, the mean over decoders). */
  r2PerDimension: Float64Array;
  /** The penalty used; NaN with several decoders (each has its own in `decoders`). */
  alpha: number;
  /**
   * Mean cross-validated R² per searched penalty (empty without grid search, or with
   * several decoders).
   */
  cvScores: Float64Array;
  /** Rows used for fitting (after dropping NaN behavior), summed over decoders. */
  trainRows: number;
  /** Rows used for scoring (after dropping NaN behavior), summed over decoders. */
  evalRows: number;
  /** Every decoder, in mask order (one without `decodeMasks`). */
  decoders: VelR2Decoder[];
}

/** The trials a mask includes, checking its length and entries. */
function maskedTrials(mask: ArrayLike<boolean | number>, trials: number, what: string): number[] {
  if (mask.length !== trials) {
    throw new ArgumentError(
      `${what} has ${mask.length} entries; expected ${trials} (one per trial)`,
    );
  }
  const picked: number[] = [];
  for (let i = 0; i < trials; i++) if (mask[i]) picked.push(i);
  if (picked.length === 0) {
    throw new ArgumentError(`${what} selects no trial; expected at least one trial per decoder`);
  }
  return picked;
}

/**
 * Velocity-decoding R² as the NLB reference computes it: rates flattened over trials and
 * bins, rows with NaN behavior dropped, ridge (with intercept) whose penalty is chosen by
 * 5-fold contiguous cross-validation on R² and refit on all train rows, scored on the
 * evaluation rows and averaged uniformly over behavior dimensions. With `decodeMasks`,
 * one such decoder per mask, and `r2` is the mean of their R² (the reference's
 * `velocity_decoding`).
 *
 * Where it departs from the reference: a bin is dropped when any behavior dimension is
 * NaN (the reference drops by the first dimension, so a NaN in another reaches
 * scikit-learn, which raises); infinite rates and a mask that selects no trial are
 * ArgumentErrors (scikit-learn raises a ValueError).
 */
export function velR2(options: VelR2Options): VelR2Result {
  assertArray3(options.trainRates, "velR2 train rates");
  assertArray3(options.evalRates, "velR2 eval rates");
  const masks = options.decodeMasks;
  if (masks === undefined) {
    const only = fitDecoder(
      options.trainRates,
      options.trainBehavior,
      options.evalRates,
      options.evalBehavior,
      options,
      "velR2",
    );
    return {
      r2: only.r2,
      r2PerDimension: only.r2PerDimension,
      alpha: only.alpha,
      cvScores: only.cvScores,
      trainRows: only.trainRows,
      evalRows: only.evalRows,
      decoders: [only],
    };
  }
  if (masks.train.length === 0 || masks.train.length !== masks.eval.length) {
    throw new ArgumentError(
      `velR2 decodeMasks has ${masks.train.length} train and ${masks.eval.length} eval masks; ` +
        `expected the same number, at least one`,
    );
  }
  const trainTrials = options.trainRates.shape[0], evalTrials = options.evalRates.shape[0];
  for (
    const [what, rates, behavior] of [
      ["train", trainTrials, options.trainBehavior],
      ["eval", evalTrials, options.evalBehavior],
    ] as const
  ) {
    assertArray3(behavior, `velR2 ${what} behavior`);
    if (behavior.shape[0] !== rates) {
      throw new ArgumentError(
        `velR2 ${what}: rates have ${rates} trials but behavior has ${behavior.shape[0]}`,
      );
    }
  }
  const decoders = masks.train.map((mask, k) => {
    const train = maskedTrials(mask, trainTrials, `velR2 decodeMasks.train[${k}]`);
    const evaluation = maskedTrials(masks.eval[k], evalTrials, `velR2 decodeMasks.eval[${k}]`);
    return fitDecoder(
      selectTrials(options.trainRates, train),
      selectTrials(options.trainBehavior, train),
      selectTrials(options.evalRates, evaluation),
      selectTrials(options.evalBehavior, evaluation),
      options,
      `velR2 decoder ${k}`,
    );
  });
  const dims = decoders[0].r2PerDimension.length;
  const r2PerDimension = new Float64Array(dims);
  for (const d of decoders) for (let j = 0; j < dims; j++) r2PerDimension[j] += d.r2PerDimension[j];
  for (let j = 0; j < dims; j++) r2PerDimension[j] /= decoders.length;
  const only = decoders.length === 1 ? decoders[0] : null;
  return {
    r2: decoders.reduce((sum, d) => sum + d.r2, 0) / decoders.length,
    r2PerDimension,
    alpha: only ? only.alpha : NaN,
    cvScores: only ? only.cvScores : new Float64Array(0),
    trainRows: decoders.reduce((sum, d) => sum + d.trainRows, 0),
    evalRows: decoders.reduce((sum, d) => sum + d.evalRows, 0),
    decoders,
  };
}

/** Fit one ridge decoder on the train trials and score it on the evaluation trials. */
function fitDecoder(
  trainRates: Array3,
  trainBehavior: Array3,
  evalRates: Array3,
  evalBehavior: Array3,
  options: Pick<VelR2Options, "gridSearch" | "alphas" | "folds">,
  what: string,
): VelR2Decoder {
  const train = decodingRows(trainRates, trainBehavior, `${what} train`);
  const evaluation = decodingRows(evalRates, evalBehavior, `${what} eval`);
  if (train.x.cols !== evaluation.x.cols) {
    throw new ArgumentError(
      `${what}: train rates have ${train.x.cols} neurons but eval rates have ${evaluation.x.cols}`,
    );
  }
  if (train.y.cols !== evaluation.y.cols) {
    throw new ArgumentError(
      `${what}: train behavior has ${train.y.cols} dimensions but eval behavior has ${evaluation.y.cols}`,
    );
  }
  let model;
  let cvScores: Float64Array = new Float64Array(0);
  if (options.gridSearch ?? true) {
    const search = fitRidgeCV(train.x, train.y, {
      alphas: options.alphas ?? DEFAULT_ALPHAS,
      folds: options.folds ?? 5,
    });
    model = search.model;
    cvScores = search.meanScores;
  } else {
    model = fitRidge(train.x, train.y, NO_SEARCH_ALPHA);
  }
  const r2PerDimension = r2PerTarget(evaluation.y, predictRidge(model, evaluation.x));
  return {
    r2: r2PerDimension.reduce((a, b) => a + b, 0) / r2PerDimension.length,
    r2PerDimension,
    alpha: model.alpha,
    cvScores,
    trainTrials: trainRates.shape[0],
    evalTrials: evalRates.shape[0],
    trainRows: train.x.rows,
    evalRows: evaluation.x.rows,
  };
}

/** The penalties the NLB grid search tries: `logspace(-4, 0, 9)`. */
export const DEFAULT_ALPHAS: readonly number[] = logspace(-4, 0, 9);
const NO_SEARCH_ALPHA = 1e-2;

/**
 * The Gaussian smoothing window of the NLB reference: standard deviation
 * `round(sdMs / binMs)` bins (halves to even, as Python), `6 x sd` bins long (scipy's symmetric `gaussian`),
 * normalized to sum 1.
 */
export function gaussianWindow(sdMs: number, binMs: number): Float64Array {
  if (!(sdMs > 0) || !(binMs > 0)) {
    throw new ArgumentError(`kernel sd and bin width must be > 0 ms, got sd ${sdMs}, bin ${binMs}`);
  }
  // Python's round() (the reference's), which takes exact halves to the even neighbour.
  const ratio = sdMs / binMs;
  const floor = Math.floor(ratio);
  const sd = ratio - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(ratio);
  if (sd < 1) {
    throw new ArgumentError(
      `kernel sd ${sdMs} ms rounds to ${sd} bins of ${binMs} ms; use an sd above half a bin`,
    );
  }
  const length = 6 * sd;
  const window = new Float64Array(length);
  let sum = 0;
  for (let n = 0; n < length; n++) {
    window[n] = Math.exp(-0.5 * ((n - (length - 1) / 2) / sd) ** 2);
    sum += window[n];
  }
  for (let n = 0; n < length; n++) window[n] /= sum;
  return window;
}

/**
 * Smooth spike counts along time within each trial with the NLB reference's Gaussian
 * kernel (`numpy.convolve(x, window, "same")`, zero beyond the trial's edges). Returns
 * float64.
 */
export function smoothSpikes(spikes: Array3, sdMs: number, binMs: number): Array3<Float64Array> {
  assertArray3(spikes, "spikes");
  const window = gaussianWindow(sdMs, binMs);
  const [trials, time, channels] = spikes.shape;
  const m = window.length, offset = (m - 1) >> 1;
  const out = new Float64Array(spikes.data.length);
  for (let i = 0; i < trials; i++) {
    const base = i * time * channels;
    for (let t = 0; t < time; t++) {
      // y[t] = Σ_j x[j] · w[t + offset − j], over j inside both the trial and the window.
      const low = Math.max(0, t + offset - m + 1), high = Math.min(time - 1, t + offset);
      const row = base + t * channels;
      for (let j = low; j <= high; j++) {
        const w = window[t + offset - j], source = base + j * channels;
        for (let c = 0; c < channels; c++) out[row + c] += w * spikes.data[source + c];
      }
    }
  }
  return { data: out, shape: [trials, time, channels] };
}

/**
 * Mean over trials of each condition: a conditions x time x channels array, conditions in
 * ascending id order (returned as `conditionIds`). With `trials`, only those trials count.
 * NaN entries are skipped.
 */
export function conditionPSTH(
  values: Array3,
  conditions: Int32Array,
  trials?: ArrayLike<number>,
): { psth: Array3<Float64Array>; conditionIds: number[] } {
  assertArray3(values, "values");
  const [n, time, channels] = values.shape;
  if (conditions.length !== n) {
    throw new ArgumentError(
      `conditions has ${conditions.length} entries but values have ${n} trials`,
    );
  }
  const chosen = trials ? Array.from(trials) : Array.from({ length: n }, (_, i) => i);
  const conditionIds = [...new Set(chosen.map((i) => conditions[i]))].sort((a, b) => a - b);
  const slot = new Map(conditionIds.map((c, k) => [c, k]));
  const stride = time * channels;
  const sums = new Float64Array(conditionIds.length * stride);
  const counts = new Float64Array(conditionIds.length * stride);
  for (const i of chosen) {
    const k = slot.get(conditions[i])!;
    for (let j = 0; j < stride; j++) {
      const v = values.data[i * stride + j];
      if (!Number.isNaN(v)) (sums[k * stride + j] += v, counts[k * stride + j]++);
    }
  }
  for (let j = 0; j < sums.length; j++) sums[j] = counts[j] > 0 ? sums[j] / counts[j] : NaN;
  return { psth: { data: sums, shape: [conditionIds.length, time, channels] }, conditionIds };
}

/** Inputs of `psthR2`. */
export interface PsthR2Options {
  /** Predicted rates of the evaluation trials: trials x time x neurons. */
  evalRates: Array3;
  /** Condition id of each evaluation trial. */
  conditions: Int32Array;
  /** True PSTHs: one per condition in `conditionIds` order, conditions x time x neurons. */
  truePsth: Array3;
  /** Condition id of each `truePsth` row. Default: the sorted distinct `conditions`. */
  conditionIds?: number[];
}

/**
 * PSTH R² as the NLB reference computes it: the predicted PSTH of a condition is the mean
 * of its evaluation trials' rates; predicted and true PSTHs are stacked over conditions x
 * time, R² is computed per neuron and averaged uniformly over neurons.
 */
export function psthR2(options: PsthR2Options): number {
  const { evalRates, conditions, truePsth } = options;
  assertArray3(truePsth, "truePsth");
  const predicted = conditionPSTH(evalRates, conditions);
  const ids = options.conditionIds ?? predicted.conditionIds;
  if (ids.length !== truePsth.shape[0]) {
    throw new ArgumentError(
      `truePsth has ${truePsth.shape[0]} conditions but ${ids.length} condition ids were given`,
    );
  }
  const [, time, channels] = truePsth.shape;
  if (time !== evalRates.shape[1] || channels !== evalRates.shape[2]) {
    throw new ArgumentError(
      `truePsth has ${time} bins x ${channels} neurons but evalRates have ${evalRates.shape[1]} x ${
        evalRates.shape[2]
      }`,
    );
  }
  const stride = time * channels;
  const slot = new Map(predicted.conditionIds.map((c, k) => [c, k]));
  const rows = ids.length * time;
  const yTrue = new Float64Array(rows * channels), yPred = new Float64Array(rows * channels);
  ids.forEach((id, k) => {
    const p = slot.get(id);
    if (p === undefined) {
      throw new ArgumentError(`condition ${id} of truePsth has no evaluation trial to predict it`);
    }
    yTrue.set(truePsth.data.subarray(k * stride, (k + 1) * stride), k * stride);
    yPred.set(predicted.psth.data.subarray(p * stride, (p + 1) * stride), k * stride);
  });
  return r2Score({ data: yTrue, rows, cols: channels }, { data: yPred, rows, cols: channels });
}

/** Predicted rates (spikes per bin) for the trials of one split, in dataset order. */
export interface RateSet {
  /** Held-in neurons over the observed bins. */
  heldin: Array3;
  /** Held-out neurons over the observed bins. */
  heldout: Array3;
  /** Held-in neurons over the forward bins (for fp-bps). */
  forwardHeldin?: Array3;
  /** Held-out neurons over the forward bins (for fp-bps). */
  forwardHeldout?: Array3;
}

/**
 * The true rates of one split's trials as a `RateSet` (synthetic data only): the ceiling
 * any model's predictions can reach, and a reference to score against.
 */
export function truthRates(dataset: NeuralDataset, split: Split): RateSet {
  if (!dataset.truth) {
    throw new ArgumentError(`dataset "${dataset.name}" has no truth (only synthetic data has)`);
  }
  const truth = subsetTrials(dataset, trialsInSplit(dataset, split)).truth!;
  return {
    heldin: truth.heldinRates,
    heldout: truth.heldoutRates,
    forwardHeldin: truth.forwardHeldinRates,
    forwardHeldout: truth.forwardHeldoutRates,
  };
}

/** Options of `evaluateNLB`. */
export interface EvaluateNLBOptions {
  /** The split that is scored. Default `"test"`. */
  evalSplit?: Split;
  /** The split the velocity decoder is fit on. Default `"train"`. */
  trainSplit?: Split;
  /** Grid-search the decoder's penalty (default true). */
  gridSearch?: boolean;
  /** Penalties searched. Default `logspace(-4, 0, 9)`. */
  alphas?: readonly number[];
  /** Cross-validation folds. Default 5. */
  folds?: number;
  /**
   * Where the true PSTHs of psth R2 come from: `"dataset"`, the dataset's own `truePsth`
   * (NWB files: smoothed at 1 ms over the continuous recording, as the NLB reference), or
   * `"binned spikes"`, condition means of the train and eval trials' binned spikes smoothed
   * with `psthKernelSdMs`. Default: `"dataset"` when the dataset has `truePsth`, else
   * `"binned spikes"`.
   */
  psthSource?: "dataset" | "binned spikes";
  /**
   * Gaussian kernel s.d. of PSTHs built from binned spikes, ms. Default 50 (the scaled
   * MC_Maze value). With the dataset's PSTHs, their own kernel applies; a different value
   * here is an error.
   */
  psthKernelSdMs?: number;
  /**
   * Masks over the dataset's trials, one per velocity decoder: vel R2 is the mean of the
   * decoders' R², each fit on its masked train trials and scored on its masked eval
   * trials (the reference's Area2_Bump rule). Default `nlbDecodeMasks(dataset)`: an NWB
   * dataset loaded with `decodeMasks` (the area2_bump preset) gets its two decoders.
   * null: one decoder on every trial.
   */
  decodeMasks?: readonly ArrayLike<boolean | number>[] | null;
}

/** Every NLB metric the data allows, and the settings that produced them. */
export interface NLBRecord {
  /** The dataset's name. */
  dataset: string;
  /** The split that was scored. */
  evalSplit: Split;
  /** The split the decoder was fit on. */
  trainSplit: Split;
  /** Number of scored trials. */
  evalTrials: number;
  /** co-bps: held-out neurons, evaluation trials. */
  coBps: number | null;
  /** fp-bps: forward window, held-in and held-out neurons. */
  fpBps: number | null;
  /** vel R2: ridge decoding of behavior from all rates. */
  velR2: number | null;
  /** psth R2: predicted vs true condition-averaged rates. */
  psthR2: number | null;
  /** Settings used, as the benchmark reports them. */
  settings: {
    binMs: number;
    behaviorLagMs: number;
    gridSearch: boolean;
    alphas: number[];
    folds: number;
    /** The penalty the decoder used (null with several decoders: see `velR2Decoders`). */
    velR2Alpha: number | null;
    /** Each velocity decoder: its R², penalty and trials (empty without vel R2). */
    velR2Decoders: { r2: number; alpha: number; trainTrials: number; evalTrials: number }[];
    /** Where the true PSTHs came from: the dataset's `truePsth` or the binned spikes. */
    psthSource: "dataset" | "binned spikes";
    /** The Gaussian kernel s.d. of the true PSTHs, ms. */
    psthKernelSdMs: number;
  };
  /** Why a metric is null, in words. */
  notes: string[];
}

function checkRateSet(rates: RateSet, dataset: NeuralDataset, trials: number, split: string): void {
  const expect = (a: Array3 | undefined, name: string, time: number, channels: number) => {
    if (!a) return;
    assertArray3(a, `${split} ${name}`);
    const wanted = [trials, time, channels];
    if (a.shape.some((n, k) => n !== wanted[k])) {
      throw new ArgumentError(
        `${split} ${name} rates have shape [${a.shape.join(", ")}]; expected [${
          wanted.join(", ")
        }] ` +
          `(the ${split} split's trials x bins x neurons)`,
      );
    }
  };
  const [, time, nIn] = dataset.heldinSpikes.shape;
  const nOut = dataset.heldoutSpikes.shape[2], forward = dataset.forwardHeldinSpikes.shape[1];
  expect(rates.heldin, "heldin", time, nIn);
  expect(rates.heldout, "heldout", time, nOut);
  expect(rates.forwardHeldin, "forwardHeldin", forward, nIn);
  expect(rates.forwardHeldout, "forwardHeldout", forward, nOut);
}

/**
 * Score predicted rates with every NLB metric the data allows: co-bps (always), fp-bps
 * (when forward rates are given and the dataset has forward bins), vel R2 (when train
 * rates are given and the dataset has behavior) and psth R2: predicted PSTHs (eval rates
 * averaged per condition) against the dataset's `truePsth` when it has one (for NWB data,
 * the reference's 1 ms PSTHs), else against PSTHs built from binned spikes of the train
 * and eval trials smoothed with the reference's Gaussian kernel. Conditions without eval
 * trials, or whose true PSTH is NaN (no trials to average), are left out, with a note.
 * `settings.psthSource` and `settings.psthKernelSdMs` say which PSTHs were used.
 *
 * @example
 * ```ts
 * import { evaluateNLB, truthRates } from "./nlb.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 200 });
 * const record = evaluateNLB(data, {
 *   train: truthRates(data, "train"),
 *   eval: truthRates(data, "test"),
 * });
 * ```
 */
export function evaluateNLB(
  dataset: NeuralDataset,
  rates: { train?: RateSet; eval: RateSet },
  options: EvaluateNLBOptions = {},
): NLBRecord {
  const evalSplit = options.evalSplit ?? "test", trainSplit = options.trainSplit ?? "train";
  const gridSearch = options.gridSearch ?? true;
  const alphas = [...(options.alphas ?? DEFAULT_ALPHAS)];
  const folds = options.folds ?? 5;
  const psthSource = options.psthSource ?? (dataset.truePsth ? "dataset" : "binned spikes");
  if (psthSource !== "dataset" && psthSource !== "binned spikes") {
    throw new ArgumentError(
      `psthSource is ${JSON.stringify(psthSource)}; expected "dataset" or "binned spikes"`,
    );
  }
  if (psthSource === "dataset" && !dataset.truePsth) {
    throw new ArgumentError(
      `psthSource is "dataset" but dataset "${dataset.name}" has no truePsth; ` +
        `use psthSource "binned spikes"`,
    );
  }
  if (
    psthSource === "dataset" && options.psthKernelSdMs !== undefined &&
    options.psthKernelSdMs !== dataset.truePsth!.kernelSdMs
  ) {
    throw new ArgumentError(
      `psthKernelSdMs is ${options.psthKernelSdMs} ms but the dataset's true PSTHs use ` +
        `${dataset.truePsth!.kernelSdMs} ms; leave psthKernelSdMs out, or pass ` +
        `psthSource: "binned spikes" to build PSTHs from binned spikes with ${options.psthKernelSdMs} ms`,
    );
  }
  const kernelSdMs = psthSource === "dataset"
    ? dataset.truePsth!.kernelSdMs
    : options.psthKernelSdMs ?? 50;
  const evalTrials = trialsInSplit(dataset, evalSplit);
  const trainTrials = trialsInSplit(dataset, trainSplit);
  if (evalTrials.length === 0) {
    throw new ArgumentError(`the "${evalSplit}" split has no trials to score`);
  }
  checkRateSet(rates.eval, dataset, evalTrials.length, evalSplit);
  if (rates.train) checkRateSet(rates.train, dataset, trainTrials.length, trainSplit);
  const notes: string[] = [];
  const evalData = subsetTrials(dataset, evalTrials);

  const coBpsValue = coBps(rates.eval.heldout, evalData.heldoutSpikes);

  let fpBpsValue: number | null = null;
  if (dataset.forwardHeldinSpikes.shape[1] === 0) {
    notes.push("fp-bps: the dataset has no forward bins");
  } else if (!rates.eval.forwardHeldin || !rates.eval.forwardHeldout) {
    notes.push("fp-bps: no forward rates were given");
  } else {
    fpBpsValue = fpBps({
      heldinRates: rates.eval.forwardHeldin,
      heldoutRates: rates.eval.forwardHeldout,
      heldinSpikes: evalData.forwardHeldinSpikes,
      heldoutSpikes: evalData.forwardHeldoutSpikes,
    });
  }

  const evalRates = concat3([rates.eval.heldin, rates.eval.heldout], 2);
  let velR2Value: number | null = null, velR2Alpha: number | null = null;
  let velR2Decoders: NLBRecord["settings"]["velR2Decoders"] = [];
  if (dataset.behavior.shape[2] === 0) notes.push("vel R2: the dataset has no behavior");
  else if (!rates.train) notes.push("vel R2: no train rates were given to fit the decoder");
  else {
    const masks = options.decodeMasks === undefined ? nlbDecodeMasks(dataset) : options.decodeMasks;
    let decodeMasks: DecodeMasks | undefined;
    if (masks !== null) {
      masks.forEach((mask, k) => {
        if (mask.length !== dataset.split.length) {
          throw new ArgumentError(
            `decodeMasks[${k}] has ${mask.length} entries; expected ${dataset.split.length} ` +
              `(one per trial of dataset "${dataset.name}")`,
          );
        }
      });
      decodeMasks = {
        train: masks.map((mask) => trainTrials.map((i) => mask[i])),
        eval: masks.map((mask) => evalTrials.map((i) => mask[i])),
      };
      notes.push(
        `vel R2: the mean of ${masks.length} decoders, each fit and scored on its own trials` +
          (options.decodeMasks === undefined ? ` (${decodeMaskSource(dataset)})` : ""),
      );
    }
    const result = velR2({
      trainRates: concat3([rates.train.heldin, rates.train.heldout], 2),
      trainBehavior: subsetTrials(dataset, trainTrials).behavior,
      evalRates,
      evalBehavior: evalData.behavior,
      gridSearch,
      alphas,
      folds,
      decodeMasks,
    });
    velR2Value = result.r2;
    velR2Alpha = result.decoders.length === 1 ? result.alpha : null;
    velR2Decoders = result.decoders.map((d) => ({
      r2: d.r2,
      alpha: d.alpha,
      trainTrials: d.trainTrials,
      evalTrials: d.evalTrials,
    }));
  }

  const truth = psthSource === "dataset"
    ? { psth: dataset.truePsth!.rates, conditionIds: dataset.truePsth!.conditionIds }
    : binnedSpikePSTH(dataset, [...trainTrials, ...evalTrials], kernelSdMs);
  // Score the conditions that have eval trials to predict them and a true PSTH to match.
  const evalConditions = new Set(evalData.condition);
  const missing = [...evalConditions].filter((c) => !truth.conditionIds.includes(c));
  if (missing.length > 0) {
    throw new ArgumentError(
      `dataset "${dataset.name}": eval trials of condition ${missing.join(", ")} have no row ` +
        `in truePsth (its conditionIds: ${truth.conditionIds.join(", ")}); expected a true PSTH ` +
        `for every condition (validateDataset checks this)`,
    );
  }
  const [, time, channels] = truth.psth.shape;
  const stride = time * channels;
  const keep: [number, number][] = [], undefinedRows: number[] = [];
  truth.conditionIds.forEach((c, k) => {
    if (!evalConditions.has(c)) return;
    const row = truth.psth.data.subarray(k * stride, (k + 1) * stride);
    if (row.some(Number.isNaN)) undefinedRows.push(c);
    else keep.push([c, k]);
  });
  if (undefinedRows.length > 0) {
    notes.push(
      `psth R2: condition${undefinedRows.length > 1 ? "s" : ""} ${
        undefinedRows.join(", ")
      } left out: ${psthSource === "dataset" ? "the dataset's" : "its"} true PSTH is NaN ` +
        `(no trials to average)`,
    );
  }
  let psthR2Value: number | null = null;
  if (keep.length === 0) {
    notes.push("psth R2: no condition with eval trials has a true PSTH");
  } else {
    const truePsth = new Float64Array(keep.length * stride);
    keep.forEach(([, k], row) =>
      truePsth.set(truth.psth.data.subarray(k * stride, (k + 1) * stride), row * stride)
    );
    psthR2Value = psthR2({
      evalRates,
      conditions: evalData.condition,
      truePsth: { data: truePsth, shape: [keep.length, time, channels] },
      conditionIds: keep.map(([c]) => c),
    });
  }

  return withRecordDisplay({
    dataset: dataset.name,
    evalSplit,
    trainSplit,
    evalTrials: evalTrials.length,
    coBps: coBpsValue,
    fpBps: fpBpsValue,
    velR2: velR2Value,
    psthR2: psthR2Value,
    settings: {
      binMs: dataset.binMs,
      behaviorLagMs: dataset.behaviorLagMs,
      gridSearch,
      alphas,
      folds,
      velR2Alpha,
      velR2Decoders,
      psthSource,
      psthKernelSdMs: kernelSdMs,
    },
    notes,
  });
}

/**
 * The velocity decoders' masks a dataset asks for, one per decoder, over all its trials;
 * null for one decoder on every trial. An NWB dataset loaded with `decodeMasks` (the
 * area2_bump preset: `ctr_hold_bump` 0 and 1, as the reference's `decode_masks`) gets a
 * mask per value, read from `nwb.trialInfo`; a trial whose value is none of them (NaN, say)
 * is in no mask. Other datasets get null.
 *
 * @example
 * ```ts
 * import { nlbDecodeMasks } from "./nlb.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * nlbDecodeMasks(reachDataset({ trials: 20 })); // null: one decoder
 * ```
 */
export function nlbDecodeMasks(dataset: NeuralDataset): Uint8Array[] | null {
  const nwb = (dataset as Partial<NWBDataset>).nwb;
  const rule = nwb?.settings?.decodeMasks;
  if (!nwb || !rule) return null;
  const column = nwb.trialInfo[rule.column];
  if (column === undefined) {
    throw new ArgumentError(
      `dataset "${dataset.name}" asks for one velocity decoder per value of "${rule.column}" ` +
        `but nwb.trialInfo has no such column (its columns: ${
          Object.keys(nwb.trialInfo).join(", ")
        })`,
    );
  }
  if (Array.isArray(column)) {
    throw new ArgumentError(
      `nwb.trialInfo.${rule.column} holds strings; expected numbers to compare with ` +
        `decodeMasks values ${rule.values.join(", ")}`,
    );
  }
  if (column.length !== dataset.split.length) {
    throw new ArgumentError(
      `nwb.trialInfo.${rule.column} has ${column.length} trials but dataset "${dataset.name}" ` +
        `has ${dataset.split.length} (subsetTrials keeps the nwb record whole); pass ` +
        `evaluateNLB's decodeMasks for these trials, or null for one decoder`,
    );
  }
  return rule.values.map((value) => Uint8Array.from(column, (v) => (v === value ? 1 : 0)));
}

/** Where `nlbDecodeMasks` found the masks, in words. */
function decodeMaskSource(dataset: NeuralDataset): string {
  const rule = (dataset as Partial<NWBDataset>).nwb?.settings?.decodeMasks;
  return rule ? `${rule.column} = ${rule.values.join(", ")}, as the reference` : "";
}

/**
 * True PSTHs from binned spikes: the condition means of the given trials' spikes
 * (held-in then held-out), smoothed with the reference's Gaussian kernel. Smoothing is
 * linear and every trial has the same edges, so the mean of smoothed trials equals the
 * smoothed mean: average first, then smooth (conditions, not trials, of work). Every
 * trial of a dataset has the same length, so the reference's rule that drops trials
 * shorter than 0.8x the mean length never applies.
 */
function binnedSpikePSTH(
  dataset: NeuralDataset,
  trials: number[],
  kernelSdMs: number,
): { psth: Array3; conditionIds: number[] } {
  const psthTrials = [...new Set(trials)].sort((a, b) => a - b);
  const spikes = concat3([dataset.heldinSpikes, dataset.heldoutSpikes], 2);
  const averaged = conditionPSTH(spikes, dataset.condition, psthTrials);
  return {
    psth: smoothSpikes(averaged.psth, kernelSdMs, dataset.binMs),
    conditionIds: averaged.conditionIds,
  };
}

/** Show an NLB record in Jupyter as a table of its metrics, with its settings and notes. */
function withRecordDisplay(record: NLBRecord): NLBRecord {
  return attachDisplay(record, () => {
    const s = record.settings;
    const caption = `${record.dataset}: ${record.evalSplit} split (${record.evalTrials} trials); ` +
      `${s.binMs} ms bins; vel R2 decoder fit on ${record.trainSplit}` +
      (s.velR2Alpha !== null
        ? `, ridge alpha ${s.velR2Alpha}`
        : s.velR2Decoders.length > 1
        ? `, ${s.velR2Decoders.length} decoders (ridge alpha ${
          s.velR2Decoders.map((d) => d.alpha).join(", ")
        })`
        : "") +
      `; psth R2 against ${s.psthSource} PSTHs (${s.psthKernelSdMs} ms kernel)`;
    const table = htmlTable(
      ["co-bps", "vel R2", "psth R2", "fp-bps"],
      [[record.coBps, record.velR2, record.psthR2, record.fpBps].map((v) => formatCell(v))],
      caption,
    );
    const notes = record.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("");
    return {
      "text/html": table + (notes ? `<ul>${notes}</ul>` : ""),
      "text/plain": `co-bps ${formatCell(record.coBps)}, vel R2 ${formatCell(record.velR2)}, ` +
        `psth R2 ${formatCell(record.psthR2)}, fp-bps ${formatCell(record.fpBps)}`,
    };
  });
}
