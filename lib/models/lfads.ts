/**
 * LFADS, Latent Factor Analysis via Dynamical Systems (Pandarinath et al. 2018), as laid
 * out by lfads-torch (Sedler & Pandarinath 2023), written from scratch on blend's layers:
 *
 * - input dropout on the assembled input (held-in spikes, a teacher's privileged block);
 * - an initial-condition (IC) encoder, a bidirectional GRU over the observed bins whose
 *   final states give the posterior mean and log-variance of the latent initial condition
 *   `ic`; it is sampled in training (reparameterization) and its mean is used in eval;
 *   a linear map takes it to the generator's initial state g0;
 * - optionally a controller: a bidirectional GRU over the observed bins gives per-bin
 *   features (zeros over the forward bins); at each bin the controller GRU reads
 *   [features, previous factors] and gives the posterior mean and log-variance of the
 *   inferred input u_t (sampled in training, mean in eval), the generator's input;
 * - the generator GRU (clipped) -> dropout -> linear factors (no bias, the latents) ->
 *   linear log-rate readout, over observed and forward bins.
 *
 * `regularizers` gives the KL terms against Gaussian priors with a linear ramp, and an L2
 * penalty on the recurrent weights. The trainer applies coordinated dropout to the input;
 * that is not the model's job.
 * @module
 */

import { tf } from "../deps.ts";
import { ArgumentError, describe } from "../errors.ts";
import { deriveSeed } from "../random.ts";
import { assembleInput } from "./input.ts";
import {
  applyLinear,
  type BidirectionalGRU,
  bidirectionalGRU,
  dropout,
  type GRUCell,
  gruCell,
  gruStep,
  type Linear,
  linear,
  ParameterStore,
  runBidirectionalGRU,
  timeSteps,
} from "./layers.ts";
import type { LFADSConfig, ModelOutputs, SequenceModel, TrainingProgress } from "./model.ts";

/** LFADS's architecture and regularization options. */
export interface LFADSOptions {
  /** Hidden size of each direction of the IC encoder's bidirectional GRU. Default 64. */
  icEncoderDim?: number;
  /** Width of the latent initial condition (the IC posterior's dimension). Default 64. */
  icDim?: number;
  /** Hidden size of the generator GRU. Default 64. */
  generatorDim?: number;
  /** Use the controller and inferred inputs; without it the generator runs autonomously. Default true. */
  controller?: boolean;
  /** Hidden size of each direction of the controller-input encoder's GRU. Default 32. */
  ciEncoderDim?: number;
  /** Hidden size of the controller GRU. Default 32. */
  controllerDim?: number;
  /** Width of the inferred input u_t (lfads-torch's co_dim). Default 4. */
  inferredInputDim?: number;
  /** Width of the factors (the latents), read linearly from the generator. Default 32. */
  factorDim?: number;
  /**
   * Dropout rate, in [0, 1), on the input, the IC encoder's final states, the controller's
   * input features and state, and the generator states the factors read. Default 0.05
   * (coordinated dropout of the input, set by the trainer's masking, does the main work).
   */
  dropout?: number;
  /** Every GRU's hidden state is clipped to +-clip after each step; > 0. Default 5. */
  clip?: number;
  /** Variance of the IC's Gaussian prior N(0, icPriorVar); > 0. Default 0.1. */
  icPriorVar?: number;
  /** Variance of the inferred inputs' Gaussian prior N(0, coPriorVar) at every bin; > 0. Default 0.1. */
  coPriorVar?: number;
  /**
   * Floor added to both posteriors' variances (lfads-torch's ic_post_var_min): the
   * encoders output `raw` and the posterior log-variance is log(exp(raw) + floor); >= 0.
   * Default 1e-4.
   */
  posteriorVarMin?: number;
  /**
   * Weight of the IC KL term (after the normalization described in `regularizers`).
   * Default 0.01: at weight 1 (the plain ELBO per entry) the posteriors collapse on
   * reaching data and co-bps stalls near half the true rates' (measured: 0.32 at 1, 0.47 at
   * 0.1, 0.49 at 0.01 of 0.68 after 20 epochs); LFADS users tune these scales.
   */
  klIcScale?: number;
  /** Weight of the inferred-input KL term. Default 0.01 (see `klIcScale`). */
  klCoScale?: number;
  /** Epoch at which the KL ramp starts rising from 0. Default 0. */
  klRampStart?: number;
  /** Epochs the KL ramp takes to reach 1 (0: a step to 1 at `klRampStart`). Default 10. */
  klRampEpochs?: number;
  /**
   * Weight of the L2 penalty: the mean of the squares of every GRU recurrent weight matrix
   * (encoders, controller, generator); 0 turns it off. Default 1e-3.
   */
  l2Scale?: number;
}

