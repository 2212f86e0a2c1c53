import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { tf } from "../../lib/deps.ts";
import { maskedPoissonLoss } from "../../lib/train/losses.ts";

await initBackend("cpu");

// A 2 x 3 x 2 case from formulas (float32-exact values).
const SHAPE = [2, 3, 2];
const LOG_RATES = [-1, -0.5, 0, 0.25, 0.5, 1, 1.5, -2, 0.75, -0.25, 2, -1.5];
const COUNTS = [0, 1, 2, 0, 3, 1, 4, 0, 1, 2, 5, 0];
const WEIGHTS = [1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1];

/** sum w (exp(l) - y l) / sum w, in float64. */
function reference(l: number[], y: number[], w: number[]): number {
  let total = 0, weight = 0;
  for (let i = 0; i < l.length; i++) {
    total += w[i] * (Math.exp(l[i]) - y[i] * l[i]);
    weight += w[i];
  }
  return total / weight;
}

function loss(l: number[], y: number[], w: number[], shape = SHAPE): number {
  return tf.tidy(() =>
    maskedPoissonLoss(tf.tensor(l, shape), tf.tensor(y, shape), tf.tensor(w, shape)).dataSync()[0]
  );
}

function assertClose(actual: number, expected: number, tolerance: number, label = "") {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${label}: ${actual} vs ${expected}`,
  );
}

Deno.test("maskedPoissonLoss equals sum w (exp(l) - y l) / sum w", () => {
  const expected = reference(LOG_RATES, COUNTS, WEIGHTS);
  // By hand over the 8 weighted entries (i = 0, 2, 3, 5, 6, 7, 10, 11):
  //   e^-1 + 1 + e^0.25 + (e - 1) + (e^1.5 - 6) + e^-2 + (e^2 - 10) + e^-1.5
  //   = 0.367879 + 1 + 1.284025 + 1.718282 - 1.518311 + 0.135335 - 2.610944 + 0.223130
  //   = 0.599397, divided by 8.
  assertClose(expected, 0.599397299 / 8, 1e-8, "hand value");
  assertClose(loss(LOG_RATES, COUNTS, WEIGHTS), expected, 1e-6, "loss");
  // All weights 1: the plain mean over every entry.
  const ones = WEIGHTS.map(() => 1);
  assertClose(loss(LOG_RATES, COUNTS, ones), reference(LOG_RATES, COUNTS, ones), 1e-6, "ones");
  // The result is a scalar.
  const s = tf.tidy(() => maskedPoissonLoss(tf.zeros([4]), tf.zeros([4]), tf.ones([4])));
  assert.equal(s.rank, 0);
  assert.equal(s.dataSync()[0], 1); // exp(0) - 0
  s.dispose();
});

Deno.test("maskedPoissonLoss ignores entries whose weight is zero", () => {
  const base = loss(LOG_RATES, COUNTS, WEIGHTS);
  // Change every unweighted entry to something else entirely: no effect.
  const l = LOG_RATES.map((x, i) => (WEIGHTS[i] ? x : 5 + i));
  const y = COUNTS.map((x, i) => (WEIGHTS[i] ? x : 100 + i));
  assert.equal(loss(l, y, WEIGHTS), base);
});

Deno.test("maskedPoissonLoss with all-zero weights is 0, not NaN", () => {
  const zeros = WEIGHTS.map(() => 0);
  const value = loss(LOG_RATES, COUNTS, zeros);
  assert.equal(value, 0);
  // And its gradient is zero (finite) too.
  const grad = tf.tidy(() =>
    tf.grad((l: tf.Tensor) =>
      maskedPoissonLoss(l, tf.tensor(COUNTS, SHAPE), tf.tensor(zeros, SHAPE))
    )(tf.tensor(LOG_RATES, SHAPE)).dataSync()
  );
  assert.deepEqual(Array.from(grad), zeros);
});

Deno.test("maskedPoissonLoss gradient w.r.t. logRates is w (exp(l) - y) / sum w", () => {
  const sumW = WEIGHTS.reduce((a, b) => a + b, 0);
  const grad = tf.tidy(() =>
    tf.grad((l: tf.Tensor) =>
      maskedPoissonLoss(l, tf.tensor(COUNTS, SHAPE), tf.tensor(WEIGHTS, SHAPE))
    )(tf.tensor(LOG_RATES, SHAPE)).dataSync()
  );
  assert.equal(grad.length, LOG_RATES.length);
  for (let i = 0; i < grad.length; i++) {
    const expected = (WEIGHTS[i] * (Math.exp(LOG_RATES[i]) - COUNTS[i])) / sumW;
    assertClose(grad[i], expected, 1e-6, `entry ${i}`);
    if (!WEIGHTS[i]) assert.equal(grad[i], 0);
  }
});

Deno.test("maskedPoissonLoss is minimized at log(y) and leaks no tensors", () => {
  // d/dl (exp(l) - y l) = 0 at l = log y: the loss at log(y) is below nearby log-rates.
  const y = [1, 2, 3, 4];
  const at = (shift: number) => loss(y.map((v) => Math.log(v) + shift), y, [1, 1, 1, 1], [4]);
  assert.ok(at(0) < at(0.1) && at(0) < at(-0.1));
  const before = tf.memory().numTensors;
  const l = tf.tensor(LOG_RATES, SHAPE),
    t = tf.tensor(COUNTS, SHAPE),
    w = tf.tensor(WEIGHTS, SHAPE);
  const value = maskedPoissonLoss(l, t, w);
  assert.equal(tf.memory().numTensors, before + 4);
  tf.dispose([l, t, w, value]);
  assert.equal(tf.memory().numTensors, before);
});
