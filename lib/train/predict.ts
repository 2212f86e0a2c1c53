/**
 * Run a trained model over a split and return its rates as plain arrays, ready for the
 * metrics (`evaluateNLB`) and figures.
 * @module
 */

import { type Array3, array3 } from "../array.ts";
import { type NeuralDataset, type Split, trialsInSplit } from "../data/dataset.ts";
import { tf } from "../deps.ts";
import { ArgumentError } from "../errors.ts";
import type { RateSet } from "../metrics/nlb.ts";
import type { SequenceModel } from "../models/model.ts";
import { checkModelFitsData, gatherBatch } from "./batch.ts";

/** Options of `predict`. */
export interface PredictOptions {
  /** Trials per forward pass. Default 64. */
  batchSize?: number;
  /** Also return the latents (trials x (bins + forward) x latent width). Default false. */
  latents?: boolean;
}

/** A model's predictions for one split's trials, in dataset order. */
export interface Prediction extends RateSet {
  /** Held-in rates, observed bins (spikes per bin). */
  heldin: Array3<Float32Array>;
  /** Held-out rates, observed bins. */
  heldout: Array3<Float32Array>;
  /** Held-in rates, forward bins. */
  forwardHeldin: Array3<Float32Array>;
  /** Held-out rates, forward bins. */
  forwardHeldout: Array3<Float32Array>;
  /** The dataset trial indices predicted. */
  trials: number[];
  /** Latents over observed then forward bins, when asked for. */
  latents?: Array3<Float32Array>;
}

/**
 * Predict rates (expected spikes per bin) for the trials of a split (or a list of trial
 * indices), in eval mode: no dropout, no masking, posterior means.
 *
 * @example
 * ```ts
 * import { predict } from "./predict.ts";
 * import { evaluateNLB } from "../metrics/nlb.ts";
 * // after fit(model, data):
 * // const record = evaluateNLB(data, {
 * //   train: await predict(model, data, "train"),
 * //   eval: await predict(model, data, "test"),
 * // });
 * ```
 */
export async function predict(
  model: SequenceModel,
  dataset: NeuralDataset,
  split: Split | readonly Split[] | readonly number[],
  options: PredictOptions = {},
): Promise<Prediction> {
  const config = model.config;
  checkModelFitsData(config, dataset);
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ArgumentError(`predict: batchSize must be a positive integer, got ${batchSize}`);
  }
  const trials = typeof split === "string" || typeof split[0] === "string"
    ? trialsInSplit(dataset, split as Split | Split[])
    : [...(split as readonly number[])];
  const n = trials.length;
  const { heldinNeurons: nIn, heldoutNeurons: nOut, bins, forwardBins } = config;
  const width = nIn + nOut, length = bins + forwardBins;
  const out: Prediction = {
    trials,
    heldin: array3([n, bins, nIn]),
    heldout: array3([n, bins, nOut]),
    forwardHeldin: array3([n, forwardBins, nIn]),
    forwardHeldout: array3([n, forwardBins, nOut]),
  };
  if (options.latents) out.latents = array3([n, length, model.latentDim]);
  for (let start = 0; start < n; start += batchSize) {
    const ids = trials.slice(start, start + batchSize);
    const batch = gatherBatch(dataset, ids, config);
    const [rates, latents] = tf.tidy(() => {
      const result = model.forward({
        heldin: tf.tensor3d(batch.heldin, [ids.length, bins, nIn]),
        privileged: batch.privileged
          ? tf.tensor3d(batch.privileged, [ids.length, bins, config.privilegedDim])
          : undefined,
      }, { training: false });
      return [tf.exp(result.logRates), options.latents ? result.latents : tf.zeros([0])];
    });
    const values = await rates.data() as Float32Array;
    const latentValues = options.latents ? await latents.data() as Float32Array : null;
    rates.dispose();
    latents.dispose();
    ids.forEach((_, b) => {
      const i = start + b;
      for (let t = 0; t < length; t++) {
        const row = values.subarray((b * length + t) * width, (b * length + t + 1) * width);
        if (t < bins) {
          out.heldin.data.set(row.subarray(0, nIn), (i * bins + t) * nIn);
          out.heldout.data.set(row.subarray(nIn), (i * bins + t) * nOut);
        } else {
          const f = t - bins;
          out.forwardHeldin.data.set(row.subarray(0, nIn), (i * forwardBins + f) * nIn);
          out.forwardHeldout.data.set(row.subarray(nIn), (i * forwardBins + f) * nOut);
        }
      }
    });
    if (latentValues) {
      out.latents!.data.set(latentValues, start * length * model.latentDim);
    }
  }
  for (const a of [out.heldin, out.heldout, out.forwardHeldin, out.forwardHeldout]) {
    for (const v of a.data) {
      if (!Number.isFinite(v)) {
        throw new ArgumentError(
          `the model predicted a non-finite rate (${v}); its weights have diverged`,
        );
      }
    }
  }
  return out;
}
