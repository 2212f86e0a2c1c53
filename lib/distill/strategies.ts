/**
 * Distillation strategies: losses between a student's and a frozen teacher's outputs
 * (BLEND, `../shared/RESEARCH.md` §2). Each is a pure function of the two outputs; the
 * teacher's side is wrapped in `stopGradient`, so no gradient ever reaches a teacher even
 * when its outputs are live tensors. The `feature` strategy owns a learned projection
 * (student latent width -> teacher feature width), which it declares so the trainer
 * optimizes it with the student.
 *
 * On log-rates `s`, `t` (batch x time x neurons):
 * - `hard`: mean squared error over every entry (held-out neurons and forward bins too);
 * - `soft`: `KL(softmax(t/T) || softmax(s/T)) * T^2` over the neuron axis, averaged over
 *   batch and time;
 * - `feature`: hard + MSE between the projected student features and the teacher's;
 * - `correlation`: hard + MSE between the neuron-by-neuron correlation matrices of `s`
 *   and `t`, computed over time within each trial and averaged over trials.
 * @module
 */

import { tf } from "../deps.ts";
import { requireBackend } from "../backend.ts";
import { ArgumentError, describe } from "../errors.ts";
import { Random } from "../random.ts";

/** The distillation strategies blend provides. */
export type StrategyName = "hard" | "soft" | "feature" | "correlation";

/** Every strategy, in the order reports list them. */
export const STRATEGIES: readonly StrategyName[] = ["hard", "soft", "feature", "correlation"];

/** What a strategy compares: log-rates, and the features a `feature` strategy matches. */
export interface DistillOutputs {
  /** Log-rates: batch x time x neurons. */
  logRates: tf.Tensor3D;
  /** Features (latents or one hidden layer): batch x time x width. Needed by `feature` only. */
  features?: tf.Tensor3D;
}

/** Settings of the strategies. */
export interface StrategyOptions {
  /** Softmax temperature of `soft`. Default 2. */
  temperature?: number;
  /** Weight of the feature (or correlation) term added to `hard`. Default 1. */
  auxiliaryWeight?: number;
}

/** A strategy: its loss, the terms it logs, and the weights it owns. */
export interface Strategy {
  /** Its name. */
  readonly name: StrategyName;
  /** Trainable weights it owns (the `feature` projection), by name; empty otherwise. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** The distillation loss and its named parts (the parts sum to the loss). */
  loss(student: DistillOutputs, teacher: DistillOutputs): {
    distill: tf.Scalar;
    terms: Record<string, tf.Scalar>;
  };
  /** Free its weights. */
  dispose(): void;
}

/**
 * The identity with a zero gradient (tfjs has no `stopGradient`): what the teacher's side
 * of every loss passes through.
 */
export const frozen: <T extends tf.Tensor>(x: T) => T = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  (x: any) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }),
) as unknown as <T extends tf.Tensor>(x: T) => T;

/** Mean squared error of two same-shaped tensors (the teacher's side frozen). */
export function hardLoss(student: tf.Tensor, teacher: tf.Tensor): tf.Scalar {
  checkSameShape(student, teacher, "hard");
  return tf.tidy(() => tf.mean(tf.squaredDifference(student, frozen(teacher))));
}

/**
 * `KL(softmax(t/T) || softmax(s/T)) * T^2` over the last (neuron) axis, averaged over
 * every other entry.
 */
export function softLoss(student: tf.Tensor3D, teacher: tf.Tensor3D, temperature = 2): tf.Scalar {
  checkSameShape(student, teacher, "soft");
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ArgumentError(`soft: temperature must be a positive number, got ${temperature}`);
  }
  return tf.tidy(() => {
    const logP = tf.logSoftmax(tf.div(frozen(teacher), temperature));
    const logQ = tf.logSoftmax(tf.div(student, temperature));
    const kl = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), -1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  });
}

/**
 * Correlation matrices over time, one per trial: batch x neurons x neurons. A neuron
 * whose log-rate is constant over a trial has zero correlation with every other.
 */
export function correlationMatrices(x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const centered = tf.sub(x, tf.mean(x, 1, true));
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(centered), 1, true), 1e-8));
    const unit = tf.div(centered, norm) as tf.Tensor3D;
    return tf.matMul(unit, unit, true, false);
  });
}

