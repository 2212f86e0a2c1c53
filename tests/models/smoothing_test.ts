import assert from "node:assert/strict";
import { type Array3, selectTrials } from "../../lib/array.ts";
import { initBackend } from "../../lib/backend.ts";
import { type NeuralDataset, type Split, trialsInSplit } from "../../lib/data/dataset.ts";
import { reachDataset } from "../../lib/data/synthetic/reach.ts";
import { tf } from "../../lib/deps.ts";
import { ArgumentError } from "../../lib/errors.ts";
import { coBps, evaluateNLB, smoothSpikes, truthRates } from "../../lib/metrics/nlb.ts";
import {
  fitPoissonGLM,
  fitPoissonGLMPath,
  fitSmoothingBaseline,
  predictPoissonGLM,
  SMOOTHING_ALPHAS,
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
// A small dataset for cross-validation, where fitting on train + val leaves no split to
// select on.
const small = reachDataset({ trials: 90, heldinNeurons: 16, heldoutNeurons: 6, seed: 4 });
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
  assert.ok(record.coBps! > 0.01, `co-bps ${record.coBps}`);
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
  assertArgumentError(() => fitSmoothingBaseline(data, { alphas: [] }), "alphas", "non-empty");
  assertArgumentError(
    () => fitSmoothingBaseline(data, { alphas: [1e-2, NaN] }),
    "alphas[1]",
    ">= 0",
    "NaN",
  );
  assertArgumentError(() => fitSmoothingBaseline(data, { folds: 1 }), "folds", ">= 2", "1");
  assertArgumentError(
    () => fitSmoothingBaseline(small, { fitSplit: "val", folds: 40 }),
    "folds",
    "40-fold",
    `has ${trialsInSplit(small, "val").length}`,
  );
});

Deno.test("fits are deterministic and leave no tensor behind", () => {
  const before = tf.memory().numTensors;
  // Fit on train + val: the penalty is cross-validated (two penalties keep it quick).
  const options = { fitSplit: ["train", "val"] as Split[], alphas: [1e-3, 1e-1] };
  const a = fitSmoothingBaseline(small, options);
  const b = fitSmoothingBaseline(small, options);
  a.predict(small, "test");
  const byVal = fitSmoothingBaseline(small, { alphas: [1e-3, 1e-1] });
  fitPoissonGLMPath(closedFormProblem().x, closedFormProblem().y, [1, 0]);
  assert.equal(tf.memory().numTensors, before, "tensors after fit and predict");
  assert.equal(a.selection.by, "cv");
  assert.equal(byVal.selection.by, "val");
  assert.deepEqual(a.weights, b.weights);
  assert.deepEqual(a.selection, b.selection);
  assert.notDeepEqual(a.weights, byVal.weights, "fitSplit changes the fit");
});

// ---------------------------------------------------------------------------------------
// The GLM penalty: chosen on val (or by cross-validation), never on test.
// ---------------------------------------------------------------------------------------

/** co-bps of a baseline's held-out rates on the trials of one split. */
function splitCoBps(model: SmoothingBaseline, dataset: NeuralDataset, split: Split): number {
  return coBps(
    model.predict(dataset, split).heldout,
    selectTrials(dataset.heldoutSpikes, trialsInSplit(dataset, split)),
  );
}

/** A copy of `dataset` whose `split` trials have other spikes: reversed counts, plus one. */
function scrambled(dataset: NeuralDataset, split: Split): NeuralDataset {
  const trials = new Set(trialsInSplit(dataset, split));
  const change = (a: Array3): Array3 => {
    const [n, time, channels] = a.shape, stride = time * channels;
    const data = Float32Array.from(a.data);
    for (let i = 0; i < n; i++) {
      if (!trials.has(i)) continue;
      for (let j = 0; j < stride; j++) data[i * stride + j] = a.data[(i + 1) * stride - 1 - j] + 1;
    }
    return { data, shape: [n, time, channels] };
  };
  return {
    ...dataset,
    heldinSpikes: change(dataset.heldinSpikes),
    heldoutSpikes: change(dataset.heldoutSpikes),
    forwardHeldinSpikes: change(dataset.forwardHeldinSpikes),
    forwardHeldoutSpikes: change(dataset.forwardHeldoutSpikes),
  };
}

