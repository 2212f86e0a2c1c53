import assert from "node:assert/strict";
import { decodeR2, trueRates } from "./decoding.ts";
import { type Array3, channelMeans, concat3, sliceTime } from "../../../lib/array.ts";
import { type NeuralDataset, trialsInSplit, validateDataset } from "../../../lib/data/dataset.ts";
import {
  LORENZ_DEFAULTS,
  lorenzDataset,
  type LorenzOptions,
  rk4Step,
} from "../../../lib/data/synthetic/lorenz.ts";
import { ArgumentError } from "../../../lib/errors.ts";
import {
  fitRidge,
  type Matrix,
  predictRidge,
  r2Score,
  trialsAsRows,
} from "../../../lib/metrics/regression.ts";

const SMALL = { trials: 120, heldinNeurons: 20, heldoutNeurons: 6, bins: 60, forwardBins: 10 };

/** In-sample R2 of a least-squares fit of behavior on `features` (all trials). */
function explainedBy(d: NeuralDataset, features: Array3): number {
  const x = trialsAsRows(features), y = trialsAsRows(d.behavior);
  return r2Score(y, predictRidge(fitRidge(x, y, 1e-6), x));
}

Deno.test("lorenzDataset is valid and has the asked-for shapes", () => {
  const d = lorenzDataset({ ...SMALL, seed: 1 });
  validateDataset(d);
  assert.equal(d.name, "lorenz(seed=1)");
  assert.deepEqual(d.heldinSpikes.shape, [120, 60, 20]);
  assert.deepEqual(d.heldoutSpikes.shape, [120, 60, 6]);
  assert.deepEqual(d.forwardHeldinSpikes.shape, [120, 10, 20]);
  assert.deepEqual(d.forwardHeldoutSpikes.shape, [120, 10, 6]);
  assert.deepEqual(d.behavior.shape, [120, 60, 2]);
  assert.deepEqual(d.truth!.latents.shape, [120, 70, 3]);
  assert.deepEqual(d.truth!.latentNames, ["x", "y", "z"]);
  assert.deepEqual(d.truth!.behaviorLatents, [0, 1]);
  assert.deepEqual(d.behaviorNames, ["behavior_0", "behavior_1"]);
  assert.equal(d.behaviorLagMs, 0);
  assert.equal(d.binMs, 10);
  // Conditions round-robin: 20 conditions of 6 trials each; splits 25% test, 15% val.
  const perCondition = new Map<number, number>();
  for (const c of d.condition) perCondition.set(c, (perCondition.get(c) ?? 0) + 1);
  assert.equal(perCondition.size, 20);
  assert.ok([...perCondition.values()].every((n) => n === 6));
  assert.equal(trialsInSplit(d, "test").length, 30);
  assert.equal(trialsInSplit(d, "val").length, 18);

  const three = lorenzDataset({ ...SMALL, behaviorLatents: [2, 0], behaviorDims: 3, seed: 1 });
  validateDataset(three);
  assert.deepEqual(three.behavior.shape, [120, 60, 3]);
  assert.deepEqual(three.behaviorNames, ["behavior_0", "behavior_1", "behavior_2"]);
  assert.deepEqual(three.truth!.behaviorLatents, [2, 0]);
});

Deno.test("lorenzDataset is deterministic by seed and differs across seeds", () => {
  const a = lorenzDataset({ ...SMALL, trials: 60, seed: 5 });
  const b = lorenzDataset({ ...SMALL, trials: 60, seed: 5 });
  const c = lorenzDataset({ ...SMALL, trials: 60, seed: 6 });
  assert.deepEqual(a.heldinSpikes.data, b.heldinSpikes.data);
  assert.deepEqual(a.heldoutSpikes.data, b.heldoutSpikes.data);
  assert.deepEqual(a.behavior.data, b.behavior.data);
  assert.deepEqual(a.split, b.split);
  assert.deepEqual(a.condition, b.condition);
  assert.notDeepEqual(a.heldinSpikes.data, c.heldinSpikes.data);
  assert.notDeepEqual(a.behavior.data, c.behavior.data);
  assert.notDeepEqual(a.truth!.latents.data, c.truth!.latents.data);
});

Deno.test("rk4Step follows the Lorenz flow: one step matches the derivative to first order", () => {
  const s = [1, 2, 20];
  const h = 1e-6;
  const next = rk4Step(s, h);
  const derivative = [10 * (2 - 1), 1 * (28 - 20) - 2, 1 * 2 - (8 / 3) * 20];
  next.forEach((v, i) => assert.ok(Math.abs((v - s[i]) / h - derivative[i]) < 1e-4));
  // A fixed point of the system does not move.
  const c = Math.sqrt((8 / 3) * 27);
  rk4Step([c, c, 27], 0.01).forEach((v, i) => assert.ok(Math.abs(v - [c, c, 27][i]) < 1e-9));
});

