import assert from "node:assert/strict";
import { ArgumentError } from "../../lib/errors.ts";
import { fitRidgeCV, kFoldBounds, type Matrix } from "../../lib/metrics/regression.ts";

// Reference values come from Debian's python (/usr/bin/python3: numpy 1.24, scikit-learn
// 1.2), never from this code. The inputs are closed-form formulas written identically in
// TypeScript and Python (no PRNG). The script that produced every number below:
//
//   import numpy as np
//   from sklearn.model_selection import GridSearchCV, KFold
//   from sklearn.linear_model import Ridge
//   for n in [10, 11, 13, 14]:
//       print(n, [(int(t[0]), int(t[-1]) + 1) for _, t in KFold(5).split(np.zeros(n))])
//   def case_a(n=53, p=6, q=2):
//       i = np.arange(n)[:, None]; j = np.arange(p)[None, :]
//       x = (np.sin(0.37 * (i + 1) * (j + 1)) + 0.3 * np.cos(1.3 * i + j * j)
//            + ((i * 7 + j * 3) % 5) / 10)
//       W = np.cos(np.arange(p)[:, None] + 2 * np.arange(q)[None, :])
//       k = np.arange(q)[None, :]
//       y = (x @ W + 0.4 * np.sin(2.1 * i + k) + 0.3 * (((i * 13 + k * 7) % 11) / 11 - 0.5)
//            + np.where(k == 0, 2.0, -1.5))
//       return x, y
//   def case_b(n=12, p=8, q=2):
//       i = np.arange(n)[:, None]; j = np.arange(p)[None, :]
//       x = 0.2 * np.sin(1.7 * i * (j + 1) + j)
//       k = np.arange(q)[None, :]
//       y = 0.1 * x[:, :q] + np.sin(3.3 * i + k) + ((i * 5 + k) % 3) / 4
//       return x, y
//   def report(name, x, y, alphas):
//       g = GridSearchCV(Ridge(), {"alpha": alphas}, cv=5).fit(x, y)
//       print(name, repr(g.best_params_["alpha"]), g.best_index_)
//       print([repr(v) for v in g.cv_results_["mean_test_score"]])
//       print([repr(v) for v in g.cv_results_["split0_test_score"]])
//       print([repr(v) for v in g.best_estimator_.coef_.ravel()])  # targets x features
//       print([repr(v) for v in g.best_estimator_.intercept_])
//   alphas = np.logspace(-4, 0, 9)
//   x, y = case_a(); report("A", x, y, alphas)
//   f32 = lambda a: a.astype(np.float32).astype(np.float64)
//   report("A32", f32(x), f32(y), alphas)
//   x, y = case_b(); report("B", x, y, alphas)

const ALPHAS = [
  9.999999999999999e-05,
  0.00031622776601683794,
  0.001,
  0.0031622776601683794,
  0.01,
  0.03162277660168379,
  0.09999999999999999,
  0.31622776601683794,
  1.0,
];

interface Reference {
  bestIndex: number;
  meanScores: number[];
  split0Scores: number[];
  /** sklearn's coef_: targets x features, row-major. */
  coef: number[];
  intercept: number[];
}

// Case A: 53 rows x 6 features x 2 targets; a mid-grid alpha (0.316) wins.
const REF_A: Reference = {
  bestIndex: 7,
  meanScores: [
    0.9116838959808353,
    0.9116842697421548,
    0.9116854504860971,
    0.911689172398203,
    0.9117008229380907,
    0.9117364765779966,
    0.9118374375833064,
    0.9120419521310538,
    0.9116330036589307,
  ],
  split0Scores: [
    0.8572500797184328,
    0.8572506159815227,
    0.8572523108797372,
    0.8572576614747106,
    0.857274490165924,
    0.8573267953637314,
    0.8574831426179929,
    0.8578889084952293,
    0.8583428903523083,
  ],
  coef: [
    1.0053393085902969,
    0.5287442055800172,
    -0.4824088458055624,
    -0.9801541184584882,
    -0.6585547166328306,
    0.25055145166572257,
    -0.40651670089694497,
    -0.9648514971877417,
    -0.587800457715444,
    0.28045001532504177,
    0.9687876513887027,
    0.7639332243289432,
  ],
  intercept: [2.0115739845862377, -1.5331186094053328],
};

// Case A rounded to float32 (sklearn given the float32 values cast to float64, since our
// regression works in float64 whatever the input's kind).
const REF_A32: Reference = {
  bestIndex: 7,
  meanScores: [
    0.9116838986849622,
    0.9116842724462598,
    0.9116854531901335,
    0.9116891751020229,
    0.9117008256412245,
    0.9117364792789594,
    0.9118374402773834,
    0.9120419548031785,
    0.9116330062605872,
  ],
  split0Scores: [
    0.8572500955355447,
    0.8572506317986588,
    0.8572523266969496,
    0.8572576772921643,
    0.8572745059841376,
    0.857326811184318,
    0.8574831584457918,
    0.857888924343002,
    0.8583429062373668,
  ],
  coef: [
    1.0053392938524057,
    0.5287441980638158,
    -0.48240885924782273,
    -0.9801541183199576,
    -0.6585547269592908,
    0.25055146843316534,
    -0.4065167096681711,
    -0.964851503403821,
    -0.5878004553173173,
    0.2804500409371577,
    0.9687876685143229,
    0.763933242608324,
  ],
  intercept: [2.0115739916546076, -1.5331186205584977],
};

