import assert from "node:assert/strict";
import { type NeuralDataset, validateDataset } from "../../../lib/data/dataset.ts";
import {
  assembleDataset,
  calibratedBaselines,
  conditionPeakRatesHz,
  deadTimes,
  fanoFactor,
  logRateDimensionality,
  meanRatesHz,
  randomLoadings,
  stratifiedSplits,
} from "../../../lib/data/synthetic/population.ts";
import { lorenzDataset } from "../../../lib/data/synthetic/lorenz.ts";
import { ArgumentError } from "../../../lib/errors.ts";
import { Random } from "../../../lib/random.ts";

const f32 = (shape: [number, number, number], values: number[]) => ({
  data: Float32Array.from(values),
  shape,
});

/**
 * 5 trials x 2 bins, 1 held-in + 1 held-out neuron; conditions 0, 0, 0, 1, 2 (condition 2
 * has one trial, so it is skipped).
 */
function countsDataset(): NeuralDataset {
  const empty = f32([5, 0, 1], []);
  return {
    name: "counts",
    binMs: 50,
    // Window [0, 2) counts per trial: held-in 3, 1, 2 | 4 | 9; held-out 0, 0, 3 | 1 | 0.
    heldinSpikes: f32([5, 2, 1], [1, 2, 0, 1, 2, 0, 4, 0, 4, 5]),
    heldoutSpikes: f32([5, 2, 1], [0, 0, 0, 0, 1, 2, 1, 0, 0, 0]),
    forwardHeldinSpikes: empty,
    forwardHeldoutSpikes: empty,
    behavior: f32([5, 2, 0], []),
    behaviorNames: [],
    heldinNames: ["a"],
    heldoutNames: ["b"],
    split: ["train", "train", "val", "test", "test"],
    condition: new Int32Array([0, 0, 0, 1, 2]),
    session: new Int32Array(5),
    behaviorLagMs: 0,
  };
}

Deno.test("fanoFactor: variance across a condition's trials over the mean, pooled and per neuron", () => {
  const d = countsDataset();
  // Condition 0 only (1 and 2 have a single trial). Held-in counts 3, 1, 2: mean 2,
  // variance 1; held-out 0, 0, 3: mean 1, variance 3.
  const both = fanoFactor(d, 0, 2);
  assert.equal(both.pooled, (1 + 3) / (2 + 1));
  assert.equal(both.median, (1 / 2 + 3 / 1) / 2);
  // Bin 1 alone: held-in 2, 1, 0 (mean 1, variance 1); held-out 0, 0, 2 (mean 2/3, var 4/3).
  const second = fanoFactor(d, 1, 2);
  assert.ok(Math.abs(second.pooled - (1 + 4 / 3) / (1 + 2 / 3)) < 1e-12);
  // A subset of trials: trials 0 and 1 of condition 0.
  assert.equal(fanoFactor(d, 0, 2, [0, 1, 3]).pooled, 2 / 2);
  assert.throws(() => fanoFactor(d, 0, 3), /end must be an integer in 1\.\.2, got 3/);
  assert.throws(() => fanoFactor(d, -1, 2), /start must be an integer in 0\.\.1, got -1/);
});