Deno.test("Lorenz latents are standardized, smooth, and follow the Lorenz vector field", () => {
  const d = lorenzDataset({ ...SMALL, seed: 3 });
  const z = d.truth!.latents;
  const [n, t, k] = z.shape;
  channelMeans(z).forEach((m) => assert.ok(Math.abs(m) < 1e-4, `mean ${m}`));
  for (let j = 0; j < k; j++) {
    let lagged = 0, squares = 0;
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < t; b++) {
        const v = z.data[(i * t + b) * k + j];
        squares += v * v;
        if (b > 0) lagged += v * z.data[(i * t + b - 1) * k + j];
      }
    }
    assert.ok(Math.abs(squares / (n * t) - 1) < 1e-4, `variance ${squares / (n * t)}`);
    assert.ok(lagged / squares > 0.9, `lag-1 autocorrelation ${lagged / squares}`);
  }

  // Standardizing is an affine map per coordinate, so the time derivative of the
  // standardized state is still a quadratic polynomial of it, and the coefficient of each
  // coordinate in its own derivative is unchanged: -sigma, -1, -beta.
  const dt = LORENZ_DEFAULTS.dt;
  const rows = n * (t - 4), q = 9;
  const features: Matrix = { data: new Float64Array(rows * q), rows, cols: q };
  const velocity: Matrix = { data: new Float64Array(rows * 3), rows, cols: 3 };
  let r = 0;
  for (let i = 0; i < n; i++) {
    for (let b = 2; b < t - 2; b++, r++) {
      const at = (bin: number, c: number) => z.data[(i * t + bin) * k + c];
      const [x, y, w] = [at(b, 0), at(b, 1), at(b, 2)];
      features.data.set([x, y, w, x * y, x * w, y * w, x * x, y * y, w * w], r * q);
      for (let c = 0; c < 3; c++) { // five-point central difference, error O(dt⁴)
        velocity.data[r * 3 + c] =
          (at(b - 2, c) - 8 * at(b - 1, c) + 8 * at(b + 1, c) - at(b + 2, c)) / (12 * dt);
      }
    }
  }
  const field = fitRidge(features, velocity, 1e-8);
  const fit = r2Score(velocity, predictRidge(field, features));
  assert.ok(fit > 0.999, `quadratic vector field R2 ${fit}`);
  const own = [0, 1, 2].map((c) => field.weights[c * 3 + c]);
  [-10, -1, -8 / 3].forEach((expected, c) => {
    assert.ok(
      Math.abs(own[c] - expected) < 0.005 * Math.abs(expected) + 0.005,
      `coordinate ${c}: ${own[c]} vs ${expected}`,
    );
  });
  // dx/dt = sigma (y - x) is linear: no quadratic term in the first coordinate's field.
  for (let j = 3; j < q; j++) assert.ok(Math.abs(field.weights[j * 3]) < 0.01, `term ${j}`);
});

Deno.test("trials of a condition start near each other; without jitter they coincide", () => {
  const d = lorenzDataset({ ...SMALL, conditions: 6, seed: 8 });
  const z = d.truth!.latents;
  const [n, t] = z.shape;
  const start = (i: number) => [0, 1, 2].map((c) => z.data[i * t * 3 + c]);
  let within = 0, between = 0, nWithin = 0, nBetween = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d2 = start(i).reduce((s, v, c) => s + (v - start(j)[c]) ** 2, 0);
      if (d.condition[i] === d.condition[j]) (within += d2), nWithin++;
      else (between += d2), nBetween++;
    }
  }
  assert.ok(within / nWithin < 0.05 * (between / nBetween), `${within / nWithin}`);
  // Jitter off: trials of one condition are identical.
  const exact = lorenzDataset({ ...SMALL, conditions: 6, noise: 0, seed: 8 });
  const first = exact.condition.indexOf(0), second = exact.condition.indexOf(0, first + 1);
  const trial = (i: number) => exact.truth!.latents.data.subarray(i * t * 3, (i + 1) * t * 3);
  assert.deepEqual(trial(first), trial(second));
});

