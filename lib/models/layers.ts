/**
 * Building blocks shared by the sequence models: a named parameter store with seeded
 * initializers, linear layers, layer norm, dropout, multi-head attention with a local
 * window, and GRU cells. Plain functions over `tf` tensors; weights are `tf.Variable`s held
 * by name (PyTorch-style dotted names) so checkpoints can list and check them.
 * @module
 */

import { tf } from "../deps.ts";
import { ArgumentError } from "../errors.ts";
import { deriveSeed, Random } from "../random.ts";

/** How a weight starts. */
export type Initializer =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "uniform"; bound: number }
  | { kind: "normal"; sd: number };

/**
 * The weights of one model, by name, in creation order. Initial values come from the
 * model's seed through blend's own PRNG, so a seed gives the same weights on every backend.
 */
export class ParameterStore {
  readonly #variables = new Map<string, tf.Variable>();
  readonly #seed: number;

  /** A store whose initial values derive from `seed`. */
  constructor(seed: number) {
    this.#seed = seed;
  }

  /** Create a trainable weight; each name gets its own random stream. */
  create(name: string, shape: number[], init: Initializer): tf.Variable {
    if (this.#variables.has(name)) throw new ArgumentError(`weight "${name}" exists twice`);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (init.kind === "ones") values.fill(1);
    else if (init.kind !== "zeros") {
      const rng = new Random(deriveSeed(this.#seed, name));
      for (let i = 0; i < size; i++) {
        values[i] = init.kind === "uniform"
          ? rng.uniformRange(-init.bound, init.bound)
          : rng.normal(0, init.sd);
      }
    }
    // tidy frees the initial tensor; the variable keeps its own reference to the data.
    const variable = tf.tidy(() =>
      tf.variable(tf.tensor(values, shape), true, `${name}_${uniqueSuffix()}`)
    );
    this.#variables.set(name, variable);
    return variable;
  }

  /** Every weight by name. */
  get variables(): ReadonlyMap<string, tf.Variable> {
    return this.#variables;
  }

  /** Release every weight's memory. */
  dispose(): void {
    for (const v of this.#variables.values()) v.dispose();
    this.#variables.clear();
  }
}

// tfjs keeps one global registry of variable names; two models with the same layer names
// must not collide there, so each variable's registry name gets a unique suffix.
let counter = 0;
function uniqueSuffix(): string {
  return (counter++).toString(36);
}

/** A dense layer `y = x W + b` over the last axis (any rank; flattened to a 2-D product). */
export interface Linear {
  /** Weight: inputs x outputs. */
  weight: tf.Variable;
  /** Bias, or null. */
  bias: tf.Variable | null;
}

/**
 * Create a linear layer with PyTorch's default initialization (uniform in
 * +-1/sqrt(inputs)), named `<name>.weight` and `<name>.bias`.
 */
export function linear(
  store: ParameterStore,
  name: string,
  inputs: number,
  outputs: number,
  options: { bias?: boolean; bound?: number } = {},
): Linear {
  const bound = options.bound ?? 1 / Math.sqrt(inputs);
  return {
    weight: store.create(`${name}.weight`, [inputs, outputs], { kind: "uniform", bound }),
    bias: options.bias === false
      ? null
      : store.create(`${name}.bias`, [outputs], { kind: "uniform", bound }),
  };
}

/** Apply a linear layer to the last axis of `x`. */
export function applyLinear(layer: Linear, x: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inputs = shape[shape.length - 1];
  // A 2-D product is the wasm backend's fast path; a batched one is not.
  const flat = x.rank === 2 ? x as tf.Tensor2D : x.reshape([-1, inputs]) as tf.Tensor2D;
  let y: tf.Tensor = tf.matMul(flat, layer.weight as tf.Tensor2D);
  if (layer.bias) y = tf.add(y, layer.bias);
  return x.rank === 2 ? y : y.reshape([...shape.slice(0, -1), layer.weight.shape[1] as number]);
}

/** Layer normalization weights. */
export interface LayerNorm {
  /** Gain. */
  weight: tf.Variable;
  /** Offset. */
  bias: tf.Variable;
}

/** Create a layer norm over `width` features. */
export function layerNorm(store: ParameterStore, name: string, width: number): LayerNorm {
  return {
    weight: store.create(`${name}.weight`, [width], { kind: "ones" }),
    bias: store.create(`${name}.bias`, [width], { kind: "zeros" }),
  };
}

/** Normalize the last axis to zero mean and unit variance, then scale and shift. */
export function applyLayerNorm(norm: LayerNorm, x: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, epsilon)));
  return tf.add(tf.mul(normalized, norm.weight), norm.bias);
}

/**
 * Inverted dropout: in training, zero each entry with probability `rate` and scale the
 * rest by 1/(1-rate); the identity otherwise. `seed` makes the pattern reproducible.
 *
 * The mask is drawn with blend's PRNG and uploaded as one tensor: tfjs's own `tf.dropout`
 * draws in JavaScript with a slower generator and builds the mask from four full-size
 * tensors (uniform, add, floor, divide), which at MC_Maze size is most of the memory of
 * an attention layer.
 */
export function dropout(x: tf.Tensor, rate: number, training: boolean, seed: number): tf.Tensor {
  if (!training || rate === 0) return x;
  const keep = 1 - rate, scale = 1 / keep;
  const mask = new Float32Array(x.size);
  const rng = new Random(seed);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < keep ? scale : 0;
  return tf.mul(x, tf.tensor(mask, x.shape, "float32"));
}

/**
 * An additive attention mask for a local window: query bin `i` may attend key bin `j` when
 * `i - back <= j <= i + forward`; other entries get a large negative number.
 */
export function localAttentionMask(length: number, back: number, forward: number): tf.Tensor2D {
  const values = new Float32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < length; j++) {
      if (j < i - back || j > i + forward) values[i * length + j] = -1e9;
    }
  }
  return tf.tensor2d(values, [length, length]);
}

