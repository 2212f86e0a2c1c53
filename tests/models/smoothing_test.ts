import assert from "node:assert/strict";
import { type Array3, selectTrials } from "../../lib/array.ts";
import { initBackend } from "../../lib/backend.ts";
import { trialsInSplit } from "../../lib/data/dataset.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { tf } from "../../lib/deps.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { coBps, evaluateNLB, smoothSpikes, truthRates } from "../../lib/metrics/nlb.ts";
import {
  fitPoissonGLM,
  fitSmoothingBaseline,
  predictPoissonGLM,
  type SmoothingBaseline,
} from "../../lib/models/smoothing.ts";

await initBackend("wasm");

// Reference coefficients come from Debian's python (/usr/bin/python3: numpy 1.24,
// scikit-learn 1.2), never from this code. Inputs are closed-form formulas written
// identically in TypeScript and Python (no PRNG):
//
//   import numpy as np
//   from sklearn.linear_model import PoissonRegressor
//   from sklearn.preprocessing import StandardScaler
//   from sklearn.pipeline import make_pipeline
//   n, p, q = 400, 5, 3
//   i = np.arange(n)[:, None]; c = np.arange(p)[None, :]; j = np.arange(q)[None, :]
//   s = np.sin(0.37 * i * (c + 1) + c) + 0.5 * np.cos(0.11 * i + 2 * c)
//   x = 0.1 * (c + 1) * s + 0.2 * c
//   y = np.maximum(0, np.floor(1.5 + 0.6 * (j + 1) * s[:, :q] + np.sin(0.9 * i + j)))
//   for alpha in [1e-2, 0.0]:
//       w = np.zeros((p + 1, q))
//       for t in range(q):
//           pipe = make_pipeline(StandardScaler(),
//                                PoissonRegressor(alpha=alpha, max_iter=1000, tol=1e-8))
//           pipe.fit(x, y[:, t]); sc, pr = pipe[0], pipe[1]
//           w[:p, t] = pr.coef_ / sc.scale_                          # raw-input units
//           w[p, t] = pr.intercept_ - (w[:p, t] * sc.mean_).sum()
//       print(alpha, ", ".join(f"{v:.12g}" for v in w.ravel()))  # (p + 1) x q, row-major
const SKLEARN_ALPHA_1E2 = [
  5.40171580733,
  0.137133027687,
  0.41821368621,
  0.169547460616,
  5.13208588119,
  0.245564676964,
  -0.098719224939,
  0.101754278015,
  4.18610206759,
  -0.00178408583678,
  0.198333480926,
  0.0238213126469,
  -0.0034941041313,
  -0.0256171980542,
  0.0840036775689,
  -0.0266360836338,
  -1.35105530549,
  -2.01780445779,
];
const SKLEARN_ALPHA_0 = [
  5.46763749912,
  0.151959196006,
  0.468912210731,
  0.180345875025,
  5.21647315856,
  0.269980031582,
  -0.0958439647952,
  0.108459798687,
  4.24537165932,
  -0.00426563283291,
  0.215585260633,
  0.0305693665676,
  -0.004277370127,
  -0.0288199401289,
  0.0899784540821,
  -0.0299084239399,
  -1.3867345215,
  -2.06616020509,
];

function closedFormProblem() {
  const n = 400, p = 5, q = 3;
  const s = (i: number, c: number) =>
    Math.sin(0.37 * i * (c + 1) + c) + 0.5 * Math.cos(0.11 * i + 2 * c);
  const x = new Float64Array(n * p), y = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < p; c++) x[i * p + c] = 0.1 * (c + 1) * s(i, c) + 0.2 * c;
    for (let j = 0; j < q; j++) {
      y[i * q + j] = Math.max(0, Math.floor(1.5 + 0.6 * (j + 1) * s(i, j) + Math.sin(0.9 * i + j)));
    }
  }
  return { x: { data: x, rows: n, cols: p }, y: { data: y, rows: n, cols: q } };
}

function allClose(actual: ArrayLike<number>, expected: number[], rel: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let k = 0; k < expected.length; k++) {
    assert.ok(
      Math.abs(actual[k] - expected[k]) <= rel * Math.abs(expected[k]) + 1e-6,
      `${what}[${k}]: ${actual[k]} vs ${expected[k]} (tolerance ${rel} relative)`,
    );
  }
}