function assertSameFit(a: SmoothingBaseline, b: SmoothingBaseline, what: string) {
  assert.deepEqual(a.selection, b.selection, `${what}: selection`);
  assert.deepEqual(a.options, b.options, `${what}: options`);
  assert.deepEqual(a.weights, b.weights, `${what}: weights`);
  assert.deepEqual(a.glm.standardizedWeights, b.glm.standardizedWeights, `${what}: GLM`);
  assert.deepEqual(a.forwardHeldinMean, b.forwardHeldinMean, `${what}: forward held-in means`);
  assert.deepEqual(a.forwardHeldoutMean, b.forwardHeldoutMean, `${what}: forward means`);
}

Deno.test("the test split's spikes cannot change the baseline (penalty by val)", () => {
  const model = baseline();
  assert.equal(model.selection.by, "val");
  const other = scrambled(data, "test");
  assert.notDeepEqual(other.heldoutSpikes.data, data.heldoutSpikes.data);
  const refit = fitSmoothingBaseline(other);
  assertSameFit(refit, model, "test spikes changed");
  // The rates of the other splits are bit-identical too.
  assert.deepEqual(refit.predict(other, "val"), model.predict(data, "val"));
  // Not vacuous: the val split's spikes do change the choice's scores.
  const valChanged = fitSmoothingBaseline(scrambled(data, "val"), { alphas: [1e-3, 1e-1] });
  const valKept = fitSmoothingBaseline(data, { alphas: [1e-3, 1e-1] });
  assert.notDeepEqual(valChanged.selection.scores, valKept.selection.scores);
});

Deno.test("the penalty is the grid's best on val, by scores of explicit fits", () => {
  const model = baseline();
  const { selection } = model;
  assert.deepEqual(selection.alphas, [...SMOOTHING_ALPHAS]);
  assert.equal(selection.alphas.length, 9);
  assert.equal(selection.scoredTrials, trialsInSplit(data, "val").length);
  assert.deepEqual(selection.foldScores, []);
  assert.equal(model.options.alpha, selection.chosen);
  assert.equal(model.glm.alpha, selection.chosen);
  // Each penalty fit on its own (cold start, `alpha` given) and scored on val.
  const independent = selection.alphas.map((alpha) => {
    const fit = fitSmoothingBaseline(data, { alpha });
    assert.equal(fit.selection.by, "given");
    assert.deepEqual(fit.selection.alphas, [alpha]);
    assert.equal(fit.options.alpha, alpha);
    return splitCoBps(fit, data, "val");
  });
  // The path's warm starts agree with cold fits up to the solver's tolerance.
  independent.forEach((score, k) =>
    assert.ok(
      Math.abs(selection.scores[k] - score) < 1e-4,
      `alpha ${selection.alphas[k]}: ${selection.scores[k]} vs ${score}`,
    )
  );
  const best = independent.indexOf(Math.max(...independent));
  const chosen = selection.alphas.indexOf(selection.chosen);
  const sorted = [...independent].sort((a, b) => b - a);
  if (sorted[0] - sorted[1] > 2e-4) {
    assert.equal(chosen, best, `val scores ${independent}`);
  } else { // a near tie, within the warm starts' difference: either is right
    assert.ok(independent[best] - independent[chosen] <= 2e-4, `val scores ${independent}`);
  }
  // The choice is the best of its own scores, and the chosen GLM scores as recorded.
  assert.equal(selection.scores[chosen], Math.max(...selection.scores));
  assert.equal(splitCoBps(model, data, "val"), selection.scores[chosen]);
});

