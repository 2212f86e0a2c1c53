import assert from "node:assert/strict";
import { array3 } from "../../lib/array.ts";
import { ArgumentError } from "../../lib/errors.ts";
import {
  fitRidge,
  type Matrix,
  predictRidge,
  r2PerTarget,
  r2Score,
  solveSPD,
  trialsAsRows,
} from "../../lib/metrics/regression.ts";

/** A row-major float64 matrix from nested rows. */
function matrix(rows: number[][]): Matrix {
  return { data: Float64Array.from(rows.flat()), rows: rows.length, cols: rows[0].length };
}

function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

function throwsArgument(fn: () => unknown, text: string): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof ArgumentError && e.message.includes(text),
    `expected an ArgumentError containing "${text}"`,
  );
}

Deno.test("fitRidge matches the closed form worked by hand (alpha 1, intercept unpenalized)", () => {
  // x = [[0, 1], [1, 0], [2, 1], [3, 2]], y = [1, 2, 4, 5].
  // Means: x̄ = (1.5, 1), ȳ = 3. Centered: x1 = [-1.5, -0.5, 0.5, 1.5], x2 = [0, -1, 0, 1],
  // y = [-2, -1, 1, 2].
  // Gram: x1·x1 = 2.25 + 0.25 + 0.25 + 2.25 = 5, x1·x2 = 0.5 + 1.5 = 2, x2·x2 = 2.
  // Plus alpha on the diagonal: [[6, 2], [2, 3]]. Cross: x1·y = 3 + 0.5 + 0.5 + 3 = 7,
  // x2·y = 1 + 2 = 3. det = 18 - 4 = 14, so w1 = (3·7 - 2·3) / 14 = 15/14,
  // w2 = (6·3 - 2·7) / 14 = 2/7, and b = ȳ - x̄·w = 3 - 1.5·15/14 - 2/7 = 31/28.
  const x = matrix([[0, 1], [1, 0], [2, 1], [3, 2]]);
  const y = matrix([[1], [2], [4], [5]]);
  const model = fitRidge(x, y, 1);
  assert.equal(model.features, 2);
  assert.equal(model.targets, 1);
  assert.equal(model.alpha, 1);
  assertAllClose(model.weights, [15 / 14, 2 / 7], 1e-14, "weights");
  assertAllClose(model.intercept, [31 / 28], 1e-14, "intercept");
  // Predictions: b + x·w, e.g. row 0: 31/28 + 2/7 = 39/28.
  const pred = predictRidge(model, x);
  assert.equal(pred.rows, 4);
  assert.equal(pred.cols, 1);
  assertAllClose(
    pred.data,
    [39 / 28, 31 / 28 + 30 / 28, 31 / 28 + 60 / 28 + 8 / 28, 31 / 28 + 90 / 28 + 16 / 28],
    1e-14,
    "predictions",
  );
});

Deno.test("fitRidge matches an exact rational solution with several targets", () => {
  // Reference: Python with fractions.Fraction, centering, (Xc'Xc + alpha I) W = Xc'Yc by
  // Gauss-Jordan, b = ȳ - x̄ W; printed as repr(float(...)).
  const x = matrix([[1, 0, 2], [2, 1, 0], [0, 3, 1], [4, 1, 1], [3, 2, 5], [1, 1, 1]]);
  const y = matrix([[1, -2], [0, 1], [3, 0], [2, 2], [5, -1], [1, 4]]);
  const model = fitRidge(x, y, 0.5);
  assertAllClose(
    model.weights,
    [
      0.1714422158548233,
      0.4264565425023878,
      0.8808022922636103,
      0.27564469914040113,
      0.6886341929321872,
      -0.7382999044890163,
    ],
    1e-12,
    "weights (features x targets)",
  );
  assertAllClose(model.intercept, [-0.6364374403056351, 0.7478032473734479], 1e-12, "intercept");
  const pred = predictRidge(model, matrix([[2, 2, 2], [0, 0, 0]]));
  assertAllClose(
    pred.data,
    [2.8453199617956066, 0.6754059216809933, -0.6364374403056351, 0.7478032473734479],
    1e-12,
    "predictions",
  );
});

Deno.test("fitRidge with alpha 0 recovers an exact linear relation; float32 inputs work", () => {
  // y1 = 2 + 3 x1 - x2, y2 = -1 + 0.5 x2.
  const rows = [[0, 0], [1, 0], [0, 1], [2, 3], [4, -1], [-2, 5]];
  const x = matrix(rows);
  const y = matrix(rows.map(([a, b]) => [2 + 3 * a - b, -1 + 0.5 * b]));
  const model = fitRidge(x, y, 0);
  assertAllClose(model.weights, [3, 0, -1, 0.5], 1e-12, "weights");
  assertAllClose(model.intercept, [2, -1], 1e-12, "intercept");
  assertAllClose(predictRidge(model, x).data, y.data, 1e-12, "fitted values");
  const x32 = { ...x, data: Float32Array.from(x.data) };
  const model32 = fitRidge(x32, y, 0);
  assertAllClose(model32.weights, [3, 0, -1, 0.5], 1e-12, "float32 weights");
});

Deno.test("a large alpha shrinks the weights toward 0 and the intercept toward the mean", () => {
  const x = matrix([[0, 1], [1, 0], [2, 1], [3, 2]]);
  const y = matrix([[1], [2], [4], [5]]);
  const model = fitRidge(x, y, 1e12);
  assert.ok(Math.abs(model.weights[0]) < 1e-10 && Math.abs(model.weights[1]) < 1e-10);
  assert.ok(Math.abs(model.intercept[0] - 3) < 1e-9);
});