function assertArgumentError(f: () => unknown, ...texts: string[]) {
  assert.throws(
    f,
    (e: unknown) => e instanceof ArgumentError && texts.every((t) => e.message.includes(t)),
    `expected an ArgumentError containing ${texts.map((t) => JSON.stringify(t)).join(", ")}`,
  );
}

Deno.test("fitPoissonGLM matches scikit-learn's PoissonRegressor on standardized inputs", () => {
  const { x, y } = closedFormProblem();
  let total = 0;
  for (const v of y.data) total += v;
  assert.equal(total, 426 + 448 + 505, "the counts agree with the Python formula");
  for (const [alpha, expected] of [[1e-2, SKLEARN_ALPHA_1E2], [0, SKLEARN_ALPHA_0]] as const) {
    const glm = fitPoissonGLM(x, y, { alpha });
    assert.ok(glm.converged, `alpha ${alpha}: gradient norm ${glm.gradientNorm}`);
    assert.ok(glm.gradientNorm <= 1e-6);
    allClose(glm.weights, expected, 1e-4, `weights (alpha ${alpha})`);
  }
});

Deno.test("predictPoissonGLM is exp of the linear predictor in raw units", () => {
  const { x, y } = closedFormProblem();
  const glm = fitPoissonGLM(x, y, { alpha: 1e-2 });
  const rates = predictPoissonGLM(glm, x);
  assert.equal(rates.rows, 400);
  assert.equal(rates.cols, 3);
  for (const i of [0, 17, 399]) {
    for (let j = 0; j < 3; j++) {
      let eta = glm.weights[5 * 3 + j];
      for (let k = 0; k < 5; k++) eta += x.data[i * 5 + k] * glm.weights[k * 3 + j];
      const r = rates.data[i * 3 + j];
      assert.ok(Math.abs(r - Math.exp(eta)) <= 1e-5 * Math.exp(eta), `row ${i}: ${r}`);
    }
  }
  // Sum of predictions = sum of counts per target (the intercept's score equation).
  for (let j = 0; j < 3; j++) {
    let predicted = 0, observed = 0;
    for (let i = 0; i < 400; i++) {
      (predicted += rates.data[i * 3 + j], observed += y.data[i * 3 + j]);
    }
    assert.ok(Math.abs(predicted - observed) < 1e-3 * observed, `target ${j}`);
  }
});

const data = reachDataset({ trials: 300, heldinNeurons: 40, heldoutNeurons: 12, seed: 1 });
let cached: SmoothingBaseline | null = null;
const baseline = () => (cached ??= fitSmoothingBaseline(data));

function assertRates(a: Array3 | undefined, shape: number[], minRate: number, what: string) {
  if (!a) return assert.fail(`${what} is missing`);
  assert.deepEqual(a.shape, shape, `${what} shape`);
  for (let i = 0; i < a.data.length; i++) {
    const v: number = a.data[i];
    if (!(Number.isFinite(v) && v >= minRate)) assert.fail(`${what}[${i}] is ${v}`);
  }
}

Deno.test("the smoothing baseline scores between the null model and the true rates", () => {
  const model = baseline();
  assert.ok(model.glm.converged, `gradient norm ${model.glm.gradientNorm}`);
  assert.equal(model.weights.length, (40 + 1) * 12);
  const train = model.predict(data, "train"), test = model.predict(data, "test");
  const nTest = trialsInSplit(data, "test").length;
  const minRate = model.options.minRate;
  assertRates(test.heldin, [nTest, 140, 40], minRate, "heldin");
  assertRates(test.heldout, [nTest, 140, 12], minRate, "heldout");
  assertRates(test.forwardHeldin, [nTest, 40, 40], minRate, "forwardHeldin");
  assertRates(test.forwardHeldout, [nTest, 40, 12], minRate, "forwardHeldout");

  const record = evaluateNLB(data, { train, eval: test });
  const truth = evaluateNLB(data, {
    train: truthRates(data, "train"),
    eval: truthRates(data, "test"),
  });
  assert.ok(record.coBps! > 0.1, `co-bps ${record.coBps}`);
  assert.ok(record.coBps! < truth.coBps!, `co-bps ${record.coBps} vs truth ${truth.coBps}`);
  assert.ok(record.velR2! > 0.5, `vel R2 ${record.velR2}`);
  assert.ok(record.velR2! < truth.velR2!, `vel R2 ${record.velR2} vs truth ${truth.velR2}`);
  // The forward window is each neuron's train mean: about the null model (fp-bps near 0).
  assert.ok(Math.abs(record.fpBps!) < 0.05, `fp-bps ${record.fpBps}`);
  assert.equal(
    coBps(test.heldout, selectTrials(data.heldoutSpikes, trialsInSplit(data, "test"))),
    record.coBps,
  );
});