/** Multi-head self-attention weights. */
export interface Attention {
  /** Query, key and value projections packed: width x 3*width (queries of every head, then keys, then values). */
  qkv: Linear;
  /** Output projection. */
  output: Linear;
  /** Number of heads. */
  heads: number;
}

/** Create multi-head self-attention over `width` features. */
export function attention(
  store: ParameterStore,
  name: string,
  width: number,
  heads: number,
): Attention {
  if (width % heads !== 0) {
    throw new ArgumentError(`attention width ${width} is not divisible by ${heads} heads`);
  }
  return {
    qkv: linear(store, `${name}.qkv`, width, 3 * width),
    output: linear(store, `${name}.output`, width, width),
    heads,
  };
}

/**
 * Self-attention of `x` (batch x time x width) with an additive mask (time x time).
 *
 * Each head's query, key and value come from its own column block of the packed weight,
 * so every product is a plain 2-D or batched 3-D product and no rank-5 transpose is needed
 * (tfjs's wasm backend transposes high-rank tensors slowly).
 */
export function applyAttention(
  layer: Attention,
  x: tf.Tensor3D,
  mask: tf.Tensor2D,
  dropoutRate: number,
  training: boolean,
  seed: number,
): tf.Tensor3D {
  const [batch, time, width] = x.shape;
  const heads = layer.heads, headWidth = width / heads;
  const flat = x.reshape([batch * time, width]) as tf.Tensor2D;
  const project = (block: number) => {
    const columns = [block * headWidth, headWidth];
    let y: tf.Tensor = tf.matMul(
      flat,
      tf.slice(layer.qkv.weight, [0, columns[0]], [width, columns[1]]),
    );
    if (layer.qkv.bias) y = tf.add(y, tf.slice(layer.qkv.bias, [columns[0]], [columns[1]]));
    return y.reshape([batch, time, headWidth]) as tf.Tensor3D;
  };
  const outputs: tf.Tensor3D[] = [];
  for (let h = 0; h < heads; h++) {
    const q = project(h), k = project(heads + h), v = project(2 * heads + h);
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headWidth)), mask);
    const weights = dropout(tf.softmax(scores), dropoutRate, training, seed + h);
    outputs.push(tf.matMul(weights as tf.Tensor3D, v));
  }
  const merged = heads === 1 ? outputs[0] : tf.concat(outputs, 2);
  return applyLinear(layer.output, merged) as tf.Tensor3D;
}

/** GRU cell weights (PyTorch's gate order: reset, update, new). */
export interface GRUCell {
  /** Input weights: inputs x 3*hidden. */
  input: Linear;
  /** Recurrent weights: hidden x 3*hidden. */
  recurrent: Linear;
  /** Hidden size. */
  hidden: number;
  /** Clip the hidden state to +-clip (LFADS's clipped GRU); Infinity for none. */
  clip: number;
}

/** Create a GRU cell; weights uniform in +-1/sqrt(hidden) as PyTorch does. */
export function gruCell(
  store: ParameterStore,
  name: string,
  inputs: number,
  hidden: number,
  clip = Infinity,
): GRUCell {
  const bound = 1 / Math.sqrt(hidden);
  return {
    input: linear(store, `${name}.input`, inputs, 3 * hidden, { bound }),
    recurrent: linear(store, `${name}.recurrent`, hidden, 3 * hidden, { bound }),
    hidden,
    clip,
  };
}