Deno.test("randomLoadings: density zeroes loadings at random and keeps the mean variance", () => {
  const dense = randomLoadings(new Random(1), 4000, 3, [{ latents: [0, 1, 2], gain: 0.5 }]);
  // Without a density there is no extra draw: entry n, k is gain / sqrt(3) times a normal.
  const rng = new Random(1);
  const first = (0.5 / Math.sqrt(3)) * rng.normal();
  assert.equal(dense[0], first);
  const sparse = randomLoadings(
    new Random(2),
    4000,
    3,
    [{ latents: [0, 1, 2], gain: 0.5, density: 0.25 }],
  );
  const zeros = sparse.filter((v) => v === 0).length / sparse.length;
  assert.ok(Math.abs(zeros - 0.75) < 0.02, `zero fraction ${zeros}`);
  const meanVariance = (w: Float64Array) => w.reduce((s, v) => s + v * v, 0) / (w.length / 3);
  assert.ok(Math.abs(meanVariance(sparse) - 0.25) < 0.02, `sparse ${meanVariance(sparse)}`);
  assert.ok(Math.abs(meanVariance(dense) - 0.25) < 0.02, `dense ${meanVariance(dense)}`);
  // Per-neuron depths scale each neuron's row.
  const deep = randomLoadings(new Random(1), 4000, 3, [{ latents: [0, 1, 2], gain: 0.5 }], [
    ...Array(4000).fill(2),
  ]);
  assert.equal(deep[5], 2 * dense[5]);
  assert.throws(
    () => randomLoadings(new Random(1), 3, 1, [{ latents: [0], gain: 1 }], [1, 1]),
    /depths has 2 entries; expected one per neuron \(3\)/,
  );
});

Deno.test("deadTimes add the refractory period and the soft ceiling", () => {
  const dead = deadTimes(2, 5, 2, [100, 250]);
  assert.ok(Math.abs(dead[0] - (2 / 5 + 1000 / 500)) < 1e-12);
  assert.ok(Math.abs(dead[1] - (2 / 5 + 1000 / 1250)) < 1e-12);
  assert.deepEqual([...deadTimes(1, 10)], [0.2]);
  assert.throws(() => deadTimes(2, 5, 2, [100]), /ceilingHz has 1 entries; expected one per/);
  assert.throws(() => deadTimes(1, 5, 2, [0]), /ceilingHz\[0\] must be a rate > 0 Hz, got 0/);
});

Deno.test("calibratedBaselines hit every mean rate through the saturation, even for wide drives", () => {
  const rng = new Random(4);
  const rows = 3000, latentDim = 2, neurons = 6;
  const latents = Float64Array.from({ length: rows * latentDim }, () => rng.normal());
  // Wide drives (log-rate s.d. 3) and low ceilings: plain Newton steps overshoot here.
  const loadings = randomLoadings(rng, neurons, latentDim, [{ latents: [0, 1], gain: 3 }]);
  const ceilingHz = [40, 60, 80, 100, 150, 200];
  const binMs = 5;
  const targets = new Random(9);
  const baselines = calibratedBaselines(
    new Random(9),
    loadings,
    latents,
    latentDim,
    [5, 30],
    binMs,
    undefined,
    undefined,
    ceilingHz,
  );
  const dead = deadTimes(neurons, binMs, 2, ceilingHz);
  for (let n = 0; n < neurons; n++) {
    const targetHz = Math.exp(targets.uniformRange(Math.log(5), Math.log(30)));
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const drive = baselines[n] + loadings[n * 2] * latents[r * 2] +
        loadings[n * 2 + 1] * latents[r * 2 + 1];
      const rate = Math.exp(drive);
      sum += rate / (1 + rate * dead[n]);
    }
    const meanHz = (sum / rows) * (1000 / binMs);
    assert.ok(
      Math.abs(meanHz - targetHz) < 1e-6 * targetHz,
      `neuron ${n}: ${meanHz} vs ${targetHz}`,
    );
  }
});

