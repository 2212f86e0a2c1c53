/**
 * The multi-task control of a BLEND experiment: the base model, neural input only, with
 * behavior as an extra **training target** read out of its latents by a linear head.
 * Behavior never enters the model's input, so at inference the model is the base model;
 * whatever it gains over the baseline comes from behavior shaping the latents in training.
 * It is the simplest way to use behavior without a teacher, so a distilled student has to
 * beat it for distillation to be worth its cost.
 * @module
 */

import { behaviorScaling, type NeuralDataset } from "../data/dataset.ts";
import { tf } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { applyLinear, linear, ParameterStore } from "../models/layers.ts";
import { latentWidth, type SequenceModel } from "../models/model.ts";
import type { Objective } from "./trainer.ts";

/** Options of `behaviorTargetObjective`. */
export interface BehaviorTargetOptions {
  /**
   * Weight of the behavior MSE (z-scored units) added to the masked Poisson loss. Default
   * 0.1: on the demo's data (compact NDT, seed 0) weight 1 let behavior swamp the Poisson
   * fit (validation co-bps peaked at epoch 9; test co-bps 0.070 against the baseline's
   * 0.229), while 0.1 trained to convergence (epoch 271) at co-bps 0.187 and vel R2 0.885
   * (baseline 0.781).
   */
  weight?: number;
  /** Seed of the head's initial weights. Default 0. */
  seed?: number;
}

/** The objective with its head; `dispose` frees the head. */
export interface BehaviorTargetObjective extends Objective {
  /** The head's weights (`head.weight`: latent width x behavior dims, `head.bias`). */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** Release the head. */
  dispose(): void;
}

/**
 * An `Objective` that adds `weight * MSE(head(latents), behavior)` over the observed bins
 * whose behavior is not NaN. Behavior is z-scored with the train split's statistics; the
 * head is linear (latent width -> behavior dims) and trained with the model.
 *
 * @example
 * ```ts
 * // const objective = behaviorTargetObjective(model, data, { weight: 1 });
 * // await fit(model, data, { objective });
 * // objective.dispose();
 * ```
 */
export function behaviorTargetObjective(
  model: SequenceModel,
  dataset: NeuralDataset,
  options: BehaviorTargetOptions = {},
): BehaviorTargetObjective {
  const weight = options.weight ?? 0.1;
  if (typeof weight !== "number" || !(weight >= 0) || !Number.isFinite(weight)) {
    throw new ArgumentError(
      `multitask weight must be a finite number >= 0, got ${describe(weight)}`,
    );
  }
  const [, bins, dims] = dataset.behavior.shape;
  if (dims === 0) {
    throw new ArgumentError(`dataset "${dataset.name}" has no behavior to use as a target`);
  }
  // Z-scored once with the train split's statistics (and where it was measured); each
  // step only copies its trials' rows.
  const { mean, std } = behaviorScaling(dataset, "train");
  const target = new Float32Array(dataset.behavior.data.length);
  const present = new Float32Array(target.length);
  dataset.behavior.data.forEach((v, j) => {
    if (Number.isNaN(v)) return;
    target[j] = (v - mean[j % dims]) / std[j % dims];
    present[j] = 1;
  });
  const width = latentWidth(model);
  const store = new ParameterStore(options.seed ?? 0);
  const head = linear(store, "head", width, dims);
  const rows = (source: Float32Array, trials: readonly number[]) => {
    const out = new Float32Array(trials.length * bins * dims);
    trials.forEach((trial, b) =>
      out.set(source.subarray(trial * bins * dims, (trial + 1) * bins * dims), b * bins * dims)
    );
    return tf.tensor3d(out, [trials.length, bins, dims]);
  };
  return {
    variables: store.variables,
    loss(context, base) {
      const trials = context.batch.trials;
      const latents = context.outputs.latents.slice([0, 0, 0], [trials.length, bins, width]);
      const mask = rows(present, trials);
      const residual = tf.mul(tf.sub(applyLinear(head, latents), rows(target, trials)), mask);
      const behavior = tf.div(
        tf.sum(tf.square(residual)),
        tf.maximum(tf.sum(mask), 1),
      ) as tf.Scalar;
      return {
        total: tf.add(base, tf.mul(behavior, weight)) as tf.Scalar,
        terms: { behavior },
      };
    },
    dispose() {
      store.dispose();
    },
  };
}