/** MSE between the per-trial neuron correlation matrices of two log-rate tensors. */
export function correlationLoss(student: tf.Tensor3D, teacher: tf.Tensor3D): tf.Scalar {
  checkSameShape(student, teacher, "correlation");
  return tf.tidy(() =>
    tf.mean(
      tf.squaredDifference(
        correlationMatrices(student),
        correlationMatrices(frozen(teacher)),
      ),
    )
  );
}

/**
 * Build a strategy. `feature` needs the student's and the teacher's feature widths: its
 * projection starts as the identity when they are equal (so at first it compares the
 * features directly) and Glorot-uniform otherwise.
 *
 * @example
 * ```ts
 * import { createStrategy } from "./strategies.ts";
 * import { tf } from "../deps.ts";
 * const soft = createStrategy("soft", { temperature: 2 });
 * const s = tf.randomNormal([2, 5, 3]) as tf.Tensor3D;
 * const { distill } = soft.loss({ logRates: s }, { logRates: s });
 * console.log(distill.dataSync()[0]); // 0 for identical outputs
 * ```
 */
export function createStrategy(
  name: StrategyName,
  options: StrategyOptions & {
    /** Width of the student's features (`feature` only). */
    studentWidth?: number;
    /** Width of the teacher's features (`feature` only). */
    teacherWidth?: number;
    /** Seed of the projection's initial weights. Default 0. */
    seed?: number;
  } = {},
): Strategy {
  if (!STRATEGIES.includes(name)) {
    throw new ArgumentError(
      `strategy must be one of ${STRATEGIES.join(", ")}, got ${describe(name)}`,
    );
  }
  const temperature = options.temperature ?? 2;
  const weight = options.auxiliaryWeight ?? 1;
  if (!(weight >= 0) || !Number.isFinite(weight)) {
    throw new ArgumentError(`auxiliaryWeight must be a number >= 0, got ${weight}`);
  }
  const variables = new Map<string, tf.Variable>();
  if (name === "feature") {
    requireBackend("createStrategy");
    const from = options.studentWidth, to = options.teacherWidth;
    for (const [field, value] of [["studentWidth", from], ["teacherWidth", to]] as const) {
      if (!Number.isInteger(value) || value! < 1) {
        throw new ArgumentError(
          `the feature strategy needs ${field}, a positive integer, got ${describe(value)}`,
        );
      }
    }
    variables.set("projection.weight", projectionWeight(from!, to!, options.seed ?? 0));
    variables.set("projection.bias", tf.variable(tf.zeros([to!]), true));
  }
  const scaled = (x: tf.Scalar) => weight === 1 ? x : tf.mul(x, weight) as tf.Scalar;
  return {
    name,
    variables,
    loss(student, teacher): { distill: tf.Scalar; terms: Record<string, tf.Scalar> } {
      if (name === "soft") {
        const soft = softLoss(student.logRates, teacher.logRates, temperature);
        return { distill: soft, terms: { soft } };
      }
      const hard = hardLoss(student.logRates, teacher.logRates);
      if (name === "hard") return { distill: hard, terms: { hard } };
      let extra: tf.Scalar;
      if (name === "correlation") {
        extra = scaled(correlationLoss(student.logRates, teacher.logRates));
      } else {
        if (!student.features || !teacher.features) {
          throw new ArgumentError(
            "the feature strategy needs features from both student and teacher",
          );
        }
        const [b, t, width] = student.features.shape;
        const projected = tf.add(
          tf.matMul(
            tf.reshape(student.features, [b * t, width]),
            variables.get("projection.weight")!,
          ),
          variables.get("projection.bias")!,
        );
        const target = tf.reshape(teacher.features, [b * t, teacher.features.shape[2]]);
        extra = scaled(hardLoss(projected, target));
      }
      return { distill: tf.add(hard, extra) as tf.Scalar, terms: { hard, [name]: extra } };
    },
    dispose() {
      for (const v of variables.values()) v.dispose();
    },
  };
}

function projectionWeight(from: number, to: number, seed: number): tf.Variable {
  if (from === to) return tf.variable(tf.eye(from), true);
  const random = new Random(seed);
  const limit = Math.sqrt(6 / (from + to));
  const values = new Float32Array(from * to);
  for (let i = 0; i < values.length; i++) values[i] = (2 * random.uniform() - 1) * limit;
  return tf.variable(tf.tensor2d(values, [from, to]), true);
}

function checkSameShape(student: tf.Tensor, teacher: tf.Tensor, what: string): void {
  if (student.shape.join() !== teacher.shape.join()) {
    throw new ArgumentError(
      `${what}: the student's output has shape [${student.shape}] but the teacher's has [${teacher.shape}]`,
    );
  }
}