/**
 * One GRU step from a precomputed input projection `xProjected` (batch x 3*hidden, the
 * input weights applied once for every bin) and the previous state `h` (batch x hidden).
 */
export function gruStep(cell: GRUCell, xProjected: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  const H = cell.hidden;
  const hProjected = applyLinear(cell.recurrent, h) as tf.Tensor2D;
  const [xr, xz, xn] = tf.split(xProjected, [H, H, H], 1);
  const [hr, hz, hn] = tf.split(hProjected, [H, H, H], 1);
  const reset = tf.sigmoid(tf.add(xr, hr));
  const update = tf.sigmoid(tf.add(xz, hz));
  const candidate = tf.tanh(tf.add(xn, tf.mul(reset, hn)));
  // h' = (1 - z) * n + z * h  ==  n + z * (h - n)
  let next = tf.add(candidate, tf.mul(update, tf.sub(h, candidate))) as tf.Tensor2D;
  if (Number.isFinite(cell.clip)) next = tf.clipByValue(next, -cell.clip, cell.clip);
  return next;
}

/**
 * Run a GRU over a sequence `x` (batch x time x inputs) from `h0` (batch x hidden);
 * returns every state, batch x time x hidden. `reverse` runs from the last bin back.
 */
export function runGRU(
  cell: GRUCell,
  x: tf.Tensor3D,
  h0: tf.Tensor2D,
  reverse = false,
): { states: tf.Tensor3D; last: tf.Tensor2D } {
  const [batch, time] = x.shape;
  const projected = applyLinear(cell.input, x) as tf.Tensor3D;
  const steps = time === 0 ? [] : timeSteps(tf.transpose(projected, [1, 0, 2]));
  const states: tf.Tensor2D[] = new Array(time);
  let h = h0;
  for (let s = 0; s < time; s++) {
    const t = reverse ? time - 1 - s : s;
    h = gruStep(cell, steps[t], h);
    states[t] = h;
  }
  if (time === 0) return { states: tf.zeros([batch, 0, cell.hidden]), last: h0 };
  return { states: tf.stack(states, 1) as tf.Tensor3D, last: h };
}

/**
 * The bins of a time-major tensor (time x batch x width) as batch x width tensors.
 * tfjs-wasm's slice copies its whole input out of the heap each time, so unstacking T bins
 * at once costs T copies of the tensor; splitting into ~sqrt(T) chunks first, then each
 * chunk into bins, costs about 2 sqrt(T). (The gradient is a concat either way.)
 */
export function timeSteps(x: tf.Tensor): tf.Tensor2D[] {
  const time = x.shape[0];
  const chunk = Math.max(1, Math.round(Math.sqrt(time)));
  const sizes: number[] = [];
  for (let t = 0; t < time; t += chunk) sizes.push(Math.min(chunk, time - t));
  const parts = sizes.length > 1 ? tf.split(x, sizes, 0) : [x];
  return parts.flatMap((part) => tf.unstack(part, 0)) as tf.Tensor2D[];
}

/** A bidirectional GRU: forward and backward cells over the same input. */
export interface BidirectionalGRU {
  /** Runs first bin to last. */
  forward: GRUCell;
  /** Runs last bin to first. */
  backward: GRUCell;
}

/** Create a bidirectional GRU (`<name>.forward`, `<name>.backward`). */
export function bidirectionalGRU(
  store: ParameterStore,
  name: string,
  inputs: number,
  hidden: number,
  clip = Infinity,
): BidirectionalGRU {
  return {
    forward: gruCell(store, `${name}.forward`, inputs, hidden, clip),
    backward: gruCell(store, `${name}.backward`, inputs, hidden, clip),
  };
}

/**
 * Run both directions from zero states. `states` concatenates them per bin
 * (batch x time x 2*hidden); `last` concatenates the forward cell's state after the last
 * bin with the backward cell's state after the first (batch x 2*hidden).
 */
export function runBidirectionalGRU(
  layer: BidirectionalGRU,
  x: tf.Tensor3D,
): { states: tf.Tensor3D; last: tf.Tensor2D } {
  const batch = x.shape[0];
  const zeros = tf.zeros([batch, layer.forward.hidden]) as tf.Tensor2D;
  const f = runGRU(layer.forward, x, zeros);
  const b = runGRU(layer.backward, x, zeros, true);
  return {
    states: tf.concat([f.states, b.states], 2) as tf.Tensor3D,
    last: tf.concat([f.last, b.last], 1) as tf.Tensor2D,
  };
}