/** A 3-latent population through `assembleDataset`: 4 conditions, 40 trials. */
function population(ceilingHz?: number[]): NeuralDataset {
  const rng = new Random(7);
  const trials = 40, bins = 30, forwardBins = 5, latentDim = 3, neurons = 24;
  const condition = Int32Array.from({ length: trials }, (_, i) => (i * 3) % 4);
  const latents = new Float64Array(trials * (bins + forwardBins) * latentDim);
  for (let i = 0; i < trials; i++) {
    for (let t = 0; t < bins + forwardBins; t++) {
      for (let k = 0; k < latentDim; k++) {
        latents[(i * (bins + forwardBins) + t) * latentDim + k] =
          Math.sin(0.2 * t * (k + 1) + condition[i]) + 0.3 * rng.normal();
      }
    }
  }
  const loadings = randomLoadings(rng, neurons, latentDim, [{ latents: [0, 1, 2], gain: 0.8 }]);
  const baselines = calibratedBaselines(
    rng,
    loadings,
    latents,
    latentDim,
    [5, 20],
    10,
    undefined,
    undefined,
    ceilingHz,
  );
  return assembleDataset({
    name: "population",
    binMs: 10,
    bins,
    forwardBins,
    heldinNeurons: 18,
    heldoutNeurons: 6,
    latents,
    latentDim,
    latentNames: ["a", "b", "c"],
    behaviorLatents: [0],
    loadings,
    baselines,
    behavior: { data: new Float32Array(trials * bins), shape: [trials, bins, 1] },
    behaviorNames: ["b"],
    behaviorLagMs: 0,
    condition,
    split: stratifiedSplits(condition, { train: 0.6, val: 0.2, test: 0.2 }, rng),
    spikeRng: rng,
    ceilingHz,
  });
}

Deno.test("assembleDataset attaches the condition means of the true rates as truePsth", () => {
  const d = population();
  validateDataset(d);
  const psth = d.truePsth!;
  assert.deepEqual(psth.conditionIds, [0, 1, 2, 3]);
  assert.deepEqual(psth.trialCounts, [10, 10, 10, 10]);
  assert.equal(psth.kernelSdMs, 0);
  const row = 2, t = 17, n = 20; // a held-out neuron (18 held-in)
  let sum = 0;
  d.condition.forEach((c: number, i: number) => {
    if (c === row) sum += d.truth!.heldoutRates.data[(i * 30 + t) * 6 + (n - 18)];
  });
  assert.ok(Math.abs(psth.rates.data[(row * 30 + t) * 24 + n] - sum / 10) < 1e-9);
  // Peaks and means in Hz come from the same rates.
  const peaks = conditionPeakRatesHz(d), means = meanRatesHz(d);
  assert.equal(peaks.length, 24);
  for (let k = 0; k < 24; k++) assert.ok(peaks[k] > means[k], `neuron ${k}`);
  let sum3 = 0;
  for (let j = 3; j < d.truth!.heldinRates.data.length; j += 18) {
    sum3 += d.truth!.heldinRates.data[j];
  }
  assert.ok(Math.abs(means[3] - (100 * sum3) / (40 * 30)) < 1e-9, `${means[3]}`);
  const noPsth = { ...d, truePsth: undefined };
  assert.throws(() => conditionPeakRatesHz(noPsth), /has no truePsth to take peaks of/);
});

Deno.test("a soft ceiling bounds every true rate", () => {
  const d = population(Array(24).fill(60));
  for (const rates of [d.truth!.heldinRates, d.truth!.heldoutRates]) {
    for (const v of rates.data) assert.ok(v * 100 < 60 / (1 + 60 * 0.002) + 1e-3, `${v * 100} Hz`);
  }
});

Deno.test("logRateDimensionality counts the principal components of the true log-rates", () => {
  // Three latents and a nearly log-linear link: three components explain nearly everything.
  const [ninety, ninetyNine, all] = logRateDimensionality(population(), [0.9, 0.99, 1]);
  assert.ok(ninety >= 2 && ninety <= 3, `${ninety}`);
  assert.equal(ninetyNine, 3);
  assert.ok(all > 3, `${all}`); // the refractory bend adds a little variance elsewhere
  assert.throws(() => logRateDimensionality({ ...population(), truth: undefined }), ArgumentError);
});

Deno.test("lorenzDataset also carries unsmoothed true PSTHs", () => {
  const d = lorenzDataset({ trials: 60, heldinNeurons: 8, heldoutNeurons: 3, bins: 20, seed: 1 });
  validateDataset(d);
  assert.equal(d.truePsth!.kernelSdMs, 0);
  assert.deepEqual(d.truePsth!.rates.shape, [20, 20, 11]);
  assert.equal(d.truePsth!.trialCounts.reduce((a, b) => a + b, 0), 60);
});