// Case B: 12 rows x 8 weakly informative features; the largest alpha (1.0) wins and small
// alphas overfit badly (strongly negative R²).
const REF_B: Reference = {
  bestIndex: 8,
  meanScores: [
    -135.38730884827163,
    -127.56305391456203,
    -109.08559173805381,
    -74.90649229357611,
    -34.20443582624436,
    -10.471216298902462,
    -3.0931925970574357,
    -0.997791242123393,
    -0.3568363616006023,
  ],
  split0Scores: [
    -395.5031422210495,
    -377.2336904956936,
    -327.2126461477227,
    -221.50727672049362,
    -92.52495559302741,
    -21.71522485709392,
    -3.1313179243001374,
    -0.23749051396886456,
    -0.07604573055219854,
  ],
  coef: [
    -0.025031448934483877,
    0.20263043997544936,
    -0.05088261210369981,
    -0.039776928570230255,
    0.41184078908029537,
    0.11166416334296222,
    0.05930314197751157,
    -0.006120089432946323,
    -0.05427168556802019,
    0.965185409282998,
    -0.022115318251532175,
    0.0024937918581352733,
    0.14072982147594837,
    -0.24256537927180624,
    0.0388577825591204,
    0.004120531497752522,
  ],
  intercept: [0.2105605768985901, 0.2572124062492594],
};

function caseA(kind: "float64" | "float32" = "float64"): { x: Matrix; y: Matrix } {
  const n = 53, p = 6, q = 2;
  const x = new Float64Array(n * p), y = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      x[i * p + j] = Math.sin(0.37 * (i + 1) * (j + 1)) + 0.3 * Math.cos(1.3 * i + j * j) +
        ((i * 7 + j * 3) % 5) / 10;
    }
    for (let k = 0; k < q; k++) {
      let v = 0;
      for (let j = 0; j < p; j++) v += x[i * p + j] * Math.cos(j + 2 * k);
      y[i * q + k] = v + 0.4 * Math.sin(2.1 * i + k) + 0.3 * (((i * 13 + k * 7) % 11) / 11 - 0.5) +
        (k === 0 ? 2.0 : -1.5);
    }
  }
  const wrap = (d: Float64Array, cols: number): Matrix => ({
    data: kind === "float32" ? Float32Array.from(d) : d,
    rows: n,
    cols,
  });
  return { x: wrap(x, p), y: wrap(y, q) };
}

function caseB(): { x: Matrix; y: Matrix } {
  const n = 12, p = 8, q = 2;
  const x = new Float64Array(n * p), y = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) x[i * p + j] = 0.2 * Math.sin(1.7 * i * (j + 1) + j);
    for (let k = 0; k < q; k++) {
      y[i * q + k] = 0.1 * x[i * p + k] + Math.sin(3.3 * i + k) + ((i * 5 + k) % 3) / 4;
    }
  }
  return { x: { data: x, rows: n, cols: p }, y: { data: y, rows: n, cols: q } };
}

function assertAbsClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tol} absolute)`,
    );
  }
}

function assertRelClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * Math.abs(expected[i]),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tol} relative)`,
    );
  }
}

/** sklearn's coef_ (targets x features) as our weights layout (features x targets). */
function transpose(coef: number[], targets: number, features: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < features; j++) {
    for (let k = 0; k < targets; k++) out.push(coef[k * features + j]);
  }
  return out;
}

function checkAgainst(x: Matrix, y: Matrix, ref: Reference, what: string): void {
  const result = fitRidgeCV(x, y, { alphas: ALPHAS, folds: 5 });
  assert.equal(result.alpha, ALPHAS[ref.bestIndex], `${what}: chosen alpha`);
  assert.equal(result.model.alpha, ALPHAS[ref.bestIndex], `${what}: refit alpha`);
  assert.deepEqual(result.alphas, ALPHAS);
  assert.deepEqual(result.folds, kFoldBounds(x.rows, 5));
  assertAbsClose(result.meanScores, ref.meanScores, 1e-8, `${what} mean CV scores`);
  assert.equal(result.foldScores.length, 5);
  assertAbsClose(result.foldScores[0], ref.split0Scores, 1e-8, `${what} fold 0 scores`);
  assertRelClose(
    result.model.weights,
    transpose(ref.coef, y.cols, x.cols),
    1e-8,
    `${what} refit weights`,
  );
  assertRelClose(result.model.intercept, ref.intercept, 1e-8, `${what} refit intercept`);
  assert.equal(result.model.features, x.cols);
  assert.equal(result.model.targets, y.cols);
}