/** LFADS's defaults (sizes for NLB-scale data; lfads-torch's priors and clip). */
export const LFADS_DEFAULTS: Required<LFADSOptions> = {
  icEncoderDim: 64,
  icDim: 64,
  generatorDim: 64,
  controller: true,
  ciEncoderDim: 32,
  controllerDim: 32,
  inferredInputDim: 4,
  factorDim: 32,
  dropout: 0.05,
  clip: 5,
  icPriorVar: 0.1,
  coPriorVar: 0.1,
  posteriorVarMin: 1e-4,
  klIcScale: 0.01,
  klCoScale: 0.01,
  klRampStart: 0,
  klRampEpochs: 10,
  l2Scale: 1e-3,
};

function fail(name: string, expected: string, value: unknown): never {
  throw new ArgumentError(`LFADS option ${name} must be ${expected}, got ${describe(value)}`);
}

function checkOptions(config: LFADSConfig): void {
  for (
    const name of [
      "icEncoderDim",
      "icDim",
      "generatorDim",
      "ciEncoderDim",
      "controllerDim",
      "inferredInputDim",
      "factorDim",
    ] as const
  ) {
    const value = config[name];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      fail(name, "an integer >= 1", value);
    }
  }
  if (typeof config.controller !== "boolean") {
    fail("controller", "true or false", config.controller);
  }
  const rate = config.dropout;
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) fail("dropout", "in [0, 1)", rate);
  if (typeof config.clip !== "number" || !(config.clip > 0)) fail("clip", "> 0", config.clip);
  for (const name of ["icPriorVar", "coPriorVar"] as const) {
    const value = config[name];
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      fail(name, "a finite number > 0", value);
    }
  }
  for (
    const name of [
      "posteriorVarMin",
      "klIcScale",
      "klCoScale",
      "klRampStart",
      "klRampEpochs",
      "l2Scale",
    ] as const
  ) {
    const value = config[name];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      fail(name, "a finite number >= 0", value);
    }
  }
}

/**
 * KL(N(mean, exp(logVar)) || N(0, priorVar)) elementwise:
 * 0.5 (log priorVar - logVar + (exp(logVar) + mean^2) / priorVar - 1).
 */
function gaussianKL(mean: tf.Tensor, logVar: tf.Tensor, priorVar: number): tf.Tensor {
  const ratio = tf.div(tf.add(tf.exp(logVar), tf.square(mean)), priorVar);
  return tf.mul(tf.sub(tf.add(tf.sub(Math.log(priorVar), logVar), ratio), 1), 0.5);
}

/**
 * The linear KL ramp at `progress`: min(1, max(0, (epoch - start) / epochs)), a step at
 * `start` when `epochs` is 0. It moves per epoch, not per step (the step count per epoch
 * is not known here).
 */
function klRamp(progress: TrainingProgress, start: number, epochs: number): number {
  if (epochs === 0) return progress.epoch >= start ? 1 : 0;
  return Math.min(1, Math.max(0, (progress.epoch - start) / epochs));
}

/** The generator's GRU, and with no controller the fixed input projection of its zero input. */
interface Generator {
  cell: GRUCell;
  /** The projection of the (absent) input: only a bias, 3 x generatorDim; null with a controller. */
  inputBias: tf.Variable | null;
}

