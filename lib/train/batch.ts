/**
 * From a `NeuralDataset` to what a model trains on: held-in inputs, the targets over every
 * output neuron and bin, and for a teacher the privileged signal (behavior z-scored with
 * train-split statistics, zero where it was measured inside the forward window, or the
 * condition as a one-hot).
 * @module
 */

import { behaviorScaling, type NeuralDataset, type Split } from "../data/dataset.ts";
import { ArgumentError } from "../errors.ts";
import type { DataShape, ModelConfig, PrivilegedSpec } from "../models/model.ts";

/** The data shape of a dataset, for building a model that fits it. */
export function dataShape(dataset: NeuralDataset): DataShape {
  return {
    heldinNeurons: dataset.heldinSpikes.shape[2],
    heldoutNeurons: dataset.heldoutSpikes.shape[2],
    bins: dataset.heldinSpikes.shape[1],
    forwardBins: dataset.forwardHeldinSpikes.shape[1],
  };
}

/** Throw a clear error when a model's data shape is not the dataset's. */
export function checkModelFitsData(config: ModelConfig, dataset: NeuralDataset): void {
  const shape = dataShape(dataset);
  for (const key of Object.keys(shape) as (keyof DataShape)[]) {
    if (config[key] !== shape[key]) {
      throw new ArgumentError(
        `the model was built for ${key} = ${config[key]} but dataset "${dataset.name}" has ${
          shape[key]
        }`,
      );
    }
  }
  const p = config.privileged;
  if (p?.kind === "behavior") {
    const names = dataset.behaviorNames.join(", ");
    if (names !== p.names.join(", ")) {
      throw new ArgumentError(
        `the teacher takes behavior [${
          p.names.join(", ")
        }] but dataset "${dataset.name}" has [${names}]`,
      );
    }
  }
}

/**
 * Describe a teacher's privileged input for a dataset: `behavior` (z-scored with the mean
 * and s.d. of the `fitOn` split, so no other split's statistics leak in) or `condition`
 * (one-hot over the dataset's condition ids). The statistics are over every observed bin
 * of the `fitOn` trials, those that `privilegedSignal` zeroes for the behavior lag
 * included.
 *
 * @example
 * ```ts
 * import { privilegedSignal, privilegedSpec } from "./batch.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 30, seed: 1 });
 * const spec = privilegedSpec(data, "behavior"); // { kind, names, mean, std }
 * privilegedSignal(data, [0, 1], spec); // 2 x bins x 2, float32
 * ```
 */
export function privilegedSpec(
  dataset: NeuralDataset,
  kind: "behavior" | "condition",
  fitOn: Split = "train",
): PrivilegedSpec {
  if (kind === "condition") {
    return { kind, conditions: [...new Set(dataset.condition)].sort((a, b) => a - b) };
  }
  if (dataset.behavior.shape[2] === 0) {
    throw new ArgumentError(`dataset "${dataset.name}" has no behavior to privilege`);
  }
  const scaling = behaviorScaling(dataset, fitOn);
  const mean = Array.from(scaling.mean), std = Array.from(scaling.std);
  return { kind, names: [...dataset.behaviorNames], mean, std };
}

/** Width of a privileged input. */
export function privilegedWidth(spec: PrivilegedSpec): number {
  return spec.kind === "behavior" ? spec.names.length : spec.conditions.length;
}

/**
 * Observed bins at the end of each trial whose behavior row was measured after the last
 * observed bin, i.e. inside the forward window: `round(behaviorLagMs / binMs)` for a
 * positive lag (at most `bins`), 0 for a zero or negative lag.
 */
function behaviorLeakBins(dataset: NeuralDataset, bins: number): number {
  const lagBins = Math.round(dataset.behaviorLagMs / dataset.binMs);
  return Number.isFinite(lagBins) ? Math.min(bins, Math.max(0, lagBins)) : 0;
}

/**
 * The privileged signal of some trials: trials x bins x width, float32.
 *
 * - `behavior`: each dimension z-scored with the spec's mean and s.d.; NaN becomes 0.
 *   Datasets store behavior already shifted by `behaviorLagMs` (the row of observed bin
 *   `t` is the behavior measured at `t + lag`), so for a positive lag the last
 *   `round(behaviorLagMs / binMs)` observed bins of every trial carry behavior measured
 *   inside the forward-prediction window. Those rows are 0 (bins
 *   `t >= bins - round(behaviorLagMs / binMs)`, every dimension), so a teacher never
 *   sees behavior from the window its forward predictions are scored on. A zero or
 *   negative lag (Area2_Bump's -20 ms) leaks nothing and zeroes nothing. `gatherBatch`,
 *   and with it training, prediction and distillation, builds its privileged input here.
 * - `condition`: the trial's condition as a one-hot on every observed bin (no lag).
 *
 * @example
 * ```ts
 * import { privilegedSignal, privilegedSpec } from "./batch.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * // 5 ms bins and a 100 ms lag: the last 20 of the 140 observed bins are 0.
 * const data = reachDataset({ trials: 30, seed: 1 });
 * const signal = privilegedSignal(data, [0], privilegedSpec(data, "behavior"));
 * signal.subarray(120 * 2).every((v) => v === 0); // true
 * ```
 */
