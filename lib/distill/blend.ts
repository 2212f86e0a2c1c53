/**
 * BLEND's workflow: train a teacher that sees neural activity plus a privileged signal
 * (behavior as z-scored floats with NaN masked, or the condition as a one-hot), freeze it
 * at its best validation epoch, and distill students that see neural activity only:
 * `loss = alpha * base + (1 - alpha) * distill` (`../shared/RESEARCH.md` §2).
 *
 * The teacher is frozen for good: its outputs on the training trials are computed once,
 * in eval mode (no dropout, no masking, every held-in spike visible), and the students
 * train against those numbers. Its privileged input is zero over the forward bins and over
 * the last lag-worth of observed bins (whose behavior is measured inside the forward
 * window), in training and prediction alike, so its forward predictions are behavior-free.
 * @module
 */

import { trialsInSplit } from "../data/dataset.ts";
import type { NeuralDataset } from "../data/dataset.ts";
import { tf } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import {
  createModel,
  type DataShape,
  type ModelConfigInput,
  type ModelKind,
  type SequenceModel,
} from "../models/model.ts";
import { dataShape, gatherBatch, privilegedSpec, privilegedWidth } from "../train/batch.ts";
import { fit, type FitOptions, type FitResult, type Objective } from "../train/trainer.ts";
import { createStrategy, type Strategy, type StrategyName } from "./strategies.ts";

/**
 * A model as an experiment names it: a kind with its defaults, or a kind with overrides
 * (any model option except the data shape, which comes from the dataset).
 */
export type ModelSpec =
  | ModelKind
  | ({ kind: ModelKind } & Record<string, unknown>);

/** Which layer the `feature` strategy matches: the latents, or `hidden[k]` (negative counts from the end). */
export type FeatureLayer = "latents" | number;

/** Build a model of a spec for a dataset; `privileged` makes it a teacher. */
export function buildModel(
  spec: ModelSpec,
  dataset: NeuralDataset,
  seed: number,
  privileged?: "behavior" | "condition",
): SequenceModel {
  const options = typeof spec === "string" ? { kind: spec } : spec;
  const config: Record<string, unknown> = { ...options, ...dataShape(dataset), seed };
  if (privileged) {
    const p = privilegedSpec(dataset, privileged);
    config.privileged = p;
    config.privilegedDim = privilegedWidth(p);
  }
  return createModel(config as unknown as ModelConfigInput & DataShape);
}

/**
 * Train a teacher: the model of `spec` with the privileged signal as extra input, early
 * stopped on the val split; it ends holding its best weights.
 *
 * @example
 * ```ts
 * import { trainTeacher } from "./blend.ts";
 * import { reachDataset } from "../data/synthetic/reach.ts";
 * const data = reachDataset({ trials: 200, heldinNeurons: 30, heldoutNeurons: 10, bins: 30, forwardBins: 5, binMs: 20, moveOnsetBin: 10, behaviorExpression: 0.25 });
 * const { teacher } = await trainTeacher(data, { kind: "ndt", dModel: 32, layers: 1 }, { epochs: 3, progress: "none" });
 * ```
 */
export async function trainTeacher(
  dataset: NeuralDataset,
  spec: ModelSpec,
  fitOptions: FitOptions = {},
  privileged: "behavior" | "condition" = "behavior",
): Promise<{ teacher: SequenceModel; fit: FitResult }> {
  const seed = fitOptions.seed ?? 0;
  const teacher = buildModel(spec, dataset, seed, privileged);
  try {
    const result = await fit(teacher, dataset, {
      label: `${teacher.config.kind} teacher`,
      ...fitOptions,
    });
    return { teacher, fit: result };
  } catch (error) {
    teacher.dispose();
    throw error;
  }
}

