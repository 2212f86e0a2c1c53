/**
 * Ground-truth recovery on synthetic data: how close a model's rates are to the true
 * rates, and how much of the true latent state a linear map can read from its latents.
 * Real recordings have no truth; these scores are for datasets with `dataset.truth`.
 * @module
 */

import { type Array3, assertArray3, selectTrials, sliceTime } from "../array.ts";
import { type NeuralDataset, type Split, SPLITS, trialsInSplit } from "../data/dataset.ts";
import { ArgumentError, describe } from "../errors.ts";
import { logspace } from "../math.ts";
import { fitRidgeCV, type Matrix, predictRidge, r2PerTarget, trialsAsRows } from "./regression.ts";

/**
 * A model's predictions for one split's trials, in dataset order: what `predict` returns
 * (its `Prediction` fits), or any `RateSet` plus optional latents.
 */
export interface TruthPrediction {
  /** Held-in rates over the observed bins (spikes per bin): trials x bins x heldin. */
  heldin: Array3;
  /** Held-out rates over the observed bins: trials x bins x heldout. */
  heldout: Array3;
  /**
   * The model's latents: trials x (bins + forward) x width, as `predict(..., { latents:
   * true })` returns them, or trials x bins x width. Only the observed bins are used.
   */
  latents?: Array3;
  /** The dataset trial indices predicted; when given, they must be the split's trials. */
  trials?: readonly number[];
}

/** Options of `truthRecovery`. */
export interface TruthRecoveryOptions {
  /** The split that is scored. Default `"test"`. */
  evalSplit?: Split;
  /** The split the latent map is fit on. Default `"train"`. */
  trainSplit?: Split;
  /** Ridge penalties searched for the latent map (`fitRidgeCV`). Default `logspace(-4, 0, 9)`. */
  alphas?: readonly number[];
  /** Cross-validation folds (contiguous rows of the train split) for the penalty. Default 5. */
  folds?: number;
}

/** How well predicted rates of one neuron group match the true rates. */
export interface RateRecovery {
  /**
   * R² per neuron over every (trial, observed bin) of the eval split, averaged uniformly
   * over neurons (scikit-learn's `r2_score`, `multioutput="uniform_average"`). Primary.
   */
  r2: number;
  /**
   * Pooled-variance R²: `1 - Σ residual² / Σ (true - neuron's mean)²` summed over every
   * neuron (scikit-learn's `"variance_weighted"`), so high-variance neurons weigh more.
   */
  r2VarianceWeighted: number;
  /** R² of each neuron. */
  r2PerNeuron: Float64Array;
}

/** How well a linear map from the model's latents recovers the true latents. */
export interface LatentRecovery {
  /** R² on the eval split's observed bins, averaged uniformly over true latent dimensions. */
  r2: number;
  /** R² per true latent, in `latentNames` order. */
  r2PerLatent: Float64Array;
  /** The true latents' names (`dataset.truth.latentNames`). */
  latentNames: string[];
  /** Width of the model's latents. */
  width: number;
  /** The ridge penalty chosen by cross-validation on the train split. */
  alpha: number;
  /** The penalties searched. */
  alphas: number[];
  /** Mean cross-validated R² per penalty. */
  cvScores: Float64Array;
  /** Rows (trials x observed bins) the map was fit on. */
  trainRows: number;
  /** Rows it was scored on. */
  evalRows: number;
}

/** What `truthRecovery` returns. */
export interface TruthRecoveryRecord {
  /** The dataset's name. */
  dataset: string;
  /** The split that was scored. */
  evalSplit: Split;
  /** The split the latent map was fit on. */
  trainSplit: Split;
  /** Number of scored trials. */
  evalTrials: number;
  /** `heldin.r2`: uniform-average R² of the held-in rates against the true rates. */
  heldinR2: number;
  /** `heldout.r2`: uniform-average R² of the held-out rates against the true rates. */
  heldoutR2: number;
  /** `latents.r2`, or null when no latents were given. */
  latentR2: number | null;
  /** Held-in rates in detail. */
  heldin: RateRecovery;
  /** Held-out rates in detail. */
  heldout: RateRecovery;
  /** The latent map in detail, or null when no latents were given. */
  latents: LatentRecovery | null;
  /** Why a score is null, in words. */
  notes: string[];
}

function checkSplit(value: unknown, field: string): Split {
  if (!(SPLITS as readonly unknown[]).includes(value)) {
    throw new ArgumentError(
      `${field} must be one of ${SPLITS.join(", ")}, got ${describe(value)}`,
    );
  }
  return value as Split;
}