Deno.test("held-in rates are the smoothed spikes and forward rates the train means", () => {
  const model = baseline();
  const trials = trialsInSplit(data, "val");
  const rates = model.predict(data, "val");
  const smoothed = smoothSpikes(selectTrials(data.heldinSpikes, trials), 50, data.binMs);
  for (let i = 0; i < smoothed.data.length; i += 97) {
    assert.equal(rates.heldin.data[i], Math.max(1e-4, smoothed.data[i]));
  }
  const train = trialsInSplit(data, "train");
  const forward = selectTrials(data.forwardHeldoutSpikes, train);
  for (let c = 0; c < 12; c++) {
    let sum = 0;
    for (let k = c; k < forward.data.length; k += 12) sum += forward.data[k];
    const mean = sum / (train.length * 40);
    assert.ok(Math.abs(model.forwardHeldoutMean[c] - mean) < 1e-12);
    assert.equal(rates.forwardHeldout!.data[40 * 12 + c], Math.max(1e-4, mean));
  }
});

Deno.test("predict refuses a dataset with other neurons or bins, naming the mismatch", () => {
  const model = baseline();
  const fewer = reachDataset({ trials: 20, heldinNeurons: 40, heldoutNeurons: 11, seed: 2 });
  assertArgumentError(() => model.predict(fewer, "test"), "11 held-out neurons", "fit with 12");
  const other = reachDataset({ trials: 20, heldinNeurons: 39, heldoutNeurons: 12, seed: 2 });
  assertArgumentError(() => model.predict(other, "test"), "39 held-in neurons", "fit with 40");
  const shorter = reachDataset({
    trials: 20,
    heldinNeurons: 40,
    heldoutNeurons: 12,
    bins: 100,
    seed: 2,
  });
  assertArgumentError(() => model.predict(shorter, "test"), "100 bins per trial");
  // Same neurons and bins: another dataset is fine.
  const same = reachDataset({ trials: 20, heldinNeurons: 40, heldoutNeurons: 12, seed: 2 });
  const rates = model.predict(same, "test");
  assert.equal(rates.heldout.shape[0], trialsInSplit(same, "test").length);
});

Deno.test("bad options throw an ArgumentError naming the field and the value", () => {
  assertArgumentError(() => fitSmoothingBaseline(data, { alpha: -1 }), "alpha", ">= 0", "-1");
  assertArgumentError(() => fitSmoothingBaseline(data, { alpha: NaN }), "alpha", "NaN");
  assertArgumentError(() => fitSmoothingBaseline(data, { kernelSdMs: 0 }), "kernelSdMs", "> 0");
  assertArgumentError(() => fitSmoothingBaseline(data, { kernelSdMs: -5 }), "kernelSdMs", "-5");
  assertArgumentError(() => fitSmoothingBaseline(data, { minRate: 0 }), "minRate", "got 0");
  assertArgumentError(() => fitSmoothingBaseline(data, { maxIterations: 0 }), "maxIterations");
  assertArgumentError(
    () => fitSmoothingBaseline(data, { fitSplit: "nope" as "train" }),
    "fitSplit",
    '"nope"',
  );
  assertArgumentError(() => baseline().predict(data, "dev" as "test"), "split", '"dev"');
});

Deno.test("fits are deterministic and leave no tensor behind", () => {
  const before = tf.memory().numTensors;
  const a = fitSmoothingBaseline(data, { fitSplit: ["train", "val"] });
  const b = fitSmoothingBaseline(data, { fitSplit: ["train", "val"] });
  a.predict(data, "test");
  assert.equal(tf.memory().numTensors, before, "tensors after fit and predict");
  assert.deepEqual(a.weights, b.weights);
  assert.notDeepEqual(a.weights, baseline().weights, "fitSplit changes the fit");
});
