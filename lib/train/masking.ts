/**
 * Input masking for masked modeling: hide part of the held-in spikes from the model and
 * score its predictions there, so it must infer them from context instead of copying its
 * input. Masks are drawn from blend's seeded PRNG, so a seed gives the same masks on every
 * backend.
 * @module
 */

import { ArgumentError, describe } from "../errors.ts";
import type { Random } from "../random.ts";
import type { ModelKind } from "../models/model.ts";

/**
 * What is masked: whole time bins (every neuron of a bin, NDT's default), whole neurons
 * (every bin of a neuron), contiguous spans of bins, single entries (LFADS's coordinated
 * dropout), or nothing (every held-in entry is scored, nothing hidden).
 */
export type MaskMode = "timestep" | "neuron" | "span" | "element" | "none";

/** Every mask mode. */
export const MASK_MODES: readonly MaskMode[] = ["timestep", "neuron", "span", "element", "none"];

/** How inputs are masked. */
export interface MaskingOptions {
  /** What is masked. */
  mode: MaskMode;
  /** Fraction of bins, neurons or entries masked, in (0, 1). */
  ratio: number;
  /** Of the masked entries, the fraction whose input is replaced by zero. */
  zeroFraction: number;
  /**
   * Of the masked entries, the fraction replaced by a random count (uniform from 0 to the
   * batch's largest count); the remainder keeps its true value but is still scored (BERT's
   * 80 / 10 / 10 recipe is zeroFraction 0.8, randomFraction 0.1).
   */
  randomFraction: number;
  /** Longest span, in bins, for `span` mode. */
  maxSpan: number;
  /** Scale the unmasked inputs by 1 / (1 - ratio), as dropout does (coordinated dropout). */
  rescale: boolean;
}

// Recurrent models see every bin, so coordinated dropout (LFADS's) keeps them from
// copying their input: 30% of single entries hidden, the rest scaled up.
const COORDINATED_DROPOUT: MaskingOptions = {
  mode: "element",
  ratio: 0.3,
  zeroFraction: 1,
  randomFraction: 0,
  maxSpan: 1,
  rescale: true,
};

/** The masking each architecture trains with unless told otherwise. */
export const MASKING_DEFAULTS: Readonly<Record<ModelKind, MaskingOptions>> = {
  // NDT as its own recipe masks (BERT's 80 / 10 / 10): of the 25% of bins chosen, 80% are
  // zeroed, 10% get random counts and 10% are left unchanged, and the loss covers every
  // chosen bin. The unchanged share trains predictions at bins the model can see, which
  // is every bin at inference; zeroing all chosen bins (BLEND's release) leaves that path
  // untrained (held-in R2 against the true rates 0.25 at visible vs 0.59 at masked bins).
  ndt: {
    mode: "timestep",
    ratio: 0.25,
    zeroFraction: 0.8,
    randomFraction: 0.1,
    maxSpan: 1,
    rescale: false,
  },
  rnn: COORDINATED_DROPOUT,
  lfads: COORDINATED_DROPOUT,
};

/** Fill in and check masking options against a model kind's defaults. */
export function resolveMasking(
  kind: ModelKind,
  options: Partial<MaskingOptions> = {},
): MaskingOptions {
  const m = { ...MASKING_DEFAULTS[kind], ...options };
  if (!MASK_MODES.includes(m.mode)) {
    throw new ArgumentError(
      `masking.mode must be one of ${MASK_MODES.join(", ")}, got ${describe(m.mode)}`,
    );
  }
  const fraction = (value: number, name: string, low: number, high: number) => {
    if (typeof value !== "number" || !(value >= low && value <= high)) {
      throw new ArgumentError(
        `masking.${name} must be in [${low}, ${high}], got ${describe(value)}`,
      );
    }
  };
  if (m.mode !== "none") fraction(m.ratio, "ratio", 1e-6, 0.95);
  fraction(m.zeroFraction, "zeroFraction", 0, 1);
  fraction(m.randomFraction, "randomFraction", 0, 1);
  if (m.zeroFraction + m.randomFraction > 1 + 1e-12) {
    throw new ArgumentError(
      `masking.zeroFraction + randomFraction must be <= 1, got ${m.zeroFraction} + ${m.randomFraction}`,
    );
  }
  if (!Number.isInteger(m.maxSpan) || m.maxSpan < 1) {
    throw new ArgumentError(`masking.maxSpan must be an integer >= 1, got ${describe(m.maxSpan)}`);
  }
  return m;
}