/** Check a predicted array's shape (trials x time x channels) and that it is finite. */
function checkPredicted(
  a: unknown,
  field: string,
  expected: [number, number, number],
  what: string,
): Array3 {
  assertArray3(a, field);
  if (a.shape.some((n, k) => n !== expected[k])) {
    throw new ArgumentError(
      `${field} has shape [${a.shape.join(", ")}]; expected [${expected.join(", ")}] (${what})`,
    );
  }
  const [, time, channels] = a.shape;
  for (let i = 0; i < a.data.length; i++) {
    const v = a.data[i];
    if (Number.isFinite(v)) continue;
    throw new ArgumentError(
      `${field} has ${v} at trial ${Math.floor(i / (time * channels))}, bin ${
        Math.floor(i / channels) % time
      }, channel ${i % channels}; expected finite values`,
    );
  }
  return a;
}

function checkTrials(
  given: readonly number[] | undefined,
  expected: number[],
  field: string,
  split: Split,
) {
  if (given === undefined) return;
  const same = given.length === expected.length && given.every((t, k) => t === expected[k]);
  if (!same) {
    const show = (t: readonly number[]) =>
      `[${t.slice(0, 6).join(", ")}${t.length > 6 ? `, … (${t.length})` : ""}]`;
    throw new ArgumentError(
      `${field} is ${show(given)}; expected the ${split} split's trials ${
        show(expected)
      } in dataset order`,
    );
  }
}

/** R² of predicted against true rates, per neuron and pooled (both trials x bins x neurons). */
function rateRecovery(truth: Array3, predicted: Array3): RateRecovery {
  const yTrue = trialsAsRows(truth), yPred = trialsAsRows(predicted);
  const r2PerNeuron = r2PerTarget(yTrue, yPred);
  const { rows, cols } = yTrue;
  let residual = 0, total = 0;
  for (let c = 0; c < cols; c++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += yTrue.data[r * cols + c];
    mean /= rows;
    for (let r = 0; r < rows; r++) {
      const t = yTrue.data[r * cols + c];
      residual += (t - yPred.data[r * cols + c]) ** 2;
      total += (t - mean) ** 2;
    }
  }
  return {
    r2: r2PerNeuron.reduce((a, b) => a + b, 0) / Math.max(1, cols),
    r2VarianceWeighted: total === 0 ? (residual === 0 ? 1 : 0) : 1 - residual / total,
    r2PerNeuron,
  };
}

/** The observed bins of a model's latents (trials x bins or bins + forward x width). */
function observedLatents(
  a: unknown,
  field: string,
  trials: number,
  bins: number,
  forward: number,
  width?: number,
): Array3 {
  assertArray3(a, field);
  const [n, time, w] = a.shape;
  const widthOk = width === undefined || w === width;
  if (n !== trials || (time !== bins + forward && time !== bins) || !widthOk || w === 0) {
    const expectedWidth = width ?? "width >= 1";
    throw new ArgumentError(
      `${field} has shape [${a.shape.join(", ")}]; expected [${trials}, ${
        bins + forward
      }, ${expectedWidth}] (trials x observed + forward bins x latent width; [${trials}, ${bins}, ${expectedWidth}] ` +
        "with observed bins only is accepted too)",
    );
  }
  const observed = time === bins ? a : sliceTime(a, 0, bins);
  return checkPredicted(observed, field, [n, bins, w], "trials x observed bins x latent width");
}

/**
 * Ground-truth recovery of a model on a synthetic dataset (one with `dataset.truth`),
 * scored on the `evalSplit` trials (default `"test"`) over the observed bins:
 *
 * - **rates**: R² of the predicted against the true rates (spikes per bin), held-in and
 *   held-out neurons separately. Every (trial, observed bin) of the eval split is a row;
 *   R² is computed per neuron and averaged uniformly over neurons (`heldinR2`,
 *   `heldoutR2`: the primary scores, each neuron counting the same whatever its rate).
 *   The pooled-variance R² (`r2VarianceWeighted`) is reported beside it. Rates, not
 *   log-rates: the true rates are what Poisson spikes are drawn from, and log-rates would
 *   weight near-silent bins heavily.
 * - **latents** (when `eval.latents` is given): a ridge map with intercept from the
 *   model's latents to the true latents (`dataset.truth.latents`), fit on the
 *   `trainSplit` trials' observed bins (penalty by `folds`-fold cross-validation,
 *   `fitRidgeCV`), scored on the eval trials' observed bins, R² averaged uniformly over
 *   the true latent dimensions (`latentR2`). The map absorbs any basis and offset: latents
 *   that are an injective linear transform of the true latents score 1.
 *
 * Throws an `ArgumentError` naming the dataset when it has no truth, and naming the field
 * with the expected and actual shape on a mismatch.
 *
 * @example
 * ```ts
 * import { truthRecovery } from "./truth.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * import { predict } from "../train/predict.ts";
 * const data = reachDataset({ trials: 200, seed: 1 });
 * // after fit(model, data):
 * // const record = truthRecovery(data, {
 * //   train: await predict(model, data, "train", { latents: true }),
 * //   eval: await predict(model, data, "test", { latents: true }),
 * // });
 * // record.heldoutR2, record.latentR2
 * ```
 */
