/**
 * The recurrent baseline: a bidirectional GRU encoder over the input, a GRU generator that
 * runs over time on the encoder's states, a linear "factors" layer (the latents) and a
 * linear log-rate readout. Deterministic (no sampling): the plain sequence-to-sequence
 * counterpart of LFADS, with the same input (held-in spikes, a teacher's privileged block,
 * zeros over the forward bins) and the same outputs.
 * @module
 */

import { tf } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { deriveSeed } from "../random.ts";
import { assembleInput } from "./input.ts";
import {
  applyLinear,
  bidirectionalGRU,
  dropout,
  gruCell,
  linear,
  ParameterStore,
  runBidirectionalGRU,
  runGRU,
} from "./layers.ts";
import type { RNNConfig, SequenceModel } from "./model.ts";

/** The RNN baseline's architecture options. */
export interface RNNOptions {
  /** Hidden size of each direction of the bidirectional encoder GRU. Default 64. */
  encoderDim?: number;
  /** Hidden size of the generator GRU. Default 64. */
  generatorDim?: number;
  /** Width of the factors (the latents), read linearly from the generator. Default 32. */
  factorDim?: number;
  /**
   * Dropout rate on the input, on the encoder states the generator reads and on the
   * generator states the factors read; in [0, 1). Default 0.1.
   */
  dropout?: number;
  /** Every GRU's hidden state is clipped to +-clip after each step; > 0. Default 5. */
  clip?: number;
  /**
   * Weight of the L2 penalty on the GRUs' recurrent weights (mean of their squares);
   * 0 turns the `l2` regularizer off. Default 0.
   */
  l2Scale?: number;
}

/** The RNN baseline's defaults. */
export const RNN_DEFAULTS: Required<RNNOptions> = {
  encoderDim: 64,
  generatorDim: 64,
  factorDim: 32,
  dropout: 0.1,
  clip: 5,
  l2Scale: 0,
};

function checkSize(value: unknown, name: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`RNN option ${name} must be an integer >= 1, got ${describe(value)}`);
  }
}

function checkOptions(config: RNNConfig): void {
  checkSize(config.encoderDim, "encoderDim");
  checkSize(config.generatorDim, "generatorDim");
  checkSize(config.factorDim, "factorDim");
  const rate = config.dropout;
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
    throw new ArgumentError(`RNN option dropout must be in [0, 1), got ${describe(rate)}`);
  }
  if (typeof config.clip !== "number" || !(config.clip > 0)) {
    throw new ArgumentError(`RNN option clip must be > 0, got ${describe(config.clip)}`);
  }
  const l2 = config.l2Scale;
  if (typeof l2 !== "number" || !Number.isFinite(l2) || l2 < 0) {
    throw new ArgumentError(
      `RNN option l2Scale must be a finite number >= 0, got ${describe(l2)}`,
    );
  }
}

/**
 * Build the RNN baseline from a complete config. Weights: `encoder.{forward,backward}.*`,
 * `generator.*` (GRUs named as in `gruCell`), `factors.weight` (no bias) and
 * `readout.weight` / `readout.bias`. `hidden` is [encoder states (2 x encoderDim wide),
 * generator states, factors]; `latents` are the factors.
 */
export function createRNN(config: RNNConfig): SequenceModel {
  checkOptions(config);
  const { encoderDim, generatorDim, factorDim, clip } = config;
  const rate = config.dropout;
  const inputWidth = config.heldinNeurons + config.privilegedDim;
  const outputWidth = config.heldinNeurons + config.heldoutNeurons;
  const store = new ParameterStore(config.seed);
  const encoder = bidirectionalGRU(store, "encoder", inputWidth, encoderDim, clip);
  const generator = gruCell(store, "generator", 2 * encoderDim, generatorDim, clip);
  const factors = linear(store, "factors", generatorDim, factorDim, { bias: false });
  const readout = linear(store, "readout", factorDim, outputWidth);
  const recurrentWeights = [encoder.forward, encoder.backward, generator].map((cell) =>
    cell.recurrent.weight
  );
  const recurrentCount = recurrentWeights.reduce((n, w) => n + w.size, 0);

  return {
    config,
    weights: store.variables,
    latentDim: factorDim,
    forward(inputs, options) {
      const training = options.training, seed = options.seed ?? 0;
      const noise = (label: string) => deriveSeed(seed, label);
      const input = assembleInput(inputs, config.privilegedDim, config.forwardBins);
      const x = dropout(input, rate, training, noise("input")) as tf.Tensor3D;
      const encoded = runBidirectionalGRU(encoder, x).states;
      const h0 = tf.zeros([x.shape[0], generatorDim]) as tf.Tensor2D;
      const generated = runGRU(
        generator,
        dropout(encoded, rate, training, noise("encoder")) as tf.Tensor3D,
        h0,
      ).states;
      const latents = applyLinear(
        factors,
        dropout(generated, rate, training, noise("generator")),
      ) as tf.Tensor3D;
      const logRates = applyLinear(readout, latents) as tf.Tensor3D;
      return { logRates, latents, hidden: [encoded, generated, latents], auxiliary: {} };
    },
    regularizers(): Record<string, tf.Scalar> {
      if (config.l2Scale === 0) return {};
      const squares = tf.addN(recurrentWeights.map((w) => tf.sum(tf.square(w))));
      return { l2: tf.mul(squares, config.l2Scale / recurrentCount) as tf.Scalar };
    },
    dispose() {
      store.dispose();
    },
  };
}