/** A frozen teacher's outputs on some trials, as plain arrays. */
export interface TeacherTargets {
  /** Dataset trial index -> row in the arrays below. */
  rows: ReadonlyMap<number, number>;
  /** Bins per trial (observed + forward). */
  length: number;
  /** Log-rates: trials x length x (heldin + heldout). */
  logRates: Float32Array;
  /** Neurons per bin in `logRates`. */
  neurons: number;
  /** The features a `feature` strategy matches: trials x length x featureWidth (empty when not kept). */
  features: Float32Array;
  /** Width of `features` (0 when not kept). */
  featureWidth: number;
  /** The layer the features come from, or null when they were not kept. */
  featureLayer: FeatureLayer | null;
}

function pickLayer(
  outputs: { latents: tf.Tensor3D; hidden: tf.Tensor3D[] },
  layer: FeatureLayer,
): tf.Tensor3D {
  if (layer === "latents") return outputs.latents;
  const k = layer < 0 ? outputs.hidden.length + layer : layer;
  const chosen = outputs.hidden[k];
  if (!Number.isInteger(layer) || !chosen) {
    throw new ArgumentError(
      `featureLayer must be "latents" or a hidden-layer index in [${-outputs.hidden.length}, ${
        outputs.hidden.length - 1
      }], got ${describe(layer)}`,
    );
  }
  return chosen;
}

/**
 * Run a (trained) teacher over trials in eval mode and keep its log-rates and the
 * features of one layer: the fixed targets its students learn from. `featureLayer: null`
 * keeps no features (only a `feature` student needs them).
 */
export async function teacherTargets(
  teacher: SequenceModel,
  dataset: NeuralDataset,
  trials: readonly number[],
  options: { featureLayer?: FeatureLayer | null; batchSize?: number } = {},
): Promise<TeacherTargets> {
  const layer = options.featureLayer === undefined ? "latents" : options.featureLayer;
  const batchSize = options.batchSize ?? 64;
  const { heldinNeurons: nIn, heldoutNeurons: nOut, bins, forwardBins, privilegedDim } =
    teacher.config;
  const length = bins + forwardBins, neurons = nIn + nOut;
  const logRates = new Float32Array(trials.length * length * neurons);
  let features = new Float32Array(0), featureWidth = 0;
  for (let start = 0; start < trials.length; start += batchSize) {
    const ids = trials.slice(start, start + batchSize);
    const batch = gatherBatch(dataset, ids, teacher.config);
    const [rates, chosen = null] = tf.tidy(() => {
      const out = teacher.forward({
        heldin: tf.tensor3d(batch.heldin, [ids.length, bins, nIn]),
        privileged: batch.privileged
          ? tf.tensor3d(batch.privileged, [ids.length, bins, privilegedDim])
          : undefined,
      }, { training: false });
      return layer === null ? [out.logRates] : [out.logRates, pickLayer(out, layer)];
    }) as tf.Tensor3D[];
    logRates.set(await rates.data() as Float32Array, start * length * neurons);
    rates.dispose();
    if (chosen) {
      if (start === 0) {
        featureWidth = chosen.shape[2];
        features = new Float32Array(trials.length * length * featureWidth);
      }
      features.set(await chosen.data() as Float32Array, start * length * featureWidth);
      chosen.dispose();
    }
  }
  return {
    rows: new Map(trials.map((trial, row) => [trial, row])),
    length,
    logRates,
    neurons,
    features,
    featureWidth,
    featureLayer: layer,
  };
}

/** Settings of one distillation. */
export interface DistillOptions {
  /** The strategy. */
  strategy: StrategyName;
  /** Weight of the base (masked-modeling) loss; the distillation term gets `1 - alpha`. Default 0.5. */
  alpha?: number;
  /** Softmax temperature of `soft`. Default 2. */
  temperature?: number;
  /** Weight of the feature or correlation term added to `hard`. Default 1. */
  auxiliaryWeight?: number;
  /** The layer `feature` matches, in student and teacher alike. Default "latents". */
  featureLayer?: FeatureLayer;
  /** Training settings (as `fit`). */
  fit?: FitOptions;
}

/**
 * The trainer `Objective` of a distillation: `alpha * base + (1 - alpha) * distill`,
 * logging `base`, `distill` and the strategy's parts.
 */
