/**
 * The parts every synthetic generator shares: log-linear Poisson neurons driven by
 * latent factors, trial splits stratified by condition, and assembly into a validated
 * `NeuralDataset` with ground truth.
 * @module
 */

import type { Array3 } from "../../array.ts";
import { ArgumentError } from "../../errors.ts";
import type { Random } from "../../random.ts";
import type { NeuralDataset, Split } from "../dataset.ts";

/** Fractions of trials in each split; they must sum to 1. */
export type SplitFractions = Record<Split, number>;

/** A group of latents and how strongly (log-rate standard deviation) they drive neurons. */
export interface LoadingBlock {
  /** Latent indices of the block. */
  latents: number[];
  /** Standard deviation of this block's contribution to a neuron's log-rate. */
  gain: number;
}

/** Throw unless `value` is an integer within [min, max]. */
export function checkInteger(value: number, name: string, min: number, max = Infinity): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in ${min}..${max}`;
    throw new ArgumentError(`${name} must be an integer ${range}, got ${value}`);
  }
}

/** Throw unless `value` is a finite number within [min, max]. */
export function checkNumber(value: number, name: string, min: number, max = Infinity): void {
  if (typeof value !== "number" || !(value >= min && value <= max)) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new ArgumentError(`${name} must be a number ${range}, got ${value}`);
  }
}

/**
 * Loadings (neurons x latents) with independent normal entries, scaled so that each
 * block contributes a log-rate standard deviation of `gain` when its latents have unit
 * variance.
 */
export function randomLoadings(
  rng: Random,
  neurons: number,
  latentDim: number,
  blocks: LoadingBlock[],
): Float64Array {
  const loadings = new Float64Array(neurons * latentDim);
  for (const block of blocks) {
    const scale = block.gain / Math.sqrt(block.latents.length);
    for (let n = 0; n < neurons; n++) {
      for (const k of block.latents) loadings[n * latentDim + k] = scale * rng.normal();
    }
  }
  return loadings;
}

/** Scale every latent to zero mean and unit variance over all trials and bins (in place). */
export function standardizeLatents(latents: Float64Array, latentDim: number): void {
  const rows = latents.length / latentDim;
  for (let k = 0; k < latentDim; k++) {
    let sum = 0, squares = 0;
    for (let r = 0; r < rows; r++) sum += latents[r * latentDim + k];
    const mean = sum / rows;
    for (let r = 0; r < rows; r++) squares += (latents[r * latentDim + k] - mean) ** 2;
    const sd = Math.sqrt(squares / rows) || 1;
    for (let r = 0; r < rows; r++) {
      latents[r * latentDim + k] = (latents[r * latentDim + k] - mean) / sd;
    }
  }
}

/**
 * Per-neuron log baseline (log spikes per bin) so that each neuron's mean rate over the
 * simulated latents equals a target drawn log-uniformly in `rateRangeHz`. The mean is
 * measured on the latents themselves (up to `maxRows` evenly spaced rows), because a
 * Gaussian approximation misses badly for non-Gaussian latents such as Lorenz's bimodal
 * x and y.
 */
export function calibratedBaselines(
  rng: Random,
  loadings: Float64Array,
  latents: Float64Array,
  latentDim: number,
  rateRangeHz: [number, number],
  binMs: number,
  maxRows = 5000,
  refractoryMs = 2,
): Float64Array {
  const neurons = loadings.length / latentDim;
  const rows = latents.length / latentDim;
  const stride = Math.max(1, Math.floor(rows / maxRows));
  const [low, high] = rateRangeHz;
  const refractoryBins = refractoryMs / binMs;
  if (refractoryMs > 0 && high >= 1000 / refractoryMs) {
    throw new ArgumentError(
      `rateRangeHz[1] must be below ${1000 / refractoryMs} Hz (the ceiling a ${refractoryMs} ms ` +
        `refractory period allows), got ${high}`,
    );
  }
  const out = new Float64Array(neurons);
  const drives = new Float64Array(Math.ceil(rows / stride));
  for (let n = 0; n < neurons; n++) {
    const targetHz = Math.exp(rng.uniformRange(Math.log(low), Math.log(high)));
    const target = (targetHz * binMs) / 1000;
    let sum = 0, count = 0;
    for (let r = 0; r < rows; r += stride, count++) {
      let drive = 0;
      for (let k = 0; k < latentDim; k++) {
        drive += loadings[n * latentDim + k] * latents[r * latentDim + k];
      }
      drives[count] = drive;
      sum += Math.exp(drive);
    }
    // Without the refractory ceiling the mean rate is exp(b) * mean(exp(drive)); start
    // there, then Newton steps on b (the saturated mean is increasing in b) hit the target.
    let b = Math.log(target) - Math.log(sum / count);
    for (let iteration = 0; iteration < 50 && refractoryBins > 0; iteration++) {
      let mean = 0, slope = 0;
      for (let j = 0; j < count; j++) {
        const rate = Math.exp(b + drives[j]), denominator = 1 + rate * refractoryBins;
        mean += rate / denominator;
        slope += rate / (denominator * denominator);
      }
      const step = (mean / count - target) / (slope / count);
      b -= step;
      if (Math.abs(step) < 1e-10) break;
    }
    out[n] = b;
  }
  return out;
}

/**
 * Assign splits with exact totals, spread evenly within every condition: trials are
 * ordered by condition (random order within and across conditions), then dealt out by
 * a Bresenham-style schedule, so each condition gets its share of every split.
 */
export function stratifiedSplits(
  condition: Int32Array,
  fractions: SplitFractions,
  rng: Random,
): Split[] {
  const total = fractions.train + fractions.val + fractions.test;
  if (Math.abs(total - 1) > 1e-9 || Object.values(fractions).some((f) => !(f >= 0))) {
    throw new ArgumentError(
      `split fractions must be >= 0 and sum to 1, got train ${fractions.train}, val ${fractions.val}, test ${fractions.test}`,
    );
  }
  const n = condition.length;
  const conditionRank = new Map<number, number>();
  for (const c of rng.shuffle([...new Set(condition)])) conditionRank.set(c, conditionRank.size);
  const tieBreak = rng.permutation(n);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    conditionRank.get(condition[a])! - conditionRank.get(condition[b])! || tieBreak[a] - tieBreak[b]
  );
  const nTest = Math.round(n * fractions.test);
  const nVal = Math.round(n * fractions.val);
  const rest = n - nTest;
  const split: Split[] = new Array(n);
  let kept = 0;
  order.forEach((trial, k) => {
    if (Math.floor((k + 1) * nTest / n) > Math.floor(k * nTest / n)) {
      split[trial] = "test";
    } else {
      const isVal = Math.floor((kept + 1) * nVal / rest) > Math.floor(kept * nVal / rest);
      split[trial] = isVal ? "val" : "train";
      kept++;
    }
  });
  return split;
}

/** `prefix000`-style names. */
export function channelNames(prefix: string, count: number, offset = 0): string[] {
  const width = String(offset + count - 1).length;
  return Array.from(
    { length: count },
    (_, i) => `${prefix}${String(offset + i).padStart(width, "0")}`,
  );
}

/** What `assembleDataset` needs: latents, tuning, behavior and trial labels. */
export interface PopulationSpec {
  name: string;
  binMs: number;
  /** Observed bins per trial. */
  bins: number;
  /** Forward-prediction bins after the observed ones. */
  forwardBins: number;
  heldinNeurons: number;
  heldoutNeurons: number;
  /** trials x (bins + forwardBins) x latentDim, standardized. */
  latents: Float64Array;
  latentDim: number;
  latentNames: string[];
  behaviorLatents: number[];
  /** (heldin + heldout) x latentDim. */
  loadings: Float64Array;
  /** Per-neuron log baseline (log of spikes per bin). */
  baselines: Float64Array;
  behavior: Array3;
  behaviorNames: string[];
  behaviorLagMs: number;
  condition: Int32Array;
  split: Split[];
  /** Seeds the Poisson draws. */
  spikeRng: Random;
  /**
   * Absolute refractory period, ms: rates pass through the dead-time formula
   * `r / (1 + r * refractory)`, so no neuron fires faster than 1 / refractory however far
   * its latent drive strays (an exponential link alone gives kHz rates on rare trials).
   * Default 2 ms (at most 500 Hz; a 25 Hz rate loses 5%).
   */
  refractoryMs?: number;
}

/**
 * Turn latents into rates (`exp(baseline + loadings · latents)`, spikes per bin, through
 * a refractory ceiling) and
 * Poisson spikes, cut them into held-in / held-out and observed / forward blocks, and
 * return the dataset with the truth attached.
 */
export function assembleDataset(spec: PopulationSpec): NeuralDataset {
  const { bins, forwardBins, latentDim: L, heldinNeurons: nIn, heldoutNeurons: nOut } = spec;
  const trials = spec.condition.length;
  const neurons = nIn + nOut;
  const totalBins = bins + forwardBins;
  const blocks = {
    heldinRates: new Float32Array(trials * bins * nIn),
    heldoutRates: new Float32Array(trials * bins * nOut),
    forwardHeldinRates: new Float32Array(trials * forwardBins * nIn),
    forwardHeldoutRates: new Float32Array(trials * forwardBins * nOut),
    heldinSpikes: new Float32Array(trials * bins * nIn),
    heldoutSpikes: new Float32Array(trials * bins * nOut),
    forwardHeldinSpikes: new Float32Array(trials * forwardBins * nIn),
    forwardHeldoutSpikes: new Float32Array(trials * forwardBins * nOut),
  };
  const rng = spec.spikeRng;
  const z = spec.latents, b = spec.baselines;
  // Loadings transposed (latents x neurons): the inner loop then runs over neurons with
  // independent accumulators, which is markedly faster in V8.
  const loadingsT = new Float64Array(L * neurons);
  for (let n = 0; n < neurons; n++) {
    for (let k = 0; k < L; k++) loadingsT[k * neurons + n] = spec.loadings[n * L + k];
  }
  // Spikes by time rescaling: each neuron is a unit-rate Poisson process in "rescaled
  // time"; a bin of rate λ spans λ of it, so its count is exactly Poisson(λ) and disjoint
  // bins are independent. The cost is one subtraction per bin and one logarithm per
  // spike, instead of a uniform draw (and often an exponential) per bin.
  const untilNextSpike = new Float64Array(neurons);
  const exponential = () => -Math.log(1 - rng.uniform());
  for (let n = 0; n < neurons; n++) untilNextSpike[n] = exponential();
  const spikesIn = (n: number, rate: number): number => {
    let remaining = untilNextSpike[n] - rate, count = 0;
    while (remaining <= 0) {
      count++;
      remaining += exponential();
    }
    untilNextSpike[n] = remaining;
    return count;
  };
  const logRate = new Float64Array(neurons);
  const refractoryBins = (spec.refractoryMs ?? 2) / spec.binMs;
  const saturate = (drive: number) => {
    const rate = Math.exp(drive);
    return rate / (1 + rate * refractoryBins);
  };
  for (let i = 0; i < trials; i++) {
    for (let t = 0; t < totalBins; t++) {
      const zBase = (i * totalBins + t) * L;
      logRate.set(b);
      let k = 0;
      for (; k + 4 <= L; k += 4) { // four latents per pass: half the loads and stores
        const z0 = z[zBase + k], z1 = z[zBase + k + 1], z2 = z[zBase + k + 2];
        const z3 = z[zBase + k + 3];
        const w0 = k * neurons, w1 = w0 + neurons, w2 = w1 + neurons, w3 = w2 + neurons;
        for (let n = 0; n < neurons; n++) {
          logRate[n] += loadingsT[w0 + n] * z0 + loadingsT[w1 + n] * z1 +
            loadingsT[w2 + n] * z2 + loadingsT[w3 + n] * z3;
        }
      }
      for (; k < L; k++) {
        const zk = z[zBase + k], wBase = k * neurons;
        for (let n = 0; n < neurons; n++) logRate[n] += loadingsT[wBase + n] * zk;
      }
      const forward = t >= bins;
      const tt = forward ? t - bins : t;
      const width = forward ? forwardBins : bins;
      const inRates = forward ? blocks.forwardHeldinRates : blocks.heldinRates;
      const inSpikes = forward ? blocks.forwardHeldinSpikes : blocks.heldinSpikes;
      const outRates = forward ? blocks.forwardHeldoutRates : blocks.heldoutRates;
      const outSpikes = forward ? blocks.forwardHeldoutSpikes : blocks.heldoutSpikes;
      const inBase = (i * width + tt) * nIn;
      const outBase = (i * width + tt) * nOut;
      for (let n = 0; n < nIn; n++) {
        const rate = saturate(logRate[n]);
        inRates[inBase + n] = rate;
        inSpikes[inBase + n] = spikesIn(n, rate);
      }
      for (let n = 0; n < nOut; n++) {
        const rate = saturate(logRate[nIn + n]);
        outRates[outBase + n] = rate;
        outSpikes[outBase + n] = spikesIn(nIn + n, rate);
      }
    }
  }
  const shape = (time: number, channels: number): [number, number, number] => [
    trials,
    time,
    channels,
  ];
  const dataset: NeuralDataset = {
    name: spec.name,
    binMs: spec.binMs,
    heldinSpikes: { data: blocks.heldinSpikes, shape: shape(bins, nIn) },
    heldoutSpikes: { data: blocks.heldoutSpikes, shape: shape(bins, nOut) },
    forwardHeldinSpikes: { data: blocks.forwardHeldinSpikes, shape: shape(forwardBins, nIn) },
    forwardHeldoutSpikes: { data: blocks.forwardHeldoutSpikes, shape: shape(forwardBins, nOut) },
    behavior: spec.behavior,
    behaviorNames: spec.behaviorNames,
    heldinNames: channelNames("unit", nIn),
    heldoutNames: channelNames("unit", nOut, nIn),
    split: spec.split,
    condition: spec.condition,
    session: new Int32Array(trials),
    behaviorLagMs: spec.behaviorLagMs,
    truth: {
      heldinRates: { data: blocks.heldinRates, shape: shape(bins, nIn) },
      heldoutRates: { data: blocks.heldoutRates, shape: shape(bins, nOut) },
      forwardHeldinRates: { data: blocks.forwardHeldinRates, shape: shape(forwardBins, nIn) },
      forwardHeldoutRates: { data: blocks.forwardHeldoutRates, shape: shape(forwardBins, nOut) },
      latents: { data: Float32Array.from(z), shape: shape(totalBins, L) },
      latentNames: spec.latentNames,
      behaviorLatents: spec.behaviorLatents,
    },
  };
  return dataset; // validated by the generators' tests, not on every call (it costs ~10%)
}