function createGenerator(
  store: ParameterStore,
  inputs: number,
  hidden: number,
  clip: number,
): Generator {
  if (inputs > 0) {
    return { cell: gruCell(store, "generator", inputs, hidden, clip), inputBias: null };
  }
  // Without a controller the generator has no input: x W + b is just b. Only the bias is a
  // weight; `gruStep` reads the cell's recurrent part and the projection we pass, never
  // `cell.input`, so it points at the bias alone (its weight field is never used).
  const bound = 1 / Math.sqrt(hidden);
  const inputBias = store.create("generator.input.bias", [3 * hidden], { kind: "uniform", bound });
  const recurrent = linear(store, "generator.recurrent", hidden, 3 * hidden, { bound });
  const unused: Linear = { weight: recurrent.weight, bias: inputBias };
  return { cell: { input: unused, recurrent, hidden, clip }, inputBias };
}

/**
 * Build LFADS from a complete config.
 *
 * Weights: `icEncoder.{forward,backward}.*`, `icPosterior.*` (mean and raw log-variance
 * packed, 2 x icDim), `icToGenerator.*`, with the controller `ciEncoder.{forward,backward}.*`,
 * `controller.*` (input: [features, previous factors]), `controller.h0` (its learned initial
 * state) and `coPosterior.*`, then `generator.*`, `factors.weight` (no bias) and
 * `readout.weight` / `readout.bias`.
 *
 * Outputs: `latents` are the factors; `hidden` is [generator states, factors]; `auxiliary`
 * holds `icMean` and `icLogVar` (batch x icDim) and with the controller `coMean` and
 * `coLogVar` (batch x (bins + forward) x inferredInputDim).
 *
 * Both encoders read the observed bins only (the forward bins carry no input); the
 * controller's features are zero over the forward bins, where it still sees the factors.
 */