Deno.test("a constant feature gets weight 0 under ridge and is singular without it", () => {
  const x = matrix([[1, 5], [2, 5], [3, 5], [4, 5]]);
  const y = matrix([[2], [4], [6], [8]]);
  const model = fitRidge(x, y, 1);
  // Centered feature 1 is [-1.5, -0.5, 0.5, 1.5] (norm² 5), y centered is 2x that: w = 10/6.
  assertAllClose(model.weights, [10 / 6, 0], 1e-14, "weights");
  throwsArgument(() => fitRidge(x, y, 0), "singular at column 1");
  // An exactly repeated feature column is singular too.
  const twice = matrix([[1, 1], [2, 2], [3, 3], [4, 4]]);
  throwsArgument(() => fitRidge(twice, y, 0), "add a ridge penalty (alpha > 0)");
  // Proportional columns whose elimination leaves a rounding-sized positive pivot.
  for (const m of [7, 10, 1.1, 1 / 3]) {
    const scaled = matrix([[1, m], [2, 2 * m], [3, 3 * m], [4, 4 * m]]);
    throwsArgument(() => fitRidge(scaled, y, 0), "singular at column 1");
  }
});

Deno.test("solveSPD solves a symmetric positive-definite system", () => {
  // [[4, 2], [2, 3]] x = [[2, 8], [1, 9]]: columns x = (0.5, 0) and (0.75, 2.5).
  const a = new Float64Array([4, 2, 2, 3]);
  const b = new Float64Array([2, 8, 1, 9]);
  assertAllClose(solveSPD(a, b, 2, 2), [0.5, 0.75, 0, 2.5], 1e-14, "solution");
});

Deno.test("fitRidge and predictRidge reject mismatched sizes and bad alpha", () => {
  const x = matrix([[0, 1], [1, 0], [2, 1], [3, 2]]);
  const y = matrix([[1], [2], [4], [5]]);
  throwsArgument(() => fitRidge(x, matrix([[1], [2], [3]]), 1), "x has 4 rows but y has 3");
  throwsArgument(
    () => fitRidge({ data: new Float64Array(7), rows: 4, cols: 2 }, y),
    "x: 7 values do not fill 4 rows x 2 columns",
  );
  throwsArgument(() => fitRidge(x, y, -1), "alpha must be a finite number >= 0, got -1");
  throwsArgument(() => fitRidge(x, y, NaN), "got NaN");
  const model = fitRidge(x, y);
  throwsArgument(
    () => predictRidge(model, matrix([[1, 2, 3]])),
    "x has 3 columns but the model was fit on 2",
  );
});

Deno.test("trialsAsRows flattens (trial, bin) into rows", () => {
  const a = array3([3, 2, 2], new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  const all = trialsAsRows(a);
  assert.equal(all.rows, 6);
  assert.equal(all.cols, 2);
  const some = trialsAsRows(a, [2, 0]);
  assert.equal(some.rows, 4);
  assert.deepEqual(Array.from(some.data), [9, 10, 11, 12, 1, 2, 3, 4]);
});

Deno.test("r2Score: 1 when perfect, 0 when predicting the mean, hand-worked in between", () => {
  const yTrue = matrix([[1], [2], [3], [4]]);
  assert.equal(r2Score(yTrue, yTrue), 1);
  assert.equal(r2Score(yTrue, matrix([[2.5], [2.5], [2.5], [2.5]])), 0);
  // Residual (4 - 5)² = 1, total 2.25 + 0.25 + 0.25 + 2.25 = 5: R² = 1 - 1/5 = 0.8.
  assert.ok(Math.abs(r2Score(yTrue, matrix([[1], [2], [3], [5]])) - 0.8) < 1e-15);
  // Worse than the mean is negative: predicting [4, 3, 2, 1] gives residual 9+1+1+9 = 20 -> -3.
  assert.ok(Math.abs(r2Score(yTrue, matrix([[4], [3], [2], [1]])) + 3) < 1e-15);
});

Deno.test("r2 of a constant target is 1 if predicted exactly, else 0", () => {
  const constant = matrix([[2], [2], [2]]);
  assert.equal(r2Score(constant, matrix([[2], [2], [2]])), 1);
  assert.equal(r2Score(constant, matrix([[2], [2], [2.5]])), 0);
});

Deno.test("r2Score averages targets uniformly; r2PerTarget gives raw values", () => {
  const yTrue = matrix([[1, 10, 7], [2, 20, 7], [3, 30, 7], [4, 40, 7]]);
  // Target 0 perfect (1), target 1 predicts its mean 25 (0), target 2 constant and exact (1).
  const yPred = matrix([[1, 25, 7], [2, 25, 7], [3, 25, 7], [4, 25, 7]]);
  const per = r2PerTarget(yTrue, yPred);
  assert.deepEqual(Array.from(per), [1, 0, 1]);
  assert.ok(Math.abs(r2Score(yTrue, yPred) - 2 / 3) < 1e-15);
});

Deno.test("r2 rejects shape mismatches", () => {
  throwsArgument(
    () => r2Score(matrix([[1], [2], [3], [4]]), matrix([[1], [2], [3]])),
    "yTrue is 4 x 1 but yPred is 3 x 1",
  );
  throwsArgument(
    () => r2PerTarget(matrix([[1, 2]]), matrix([[1]])),
    "yTrue is 1 x 2 but yPred is 1 x 1",
  );
});
