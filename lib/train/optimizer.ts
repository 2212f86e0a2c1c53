/**
 * AdamW (Adam with weight decay decoupled from the gradient, Loshchilov & Hutter 2019),
 * global gradient-norm clipping, and the warmup + cosine learning-rate schedule.
 * @module
 */

import { tf } from "../deps.ts";
import { ArgumentError, CheckpointError, describe } from "../errors.ts";
import type { NamedTensor } from "./safetensors.ts";

/** AdamW settings. */
export interface AdamWOptions {
  /** Peak learning rate. Default 1e-3. */
  learningRate: number;
  /** First-moment decay. Default 0.9. */
  beta1: number;
  /** Second-moment decay. Default 0.999. */
  beta2: number;
  /** Added to the root of the second moment. Default 1e-8. */
  epsilon: number;
  /**
   * Decoupled weight decay (multiplied by the learning rate); matrices only, never biases
   * or norm gains. Default 5e-5 (BLEND's NDT).
   */
  weightDecay: number;
  /** Clip the global gradient norm to this; Infinity for none. Default 200. */
  clipNorm: number;
}

/** AdamW's defaults. */
export const ADAMW_DEFAULTS: AdamWOptions = {
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 5e-5,
  clipNorm: 200,
};

/**
 * Learning rate at `step` (zero-based) of `totalSteps`: linear warmup from 0 over
 * `warmupSteps`, then a cosine from the peak down towards `peak * minFactor`, which it
 * reaches at step `totalSteps` (one past the last step).
 */
export function learningRateAt(
  step: number,
  totalSteps: number,
  peak: number,
  warmupSteps: number,
  minFactor = 0,
): number {
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  // As common schedulers do, the floor is reached at step `totalSteps`, one past the last
  // (zero-based) step, so no step is wasted at the floor when minFactor is 0.
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / span);
  return peak * (minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** AdamW over a fixed set of named weights. */
export class AdamW {
  /** The settings in use (defaults filled in). */
  readonly options: AdamWOptions;
  #weights: ReadonlyMap<string, tf.Variable>;
  #m = new Map<string, tf.Variable>();
  #v = new Map<string, tf.Variable>();
  #step = 0;

  /** Optimize `weights` (by name) with the given settings. */
  constructor(weights: ReadonlyMap<string, tf.Variable>, options: Partial<AdamWOptions> = {}) {
    this.options = { ...ADAMW_DEFAULTS, ...options };
    for (const [key, value] of Object.entries(this.options)) {
      if (typeof value !== "number" || !(value >= 0)) {
        throw new ArgumentError(`optimizer ${key} must be a number >= 0, got ${describe(value)}`);
      }
    }
    for (const key of ["beta1", "beta2"] as const) {
      if (!(this.options[key] < 1)) {
        throw new ArgumentError(`optimizer ${key} must be < 1, got ${this.options[key]}`);
      }
    }
    this.#weights = weights;
    for (const [name, w] of weights) {
      // tidy frees the zero tensors once the variables hold their own copies.
      this.#m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
      this.#v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
    }
  }

  /** Steps taken so far. */
  get step(): number {
    return this.#step;
  }

  /**
   * One update from gradients by weight name at learning rate `lr`. Returns the global
   * gradient norm before clipping (a scalar tensor the caller reads and disposes).
   */
  apply(gradients: ReadonlyMap<string, tf.Tensor>, lr: number): tf.Scalar {
    const o = this.options;
    this.#step++;
    const t = this.#step;
    const norm = tf.tidy(() =>
      tf.sqrt(tf.addN([...gradients.values()].map((g) => tf.sum(tf.square(g))))) as tf.Scalar
    );
    tf.tidy(() => {
      // Clip by the global norm: scale = min(1, clip / norm).
      const scale = Number.isFinite(o.clipNorm)
        ? tf.minimum(1, tf.div(o.clipNorm, tf.maximum(norm, 1e-12)))
        : tf.scalar(1);
      const correction1 = 1 - Math.pow(o.beta1, t), correction2 = 1 - Math.pow(o.beta2, t);
      for (const [name, w] of this.#weights) {
        const raw = gradients.get(name);
        if (!raw) continue;
        const g = tf.mul(raw, scale);
        const m = this.#m.get(name)!, v = this.#v.get(name)!;
        const mNext = tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1));
        const vNext = tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
        m.assign(mNext);
        v.assign(vNext);
        const update = tf.div(
          tf.div(mNext, correction1),
          tf.add(tf.sqrt(tf.div(vNext, correction2)), o.epsilon),
        );
        const decayed = w.rank >= 2 && o.weightDecay > 0 ? tf.mul(w, 1 - lr * o.weightDecay) : w;
        w.assign(tf.sub(decayed, tf.mul(update, lr)));
      }
    });
    return norm;
  }

  /** The optimizer's state (moments and step) as named tensors, for a checkpoint. */
  async state(): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [prefix, moments] of [["m", this.#m], ["v", this.#v]] as const) {
      for (const [name, value] of moments) {
        out.set(`${prefix}.${name}`, {
          dtype: "F32",
          shape: [...value.shape],
          data: new Float32Array(await value.data()),
        });
      }
    }
    out.set("step", { dtype: "F64", shape: [], data: new Float64Array([this.#step]) });
    return out;
  }

  /** Restore a state written by `state()`; every weight's moments must be present. */
  loadState(state: ReadonlyMap<string, NamedTensor>, source: string): void {
    const problems: string[] = [];
    for (const [prefix, moments] of [["m", this.#m], ["v", this.#v]] as const) {
      for (const [name, value] of moments) {
        const saved = state.get(`${prefix}.${name}`);
        if (!saved) problems.push(`missing "${prefix}.${name}"`);
        else if (saved.shape.join() !== value.shape.join()) {
          problems.push(
            `"${prefix}.${name}" has shape [${saved.shape}] but the weight has [${value.shape}]`,
          );
        }
      }
    }
    const step = state.get("step");
    if (!step || step.data.length !== 1) problems.push(`missing "step"`);
    if (problems.length > 0) {
      throw new CheckpointError(
        `optimizer state in ${source} does not fit: ${problems.join("; ")}`,
      );
    }
    for (const [prefix, moments] of [["m", this.#m], ["v", this.#v]] as const) {
      for (const [name, value] of moments) {
        const saved = state.get(`${prefix}.${name}`)!;
        tf.tidy(() => value.assign(tf.tensor(saved.data as Float32Array, saved.shape, "float32")));
      }
    }
    this.#step = Number(step!.data[0]);
  }

  /** Free the moments. */
  dispose(): void {
    for (const v of [...this.#m.values(), ...this.#v.values()]) v.dispose();
    this.#m.clear();
    this.#v.clear();
  }
}