export function createLFADS(config: LFADSConfig): SequenceModel {
  checkOptions(config);
  const { icEncoderDim, icDim, generatorDim, ciEncoderDim, controllerDim, factorDim, clip } =
    config;
  const coDim = config.inferredInputDim;
  const rate = config.dropout;
  const useController = config.controller;
  const length = config.bins + config.forwardBins;
  const inputWidth = config.heldinNeurons + config.privilegedDim;
  const outputWidth = config.heldinNeurons + config.heldoutNeurons;
  const varFloor = config.posteriorVarMin;

  const store = new ParameterStore(config.seed);
  const icEncoder = bidirectionalGRU(store, "icEncoder", inputWidth, icEncoderDim, clip);
  const icPosterior = linear(store, "icPosterior", 2 * icEncoderDim, 2 * icDim);
  const icToGenerator = linear(store, "icToGenerator", icDim, generatorDim);
  let ciEncoder: BidirectionalGRU | null = null;
  let controller: GRUCell | null = null;
  let controllerH0: tf.Variable | null = null;
  let coPosterior: Linear | null = null;
  if (useController) {
    ciEncoder = bidirectionalGRU(store, "ciEncoder", inputWidth, ciEncoderDim, clip);
    controller = gruCell(store, "controller", 2 * ciEncoderDim + factorDim, controllerDim, clip);
    controllerH0 = store.create("controller.h0", [controllerDim], { kind: "zeros" });
    coPosterior = linear(store, "coPosterior", controllerDim, 2 * coDim);
  }
  const generator = createGenerator(store, useController ? coDim : 0, generatorDim, clip);
  const factors = linear(store, "factors", generatorDim, factorDim, { bias: false });
  const readout = linear(store, "readout", factorDim, outputWidth);

  const recurrentWeights = [
    icEncoder.forward,
    icEncoder.backward,
    ...(ciEncoder ? [ciEncoder.forward, ciEncoder.backward] : []),
    ...(controller ? [controller] : []),
    generator.cell,
  ].map((cell) => cell.recurrent.weight);
  const recurrentCount = recurrentWeights.reduce((n, w) => n + w.size, 0);

  /** The posterior log-variance from the encoder's raw output: log(exp(raw) + floor). */
  const floored = (raw: tf.Tensor) => varFloor > 0 ? tf.log(tf.add(tf.exp(raw), varFloor)) : raw;

  return {
    config,
    weights: store.variables,
    latentDim: factorDim,
    forward(inputs, options): ModelOutputs {
      const training = options.training, seed = options.seed ?? 0;
      const noise = (label: string) => deriveSeed(seed, label);
      // The encoders see the observed bins only.
      const observed = assembleInput(inputs, config.privilegedDim, 0);
      const x = dropout(observed, rate, training, noise("input")) as tf.Tensor3D;
      const batch = x.shape[0];

      // Initial condition.
      const icFinal = runBidirectionalGRU(icEncoder, x).last;
      const icParams = applyLinear(
        icPosterior,
        dropout(icFinal, rate, training, noise("icEncoder")),
      );
      const [icMean, icRaw] = tf.split(icParams, 2, 1) as tf.Tensor2D[];
      const icLogVar = floored(icRaw) as tf.Tensor2D;
      const ic = training
        ? tf.add(
          icMean,
          tf.mul(
            tf.exp(tf.mul(icLogVar, 0.5)),
            tf.randomNormal([batch, icDim], 0, 1, "float32", noise("icSample")),
          ),
        )
        : icMean;
      let g = applyLinear(icToGenerator, ic) as tf.Tensor2D;

      // Dropout masks and sampling noise for every bin, drawn at once.
      const masks = (label: string, width: number): tf.Tensor2D[] | null =>
        training && rate > 0
          ? timeSteps(dropout(tf.ones([length, batch, width]), rate, true, noise(label)))
          : null;
      const generatorMasks = masks("generator", generatorDim);
      const readFactors = (state: tf.Tensor2D, mask: tf.Tensor2D | null) =>
        applyLinear(factors, mask ? tf.mul(state, mask) : state) as tf.Tensor2D;
      let f = readFactors(
        g,
        training && rate > 0
          ? dropout(tf.onesLike(g), rate, true, noise("generator.init")) as tf.Tensor2D
          : null,
      );

      // Controller inputs: per-bin features (zeros over the forward bins) projected once.
      let featureSteps: tf.Tensor2D[] = [];
      let factorWeight: tf.Tensor2D | null = null;
      let c: tf.Tensor2D | null = null;
      let controllerMasks: tf.Tensor2D[] | null = null;
      let coNoise: tf.Tensor2D[] | null = null;
      if (controller && ciEncoder && controllerH0) {
        const width = 2 * ciEncoderDim, gates = 3 * controllerDim;
        // Time-major (bins x batch x width), zero over the forward bins.
        let features = tf.transpose(
          dropout(runBidirectionalGRU(ciEncoder, x).states, rate, training, noise("ciEncoder")),
          [1, 0, 2],
        );
        if (config.forwardBins > 0) {
          features = tf.pad(features, [[0, config.forwardBins], [0, 0], [0, 0]]);
        }
        // The controller's input weight packs [features; factors] rows: the feature rows
        // are applied to every bin at once, the factor rows step by step.
        const w = controller.input.weight as tf.Tensor2D;
        let projected = tf.matMul(
          tf.reshape(features, [length * batch, width]) as tf.Tensor2D,
          tf.slice(w, [0, 0], [width, gates]),
        ) as tf.Tensor;
        if (controller.input.bias) projected = tf.add(projected, controller.input.bias);
        featureSteps = timeSteps(tf.reshape(projected, [length, batch, gates]));
        factorWeight = tf.slice(w, [width, 0], [factorDim, gates]);
        c = tf.tile(tf.reshape(controllerH0, [1, controllerDim]), [batch, 1]) as tf.Tensor2D;
        controllerMasks = masks("controller", controllerDim);
        coNoise = training
          ? timeSteps(tf.randomNormal([length, batch, coDim], 0, 1, "float32", noise("coSample")))
          : null;
      }
      const constantInput = generator.inputBias
        ? tf.reshape(generator.inputBias, [1, 3 * generatorDim]) as tf.Tensor2D
        : null;

      const generatorStates: tf.Tensor2D[] = [];
      const factorStates: tf.Tensor2D[] = [];
      const coMeans: tf.Tensor2D[] = [];
      const coLogVars: tf.Tensor2D[] = [];
      for (let t = 0; t < length; t++) {
        let generatorInput: tf.Tensor2D;
        if (controller && coPosterior && c && factorWeight) {
          const projected = tf.add(featureSteps[t], tf.matMul(f, factorWeight)) as tf.Tensor2D;
          c = gruStep(controller, projected, c);
          const read = controllerMasks ? tf.mul(c, controllerMasks[t]) : c;
          const [mean, raw] = tf.split(applyLinear(coPosterior, read), 2, 1) as tf.Tensor2D[];
          const logVar = floored(raw) as tf.Tensor2D;
          coMeans.push(mean);
          coLogVars.push(logVar);
          const u = coNoise
            ? tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), coNoise[t])) as tf.Tensor2D
            : mean;
          generatorInput = applyLinear(generator.cell.input, u) as tf.Tensor2D;
        } else {
          generatorInput = constantInput!;
        }
        g = gruStep(generator.cell, generatorInput, g);
        f = readFactors(g, generatorMasks ? generatorMasks[t] : null);
        generatorStates.push(g);
        factorStates.push(f);
      }

      const latents = tf.stack(factorStates, 1) as tf.Tensor3D;
      const logRates = applyLinear(readout, latents) as tf.Tensor3D;
      const auxiliary: Record<string, tf.Tensor> = { icMean, icLogVar };
      if (useController) {
        auxiliary.coMean = tf.stack(coMeans, 1);
        auxiliary.coLogVar = tf.stack(coLogVars, 1);
      }
      return {
        logRates,
        latents,
        hidden: [tf.stack(generatorStates, 1) as tf.Tensor3D, latents],
        auxiliary,
      };
    },

    /**
     * `klIc`: KL(N(icMean, exp(icLogVar)) || N(0, icPriorVar)) summed over the IC's
     * dimensions and averaged over the batch; `klCo`: the same against N(0, coPriorVar)
     * summed over bins (observed and forward) and dimensions. Each is divided by the
     * entries of one trial's log-rates, (bins + forward) x (heldin + heldout), so that it
     * sits on the scale of the per-entry Poisson loss the trainer averages (the ELBO per
     * entry when the scales are 1), then multiplied by its scale and the ramp.
     * `l2`: l2Scale x the mean square of every GRU recurrent weight matrix. A term whose
     * scale is 0 is left out.
     */
    regularizers(outputs, progress) {
      const terms: Record<string, tf.Scalar> = {};
      const entries = length * outputWidth;
      const ramp = klRamp(progress, config.klRampStart, config.klRampEpochs);
      const perTrial = (kl: tf.Tensor, batch: number, scale: number) =>
        tf.mul(tf.sum(kl), (scale * ramp) / (batch * entries)) as tf.Scalar;
      const aux = outputs.auxiliary;
      const need = (name: string) => {
        const tensor = aux[name];
        if (!tensor) {
          throw new ArgumentError(
            `LFADS regularizers need outputs.auxiliary.${name}; it is missing`,
          );
        }
        return tensor;
      };
      if (config.klIcScale > 0) {
        const mean = need("icMean");
        const kl = gaussianKL(mean, need("icLogVar"), config.icPriorVar);
        terms.klIc = perTrial(kl, mean.shape[0], config.klIcScale);
      }
      if (useController && config.klCoScale > 0) {
        const mean = need("coMean");
        const kl = gaussianKL(mean, need("coLogVar"), config.coPriorVar);
        terms.klCo = perTrial(kl, mean.shape[0], config.klCoScale);
      }
      if (config.l2Scale > 0) {
        const squares = tf.addN(recurrentWeights.map((w) => tf.sum(tf.square(w))));
        terms.l2 = tf.mul(squares, config.l2Scale / recurrentCount) as tf.Scalar;
      }
      return terms;
    },
    dispose() {
      store.dispose();
    },
  };
}