export function privilegedSignal(
  dataset: NeuralDataset,
  trials: readonly number[],
  spec: PrivilegedSpec,
): Float32Array {
  const bins = dataset.heldinSpikes.shape[1];
  const width = privilegedWidth(spec);
  const out = new Float32Array(trials.length * bins * width);
  if (spec.kind === "behavior") {
    const dims = dataset.behavior.shape[2], source = dataset.behavior.data;
    // Rows from `visible` on hold behavior from the forward window: they stay 0.
    const visible = bins - behaviorLeakBins(dataset, bins);
    trials.forEach((trial, b) => {
      for (let t = 0; t < visible; t++) {
        for (let k = 0; k < dims; k++) {
          const v = (source[(trial * bins + t) * dims + k] - spec.mean[k]) / spec.std[k];
          out[(b * bins + t) * width + k] = Number.isNaN(v) ? 0 : v;
        }
      }
    });
  } else {
    const column = new Map(spec.conditions.map((c, k) => [c, k]));
    trials.forEach((trial, b) => {
      const k = column.get(dataset.condition[trial]);
      if (k === undefined) {
        throw new ArgumentError(
          `trial ${trial} has condition ${dataset.condition[trial]}, which the teacher never saw ` +
            `(it knows ${spec.conditions.length} conditions)`,
        );
      }
      for (let t = 0; t < bins; t++) out[(b * bins + t) * width + k] = 1;
    });
  }
  return out;
}

/** One minibatch in flat float32 arrays. */
export interface Batch {
  /** Dataset trial indices, in batch order. */
  trials: number[];
  /** Held-in spikes: batch x bins x heldin. */
  heldin: Float32Array;
  /**
   * Every count the model predicts: batch x (bins + forward) x (heldin + heldout), held-in
   * neurons first, observed bins first.
   */
  targets: Float32Array;
  /** The teacher's privileged input, batch x bins x width (teachers only). */
  privileged?: Float32Array;
}

/** Gather the trials of one batch from a dataset, for a model of the given config. */
export function gatherBatch(
  dataset: NeuralDataset,
  trials: readonly number[],
  config: ModelConfig,
): Batch {
  const { heldinNeurons: nIn, heldoutNeurons: nOut, bins, forwardBins } = config;
  const width = nIn + nOut, length = bins + forwardBins;
  const heldin = new Float32Array(trials.length * bins * nIn);
  const targets = new Float32Array(trials.length * length * width);
  const copy = (
    source: ArrayLike<number>,
    trial: number,
    time: number,
    channels: number,
    b: number,
    t0: number,
    c0: number,
  ) => {
    for (let t = 0; t < time; t++) {
      const from = (trial * time + t) * channels, to = (b * length + t0 + t) * width + c0;
      for (let c = 0; c < channels; c++) targets[to + c] = source[from + c];
    }
  };
  trials.forEach((trial, b) => {
    heldin.set(
      dataset.heldinSpikes.data.subarray(trial * bins * nIn, (trial + 1) * bins * nIn),
      b * bins * nIn,
    );
    copy(dataset.heldinSpikes.data, trial, bins, nIn, b, 0, 0);
    copy(dataset.heldoutSpikes.data, trial, bins, nOut, b, 0, nIn);
    copy(dataset.forwardHeldinSpikes.data, trial, forwardBins, nIn, b, bins, 0);
    copy(dataset.forwardHeldoutSpikes.data, trial, forwardBins, nOut, b, bins, nIn);
  });
  const batch: Batch = { trials: [...trials], heldin, targets };
  if (config.privilegedDim > 0) {
    batch.privileged = privilegedSignal(dataset, trials, config.privileged!);
  }
  return batch;
}

/**
 * Loss weights over the targets: the scored (masked) held-in entries of the observed bins,
 * and every held-out neuron and forward bin.
 */
export function lossWeights(
  scored: Float32Array,
  config: ModelConfig,
  batchSize: number,
): Float32Array {
  const { heldinNeurons: nIn, heldoutNeurons: nOut, bins, forwardBins } = config;
  const width = nIn + nOut, length = bins + forwardBins;
  const weights = new Float32Array(batchSize * length * width).fill(1);
  for (let b = 0; b < batchSize; b++) {
    for (let t = 0; t < bins; t++) {
      weights.set(
        scored.subarray((b * bins + t) * nIn, (b * bins + t + 1) * nIn),
        (b * length + t) * width,
      );
    }
  }
  return weights;
}
