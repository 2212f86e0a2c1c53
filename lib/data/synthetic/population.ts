/**
 * The parts every synthetic generator shares: log-linear Poisson neurons driven by
 * latent factors (with a refractory ceiling and optional per-neuron saturation), trial
 * splits stratified by condition, and assembly into a validated `NeuralDataset` with
 * ground truth and true PSTHs (the condition means of the true rates). Also the
 * statistics that compare a population with real recordings: Fano factors across trials
 * of a condition, condition-averaged peak rates, mean rates and the dimensionality of the
 * true log-rates (`bench/synthetic_stats.ts` prints them).
 * @module
 */

import type { Array3 } from "../../array.ts";
import { ArgumentError } from "../../errors.ts";
import { pca } from "../../pca.ts";
import type { Random } from "../../random.ts";
import type { NeuralDataset, Split, TruePSTH } from "../dataset.ts";

/** Fractions of trials in each split; they must sum to 1. */
export type SplitFractions = Record<Split, number>;

/** A group of latents and how strongly (log-rate standard deviation) they drive neurons. */
export interface LoadingBlock {
  /** Latent indices of the block. */
  latents: number[];
  /** Standard deviation of this block's contribution to a neuron's log-rate. */
  gain: number;
  /**
   * Probability that a loading of the block is nonzero (sparse, mixed tuning: each neuron
   * is tuned to a random subset of the block's latents). Nonzero loadings are scaled by
   * `1 / sqrt(density)`, so the block's log-rate variance averaged over the population
   * stays `gain²`. Default 1 (every loading, and no random draw for it).
   */
  density?: number;
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
 * variance (on average over neurons when a block is sparse, see `LoadingBlock.density`).
 * `depths`, when given, multiplies every loading of neuron `n` by `depths[n]` (a
 * per-neuron modulation depth).
 */
export function randomLoadings(
  rng: Random,
  neurons: number,
  latentDim: number,
  blocks: LoadingBlock[],
  depths?: ArrayLike<number>,
): Float64Array {
  if (depths !== undefined && depths.length !== neurons) {
    throw new ArgumentError(
      `depths has ${depths.length} entries; expected one per neuron (${neurons})`,
    );
  }
  const loadings = new Float64Array(neurons * latentDim);
  for (const block of blocks) {
    const density = block.density ?? 1;
    checkNumber(density, "density", Number.MIN_VALUE, 1);
    const scale = block.gain / Math.sqrt(block.latents.length * density);
    for (let n = 0; n < neurons; n++) {
      const depth = depths === undefined ? 1 : depths[n];
      for (const k of block.latents) {
        const tuned = density === 1 || rng.uniform() < density;
        loadings[n * latentDim + k] = tuned ? depth * scale * rng.normal() : 0;
      }
    }
  }
  return loadings;
}

/**
 * Per-neuron dead time in bins: `rate = r / (1 + r · deadTime)` caps a neuron's rate at
 * `1 / deadTime` spikes per bin. It adds an absolute refractory period (`refractoryMs`) and,
 * when given, a soft saturation at `ceilingHz[n]` (the rate an unbounded drive reaches
 * without the refractory period).
 */
export function deadTimes(
  neurons: number,
  binMs: number,
  refractoryMs = 2,
  ceilingHz?: ArrayLike<number>,
): Float64Array {
  if (ceilingHz !== undefined && ceilingHz.length !== neurons) {
    throw new ArgumentError(
      `ceilingHz has ${ceilingHz.length} entries; expected one per neuron (${neurons})`,
    );
  }
  const out = new Float64Array(neurons);
  for (let n = 0; n < neurons; n++) {
    const ceiling = ceilingHz === undefined ? Infinity : ceilingHz[n];
    if (!(ceiling > 0)) {
      throw new ArgumentError(`ceilingHz[${n}] must be a rate > 0 Hz, got ${ceiling}`);
    }
    out[n] = refractoryMs / binMs + 1000 / (ceiling * binMs);
  }
  return out;
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
 * x and y. Rates pass through the refractory ceiling and, when `ceilingHz` is given, each
 * neuron's soft saturation (see `deadTimes`), as `assembleDataset` applies them.
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
  ceilingHz?: ArrayLike<number>,
): Float64Array {
  const neurons = loadings.length / latentDim;
  const rows = latents.length / latentDim;
  const stride = Math.max(1, Math.floor(rows / maxRows));
  const [low, high] = rateRangeHz;
  if (refractoryMs > 0 && high >= 1000 / refractoryMs) {
    throw new ArgumentError(
      `rateRangeHz[1] must be below ${1000 / refractoryMs} Hz (the ceiling a ${refractoryMs} ms ` +
        `refractory period allows), got ${high}`,
    );
  }
  const dead = deadTimes(neurons, binMs, refractoryMs, ceilingHz);
  const out = new Float64Array(neurons);
  const drives = new Float64Array(Math.ceil(rows / stride));
  for (let n = 0; n < neurons; n++) {
    const targetHz = Math.exp(rng.uniformRange(Math.log(low), Math.log(high)));
    const target = (targetHz * binMs) / 1000;
    const refractoryBins = dead[n];
    if (target * refractoryBins >= 1) {
      throw new ArgumentError(
        `rateRangeHz[1] must be below every neuron's rate ceiling; neuron ${n}'s mean rate ` +
          `${targetHz.toFixed(1)} Hz is not below its ceiling ${
            (1000 / (binMs * refractoryBins)).toFixed(1)
          } Hz`,
      );
    }
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
    // there (the saturated mean is lower, so that b is a lower bound), then Newton steps on
    // b (the saturated mean is increasing in b) hit the target, bisecting within the
    // bracket where a step would leave it (near saturation the slope can be tiny).
    let b = Math.log(target) - Math.log(sum / count);
    let lo = b, hi = Infinity;
    for (let iteration = 0; iteration < 100 && refractoryBins > 0; iteration++) {
      let mean = 0, slope = 0;
      for (let j = 0; j < count; j++) {
        const rate = Math.exp(b + drives[j]), denominator = 1 + rate * refractoryBins;
        mean += rate / denominator;
        slope += rate / (denominator * denominator);
      }
      const excess = mean / count - target;
      if (excess < 0) lo = Math.max(lo, b);
      else hi = Math.min(hi, b);
      let next = b - excess / (slope / count);
      if (!(next >= lo && next <= hi)) next = hi === Infinity ? b + 1 : (lo + hi) / 2;
      const step = b - next;
      b = next;
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
  /**
   * Per-neuron soft saturation, Hz (see `deadTimes`); pass the same values to
   * `calibratedBaselines`. Default: none (only the refractory ceiling).
   */
  ceilingHz?: ArrayLike<number>;
}

/**
 * Turn latents into rates (`exp(baseline + loadings · latents)`, spikes per bin, through
 * a refractory ceiling and any per-neuron saturation) and Poisson spikes, cut them into
 * held-in / held-out and observed / forward blocks, and return the dataset with the truth
 * attached. Its `truePsth` holds the condition means of the true rates over every trial
 * (observed bins, held-in then held-out neurons; `kernelSdMs` 0: nothing is smoothed), the
 * PSTHs that psth R2 should score predictions against.
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
  const dead = deadTimes(neurons, spec.binMs, spec.refractoryMs ?? 2, spec.ceilingHz);
  const saturate = (drive: number, n: number) => {
    const rate = Math.exp(drive);
    return rate / (1 + rate * dead[n]);
  };
  // True PSTHs: per-condition sums of the observed bins' true rates, then means.
  const conditionIds = [...new Set(spec.condition)].sort((a, b) => a - b);
  const conditionRow = new Map(conditionIds.map((c, k) => [c, k]));
  const trialCounts = conditionIds.map(() => 0);
  const psth = new Float64Array(conditionIds.length * bins * neurons);
  for (let i = 0; i < trials; i++) {
    const row = conditionRow.get(spec.condition[i])!;
    trialCounts[row]++;
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
      const psthBase = (row * bins + tt) * neurons;
      for (let n = 0; n < nIn; n++) {
        const rate = saturate(logRate[n], n);
        inRates[inBase + n] = rate;
        inSpikes[inBase + n] = spikesIn(n, rate);
        if (!forward) psth[psthBase + n] += inRates[inBase + n];
      }
      for (let n = 0; n < nOut; n++) {
        const rate = saturate(logRate[nIn + n], nIn + n);
        outRates[outBase + n] = rate;
        outSpikes[outBase + n] = spikesIn(nIn + n, rate);
        if (!forward) psth[psthBase + nIn + n] += outRates[outBase + n];
      }
    }
  }
  const stride = bins * neurons;
  trialCounts.forEach((count, k) => {
    for (let j = k * stride; j < (k + 1) * stride; j++) psth[j] /= count;
  });
  const truePsth: TruePSTH = {
    rates: { data: psth, shape: [conditionIds.length, bins, neurons] },
    conditionIds,
    trialCounts,
    kernelSdMs: 0,
  };
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
    truePsth,
  };
  return dataset; // validated by the generators' tests, not on every call (it costs ~10%)
}

// ---------------------------------------------------------------------------------------
// Statistics of a population (synthetic or recorded), for checks against real recordings
// ---------------------------------------------------------------------------------------

/** Fano factors of one window of spike counts: see `fanoFactor`. */
export interface FanoFactor {
  /** Sum over neurons and conditions of the count variance, divided by the sum of means. */
  pooled: number;
  /** Median over neurons of each neuron's Fano factor (pooled over conditions). */
  median: number;
}

/**
 * Fano factors of the spike counts in bins `[start, end)` of the observed window (held-in
 * and held-out neurons), across the trials of each condition (the variance is across
 * trials of one condition, so condition tuning is not counted as variability). Conditions
 * with fewer than 2 of the chosen trials are skipped; neurons that never fire in the
 * window are left out of the median.
 */
export function fanoFactor(
  dataset: NeuralDataset,
  start: number,
  end: number,
  trials?: readonly number[],
): FanoFactor {
  const [count, bins, nIn] = dataset.heldinSpikes.shape;
  const nOut = dataset.heldoutSpikes.shape[2], neurons = nIn + nOut;
  checkInteger(start, "start", 0, bins - 1);
  checkInteger(end, "end", start + 1, bins);
  const chosen = trials ?? Array.from({ length: count }, (_, i) => i);
  const byCondition = new Map<number, number[]>();
  for (const i of chosen) {
    const c = dataset.condition[i];
    if (!byCondition.has(c)) byCondition.set(c, []);
    byCondition.get(c)!.push(i);
  }
  const variances = new Float64Array(neurons), means = new Float64Array(neurons);
  const counts = new Float64Array(neurons), squares = new Float64Array(neurons);
  const windowCounts = (i: number, out: Float64Array) => {
    out.fill(0);
    for (let t = start; t < end; t++) {
      const inBase = (i * bins + t) * nIn, outBase = (i * bins + t) * nOut;
      for (let n = 0; n < nIn; n++) out[n] += dataset.heldinSpikes.data[inBase + n];
      for (let n = 0; n < nOut; n++) out[nIn + n] += dataset.heldoutSpikes.data[outBase + n];
    }
  };
  const trialCounts = new Float64Array(neurons);
  for (const group of byCondition.values()) {
    if (group.length < 2) continue;
    counts.fill(0);
    squares.fill(0);
    for (const i of group) {
      windowCounts(i, trialCounts);
      for (let n = 0; n < neurons; n++) {
        counts[n] += trialCounts[n];
        squares[n] += trialCounts[n] ** 2;
      }
    }
    const m = group.length;
    for (let n = 0; n < neurons; n++) {
      const mean = counts[n] / m;
      means[n] += mean;
      variances[n] += Math.max(0, (squares[n] - m * mean * mean) / (m - 1));
    }
  }
  let sumVariance = 0, sumMean = 0;
  const perNeuron: number[] = [];
  for (let n = 0; n < neurons; n++) {
    sumVariance += variances[n];
    sumMean += means[n];
    if (means[n] > 0) perNeuron.push(variances[n] / means[n]);
  }
  perNeuron.sort((a, b) => a - b);
  const mid = perNeuron.length >> 1;
  const median = perNeuron.length === 0
    ? NaN
    : perNeuron.length % 2
    ? perNeuron[mid]
    : (perNeuron[mid - 1] + perNeuron[mid]) / 2;
  return { pooled: sumVariance / sumMean, median };
}

/** Every neuron's mean true rate over all trials and observed bins, Hz (synthetic data). */
export function meanRatesHz(dataset: NeuralDataset): Float64Array {
  const truth = requireTruth(dataset);
  const means = new Float64Array(truth.heldinRates.shape[2] + truth.heldoutRates.shape[2]);
  let n = 0;
  for (const rates of [truth.heldinRates, truth.heldoutRates]) {
    const channels = rates.shape[2];
    const sums = new Float64Array(channels);
    for (let j = 0; j < rates.data.length; j++) sums[j % channels] += rates.data[j];
    const rows = rates.data.length / channels;
    for (let c = 0; c < channels; c++) means[n++] = (sums[c] / rows) * (1000 / dataset.binMs);
  }
  return means;
}

/**
 * Every neuron's peak condition-averaged rate, Hz: the largest entry of its rows of the
 * dataset's `truePsth` over conditions and bins (held-in then held-out neurons).
 */
export function conditionPeakRatesHz(dataset: NeuralDataset): Float64Array {
  if (!dataset.truePsth) {
    throw new ArgumentError(`dataset "${dataset.name}" has no truePsth to take peaks of`);
  }
  const { data, shape } = dataset.truePsth.rates;
  const neurons = shape[2];
  const peaks = new Float64Array(neurons);
  for (let j = 0; j < data.length; j++) {
    const v = data[j];
    if (v > peaks[j % neurons]) peaks[j % neurons] = v;
  }
  return peaks.map((v) => v * (1000 / dataset.binMs));
}

/**
 * Dimensionality of the true log-rates (synthetic data): for each fraction, the number of
 * principal components of `log rate` (neurons as columns, trial x bin rows of the observed
 * window, at most `maxRows` of them evenly spaced) that explain that fraction of its
 * variance.
 */
export function logRateDimensionality(
  dataset: NeuralDataset,
  fractions: readonly number[] = [0.9, 0.95],
  maxRows = 20000,
): number[] {
  const truth = requireTruth(dataset);
  const nIn = truth.heldinRates.shape[2], nOut = truth.heldoutRates.shape[2];
  const neurons = nIn + nOut;
  const total = truth.heldinRates.data.length / nIn;
  const stride = Math.max(1, Math.floor(total / maxRows));
  const rows = Math.ceil(total / stride);
  const data = new Float64Array(rows * neurons);
  for (let r = 0, row = 0; r < total; r += stride, row++) {
    for (let n = 0; n < nIn; n++) {
      data[row * neurons + n] = Math.log(truth.heldinRates.data[r * nIn + n]);
    }
    for (let n = 0; n < nOut; n++) {
      data[row * neurons + nIn + n] = Math.log(truth.heldoutRates.data[r * nOut + n]);
    }
  }
  const { varianceRatio } = pca({ data, rows, cols: neurons }, neurons);
  return fractions.map((fraction) => {
    checkNumber(fraction, "fraction", 0, 1);
    let explained = 0;
    for (let k = 0; k < neurons; k++) {
      explained += varianceRatio[k];
      if (explained >= fraction - 1e-12) return k + 1;
    }
    return neurons;
  });
}

function requireTruth(dataset: NeuralDataset) {
  if (!dataset.truth) {
    throw new ArgumentError(`dataset "${dataset.name}" has no truth (only synthetic data has)`);
  }
  return dataset.truth;
}
