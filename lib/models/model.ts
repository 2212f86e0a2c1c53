/**
 * The `SequenceModel` interface every architecture implements, the configs they are built
 * from, and `createModel`. A config is plain JSON: it is saved beside every checkpoint and
 * rebuilds the same model.
 * @module
 */

import { tf } from "../deps.ts";
import { requireBackend } from "../backend.ts";
import { ArgumentError, describe } from "../errors.ts";
import type { ModelInputs } from "./input.ts";
import { createNDT, NDT_DEFAULTS, type NDTOptions } from "./ndt.ts";
import { createRNN, RNN_DEFAULTS, type RNNOptions } from "./rnn.ts";
import { createLFADS, LFADS_DEFAULTS, type LFADSOptions } from "./lfads.ts";

export type { ModelInputs } from "./input.ts";

/** The architectures blend provides. */
export type ModelKind = "ndt" | "rnn" | "lfads";

/** Every model kind. */
export const MODEL_KINDS: readonly ModelKind[] = ["ndt", "rnn", "lfads"];

/**
 * Compact versions of each architecture (the demo's NDT and `distill --size small`): small
 * enough to train to convergence in a minute or two on 2 cores at a few hundred trials.
 */
export const COMPACT_MODELS: Readonly<
  Record<ModelKind, { kind: ModelKind } & Record<string, number | string>>
> = {
  ndt: { kind: "ndt", dModel: 32, layers: 2, heads: 2, feedForward: 64 },
  rnn: { kind: "rnn", encoderDim: 32, generatorDim: 48, factorDim: 16 },
  lfads: {
    kind: "lfads",
    icEncoderDim: 32,
    icDim: 32,
    generatorDim: 48,
    ciEncoderDim: 16,
    controllerDim: 16,
    factorDim: 16,
  },
};

/**
 * How a teacher's privileged signal is made from a dataset: behavior as z-scored floats
 * (statistics from the train split, NaN -> 0), or the trial's condition as a one-hot.
 */
export type PrivilegedSpec =
  | { kind: "behavior"; names: string[]; mean: number[]; std: number[] }
  | { kind: "condition"; conditions: number[] };

/** The data a model is shaped for. */
export interface DataShape {
  /** Held-in (observed) neurons. */
  heldinNeurons: number;
  /** Held-out neurons (never input, always predicted). */
  heldoutNeurons: number;
  /** Observed bins per trial. */
  bins: number;
  /** Forward-prediction bins after the trial (never input, always predicted). */
  forwardBins: number;
}

/** What every model config has. */
export interface BaseConfig extends DataShape {
  /** The architecture. */
  kind: ModelKind;
  /** Width of the privileged input; 0 for an ordinary model, > 0 for a teacher. */
  privilegedDim: number;
  /** How the privileged input is built (required when `privilegedDim > 0`). */
  privileged?: PrivilegedSpec;
  /** Seed of the initial weights. */
  seed: number;
}

/** A complete NDT config. */
export type NDTConfig = BaseConfig & { kind: "ndt" } & Required<NDTOptions>;
/** A complete RNN config. */
export type RNNConfig = BaseConfig & { kind: "rnn" } & Required<RNNOptions>;
/** A complete LFADS config. */
export type LFADSConfig = BaseConfig & { kind: "lfads" } & Required<LFADSOptions>;
/** Any model's complete config. */
export type ModelConfig = NDTConfig | RNNConfig | LFADSConfig;

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Training mode: dropout and sampling on. */
  training: boolean;
  /** Seed of this pass's dropout and sampling noise (training only). Default 0. */
  seed?: number;
}

/** What a forward pass returns. */
export interface ModelOutputs {
  /** Log firing rates (log spikes per bin): batch x (bins + forward) x (heldin + heldout). */
  logRates: tf.Tensor3D;
  /** The representation a decoder or a feature-distillation loss reads: batch x (bins + forward) x width. */
  latents: tf.Tensor3D;
  /** Hidden states layer by layer (batch x (bins + forward) x width each), for feature distillation. */
  hidden: tf.Tensor3D[];
  /** Model-specific tensors its regularizers need (e.g. LFADS's posterior parameters). */
  auxiliary: Record<string, tf.Tensor>;
}

/** Where training stands, for terms that change over training (KL ramps). */
export interface TrainingProgress {
  /** Zero-based epoch. */
  epoch: number;
  /** Zero-based optimizer step. */
  step: number;
}