export function distillationObjective(
  strategy: Strategy,
  targets: TeacherTargets,
  options: { alpha?: number; featureLayer?: FeatureLayer } = {},
): Objective {
  const alpha = options.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) {
    throw new ArgumentError(`alpha must be in [0, 1], got ${describe(alpha)}`);
  }
  const layer = options.featureLayer ?? targets.featureLayer;
  if (strategy.name === "feature" && layer === null) {
    throw new ArgumentError(
      "the feature strategy needs the teacher's features: compute the targets with a featureLayer",
    );
  }
  return {
    variables: strategy.variables,
    loss(context, base) {
      const { trials } = context.batch;
      const size = trials.length, { length, neurons, featureWidth } = targets;
      const rates = new Float32Array(size * length * neurons);
      const features = strategy.name === "feature"
        ? new Float32Array(size * length * featureWidth)
        : null;
      trials.forEach((trial, b) => {
        const row = targets.rows.get(trial);
        if (row === undefined) {
          throw new ArgumentError(
            `the teacher's targets do not cover trial ${trial}; compute them for the training split`,
          );
        }
        const span = length * neurons;
        rates.set(targets.logRates.subarray(row * span, (row + 1) * span), b * span);
        if (features) {
          const width = length * featureWidth;
          features.set(targets.features.subarray(row * width, (row + 1) * width), b * width);
        }
      });
      const teacher = {
        logRates: tf.tensor3d(rates, [size, length, neurons]),
        features: features ? tf.tensor3d(features, [size, length, featureWidth]) : undefined,
      };
      const student = {
        logRates: context.outputs.logRates,
        features: features ? pickLayer(context.outputs, layer!) : undefined,
      };
      const { distill, terms } = strategy.loss(student, teacher);
      const total = tf.add(tf.mul(base, alpha), tf.mul(distill, 1 - alpha)) as tf.Scalar;
      return { total, terms: { base, distill, ...terms } };
    },
  };
}

/**
 * Train a student from a frozen teacher: the model of `spec` (neural input only), with
 * the teacher's outputs on the training split as extra targets. The student ends holding
 * its best validation weights; the teacher is never changed.
 *
 * @example
 * ```ts
 * // const { teacher } = await trainTeacher(data, "ndt");
 * // const { student, fit } = await distillStudent(data, "ndt", teacher, { strategy: "hard" });
 * ```
 */
export async function distillStudent(
  dataset: NeuralDataset,
  spec: ModelSpec,
  teacher: SequenceModel,
  options: DistillOptions,
  targets?: TeacherTargets,
): Promise<{ student: SequenceModel; fit: FitResult }> {
  const fitOptions = options.fit ?? {};
  const seed = fitOptions.seed ?? 0;
  const trainTrials = trialsInSplit(dataset, fitOptions.trainSplit ?? "train");
  const layer = options.featureLayer ?? "latents";
  const frozen = targets ?? await teacherTargets(teacher, dataset, trainTrials, {
    featureLayer: options.strategy === "feature" ? layer : null,
  });
  const student = buildModel(spec, dataset, seed);
  const strategy = createStrategy(options.strategy, {
    temperature: options.temperature,
    auxiliaryWeight: options.auxiliaryWeight,
    studentWidth: options.strategy === "feature" ? featureWidthOf(student, layer) : undefined,
    teacherWidth: frozen.featureWidth,
    seed,
  });
  try {
    const result = await fit(student, dataset, {
      label: `${student.config.kind} ${options.strategy}`,
      ...fitOptions,
      objective: distillationObjective(strategy, frozen, {
        alpha: options.alpha,
        featureLayer: layer,
      }),
    });
    return { student, fit: result };
  } catch (error) {
    student.dispose();
    throw error;
  } finally {
    strategy.dispose();
  }
}

/** Width of a model's features at a layer, found by running one tiny batch. */
function featureWidthOf(model: SequenceModel, layer: FeatureLayer): number {
  const { heldinNeurons, bins } = model.config;
  return tf.tidy(() =>
    pickLayer(
      model.forward({ heldin: tf.zeros([1, bins, heldinNeurons]) }, { training: false }),
      layer,
    )
      .shape[2]
  );
}