export function truthRecovery(
  dataset: NeuralDataset,
  predictions: { train?: TruthPrediction; eval: TruthPrediction },
  options: TruthRecoveryOptions = {},
): TruthRecoveryRecord {
  const truth = dataset.truth;
  if (!truth) {
    throw new ArgumentError(
      `dataset "${dataset.name}" has no truth (true rates and latents); only synthetic ` +
        "datasets have, so truthRecovery cannot score it",
    );
  }
  const evalSplit = checkSplit(options.evalSplit ?? "test", "evalSplit");
  const trainSplit = checkSplit(options.trainSplit ?? "train", "trainSplit");
  if (predictions === null || typeof predictions !== "object" || !predictions.eval) {
    throw new ArgumentError(
      `predictions must be { train?, eval } with eval's rates, got ${describe(predictions)}`,
    );
  }
  const [, bins, nIn] = dataset.heldinSpikes.shape;
  const nOut = dataset.heldoutSpikes.shape[2];
  const forward = dataset.forwardHeldinSpikes.shape[1];
  const evalTrials = trialsInSplit(dataset, evalSplit);
  if (evalTrials.length === 0) {
    throw new ArgumentError(`evalSplit "${evalSplit}" of dataset "${dataset.name}" has no trials`);
  }
  const ev = predictions.eval;
  checkTrials(ev.trials, evalTrials, "eval.trials", evalSplit);
  const n = evalTrials.length;
  const what = `the ${evalSplit} split's trials x observed bins x neurons`;
  const heldinPred = checkPredicted(ev.heldin, "eval.heldin", [n, bins, nIn], what);
  const heldoutPred = checkPredicted(ev.heldout, "eval.heldout", [n, bins, nOut], what);
  const heldin = rateRecovery(selectTrials(truth.heldinRates, evalTrials), heldinPred);
  const heldout = rateRecovery(selectTrials(truth.heldoutRates, evalTrials), heldoutPred);

  const notes: string[] = [];
  let latents: LatentRecovery | null = null;
  if (ev.latents === undefined) {
    notes.push("latent R2: no eval.latents given (predict with { latents: true })");
  } else {
    const tr = predictions.train;
    if (!tr?.latents) {
      throw new ArgumentError(
        `latent R2 needs train.latents (the ${trainSplit} split's latents) to fit the map ` +
          `on; got ${tr ? "train without latents" : "no train predictions"}`,
      );
    }
    const trainTrials = trialsInSplit(dataset, trainSplit);
    if (trainTrials.length === 0) {
      throw new ArgumentError(
        `trainSplit "${trainSplit}" of dataset "${dataset.name}" has no trials`,
      );
    }
    checkTrials(tr.trials, trainTrials, "train.trials", trainSplit);
    const evalLatents = observedLatents(ev.latents, "eval.latents", n, bins, forward);
    const width = evalLatents.shape[2];
    const trainLatents = observedLatents(
      tr.latents,
      "train.latents",
      trainTrials.length,
      bins,
      forward,
      width,
    );
    const observedTruth = (trials: number[]): Matrix =>
      trialsAsRows(sliceTime(selectTrials(truth.latents, trials), 0, bins));
    const search = fitRidgeCV(trialsAsRows(trainLatents), observedTruth(trainTrials), {
      alphas: options.alphas ?? logspace(-4, 0, 9),
      folds: options.folds ?? 5,
    });
    const x = trialsAsRows(evalLatents);
    const r2PerLatent = r2PerTarget(observedTruth(evalTrials), predictRidge(search.model, x));
    latents = {
      r2: r2PerLatent.reduce((a, b) => a + b, 0) / Math.max(1, r2PerLatent.length),
      r2PerLatent,
      latentNames: [...truth.latentNames],
      width,
      alpha: search.alpha,
      alphas: search.alphas,
      cvScores: search.meanScores,
      trainRows: trainTrials.length * bins,
      evalRows: x.rows,
    };
  }
  return {
    dataset: dataset.name,
    evalSplit,
    trainSplit,
    evalTrials: n,
    heldinR2: heldin.r2,
    heldoutR2: heldout.r2,
    latentR2: latents?.r2 ?? null,
    heldin,
    heldout,
    latents,
    notes,
  };
}