/** A neural sequence model: spikes (and, for a teacher, privileged input) in, log-rates out. */
export interface SequenceModel {
  /** The config it was built from (plain JSON). */
  readonly config: ModelConfig;
  /** Trainable weights by name. */
  readonly weights: ReadonlyMap<string, tf.Variable>;
  /** Width of `latents`. */
  readonly latentDim: number;
  /** Run the model on one batch. Call inside `tf.tidy`. */
  forward(inputs: ModelInputs, options: ForwardOptions): ModelOutputs;
  /**
   * Extra loss terms of this architecture, already weighted (LFADS: KL terms with their
   * ramp, L2 on recurrent weights); empty for models without any.
   */
  regularizers(outputs: ModelOutputs, progress: TrainingProgress): Record<string, tf.Scalar>;
  /** Free the weights. */
  dispose(): void;
}

/** A config as a user writes it: the kind and data shape, anything else defaulted. */
export type ModelConfigInput =
  & Partial<Omit<BaseConfig, "kind">>
  & DataShape
  & (
    | ({ kind: "ndt" } & NDTOptions)
    | ({ kind: "rnn" } & RNNOptions)
    | ({ kind: "lfads" } & LFADSOptions)
  );

function checkCount(value: unknown, name: string, min: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new ArgumentError(
      `model config: ${name} must be an integer >= ${min}, got ${describe(value)}`,
    );
  }
}

/** Fill a config's defaults and check it; the result is what `createModel` builds. */
export function resolveConfig(input: ModelConfigInput): ModelConfig {
  if (!MODEL_KINDS.includes(input?.kind)) {
    throw new ArgumentError(
      `model config: kind must be one of ${MODEL_KINDS.join(", ")}, got ${describe(input?.kind)}`,
    );
  }
  const defaults = { ndt: NDT_DEFAULTS, rnn: RNN_DEFAULTS, lfads: LFADS_DEFAULTS }[input.kind];
  const unknown = Object.keys(input).filter((key) =>
    !(key in defaults) &&
    ![
      "kind",
      "heldinNeurons",
      "heldoutNeurons",
      "bins",
      "forwardBins",
      "privilegedDim",
      "privileged",
      "seed",
    ]
      .includes(key)
  );
  if (unknown.length > 0) {
    throw new ArgumentError(
      `model config: unknown field(s) ${unknown.join(", ")} for kind "${input.kind}"; ` +
        `known: ${Object.keys(defaults).join(", ")}`,
    );
  }
  const config = { privilegedDim: 0, seed: 0, ...defaults, ...input } as ModelConfig;
  checkCount(config.heldinNeurons, "heldinNeurons", 1);
  checkCount(config.heldoutNeurons, "heldoutNeurons", 0);
  checkCount(config.bins, "bins", 1);
  checkCount(config.forwardBins, "forwardBins", 0);
  checkCount(config.privilegedDim, "privilegedDim", 0);
  checkCount(config.seed, "seed", 0);
  if (config.privilegedDim > 0) {
    const p = config.privileged;
    const width = p?.kind === "behavior"
      ? p.names.length
      : p?.kind === "condition"
      ? p.conditions.length
      : -1;
    if (width !== config.privilegedDim) {
      throw new ArgumentError(
        `model config: privilegedDim is ${config.privilegedDim} but privileged describes ` +
          (p ? `${width} input(s)` : "nothing (it is missing)"),
      );
    }
  }
  return config;
}

/**
 * Build a model from a config (defaults filled in by `resolveConfig`).
 *
 * @example
 * ```ts
 * import { createModel } from "./model.ts";
 * const model = createModel({ kind: "ndt", heldinNeurons: 40, heldoutNeurons: 10, bins: 50, forwardBins: 10 });
 * ```
 */
export function createModel(input: ModelConfigInput): SequenceModel {
  const config = resolveConfig(input);
  requireBackend("createModel");
  switch (config.kind) {
    case "ndt":
      return createNDT(config);
    case "rnn":
      return createRNN(config);
    case "lfads":
      return createLFADS(config);
  }
}

/** Number of trainable numbers in a model. */
export function countParameters(model: SequenceModel): number {
  let n = 0;
  for (const w of model.weights.values()) n += w.size;
  return n;
}

/** Width of a model's latents (the features a decoder or a feature loss reads), from one tiny batch. */
export function latentWidth(model: SequenceModel): number {
  const { heldinNeurons, bins } = model.config;
  return tf.tidy(() =>
    model.forward({ heldin: tf.zeros([1, bins, heldinNeurons]) }, { training: false }).latents
      .shape[2]
  );
}