/** A masked batch: the model's input and where the held-in loss is scored. */
export interface MaskedInput {
  /** Held-in spikes with masked entries replaced: batch x bins x neurons. */
  input: Float32Array;
  /** 1 where a held-in entry was masked (and is scored), 0 elsewhere. */
  scored: Float32Array;
}

/**
 * Mask a batch of held-in spikes (`shape` = batch x bins x neurons). With mode `none` the
 * input is unchanged and every entry is scored.
 */
export function maskSpikes(
  spikes: Float32Array,
  shape: readonly [number, number, number],
  options: MaskingOptions,
  rng: Random,
): MaskedInput {
  const [batch, bins, neurons] = shape;
  const input = new Float32Array(spikes);
  const scored = new Float32Array(spikes.length);
  if (options.mode === "none") {
    scored.fill(1);
    return { input, scored };
  }
  // The largest count bounds random replacements; scanning the batch is only needed then.
  let maxCount = 0;
  if (options.randomFraction > 0) { for (const v of spikes) if (v > maxCount) maxCount = v; }
  const masked = new Uint8Array(spikes.length);
  for (let b = 0; b < batch; b++) {
    const base = b * bins * neurons;
    if (options.mode === "element") {
      for (let j = 0; j < bins * neurons; j++) {
        if (rng.uniform() < options.ratio) masked[base + j] = 1;
      }
    } else if (options.mode === "neuron") {
      for (const n of chooseCount(neurons, options.ratio, rng)) {
        for (let t = 0; t < bins; t++) masked[base + t * neurons + n] = 1;
      }
    } else {
      const bins_ = options.mode === "timestep"
        ? chooseCount(bins, options.ratio, rng)
        : chooseSpans(bins, options.ratio, options.maxSpan, rng);
      for (const t of bins_) masked.fill(1, base + t * neurons, base + (t + 1) * neurons);
    }
  }
  const keepScale = options.rescale ? 1 / (1 - options.ratio) : 1;
  for (let j = 0; j < input.length; j++) {
    if (!masked[j]) {
      input[j] *= keepScale;
      continue;
    }
    scored[j] = 1;
    const u = rng.uniform();
    if (u < options.zeroFraction) input[j] = 0;
    else if (u < options.zeroFraction + options.randomFraction) input[j] = rng.int(maxCount + 1);
  }
  return { input, scored };
}

/** `round(ratio * n)` distinct indices (at least one) out of `n`. */
function chooseCount(n: number, ratio: number, rng: Random): number[] {
  const count = Math.min(n, Math.max(1, Math.round(ratio * n)));
  return Array.from(rng.permutation(n).subarray(0, count));
}

/** Bins covered by random spans of 1..maxSpan bins until `ratio` of the bins are taken. */
function chooseSpans(n: number, ratio: number, maxSpan: number, rng: Random): number[] {
  const target = Math.min(n, Math.max(1, Math.round(ratio * n)));
  const taken = new Uint8Array(n);
  let count = 0;
  while (count < target) {
    const length = Math.min(1 + rng.int(maxSpan), target - count);
    const start = rng.int(n);
    for (let t = start; t < Math.min(n, start + length); t++) {
      if (!taken[t]) {
        taken[t] = 1;
        count++;
      }
    }
  }
  const bins: number[] = [];
  taken.forEach((v, t) => v && bins.push(t));
  return bins;
}
