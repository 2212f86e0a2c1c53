import assert from "node:assert/strict";
import { decodeR2, trueRates } from "./decoding.ts";
import { channelMeans, concat3 } from "../../../lib/array.ts";
import { type NeuralDataset, trialsInSplit, validateDataset } from "../../../lib/data/dataset.ts";
import { REACH_DEFAULTS, reachDataset } from "../../../lib/data/synthetic/reach.ts";
import { ArgumentError } from "../../../lib/errors.ts";

const SMALL = {
  trials: 240,
  heldinNeurons: 40,
  heldoutNeurons: 12,
  bins: 80,
  forwardBins: 10,
  moveOnsetBin: 30,
};

Deno.test("reachDataset is valid and has the asked-for shapes", () => {
  const d = reachDataset({ ...SMALL, seed: 3 });
  validateDataset(d);
  assert.deepEqual(d.heldinSpikes.shape, [240, 80, 40]);
  assert.deepEqual(d.heldoutSpikes.shape, [240, 80, 12]);
  assert.deepEqual(d.forwardHeldinSpikes.shape, [240, 10, 40]);
  assert.deepEqual(d.forwardHeldoutSpikes.shape, [240, 10, 12]);
  assert.deepEqual(d.behavior.shape, [240, 80, 2]);
  assert.deepEqual(d.truth!.latents.shape, [240, 90, 8]);
  assert.deepEqual(d.truth!.behaviorLatents, [0, 1]);
  assert.equal(d.behaviorLagMs, 100);
  assert.equal(new Set(d.condition).size, 27);
  // Splits: 25% test, 15% val, each condition represented in train.
  assert.equal(trialsInSplit(d, "test").length, 60);
  assert.equal(trialsInSplit(d, "val").length, 36);
  assert.equal(new Set(trialsInSplit(d, "train").map((i) => d.condition[i])).size, 27);
});

Deno.test("reachDataset is deterministic by seed and differs across seeds", () => {
  const a = reachDataset({ ...SMALL, trials: 60, seed: 5 });
  const b = reachDataset({ ...SMALL, trials: 60, seed: 5 });
  const c = reachDataset({ ...SMALL, trials: 60, seed: 6 });
  assert.deepEqual(a.heldinSpikes.data, b.heldinSpikes.data);
  assert.deepEqual(a.behavior.data, b.behavior.data);
  assert.deepEqual(a.split, b.split);
  assert.notDeepEqual(a.heldinSpikes.data, c.heldinSpikes.data);
  assert.notDeepEqual(a.behavior.data, c.behavior.data);
});

Deno.test("reach firing rates are plausible: every neuron's mean rate is 1-50 Hz", () => {
  const d = reachDataset({ ...SMALL, seed: 1 });
  const toHz = 1000 / d.binMs;
  for (const rates of [d.truth!.heldinRates, d.truth!.heldoutRates]) {
    for (const mean of channelMeans(rates)) {
      assert.ok(mean * toHz > 1 && mean * toHz < 50, `mean rate ${mean * toHz} Hz`);
    }
  }
  // Spikes are Poisson draws of the rates: totals agree within a few standard errors.
  let spikes = 0, expected = 0;
  for (const v of d.heldinSpikes.data) spikes += v;
  for (const v of d.truth!.heldinRates.data) expected += v;
  assert.ok(Math.abs(spikes - expected) < 5 * Math.sqrt(expected), `${spikes} vs ${expected}`);
});

Deno.test("hand velocity decodes from the true rates with R2 > 0.9 at default settings", () => {
  const d = reachDataset({ trials: 400, seed: 2 }); // default neurons, bins and expression
  const r2 = decodeR2(d, trueRates(d));
  assert.ok(r2 > 0.9, `R2 from true rates ${r2}`);
});

Deno.test("velocity leads: decoding is best from rates a lag earlier than the hand", () => {
  // Behavior is aligned (lag applied), so shifting rates by the lag again should hurt.
  const d = reachDataset({ ...SMALL, heldinNeurons: 80, seed: 4 });
  const rates = trueRates(d);
  const aligned = decodeR2(d, rates);
  const [n, t, c] = rates.shape;
  const lagBins = d.behaviorLagMs / d.binMs;
  const shifted = new Float32Array(rates.data.length);
  for (let i = 0; i < n; i++) { // rates at t - lag paired with behavior at t
    shifted.set(
      rates.data.subarray(i * t * c, (i * t + t - lagBins) * c),
      (i * t + lagBins) * c,
    );
  }
  const misaligned = decodeR2(d, { data: shifted, shape: rates.shape });
  assert.ok(aligned > misaligned + 0.2, `aligned ${aligned} vs shifted ${misaligned}`);
});

Deno.test("behaviorExpression controls how much behavior shows in the spikes", () => {
  const strong = reachDataset({ ...SMALL, behaviorExpression: 1, seed: 8 });
  const weak = reachDataset({ ...SMALL, behaviorExpression: 0.2, seed: 8 });
  const spikes = (d: NeuralDataset) => concat3([d.heldinSpikes, d.heldoutSpikes], 2);
  const strongR2 = decodeR2(strong, spikes(strong));
  const weakR2 = decodeR2(weak, spikes(weak));
  assert.ok(strongR2 > weakR2 + 0.2, `strong ${strongR2} vs weak ${weakR2}`);
  // The truth is equally informative in both: it is the spikes that hide behavior.
  assert.ok(decodeR2(weak, trueRates(weak)) > 0.9);
});

Deno.test("reachDataset rejects bad options, naming the option", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ trials: 2.5 }, /trials must be an integer >= 3, got 2.5/],
    [{ heldinNeurons: 0 }, /heldinNeurons must be an integer >= 1, got 0/],
    [{ behaviorExpression: -1 }, /behaviorExpression must be a number >= 0, got -1/],
    [{ moveOnsetBin: 500 }, /moveOnsetBin must be an integer in 0\.\.79, got 500/],
    [{ splits: { train: 0.5, val: 0.1, test: 0.1 } }, /split fractions must be >= 0 and sum to 1/],
    [{ seed: 0.5 }, /seed must be an integer/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => reachDataset({ ...SMALL, trials: 30, ...options }), (e: Error) => {
      assert.ok(e instanceof ArgumentError, `${JSON.stringify(options)}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("defaults are sized like MC_Maze", () => {
  assert.equal(REACH_DEFAULTS.heldinNeurons, 137);
  assert.equal(REACH_DEFAULTS.heldoutNeurons, 45);
  assert.equal(REACH_DEFAULTS.bins, 140);
  assert.equal(REACH_DEFAULTS.forwardBins, 40);
  assert.equal(REACH_DEFAULTS.binMs, 5);
});

Deno.test("a 2 ms refractory period caps every true rate below 500 Hz", () => {
  // Seed 1 at this size has a trial whose latents stray 5 s.d. out: with a bare exponential
  // link one neuron reached 10 kHz there.
  const d = reachDataset({ trials: 300, heldinNeurons: 40, heldoutNeurons: 12, seed: 1 });
  const perBin = 500 * (d.binMs / 1000);
  let max = 0;
  for (const v of d.truth!.heldinRates.data) max = Math.max(max, v);
  assert.ok(max < perBin && max > 0.5 * perBin, `largest rate ${(max / d.binMs) * 1000} Hz`);
  assert.throws(() => reachDataset({ ...SMALL, rateRangeHz: [5, 600] }), /below 500 Hz/);
});
