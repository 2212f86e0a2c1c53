import assert from "node:assert/strict";
import { channelMeans, concat3 } from "../../../lib/array.ts";
import { trialsInSplit, validateDataset } from "../../../lib/data/dataset.ts";
import { lorenzDataset, rk4Step } from "../../../lib/data/synthetic/lorenz.ts";
import { ArgumentError } from "../../../lib/errors.ts";
import { fitRidge, predictRidge, r2Score, trialsAsRows } from "../../../lib/metrics/regression.ts";

const SMALL = { trials: 120, heldinNeurons: 20, heldoutNeurons: 6, bins: 60, forwardBins: 10 };

Deno.test("lorenzDataset is valid, shaped as asked, and deterministic by seed", () => {
  const a = lorenzDataset({ ...SMALL, seed: 1 });
  validateDataset(a);
  assert.deepEqual(a.heldinSpikes.shape, [120, 60, 20]);
  assert.deepEqual(a.forwardHeldoutSpikes.shape, [120, 10, 6]);
  assert.deepEqual(a.behavior.shape, [120, 60, 2]);
  assert.deepEqual(a.truth!.latents.shape, [120, 70, 3]);
  assert.deepEqual(a.behaviorNames, ["behavior_0", "behavior_1"]);
  const b = lorenzDataset({ ...SMALL, seed: 1 });
  const c = lorenzDataset({ ...SMALL, seed: 2 });
  assert.deepEqual(a.heldinSpikes.data, b.heldinSpikes.data);
  assert.deepEqual(a.behavior.data, b.behavior.data);
  assert.notDeepEqual(a.heldinSpikes.data, c.heldinSpikes.data);
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

Deno.test("Lorenz latents are standardized and smooth; rates are 1-50 Hz", () => {
  const d = lorenzDataset({ ...SMALL, seed: 3 });
  const z = d.truth!.latents;
  const means = channelMeans(z);
  means.forEach((m) => assert.ok(Math.abs(m) < 1e-4, `mean ${m}`));
  const [n, t, k] = z.shape;
  for (let j = 0; j < k; j++) {
    let lagged = 0, squares = 0;
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < t; b++) {
        const v = z.data[(i * t + b) * k + j];
        squares += v * v;
        if (b > 0) lagged += v * z.data[(i * t + b - 1) * k + j];
      }
    }
    assert.ok(Math.abs(squares / (n * t) - 1) < 1e-4, "unit variance");
    assert.ok(lagged / squares > 0.9, `lag-1 autocorrelation ${lagged / squares}`);
  }
  const toHz = 1000 / d.binMs;
  for (const rate of channelMeans(d.truth!.heldinRates)) {
    assert.ok(rate * toHz > 1 && rate * toHz < 50, `${rate * toHz} Hz`);
  }
});

Deno.test("Lorenz behavior decodes from the true rates (R2 > 0.8), and only reads its latents", () => {
  const d = lorenzDataset({ ...SMALL, trials: 200, seed: 4 });
  const train = trialsInSplit(d, "train"), test = trialsInSplit(d, "test");
  const rates = concat3([d.truth!.heldinRates, d.truth!.heldoutRates], 2);
  const model = fitRidge(trialsAsRows(rates, train), trialsAsRows(d.behavior, train), 1e-2);
  const r2 = r2Score(
    trialsAsRows(d.behavior, test),
    predictRidge(model, trialsAsRows(rates, test)),
  );
  assert.ok(r2 > 0.8, `R2 ${r2}`);
  // Behavior read from z alone is explained by z, and not by x and y.
  const onlyZ = lorenzDataset({ ...SMALL, behaviorLatents: [2], behaviorDims: 1, seed: 4 });
  assert.deepEqual(onlyZ.truth!.behaviorLatents, [2]);
  const latents = onlyZ.truth!.latents;
  const observed = {
    data: new Float32Array(latents.shape[0] * 60 * 3),
    shape: [latents.shape[0], 60, 3] as [number, number, number],
  };
  for (let i = 0; i < latents.shape[0]; i++) {
    observed.data.set(latents.data.subarray(i * 70 * 3, (i * 70 + 60) * 3), i * 60 * 3);
  }
  const xy = {
    data: new Float32Array(observed.data.length / 3 * 2),
    shape: [observed.shape[0], 60, 2] as [number, number, number],
  };
  for (let r = 0; r < observed.data.length / 3; r++) {
    xy.data.set(observed.data.subarray(r * 3, r * 3 + 2), r * 2);
  }
  const fitR2 = (features: typeof observed) =>
    r2Score(
      trialsAsRows(onlyZ.behavior),
      predictRidge(
        fitRidge(trialsAsRows(features), trialsAsRows(onlyZ.behavior), 1e-6),
        trialsAsRows(features),
      ),
    );
  assert.ok(fitR2(observed) > 0.95, `from x, y, z: ${fitR2(observed)}`);
  assert.ok(fitR2(xy) < 0.5, `from x, y only: ${fitR2(xy)}`);
});

Deno.test("lorenzDataset rejects bad options, naming the option", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ behaviorLatents: [3] }, /behaviorLatents must be distinct latent indices in 0\.\.2/],
    [{ behaviorLatents: [0, 0] }, /behaviorLatents must be distinct/],
    [{ dt: 1 }, /dt must be a number in \[0\.0001, 0\.1\], got 1/],
    [{ trials: 1 }, /trials must be an integer >= 3, got 1/],
    [{ behaviorDims: 0 }, /behaviorDims must be an integer >= 1, got 0/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => lorenzDataset({ ...SMALL, ...options }), (e: Error) => {
      assert.ok(e instanceof ArgumentError, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
});
