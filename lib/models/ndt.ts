/**
 * NDT, the Neural Data Transformer (Ye & Pandarinath 2021): one token per time bin, a
 * stack of pre-norm transformer layers with local attention, and a linear log-rate readout
 * for held-in and held-out neurons over observed and forward bins. Held-out neurons and
 * forward bins are never input (zeros) and always predicted.
 * @module
 */

import { tf } from "../deps.ts";
import { ArgumentError } from "../errors.ts";
import { deriveSeed } from "../random.ts";
import { assembleInput } from "./input.ts";
import {
  applyAttention,
  applyLayerNorm,
  applyLinear,
  type Attention,
  attention,
  type AttentionKernel,
  disposeLocalAttention,
  dropout,
  type LayerNorm,
  layerNorm,
  type Linear,
  linear,
  localAttention,
  ParameterStore,
} from "./layers.ts";
import type { NDTConfig, SequenceModel } from "./model.ts";

/** NDT's architecture options. */
export interface NDTOptions {
  /** Token width (the input is linearly embedded to it). Default 128. */
  dModel?: number;
  /** Transformer layers. Default 4. */
  layers?: number;
  /** Attention heads. Default 2. */
  heads?: number;
  /** Feed-forward width. Default 128. */
  feedForward?: number;
  /** Bins back a token may attend. Default 8. */
  attendBack?: number;
  /** Bins forward a token may attend. Default 4. */
  attendForward?: number;
  /** Dropout on embeddings, residual branches and the feed-forward layer. Default 0.2. */
  dropout?: number;
  /** Dropout on attention weights. Default 0.1. */
  attentionDropout?: number;
  /** Position code: learned vectors or fixed sinusoids. Default "learned". */
  positions?: "learned" | "sinusoidal";
  /**
   * How local attention is computed (`AttentionKernel` in layers.ts): "dense" scores every
   * bin against every bin and masks, "banded" only each block of bins against its window,
   * "auto" picks banded when it saves at least a quarter of the work. The results agree up to
   * float32 rounding; only the layout of the attention-dropout pattern differs. Default
   * "auto" (also for configs saved before this option existed).
   */
  attentionKernel?: AttentionKernel;
}

/** NDT's defaults: the BLEND configuration (RESEARCH.md §2). */
export const NDT_DEFAULTS: Required<NDTOptions> = {
  dModel: 128,
  layers: 4,
  heads: 2,
  feedForward: 128,
  attendBack: 8,
  attendForward: 4,
  dropout: 0.2,
  attentionDropout: 0.1,
  positions: "learned",
  attentionKernel: "auto",
};

interface Block {
  norm1: LayerNorm;
  attention: Attention;
  norm2: LayerNorm;
  ff1: Linear;
  ff2: Linear;
}

function sinusoids(length: number, width: number): Float32Array {
  const values = new Float32Array(length * width);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < width; i += 2) {
      const angle = t / Math.pow(10000, i / width);
      values[t * width + i] = Math.sin(angle);
      if (i + 1 < width) values[t * width + i + 1] = Math.cos(angle);
    }
  }
  return values;
}

/** Build an NDT from a complete config. */
export function createNDT(config: NDTConfig): SequenceModel {
  const { dModel, heads, feedForward } = config;
  if (
    config.dropout < 0 || config.dropout >= 1 || config.attentionDropout < 0 ||
    config.attentionDropout >= 1
  ) {
    throw new ArgumentError(
      `NDT dropout rates must be in [0, 1); got dropout ${config.dropout}, attentionDropout ${config.attentionDropout}`,
    );
  }
  const length = config.bins + config.forwardBins;
  const inputWidth = config.heldinNeurons + config.privilegedDim;
  const outputWidth = config.heldinNeurons + config.heldoutNeurons;
  const store = new ParameterStore(config.seed);
  const embed = linear(store, "embedding", inputWidth, dModel);
  const position = config.positions === "learned"
    ? store.create("position", [length, dModel], { kind: "normal", sd: 0.02 })
    : null;
  const blocks: Block[] = [];
  for (let l = 0; l < config.layers; l++) {
    blocks.push({
      norm1: layerNorm(store, `layers.${l}.norm1`, dModel),
      attention: attention(store, `layers.${l}.attention`, dModel, heads),
      norm2: layerNorm(store, `layers.${l}.norm2`, dModel),
      ff1: linear(store, `layers.${l}.ff1`, dModel, feedForward),
      ff2: linear(store, `layers.${l}.ff2`, feedForward, dModel),
    });
  }
  const finalNorm = layerNorm(store, "norm", dModel);
  const readout = linear(store, "readout", dModel, outputWidth);
  // Constants live outside every tidy scope and are freed with the model.
  const local = localAttention(
    length,
    config.attendBack,
    config.attendForward,
    config.attentionKernel ?? "auto",
  );
  tf.keep(local.mask);
  const fixedPositions = config.positions === "sinusoidal"
    ? tf.keep(tf.tensor2d(sinusoids(length, dModel), [length, dModel]))
    : null;

  return {
    config,
    weights: store.variables,
    latentDim: dModel,
    forward(inputs, options) {
      const training = options.training, seed = options.seed ?? 0;
      const noise = (label: string) => deriveSeed(seed, label);
      const x0 = assembleInput(inputs, config.privilegedDim, config.forwardBins);
      let x = tf.add(applyLinear(embed, x0), position ?? fixedPositions!) as tf.Tensor3D;
      x = dropout(x, config.dropout, training, noise("embedding")) as tf.Tensor3D;
      const hidden: tf.Tensor3D[] = [];
      blocks.forEach((block, l) => {
        const attended = applyAttention(
          block.attention,
          applyLayerNorm(block.norm1, x) as tf.Tensor3D,
          local,
          config.attentionDropout,
          training,
          noise(`attention${l}`),
        );
        x = tf.add(x, dropout(attended, config.dropout, training, noise(`residual1.${l}`)));
        const h = tf.relu(applyLinear(block.ff1, applyLayerNorm(block.norm2, x)));
        const ff = applyLinear(block.ff2, dropout(h, config.dropout, training, noise(`ff${l}`)));
        x = tf.add(x, dropout(ff, config.dropout, training, noise(`residual2.${l}`)));
        hidden.push(x);
      });
      const latents = applyLayerNorm(finalNorm, x) as tf.Tensor3D;
      const logRates = applyLinear(readout, latents) as tf.Tensor3D;
      return { logRates, latents, hidden, auxiliary: {} };
    },
    regularizers: () => ({}),
    dispose() {
      store.dispose();
      disposeLocalAttention(local);
      fixedPositions?.dispose();
    },
  };
}