function throwsArgument(fn: () => unknown, text: string): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof ArgumentError && e.message.includes(text),
    `expected an ArgumentError containing "${text}"`,
  );
}

Deno.test("kFoldBounds matches sklearn KFold(5): the first n % 5 folds are one longer", () => {
  // [(int(t[0]), int(t[-1]) + 1) for _, t in KFold(5).split(np.zeros(n))]
  assert.deepEqual(kFoldBounds(10, 5), [[0, 2], [2, 4], [4, 6], [6, 8], [8, 10]]);
  assert.deepEqual(kFoldBounds(11, 5), [[0, 3], [3, 5], [5, 7], [7, 9], [9, 11]]);
  assert.deepEqual(kFoldBounds(13, 5), [[0, 3], [3, 6], [6, 9], [9, 11], [11, 13]]);
  assert.deepEqual(kFoldBounds(14, 5), [[0, 3], [3, 6], [6, 9], [9, 12], [12, 14]]);
  assert.deepEqual(kFoldBounds(5, 5), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]);
  assert.deepEqual(kFoldBounds(3, 2), [[0, 2], [2, 3]]);
});

Deno.test("kFoldBounds rejects fewer than 2 folds and fewer rows than folds", () => {
  throwsArgument(() => kFoldBounds(10, 1), "folds must be an integer >= 2, got 1");
  throwsArgument(() => kFoldBounds(10, 0), "folds must be an integer >= 2");
  throwsArgument(() => kFoldBounds(10, 2.5), "folds must be an integer >= 2, got 2.5");
  throwsArgument(() => kFoldBounds(4, 5), "4 rows cannot be split into 5 folds");
});

Deno.test("fitRidgeCV equals sklearn GridSearchCV(Ridge(), logspace(-4, 0, 9), cv=5)", () => {
  const { x, y } = caseA();
  checkAgainst(x, y, REF_A, "case A");
  // The default grid and folds are the same search.
  // (Our logspace may differ from numpy's in the last bit, so alphas compare to 1e-15.)
  const byDefault = fitRidgeCV(x, y);
  assertRelClose([byDefault.alpha], [ALPHAS[REF_A.bestIndex]], 1e-15, "default alpha");
  assertAbsClose(byDefault.meanScores, REF_A.meanScores, 1e-8, "default options");
});

Deno.test("fitRidgeCV picks the largest alpha when features are weakly informative", () => {
  const { x, y } = caseB();
  checkAgainst(x, y, REF_B, "case B");
});

Deno.test("fitRidgeCV on float32 inputs matches sklearn on the same values in float64", () => {
  const { x, y } = caseA("float32");
  assert.ok(x.data instanceof Float32Array && y.data instanceof Float32Array);
  checkAgainst(x, y, REF_A32, "case A float32");
});

Deno.test("fitRidgeCV keeps the first best alpha on ties", () => {
  // Repeating an alpha gives exactly equal scores: the first of them is chosen.
  const { x, y } = caseA();
  const alphas = [1, ALPHAS[REF_A.bestIndex], ALPHAS[REF_A.bestIndex], 1e-4];
  const result = fitRidgeCV(x, y, { alphas });
  assert.equal(result.meanScores[1], result.meanScores[2]);
  assert.equal(result.alpha, alphas[1]);
  assertAbsClose(
    result.meanScores.subarray(1, 2),
    [REF_A.meanScores[REF_A.bestIndex]],
    1e-8,
    "tie",
  );
});

Deno.test("fitRidgeCV rejects empty or negative alphas and mismatched rows", () => {
  const { x, y } = caseA();
  throwsArgument(() => fitRidgeCV(x, y, { alphas: [] }), "alphas must hold at least one penalty");
  throwsArgument(
    () => fitRidgeCV(x, y, { alphas: [0.1, -1] }),
    "alpha must be a finite number >= 0, got -1",
  );
  throwsArgument(
    () => fitRidgeCV(x, y, { alphas: [NaN] }),
    "alpha must be a finite number >= 0, got NaN",
  );
  const shorter: Matrix = { data: y.data.subarray(0, 52 * 2), rows: 52, cols: 2 };
  throwsArgument(() => fitRidgeCV(x, shorter), "x has 53 rows but y has 52");
  throwsArgument(() => fitRidgeCV(x, y, { folds: 1 }), "folds must be an integer >= 2");
  const tiny: Matrix = { data: x.data.subarray(0, 3 * 6), rows: 3, cols: 6 };
  const tinyY: Matrix = { data: y.data.subarray(0, 3 * 2), rows: 3, cols: 2 };
  throwsArgument(() => fitRidgeCV(tiny, tinyY), "3 rows cannot be split into 5 folds");
});