Deno.test("without a val split to select on, the penalty is cross-validated over the fit trials", () => {
  const alphas = [1e-3, 1e-2, 1e-1];
  const fitSplit: Split[] = ["train", "val"];
  const model = fitSmoothingBaseline(small, { fitSplit, alphas, folds: 3 });
  const fitTrials = trialsInSplit(small, fitSplit);
  const { selection } = model;
  assert.equal(selection.by, "cv");
  assert.deepEqual(selection.alphas, alphas);
  assert.equal(selection.scoredTrials, fitTrials.length);
  assert.equal(selection.foldScores.length, 3);
  // Fold f's score is the val score of a dataset whose fold-f trials are "val" and the
  // other fit trials "train", each penalty fit explicitly.
  const base = Math.floor(fitTrials.length / 3), extra = fitTrials.length % 3;
  const sizes = [0, 1, 2].map((f) => base + (f < extra ? 1 : 0));
  let start = 0;
  sizes.forEach((size, f) => {
    const fold = new Set(fitTrials.slice(start, start + size));
    start += size;
    const relabeled: NeuralDataset = {
      ...small,
      split: small.split.map((s, i) => fold.has(i) ? "val" : (fitSplit.includes(s) ? "train" : s)),
    };
    alphas.forEach((alpha, k) => {
      const fit = fitSmoothingBaseline(relabeled, { alpha });
      const score = splitCoBps(fit, relabeled, "val");
      assert.ok(
        Math.abs(selection.foldScores[f][k] - score) < 1e-4,
        `fold ${f}, alpha ${alpha}: ${selection.foldScores[f][k]} vs ${score}`,
      );
    });
  });
  const means = alphas.map((_, k) => selection.foldScores.reduce((a, s) => a + s[k], 0) / 3);
  means.forEach((m, k) => assert.ok(Math.abs(m - selection.scores[k]) < 1e-12));
  assert.equal(selection.chosen, alphas[means.indexOf(Math.max(...means))]);
  // The final GLM is refit on every fit trial at the chosen penalty: as an explicit fit.
  const explicit = fitSmoothingBaseline(small, { fitSplit, alpha: selection.chosen });
  assert.deepEqual(model.weights, explicit.weights);
  // No val trials at all: cross-validation over train; the test spikes still do not count.
  const noVal: NeuralDataset = {
    ...small,
    split: small.split.map((s) => (s === "val" ? "test" : s)),
  };
  const a = fitSmoothingBaseline(noVal, { alphas, folds: 3 });
  assert.equal(a.selection.by, "cv");
  assert.equal(a.selection.scoredTrials, trialsInSplit(noVal, "train").length);
  assertSameFit(fitSmoothingBaseline(scrambled(noVal, "test"), { alphas, folds: 3 }), a, "cv");
});

Deno.test("a given penalty is used as is", () => {
  const model = fitSmoothingBaseline(small, { alpha: 0.05 });
  assert.deepEqual(model.selection, {
    by: "given",
    alphas: [0.05],
    scores: [],
    chosen: 0.05,
    foldScores: [],
    scoredTrials: 0,
  });
  assert.equal(model.options.alpha, 0.05);
  assert.equal(model.glm.alpha, 0.05);
  // The GLM is fitPoissonGLM's on the smoothed held-in spikes of the train trials.
  const train = trialsInSplit(small, "train");
  const smoothed = smoothSpikes(selectTrials(small.heldinSpikes, train), 50, small.binMs);
  const rows = train.length * smoothed.shape[1];
  const glm = fitPoissonGLM(
    { data: smoothed.data, rows, cols: 16 },
    { data: selectTrials(small.heldoutSpikes, train).data, rows, cols: 6 },
    { alpha: 0.05 },
  );
  assert.deepEqual(model.weights, glm.weights);
});

Deno.test("fitPoissonGLMPath: warm-started fits agree with cold fits", () => {
  const { x, y } = closedFormProblem();
  const alphas = [0, 1e-2, 0.3];
  const path = fitPoissonGLMPath(x, y, alphas);
  assert.deepEqual(path.map((g) => g.alpha), alphas);
  allClose(path[0].weights, SKLEARN_ALPHA_0, 1e-4, "path, alpha 0");
  allClose(path[1].weights, SKLEARN_ALPHA_1E2, 1e-4, "path, alpha 1e-2");
  // The largest penalty is fit first, from a cold start: exactly fitPoissonGLM's.
  assert.deepEqual(path[2].weights, fitPoissonGLM(x, y, { alpha: 0.3 }).weights);
  for (const glm of path) assert.ok(glm.converged, `alpha ${glm.alpha}: ${glm.gradientNorm}`);
  assertArgumentError(() => fitPoissonGLMPath(x, y, []), "alphas", "non-empty");
  assertArgumentError(() => fitPoissonGLMPath(x, y, [1, -2]), "alphas[1]", ">= 0", "-2");
});