Deno.test("Lorenz rates match rateRangeHz: each neuron's mean over all bins is its target", () => {
  for (const options of [{ ...SMALL, seed: 3 }, { seed: 1 }] as LorenzOptions[]) {
    const d = lorenzDataset(options);
    const toHz = 1000 / d.binMs;
    const [low, high] = LORENZ_DEFAULTS.rateRangeHz;
    const observed = channelMeans(trueRates(d));
    const all = channelMeans(concat3([
      trueRates(d),
      concat3([d.truth!.forwardHeldinRates, d.truth!.forwardHeldoutRates], 2),
    ], 1));
    all.forEach((rate) => {
      assert.ok(rate * toHz > low * 0.999 && rate * toHz < high * 1.001, `${rate * toHz} Hz`);
    });
    observed.forEach((rate) => {
      assert.ok(rate * toHz > 1 && rate * toHz < 50, `observed bins: ${rate * toHz} Hz`);
    });
  }
  const slow = lorenzDataset({ ...SMALL, rateRangeHz: [1, 2], seed: 3 });
  channelMeans(slow.truth!.heldinRates).forEach((rate) => assert.ok(rate * 100 < 3));
});

Deno.test("Lorenz behavior decodes from the true rates as behaviorNoise allows", () => {
  // With noise of s.d. f times the signal's, the best possible R2 is 1 / (1 + f²).
  const d = lorenzDataset({ ...SMALL, trials: 200, seed: 4 });
  const r2 = decodeR2(d, trueRates(d));
  assert.ok(r2 > 0.95 && r2 < 1 / (1 + 0.1 ** 2) + 0.005, `R2 ${r2}`);
  const noisy = lorenzDataset({ ...SMALL, trials: 200, behaviorNoise: 1, seed: 4 });
  const noisyR2 = decodeR2(noisy, trueRates(noisy));
  assert.ok(Math.abs(noisyR2 - 0.5) < 0.05, `R2 with behaviorNoise 1: ${noisyR2}`);
  const clean = lorenzDataset({ ...SMALL, trials: 200, behaviorNoise: 0, seed: 4 });
  const latents = sliceTime(clean.truth!.latents, 0, SMALL.bins);
  assert.ok(explainedBy(clean, latents) > 0.999999, "behavior is linear in the latents");
});

Deno.test("Lorenz behavior reads only behaviorLatents", () => {
  const onlyZ = lorenzDataset({ ...SMALL, behaviorLatents: [2], behaviorDims: 1, seed: 4 });
  assert.deepEqual(onlyZ.truth!.behaviorLatents, [2]);
  const latents = sliceTime(onlyZ.truth!.latents, 0, SMALL.bins);
  const [n, t] = latents.shape;
  const xy: Array3 = { data: new Float32Array(n * t * 2), shape: [n, t, 2] };
  for (let r = 0; r < n * t; r++) xy.data.set(latents.data.subarray(r * 3, r * 3 + 2), r * 2);
  const fromAll = explainedBy(onlyZ, latents), fromXY = explainedBy(onlyZ, xy);
  assert.ok(fromAll > 0.98, `from x, y, z: ${fromAll}`);
  assert.ok(fromXY < 0.5, `from x, y only: ${fromXY}`);
});

Deno.test("lorenzDataset rejects bad options, naming the option", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ behaviorLatents: [3] }, /behaviorLatents must be distinct latent indices in 0\.\.2/],
    [{ behaviorLatents: [-1] }, /behaviorLatents must be distinct latent indices in 0\.\.2/],
    [{ behaviorLatents: [0.5] }, /behaviorLatents must be distinct latent indices/],
    [{ behaviorLatents: [0, 0] }, /behaviorLatents must be distinct/],
    [{ behaviorLatents: [] }, /behaviorLatents must be distinct latent indices/],
    [{ dt: 1 }, /dt must be a number in \[0\.0001, 0\.1\], got 1/],
    [{ trials: 1 }, /trials must be an integer >= 3, got 1/],
    [{ behaviorDims: 0 }, /behaviorDims must be an integer >= 1, got 0/],
    [{ conditions: 2.5 }, /conditions must be an integer >= 1, got 2\.5/],
    [{ noise: -1 }, /noise must be a number in \[0, 100\], got -1/],
    [{ modulation: NaN }, /modulation must be a number in \[0, 5\], got NaN/],
    [{ behaviorNoise: -0.1 }, /behaviorNoise must be a number in \[0, 10\], got -0\.1/],
    [{ rateRangeHz: [30, 5] }, /rateRangeHz\[1\] must be a number in \[30, 1000\], got 5/],
    [{ rateRangeHz: 5 }, /rateRangeHz must be \[minHz, maxHz\], got 5/],
    [{ heldinNeurons: 0 }, /heldinNeurons must be an integer >= 1, got 0/],
    [{ seed: 0.5 }, /seed must be an integer/],
    [{ splits: { train: 0.5, val: 0.1, test: 0.1 } }, /split fractions must be >= 0 and sum to 1/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => lorenzDataset({ ...SMALL, ...options }), (e: Error) => {
      assert.ok(e instanceof ArgumentError, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
});
