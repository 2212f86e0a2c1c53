/**
 * Building blocks shared by the sequence models: a named parameter store with seeded
 * initializers, linear layers, layer norm, dropout, multi-head attention with a local
 * window, and GRU cells. Plain functions over `tf` tensors; weights are `tf.Variable`s held
 * by name (PyTorch-style dotted names) so checkpoints can list and check them.
 * @module
 */

import { tf } from "../deps.ts";
import { ArgumentError } from "../errors.ts";
import { filledTensor } from "../kernels/wasm_heap.ts";
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
 * The mask is drawn with blend's PRNG (`Random.fillBernoulli`), written straight into
 * the backend's memory where it can be (`filledTensor`): tfjs's own `tf.dropout` draws in
 * JavaScript with a slower generator and builds the mask from four full-size tensors
 * (uniform, add, floor, divide), which at MC_Maze size is most of the memory of an
 * attention layer.
 */
export function dropout(x: tf.Tensor, rate: number, training: boolean, seed: number): tf.Tensor {
  if (!training || rate === 0) return x;
  const keep = 1 - rate;
  const mask = filledTensor(
    x.shape,
    (values) => new Random(seed).fillBernoulli(values, keep, 1 / keep),
  );
  return tf.mul(x, mask);
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

/**
 * How local attention is computed. `dense`: every query against every key (time x time
 * scores), the keys outside the window masked. `banded`: the queries in blocks, each block
 * against only the keys its window can reach (see `LocalAttention`). `auto`: banded when
 * that saves at least a quarter of the work by `bandedBlockSize`'s cost model.
 */
export type AttentionKernel = "auto" | "dense" | "banded";

/** Every attention kernel name (for config checks). */
export const ATTENTION_KERNELS: readonly AttentionKernel[] = ["auto", "dense", "banded"];

/**
 * A local attention window prepared for one sequence length.
 *
 * Dense: `mask` is time x time (`localAttentionMask`).
 *
 * Banded: the `length` queries are split into `blocks` blocks of `block` bins (the last
 * padded); block `b` sees the keys `b*block - back` to `(b+1)*block - 1 + forward`, a
 * window of `window = block + back + forward` keys, with keys before the first bin and past
 * the last one zeros. `mask` (blocks x block x window) is 0 where query and key are within
 * each other's window and -1e9 elsewhere (including padding), so softmax gives the dense
 * path's weights on the keys it keeps and exactly 0 on the ones it drops.
 */
export type LocalAttention =
  | { kind: "dense"; length: number; back: number; forward: number; mask: tf.Tensor2D }
  | {
    kind: "banded";
    length: number;
    back: number;
    forward: number;
    block: number;
    blocks: number;
    window: number;
    mask: tf.Tensor3D;
  };

/**
 * The fixed cost of one small matrix product, in multiply-adds of a 64-wide head divided
 * by 64: on wasm each banded product runs as one XNNPACK call per block and sequence, and
 * a call costs about as much as 100k multiply-adds (15 us on the 2-core machine of the
 * README's table), so blocks of fewer than about 32 bins lose more than they save.
 */
const CALL_COST = 1500;

/** The modeled cost of banded attention with blocks of `block` bins (see `CALL_COST`). */
function bandedCost(length: number, back: number, forward: number, block: number): number {
  return Math.ceil(length / block) * (CALL_COST + block * (block + back + forward));
}

/**
 * The query block the banded kernel uses: from 32 to 64 bins (or the whole sequence if
 * shorter), the size with the least modeled cost, counting each block's scores and a
 * fixed cost per block (`CALL_COST`). MC_Maze's 180 bins with 8 back and 4 forward give
 * 5 blocks of 36 bins against windows of 48 keys: 8,640 scores per sequence instead of
 * 32,400.
 */
export function bandedBlockSize(length: number, back: number, forward: number): number {
  let best = Math.max(1, Math.min(32, length)), bestCost = Infinity;
  for (let block = best; block <= Math.min(64, length); block++) {
    const cost = bandedCost(length, back, forward, block);
    if (cost < bestCost) [best, bestCost] = [block, cost];
  }
  return best;
}

/**
 * Prepare local attention over `length` bins (`back` bins back, `forward` ahead). With
 * `kernel` "auto", banded when it saves at least a quarter of the dense path's modeled
 * work; `block` overrides `bandedBlockSize`. The result holds a tensor: free it with
 * `disposeLocalAttention`.
 */
export function localAttention(
  length: number,
  back: number,
  forward: number,
  kernel: AttentionKernel = "auto",
  block?: number,
): LocalAttention {
  if (!ATTENTION_KERNELS.includes(kernel)) {
    throw new ArgumentError(
      `attention kernel must be one of ${ATTENTION_KERNELS.join(", ")}, got ${String(kernel)}`,
    );
  }
  const b = block ?? bandedBlockSize(length, back, forward);
  if (!Number.isInteger(b) || b < 1) {
    throw new ArgumentError(`attention block size must be a positive integer, got ${b}`);
  }
  const blocks = Math.ceil(length / b), window = b + back + forward;
  // Auto: banded when the model (see CALL_COST) says it saves at least a quarter.
  const banded = kernel === "banded" ||
    (kernel === "auto" &&
      bandedCost(length, back, forward, b) < 0.75 * (CALL_COST + length * length));
  if (!banded) {
    return {
      kind: "dense",
      length,
      back,
      forward,
      mask: localAttentionMask(length, back, forward),
    };
  }
  const values = new Float32Array(blocks * b * window);
  for (let blk = 0; blk < blocks; blk++) {
    for (let r = 0; r < b; r++) {
      const i = blk * b + r;
      for (let s = 0; s < window; s++) {
        const j = blk * b - back + s;
        const inside = j >= 0 && j < length && j >= i - back && j <= i + forward;
        if (!inside) values[(blk * b + r) * window + s] = -1e9;
      }
    }
  }
  return {
    kind: "banded",
    length,
    back,
    forward,
    block: b,
    blocks,
    window,
    mask: tf.tensor3d(values, [blocks, b, window]),
  };
}

/** Free a prepared local attention's mask. */
export function disposeLocalAttention(local: LocalAttention): void {
  local.mask.dispose();
}

/**
 * The banded kernel's key (or value) windows: `x` (batch x length x width) as
 * (batch*blocks) x window x width, block `b`'s rows being bins `b*block - back` on (zeros
 * outside the sequence). Built from one pad, a reshape into blocks, and slices of whole
 * blocks concatenated, so the gradient is slices, a concat and a slice again (tfjs's
 * gather has no gradient kernel on wasm).
 */
function keyWindows(x: tf.Tensor3D, local: LocalAttention & { kind: "banded" }): tf.Tensor3D {
  const [batch, length, width] = x.shape;
  const { block, blocks, window, back } = local;
  const extra = Math.ceil((window - block) / block); // blocks past its own a window reaches
  const padded = (blocks + extra) * block;
  const blocked = tf.pad(x, [[0, 0], [back, padded - back - length], [0, 0]])
    .reshape([batch, blocks + extra, block, width]);
  const pieces: tf.Tensor[] = [];
  for (let j = 0; j <= extra; j++) {
    const rows = Math.min(block, window - j * block);
    if (rows <= 0) break;
    pieces.push(tf.slice(blocked, [0, j, 0, 0], [batch, blocks, rows, width]));
  }
  const windows = pieces.length === 1 ? pieces[0] : tf.concat(pieces, 2);
  return windows.reshape([batch * blocks, window, width]) as tf.Tensor3D;
}

/**
 * One head of local attention by the banded kernel: softmax(q k^T * scale + mask) v over
 * each query block's key window, with `dropout` applied to the weights. Returns batch x
 * length x headWidth, equal to the dense path's up to float32 rounding (the dropout mask
 * is drawn over the blocks' weights, blocks x block x window per sequence, instead of
 * length x length: the same rate and scaling on every kept key, a different pattern).
 */
function bandedHead(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  local: LocalAttention & { kind: "banded" },
  scale: number,
  weightsDropout: (weights: tf.Tensor) => tf.Tensor,
): tf.Tensor3D {
  const [batch, length, width] = q.shape;
  const { block, blocks, window } = local;
  const padding = blocks * block - length;
  const queries = (padding > 0 ? tf.pad(q, [[0, 0], [0, padding], [0, 0]]) : q)
    .reshape([batch * blocks, block, width]) as tf.Tensor3D;
  const scores = tf.mul(tf.matMul(queries, keyWindows(k, local), false, true), scale)
    .reshape([batch, blocks, block, window]);
  const weights = weightsDropout(tf.softmax(tf.add(scores, local.mask)))
    .reshape([batch * blocks, block, window]) as tf.Tensor3D;
  const out = tf.matMul(weights, keyWindows(v, local)).reshape([batch, blocks * block, width]);
  return (padding > 0 ? tf.slice(out, [0, 0, 0], [batch, length, width]) : out) as tf.Tensor3D;
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
 * Self-attention of `x` (batch x time x width) within a local window: `local` is a
 * prepared window (`localAttention`), or a plain additive time x time mask (dense).
 *
 * Queries, keys and values of every head come from one product with the packed weight,
 * split into column blocks: one large product instead of one per head and role, and the
 * gradient of the split is a single concat (tfjs's wasm backend transposed the input once
 * per product to form each weight gradient). No rank-5 transpose is needed.
 */
export function applyAttention(
  layer: Attention,
  x: tf.Tensor3D,
  local: LocalAttention | tf.Tensor2D,
  dropoutRate: number,
  training: boolean,
  seed: number,
): tf.Tensor3D {
  const [batch, time, width] = x.shape;
  const heads = layer.heads, headWidth = width / heads;
  const scale = 1 / Math.sqrt(headWidth);
  const packed = applyLinear(layer.qkv, x.reshape([batch * time, width]));
  const blocks = tf.split(packed, 3 * heads, 1)
    .map((block) => block.reshape([batch, time, headWidth]) as tf.Tensor3D);
  const outputs: tf.Tensor3D[] = [];
  for (let h = 0; h < heads; h++) {
    const q = blocks[h], k = blocks[heads + h], v = blocks[2 * heads + h];
    const weightsDropout = (w: tf.Tensor) => dropout(w, dropoutRate, training, seed + h);
    if (local instanceof tf.Tensor || local.kind === "dense") {
      const mask = local instanceof tf.Tensor ? local : local.mask;
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), mask);
      outputs.push(tf.matMul(weightsDropout(tf.softmax(scores)) as tf.Tensor3D, v));
    } else {
      outputs.push(bandedHead(q, k, v, local, scale, weightsDropout));
    }
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
 * tfjs's own wasm slice copies its whole input out of the heap each time (blend's
 * replacement, kernels/wasm_slice.ts, does not), so with tfjs's kernels unstacking T bins
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
